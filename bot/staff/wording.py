"""The staff site's words for stored values, in one place, and its clock: school time in
England. Pages, reports and exports all take their words from here, so they agree."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from framework.answers import answer_scale

SCHOOL_TIME = ZoneInfo("Europe/London")

ROLE_LABELS = {
    "admin": "Administrator",
    "senco": "SENCO",
    "dsl": "Designated safeguarding lead",
    "la_officer": "Local authority officer",
}
# Safeguarding categories' labels are data: framework/safeguarding_categories.yml.

# A check-in's status: short in lists, in full on its summary, and as the use of its invite.
NOT_STARTED = "not_started"  # a pupil with no check-in yet
STATUS_WORDS = {
    NOT_STARTED: "Not started",
    "active": "In progress",
    "paused": "Paused",
    "finished": "Finished",
    "stopped": "Stopped",
}
STATUS_IN_FULL = {
    "finished": "Finished",
    "stopped": "Stopped part-way",
    "paused": "Paused (they can come back to it)",
    "active": "In progress",
}
INVITE_USE_WORDS = {  # keyed by the status of the invite's latest check-in; None: never used
    None: "Not used yet",
    "active": "Started",
    "paused": "Paused",
    "finished": "Used: check-in finished",
    "stopped": "Started, then stopped",
}

# The question sets (framework/schema.py QUESTION_SETS): a name, what each asks, and when to choose it.
QUESTION_SET_NAMES = {"core": "Short", "standard": "Standard", "full": "Full"}
QUESTION_SET_ASKS = {"core": "one question about each area", "standard": "the main questions about each area",
                     "full": "every question"}
QUESTION_SET_ADVICE = {"core": "Good for a first go or a short attention span.", "standard": "",
                       "full": "Best for an annual review with time to spare."}

# The scale's labels are the buttons a child presses; staff read "Skipped", not "Skip".
STAFF_ANSWER_WORDS = {"skipped": "Skipped"}
FIRST_PERSON = {  # an answer, as the young person would say it about their I statements
    "yes": "This is true for me",
    "sometimes": "This is sometimes true for me",
    "no": "This is not true for me",
    "dont_know": "I don't know yet",
    "skipped": "I chose not to answer",
}
METHOD_WORDS = {
    "tapped": "Tapped a button",
    "typed": "Typed",
    "clarified": "Typed; Heard checked what they meant",
}
WHO_SPOKE = {  # SurveySession.who_with / Answer.who_answered, as staff say it
    "alone": "The young person, on their own",
    "with_support": "The young person, with someone helping",
    "answered_for_me": "Someone answered for the young person",
}
COMMENT_WORDS = {"anything_else": "Anything else", "what_would_help": "What would help"}

# Whose check-in it is (SurveySession.perspective / Invite.perspective), as staff say it.
WHOSE_CHECKIN = {
    "children_young_people": "The pupil",
    "parent_carers": "Their parent carer",
    "partners": "A partner",
}
PARENT_CARER_WHO_SPOKE = {  # who_with, when the parent carer is the one checking in
    "alone": "The parent carer, on their own",
    "with_support": "The parent carer, with someone helping",
    "answered_for_me": "Someone answered for the parent carer",
}
PARTNER_ROLE_WORDS = {"health": "Health", "social_care": "Social care", "education": "Education"}  # models.PARTNER_ROLES


def who_spoke(who_with: str | None, perspective: str, *, missing: str = "") -> str:
    """Who gave a check-in's answers (or one answer), as staff say it."""
    words = PARENT_CARER_WHO_SPOKE if perspective == "parent_carers" else WHO_SPOKE
    return words.get(who_with, missing) if who_with else missing


def answer_words(value: str) -> str:
    return STAFF_ANSWER_WORDS.get(value) or answer_scale().by_value(value).label


def question_set_choice(key: str) -> str:
    """E.g. 'Short: one question about each area. Good for a first go or a short attention span.'"""
    return f"{QUESTION_SET_NAMES[key]}: {QUESTION_SET_ASKS[key]}. {QUESTION_SET_ADVICE[key]}".strip()


def question_set_label(key: str) -> str:
    """E.g. 'Short (one question about each area)'; an unknown key as it is."""
    return f"{QUESTION_SET_NAMES[key]} ({QUESTION_SET_ASKS[key]})" if key in QUESTION_SET_NAMES else key


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def school_time(value: datetime | str | None) -> str:
    """A stored UTC time as a person in England reads it, e.g. 'Mon 3 Feb 2025, 14:05'."""
    if value is None:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(SCHOOL_TIME)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def school_day(when: datetime) -> str:
    """E.g. 'Mon 3 Feb 2025' in school time: short enough for a column heading."""
    local = when.astimezone(SCHOOL_TIME)
    return f"{local:%a} {local.day} {local:%b %Y}"
