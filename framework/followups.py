"""Questions a young person asks about what happens to their words: "will u tell my mum",
"what happens now", "i want to talk to a real person".

Once the check-in has raised a safeguarding alert, the answers are honest and specific (who
is told, what happens next, a grown-up they trust, Childline), never a promise of secrecy,
and the carry-on or stop choice comes again; an adult who raised the worry (a parent carer, a
partner) gets adult words about the adults who are told (worry_follow_ups.yml). Before that,
they are plain, and the check-in goes on (a form asks its question again)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from framework.checkin import Say, explain_current
from framework.choices import fixed_button
from framework.conversation import FOLLOW_UPS
from framework.db import repository as repo
from framework.db.models import SurveySession
from framework.loader import load_yaml_model
from framework.schema import CHILDREN, Perspective

ADULT_WORDS_FILE = Path(__file__).with_name("worry_follow_ups.yml")

AFTER_A_WORRY = {
    "who_is_told": ("utter_told_after_worry", "utter_told_who", "utter_told_then"),
    "what_happens_now": ("utter_next_not_in_trouble", "utter_next_after_worry", "utter_next_they_talk"),
    "talk_to_person": ("utter_person_after_worry", "utter_person_trusted", "utter_person_childline"),
}
AT_OTHER_TIMES = {
    "who_is_told": ("utter_opening_who_sees", "utter_opening_safety"),
    "talk_to_person": ("utter_person_trusted", "utter_person_childline"),
}


class AdultFollowUps(BaseModel):
    """worry_follow_ups.yml: per adult perspective, the words for each follow-up question."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by_perspective: dict[Perspective, dict[str, tuple[str, ...]]] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_question_for_every_adult(self) -> "AdultFollowUps":
        if CHILDREN in self.by_perspective:
            raise ValueError(f"'{CHILDREN}' gets the domain's responses (AFTER_A_WORRY), not words here")
        for perspective, words in self.by_perspective.items():
            if set(words) != set(FOLLOW_UPS) or not all(words.values()):
                raise ValueError(f"'{perspective}' needs words for each of {', '.join(FOLLOW_UPS)} and nothing else")
        return self


@lru_cache(maxsize=1)
def adult_follow_ups() -> AdultFollowUps:
    return load_yaml_model(ADULT_WORDS_FILE, AdultFollowUps)[0]


def after_a_worry(perspective: str, intent: str) -> list[Say]:
    """The answer to a follow-up question after a worry, for whoever is answering."""
    adults = adult_follow_ups().by_perspective.get(perspective)
    if adults is None:
        return [Say(response=name) for name in AFTER_A_WORRY[intent]]
    return [Say(text=text) for text in adults[intent]]


@dataclass(frozen=True)
class FollowUp:
    says: list[Say]
    on_hold: bool  # the carry-on or stop choice is on screen: nothing else is asked


def answer(db: Session, session: SurveySession, intent: str) -> FollowUp:
    """What the bot says to one of the follow-up questions (conversation.FOLLOW_UPS)."""
    if repo.has_alert(db, session):
        says = after_a_worry(session.perspective, intent)
        says.append(Say(response="utter_carry_on_or_stop", buttons=[fixed_button("carry_on"), fixed_button("stop")]))
        return FollowUp(says, on_hold=True)
    if intent == "what_happens_now":
        return FollowUp(explain_current(db, session), on_hold=False)
    return FollowUp([Say(response=name) for name in AT_OTHER_TIMES[intent]], on_hold=False)
