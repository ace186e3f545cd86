"""The on-call roster: per role, who is on shift when, and who answers when nobody is.

A shift names the days it starts on and its hours on the wall clock of its time zone (the roster's,
unless the shift names its own). A shift whose end is at or before its start crosses midnight: a
Friday 22:00-06:00 shift covers Saturday 03:00, and 08:00-08:00 is a whole day from 08:00. Nobody on
shift: the role's fallback, so a page always reaches someone.

People are named by a staff id (a UUID) or a display handle that starts with a letter: never a phone
number, an email address or anything else a page would carry out of Lantern.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from schemas.envelope import Contract

DEFAULT_TIME_ZONE = "America/Toronto"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERSON_PATTERN = (
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|@?[A-Za-z][A-Za-z0-9._-]{1,62})$"
)


class OnCallRole(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    # A plan's later breaches escalate past the supervisor on duty (triage's plan templates).
    BACKUP_SUPERVISOR = "backup_supervisor"
    HOTLINE_MANAGER = "hotline_manager"
    ADMIN = "admin"


ESCALATION_LEVELS = {
    OnCallRole.BACKUP_SUPERVISOR: OnCallRole.SUPERVISOR,
    OnCallRole.HOTLINE_MANAGER: OnCallRole.SUPERVISOR,
}
"""Levels a roster may leave out, and whom they page then."""


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("not a known IANA time zone") from error
    return name


Person = Annotated[str, StringConstraints(pattern=PERSON_PATTERN)]
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Shift(Contract):
    who: Annotated[tuple[Person, ...], Field(min_length=1)]
    days: Annotated[tuple[Weekday, ...], Field(min_length=1)]
    starts: ClockTime = Field(alias="from")
    ends: ClockTime = Field(alias="to")
    time_zone: TimeZoneName | None = None

    @model_validator(mode="after")
    def _starts_within_the_day(self) -> Shift:
        if self.starts == "24:00":
            raise ValueError("a shift starts at 23:59 at the latest")
        return self

    def covers(self, at: datetime, default_zone: str) -> bool:
        """Whether ``at`` falls in this shift, read on the shift's wall clock."""
        local = at.astimezone(ZoneInfo(self.time_zone or default_zone))
        minute = local.hour * 60 + local.minute
        today, yesterday = WEEKDAYS[local.weekday()], WEEKDAYS[(local.weekday() - 1) % 7]
        starts, ends = _minutes(self.starts), _minutes(self.ends)
        if starts < ends:
            return today in self.days and starts <= minute < ends
        return (today in self.days and minute >= starts) or (yesterday in self.days and minute < ends)


class RoleRoster(Contract):
    shifts: tuple[Shift, ...] = ()
    fallback: Annotated[tuple[Person, ...], Field(min_length=1)]


class Roster(Contract):
    note: str | None = None
    time_zone: TimeZoneName = DEFAULT_TIME_ZONE
    roles: dict[OnCallRole, RoleRoster]

    @model_validator(mode="after")
    def _every_role_has_someone(self) -> Roster:
        missing = set(OnCallRole) - set(self.roles) - set(ESCALATION_LEVELS)
        if missing:
            raise ValueError(f"no on-call entry for {', '.join(sorted(missing))}")
        return self


def on_call(roster: Roster, role: OnCallRole | str, at: datetime) -> list[str]:
    """Who is on call for ``role`` at ``at``: everyone on shift, in roster order, else the fallback."""
    if at.tzinfo is None:
        raise ValueError("on_call needs an aware datetime")
    role = OnCallRole(role)
    # A roster written before the escalation levels existed pages the supervisors for them: a breach
    # always reaches someone, and the roster can name the levels when the hotline has them.
    entry = roster.roles.get(role) or roster.roles[ESCALATION_LEVELS.get(role, role)]
    on_shift = (
        person for shift in entry.shifts if shift.covers(at, roster.time_zone) for person in shift.who
    )
    return list(dict.fromkeys(on_shift)) or list(entry.fallback)


def load_roster(path: Path) -> Roster:
    """Read and check a roster file; a roster that does not validate stops the service from starting."""
    return Roster.model_validate_json(path.read_bytes())
