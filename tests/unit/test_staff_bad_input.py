"""A sweep of bad input through the staff forms: 200 posts (empty, a megabyte, binary, bytes that
are not UTF-8, script and SQL text, a flood of sign-ins), each signed in as the role the form is
for and with a good form token, so the input itself is what is tried. Never a 5xx; every
refusal a page that says what is wrong; nothing already stored lost or changed."""
from __future__ import annotations

import itertools

from sqlalchemy import select

from framework.db.models import Answer, Council, Pupil, SafeguardingAlert, School, StaffUser
from tests.unit.staff_site import CSRF_IN_PAGE, StaffSite, staff_db_url, staff_site  # noqa: F401

POSTS = 200
BAD_VALUES = (
    "", " ", "a" * 1_000_000, "\x00\x01\x02binary\x7f", "\ufffd\ud7ff", "<script>alert(1)</script>",
    "'; DROP TABLE pupils; --", "1 OR 1=1", "../../etc/passwd", "%00%ff", "\u202e\u0645\u0631\u062d\u0628\u0627",
    "99999999999999999999999", "-1",
)
NOT_UTF8 = b"\xff\xfe\xfa"


def snapshot(site: StaffSite) -> dict[str, set]:
    """Everything stored that a form could lose or change, row by row."""
    with site.sessions() as db:
        return {
            "pupils": set(db.execute(select(Pupil.id, Pupil.display_name, Pupil.year_group, Pupil.school_id)).all()),
            "alerts": set(db.execute(select(SafeguardingAlert.id, SafeguardingAlert.words, SafeguardingAlert.status,
                                            SafeguardingAlert.action_taken)).all()),
            "schools": set(db.execute(select(School.id, School.name, School.urn, School.council_id)).all()),
            "councils": set(db.execute(select(Council.id, Council.name)).all()),
            "staff": set(db.execute(select(StaffUser.id, StaffUser.email, StaffUser.role, StaffUser.active,
                                           StaffUser.password_hash, StaffUser.council_id)).all()),
            "answers": set(db.execute(select(Answer.id, Answer.value, Answer.words)).all()),
        }


def said_what_is_wrong(response) -> bool:
    """A refusal is a page with a sentence for the person: a problem box, or a page of its own."""
    return response.status_code < 400 or 'role="alert"' in response.text or "<h1>" in response.text


def test_a_sweep_of_bad_form_input_gets_clear_answers_and_loses_nothing(staff_site):
    council = staff_site.council("Northshire Council")
    oak = staff_site.school("Oak Primary", council)
    pupil = staff_site.pupil(oak, "Sam Pupil")
    staff_site.checkin(pupil, words={"york.safe.cyp1": "my own words"})
    alert = staff_site.alert(oak, "my step dad hurts me")
    emails = {role: staff_site.account(role, oak if role in ("senco", "dsl") else None,
                                       council_id=council if role == "la_officer" else None)
              for role in ("senco", "dsl", "admin", "la_officer")}
    before = snapshot(staff_site)

    # (who signs in, the form's page, its fields)
    forms = [
        ("senco", "/staff/pupils", ("name", "year_group", "class_name")),
        ("senco", "/staff/pupils/invites", ("group", "framework", "question_set", "days")),
        ("senco", f"/staff/pupils/{pupil}/invites", ("framework", "question_set", "days")),
        ("dsl", f"/staff/alerts/{alert}", ("step", "note")),
        ("admin", "/staff/admin/accounts", ("action", "email", "role", "school_id", "council_id", "account_id")),
        ("admin", "/staff/admin/schools", ("action", "name", "urn", "council_id", "school_id")),
        ("admin", "/staff/admin/councils", ("name",)),
        ("senco", "/staff/password", ("password", "again")),
        ("senco", "/staff/two-factor/setup", ("code",)),
        (None, "/staff/login", ("email", "password", "next")),
    ]
    values = itertools.cycle(BAD_VALUES)
    sent = 0
    flood = 30
    for role, path, fields in forms:  # signed in once per form, then (POSTS - flood) / 10 posts each
        staff_site.client.cookies.clear()
        if role is not None:
            staff_site.sign_in(emails[role])
        page = staff_site.client.get(path.replace("/invites", "") if "/pupils/" in path else path)
        token = CSRF_IN_PAGE.search(page.text).group(1)
        for n in range((POSTS - flood) // len(forms)):
            field = fields[n % len(fields)]  # this field gets the odd bodies; every field is bad
            if n % 7 == 0:  # a body that is not UTF-8
                body = b"csrf_token=" + token.encode() + b"&" + field.encode() + b"=" + NOT_UTF8
                response = staff_site.client.post(path, content=body,
                                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            elif n % 7 == 1:  # a binary file where text belongs
                response = staff_site.client.post(path, data={"csrf_token": token},
                                                  files={field: ("x.bin", bytes(range(256)) * 64)})
            else:
                response = staff_site.client.post(path, data={"csrf_token": token,
                                                              **{name: next(values) for name in fields}})
            sent += 1
            assert response.status_code < 500, (path, field, response.status_code)
            assert said_what_is_wrong(response), (path, field, response.status_code)
    staff_site.client.cookies.clear()
    for _ in range(flood):  # wrong passwords as fast as can be: slowed, never an error
        response = staff_site.client.post("/staff/login", data={
            "csrf_token": staff_site.token(), "email": emails["dsl"], "password": "wrong password"})
        assert response.status_code in (401, 429) and said_what_is_wrong(response)
        sent += 1
    assert sent == POSTS and response.status_code == 429

    after = snapshot(staff_site)
    for table, rows in before.items():
        assert rows <= after[table], f"{table}: {sorted(rows - after[table])[:3]}"
    assert staff_site.client.get("/staff/login").status_code == 200
