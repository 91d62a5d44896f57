"""Questions a young person asks about what happens to their words: "will u tell my mum",
"what happens now", "i want to talk to a real person".

Once the check-in has raised a safeguarding alert, the answers are honest and specific (who
is told, what happens next, a grown-up they trust, Childline), never a promise of secrecy,
and the carry-on or stop choice comes again. Before that, they are plain, and the check-in
goes on (a form asks its question again)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from framework.checkin import Say, explain_current
from framework.choices import fixed_button
from framework.db import repository as repo
from framework.db.models import SurveySession

AFTER_A_WORRY = {
    "who_is_told": ("utter_told_after_worry", "utter_told_who", "utter_told_then"),
    "what_happens_now": ("utter_next_not_in_trouble", "utter_next_after_worry", "utter_next_they_talk"),
    "talk_to_person": ("utter_person_after_worry", "utter_person_trusted", "utter_person_childline"),
}
AT_OTHER_TIMES = {
    "who_is_told": ("utter_opening_who_sees", "utter_opening_safety"),
    "talk_to_person": ("utter_person_trusted", "utter_person_childline"),
}


@dataclass(frozen=True)
class FollowUp:
    says: list[Say]
    on_hold: bool  # the carry-on or stop choice is on screen: nothing else is asked


def answer(db: Session, session: SurveySession, intent: str) -> FollowUp:
    """What the bot says to one of the follow-up questions (conversation.FOLLOW_UPS)."""
    if repo.has_alert(db, session):
        says = [Say(response=name) for name in AFTER_A_WORRY[intent]]
        says.append(Say(response="utter_carry_on_or_stop", buttons=[fixed_button("carry_on"), fixed_button("stop")]))
        return FollowUp(says, on_hold=True)
    if intent == "what_happens_now":
        return FollowUp(explain_current(db, session), on_hold=False)
    return FollowUp([Say(response=name) for name in AT_OTHER_TIMES[intent]], on_hold=False)
