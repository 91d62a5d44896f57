"""A staff form sent with a stale token (the page was open too long) comes back on its own page
with what was typed, by the page's restorer: every such form has one, and a restorer still
refuses whoever the page is not for."""
from __future__ import annotations

import re

from fastapi.routing import APIRoute
from sqlalchemy import select

from bot.routers import admin, alerts, council, pupils, school_actions, summaries
from bot.staff.drafts import DRAFT_RESTORERS
from framework.db.models import Council, Invite
from tests.unit.staff_site import CSRF_IN_PAGE, staff_db_url, staff_site  # noqa: F401

PARTNERS = "/staff/council/partners"


def test_every_form_that_checks_its_token_has_a_page_to_come_back_on():
    checked = [route for module in (admin, alerts, council, pupils, school_actions, summaries)
               for route in module.router.routes if isinstance(route, APIRoute)
               and any(hasattr(depends.dependency, "keeps") for depends in route.dependencies)]
    assert len(checked) == 13  # the staff site's forms but the sign-in's own
    for route in checked:
        path = re.sub(r"\{\w+\}", "7", route.path)
        assert any(pattern.fullmatch(path) for pattern, _ in DRAFT_RESTORERS), route.path


def test_a_stale_partner_form_comes_back_with_what_was_typed_and_makes_nothing(staff_site):
    council_id = staff_site.council("Shropshire Council")
    staff_site.sign_in(staff_site.account("la_officer", None, "officer@council.example", council_id=council_id))
    sent = staff_site.client.post(PARTNERS, data={"csrf_token": "from-an-old-page", "partner_role": "social_care",
                                                  "count": "12", "framework": "shropshire", "days": "30"})
    assert sent.status_code == 403 and "This page was open too long, so nothing was saved" in sent.text
    assert 'value="12"' in sent.text and 'value="social_care" checked' in sent.text
    assert CSRF_IN_PAGE.search(sent.text) is not None  # a fresh token, to press the button again
    with staff_site.sessions() as db:
        assert db.scalar(select(Invite.id)) is None


def test_a_stale_form_from_someone_the_page_is_not_for_is_refused_not_shown(staff_site):
    oak = staff_site.school("Oak Primary")
    staff_site.sign_in(staff_site.account("senco", oak))
    sent = staff_site.client.post("/staff/admin/councils", data={"csrf_token": "old", "name": "Northshire"})
    assert sent.status_code == 403 and "Only Heard administrators can see this page" in sent.text
    assert 'value="Northshire"' not in sent.text and len(staff_site.audit("page_refused")) == 1
    with staff_site.sessions() as db:
        assert db.scalar(select(Council.id)) is None
