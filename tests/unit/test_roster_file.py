"""The roster file is read again when an operator edits it; a broken edit keeps the last good roster."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from services.monitoring.adapters.roster_file import RosterFile
from services.monitoring.domain.roster import OnCallRole, on_call

AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def write_roster(path: Path, supervisor: str, stamp: int) -> None:
    roles = {role.value: {"fallback": [f"@{role.value}-fallback"]} for role in OnCallRole}
    roles["supervisor"] = {"fallback": [supervisor]}
    path.write_text(json.dumps({"roles": roles}), encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))


def test_an_edited_roster_applies_to_the_next_alert_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    write_roster(path, "@anne", 1_000_000_000)
    roster = RosterFile(path)
    assert on_call(roster(), "supervisor", AT) == ["@anne"]
    write_roster(path, "@bruno", 2_000_000_000)
    assert on_call(roster(), "supervisor", AT) == ["@bruno"]


def test_an_edit_that_does_not_validate_keeps_the_last_good_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    write_roster(path, "@anne", 1_000_000_000)
    roster = RosterFile(path)
    path.write_text('{"roles": {"supervisor": {"fallback": []}}}', encoding="utf-8")
    os.utime(path, ns=(3_000_000_000, 3_000_000_000))
    assert on_call(roster(), "supervisor", AT) == ["@anne"]
    path.unlink()
    assert on_call(roster(), "supervisor", AT) == ["@anne"]
