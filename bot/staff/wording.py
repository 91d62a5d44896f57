"""The staff site's words for stored values, and its clock: school time in England."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SCHOOL_TIME = ZoneInfo("Europe/London")

ROLE_LABELS = {
    "admin": "Administrator",
    "senco": "SENCO",
    "dsl": "Designated safeguarding lead",
    "la_officer": "Local authority officer",
}


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
