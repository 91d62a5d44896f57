"""`heard demo`: a demo council and school, its staff and pupils with invite codes, to try Heard.

Safe to run again: it changes nothing that exists. Passwords are printed once, when the
accounts are made, and only their argon2 hashes are kept.
"""
from __future__ import annotations

from collections.abc import Iterator

from bot.auth.passwords import generate_password, hash_password
from framework.db import repository as repo
from framework.db.codes import format_code
from framework.db.engine import make_engine, make_session_factory
from framework.settings import get_settings

DEMO_URN = "DEMO01"
DEMO_SCHOOL = "Demo Primary School"
DEMO_COUNCIL = "Demo Council"
DEMO_STAFF = (
    ("admin@demo.heard.invalid", "admin"),
    ("senco@demo.heard.invalid", "senco"),
    ("dsl@demo.heard.invalid", "dsl"),
    ("council@demo.heard.invalid", "la_officer"),
)
# (name shown to staff, year group, framework, question set)
DEMO_PUPILS = (
    ("Sam Demo", "Year 4", "york", "core"),
    ("Alex Demo", "Year 8", "york", "standard"),
    ("Jo Demo", "Year 11", "shropshire", "standard"),
)


def create_demo() -> Iterator[str]:
    engine = make_engine()
    with make_session_factory(engine).begin() as db:
        school = repo.find_school_by_urn(db, DEMO_URN)
        if school is None:
            council = repo.find_council_by_name(db, DEMO_COUNCIL) or repo.create_council(db, DEMO_COUNCIL)
            school = repo.create_school(db, DEMO_SCHOOL, urn=DEMO_URN, council=council)
            yield f"Created {DEMO_SCHOOL} in {DEMO_COUNCIL}. Staff sign in at {get_settings().resolved_staff_url} with:"
            for email, role in DEMO_STAFF:
                password = generate_password()
                # a council officer sees the council's schools; everyone else belongs to one school
                officer = role == "la_officer"
                repo.create_staff(db, email, hash_password(password), role,
                                  None if officer else school, council if officer else None)
                yield f"  {role:<11} {email:<30} password: {password}"
            yield "  These passwords are shown only now. Keep them somewhere safe."
            for name, year, framework_id, question_set in DEMO_PUPILS:
                pupil = repo.create_pupil(db, school, name, year_group=year)
                repo.create_invite(db, pupil, framework_id, question_set=question_set)
        else:
            yield f"{DEMO_SCHOOL} already exists; nothing changed (its logins were printed when it was made)."
        yield "Invite codes for young people (type one on the start page):"
        for invite in repo.open_invites(db, school):
            yield f"  {format_code(invite.code)}  {invite.pupil.display_name:<10} {invite.framework_id} ({invite.question_set} set)"
    engine.dispose()
