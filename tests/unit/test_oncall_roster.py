"""The on-call roster: who a page reaches at a given moment, on the roster's wall clock."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.monitoring.domain.roster import OnCallRole, Roster, load_roster, on_call
from services.monitoring.settings import ROSTER_FILE
from tests.factories import CONTACT

TORONTO = ZoneInfo("America/Toronto")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_ROLES = [role.value for role in OnCallRole]
EVERY_DAY = [*WEEKDAYS, "sat", "sun"]


def roster(supervisor_shifts: list[dict[str, Any]], **top: Any) -> Roster:
    return Roster.model_validate(
        {
            **top,
            "roles": {
                "supervisor": {"shifts": supervisor_shifts, "fallback": ["@duty-supervisor"]},
                "specialist": {"shifts": [], "fallback": ["@duty-specialist"]},
                "backup_supervisor": {"shifts": [], "fallback": ["@backup-supervisor"]},
                "hotline_manager": {"shifts": [], "fallback": ["@hotline-manager"]},
                "admin": {"shifts": [], "fallback": ["@duty-admin"]},
            },
        }
    )


def toronto(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TORONTO)


def shift(who: str, days: list[str], starts: str, ends: str, **more: Any) -> dict[str, Any]:
    return {"who": [who], "days": days, "from": starts, "to": ends, **more}


def test_a_day_shift_covers_its_hours_on_its_days_only() -> None:
    weekday_days = roster([shift("@day", WEEKDAYS, "08:00", "16:00")])
    wednesday, saturday = toronto(2026, 12, 2, 9), toronto(2026, 12, 5, 9)
    assert on_call(weekday_days, "supervisor", wednesday) == ["@day"]
    assert on_call(weekday_days, "supervisor", wednesday.replace(hour=7, minute=59)) == ["@duty-supervisor"]
    assert on_call(weekday_days, "supervisor", wednesday.replace(hour=16)) == ["@duty-supervisor"]
    assert on_call(weekday_days, "supervisor", saturday) == ["@duty-supervisor"]


def test_a_shift_crossing_midnight_covers_the_small_hours_of_the_next_day() -> None:
    friday_night = roster([shift("@night", ["fri"], "22:00", "06:00")])
    assert on_call(friday_night, "supervisor", toronto(2026, 12, 4, 23)) == ["@night"]  # Friday
    assert on_call(friday_night, "supervisor", toronto(2026, 12, 5, 3)) == ["@night"]  # Saturday
    assert on_call(friday_night, "supervisor", toronto(2026, 12, 5, 6)) == ["@duty-supervisor"]
    assert on_call(friday_night, "supervisor", toronto(2026, 12, 4, 3)) == ["@duty-supervisor"]  # Friday
    assert on_call(friday_night, "supervisor", toronto(2026, 12, 5, 23)) == ["@duty-supervisor"]  # Saturday


def test_a_shift_that_ends_at_midnight_or_lasts_a_whole_day() -> None:
    evening = roster([shift("@evening", ["mon"], "16:00", "00:00"), shift("@day", ["tue"], "08:00", "08:00")])
    assert on_call(evening, "supervisor", toronto(2026, 11, 30, 23, 59)) == ["@evening"]  # Monday
    assert on_call(evening, "supervisor", toronto(2026, 12, 1, 0)) == ["@duty-supervisor"]  # Tuesday
    assert on_call(evening, "supervisor", toronto(2026, 12, 2, 7, 59)) == ["@day"]  # Wednesday
    assert on_call(evening, "supervisor", toronto(2026, 12, 2, 8)) == ["@duty-supervisor"]


def test_nobody_on_shift_pages_the_fallback() -> None:
    empty = roster([])
    assert on_call(empty, OnCallRole.SUPERVISOR, toronto(2026, 12, 2, 12)) == ["@duty-supervisor"]
    assert on_call(empty, "admin", toronto(2026, 12, 2, 12)) == ["@duty-admin"]


def test_everyone_on_shift_is_paged_once_in_roster_order() -> None:
    overlapping = roster(
        [
            {"who": ["@ben", "@ana"], "days": EVERY_DAY, "from": "00:00", "to": "00:00"},
            shift("@cleo", WEEKDAYS, "09:00", "17:00"),
            shift("@ana", WEEKDAYS, "09:00", "17:00"),
        ]
    )
    assert on_call(overlapping, "supervisor", toronto(2026, 12, 2, 10)) == ["@ben", "@ana", "@cleo"]


def test_hours_are_read_on_the_rosters_clock_whatever_the_zone_of_the_moment_asked() -> None:
    day = roster([shift("@day", WEEKDAYS, "08:00", "16:00")])
    # 08:00 in Toronto is 13:00 UTC in winter (EST) and 12:00 UTC in summer (EDT).
    assert on_call(day, "supervisor", datetime(2026, 12, 2, 13, 0, tzinfo=UTC)) == ["@day"]
    assert on_call(day, "supervisor", datetime(2026, 12, 2, 12, 59, tzinfo=UTC)) == ["@duty-supervisor"]
    assert on_call(day, "supervisor", datetime(2026, 7, 8, 12, 0, tzinfo=UTC)) == ["@day"]
    assert on_call(day, "supervisor", datetime(2026, 7, 8, 11, 59, tzinfo=UTC)) == ["@duty-supervisor"]


def test_a_roster_in_another_zone_and_a_shift_with_its_own_zone() -> None:
    vancouver = roster(
        [
            shift("@west", WEEKDAYS, "08:00", "16:00"),
            shift("@paris", WEEKDAYS, "08:00", "16:00", time_zone="Europe/Paris"),
        ],
        time_zone="America/Vancouver",
    )
    # Wednesday 2 December 2026, 16:30 UTC: 08:30 in Vancouver, 17:30 in Paris.
    assert on_call(vancouver, "supervisor", datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == ["@west"]
    # 08:30 UTC: 00:30 in Vancouver, 09:30 in Paris.
    assert on_call(vancouver, "supervisor", datetime(2026, 12, 2, 8, 30, tzinfo=UTC)) == ["@paris"]


def test_a_night_shift_spans_the_night_the_clocks_go_back() -> None:
    saturday_night = roster([shift("@night", ["sat"], "22:00", "06:00")])
    # Toronto leaves daylight time at 02:00 on Sunday 1 November 2026: the night lasts nine hours.
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # Saturday 22:00 EDT
    covered = [
        bool(on_call(saturday_night, "supervisor", start + timedelta(minutes=30 * n)) == ["@night"])
        for n in range(20)
    ]
    assert covered == [True] * 18 + [False] * 2


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_call(roster([]), "supervisor", datetime(2026, 12, 2, 12))


@pytest.mark.parametrize(
    "who", [CONTACT["phone"], "5145550147", CONTACT["email"], CONTACT["name"], "", "@"], ids=repr
)
def test_a_roster_names_people_by_staff_id_or_handle_never_by_a_phone_number_or_an_email(who: str) -> None:
    with pytest.raises(ValidationError):
        roster([shift(who, WEEKDAYS, "08:00", "16:00")])


def test_a_staff_id_or_a_handle_names_someone_on_call() -> None:
    staff_id = "5b0c4a8e-2f0a-4d6e-9b1c-7a3e2d1f0c9b"
    named = roster(
        [shift(staff_id, WEEKDAYS, "08:00", "16:00"), shift("mireille.d", WEEKDAYS, "08:00", "16:00")]
    )
    assert on_call(named, "supervisor", toronto(2026, 12, 2, 9)) == [staff_id, "mireille.d"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"roles": {"supervisor": {"fallback": ["@a"]}}}, "roles"),
        ({"roles": {r: {"fallback": []} for r in ALL_ROLES}}, "fallback"),
    ],
)
def test_a_roster_that_could_leave_a_page_unanswered_is_refused(change: dict[str, Any], where: str) -> None:
    document = {"roles": {r: {"fallback": ["@a"]} for r in ALL_ROLES}, **change}
    with pytest.raises(ValidationError, match=where):
        Roster.model_validate(document)


@pytest.mark.parametrize(("starts", "ends"), [("8:00", "16:00"), ("08:00", "25:00"), ("24:00", "08:00")])
def test_shift_hours_are_clock_times_of_one_day(starts: str, ends: str) -> None:
    with pytest.raises(ValidationError):
        roster([shift("@day", WEEKDAYS, starts, ends)])


def test_the_shipped_roster_pages_someone_on_shift_for_supervisors_and_specialists_every_hour() -> None:
    shipped = load_roster(ROSTER_FILE)
    assert shipped.time_zone == "America/Toronto"
    monday = toronto(2026, 11, 30, 0)
    for hour in range(7 * 24):
        at = monday + timedelta(hours=hour, minutes=30)
        for role in OnCallRole:
            assert on_call(shipped, role, at)
        assert on_call(shipped, "supervisor", at) != list(shipped.roles[OnCallRole.SUPERVISOR].fallback)
        assert on_call(shipped, "specialist", at) != list(shipped.roles[OnCallRole.SPECIALIST].fallback)


def test_a_roster_without_the_escalation_levels_still_starts_and_pages_the_supervisors_for_them() -> None:
    older = Roster.model_validate(
        {"roles": {r: {"fallback": [f"@{r}"]} for r in ("supervisor", "specialist", "admin")}}
    )
    at = toronto(2026, 12, 2, 10)
    assert on_call(older, "hotline_manager", at) == on_call(older, "backup_supervisor", at) == ["@supervisor"]
