"""The short form of the fault suite (`make faults` runs the full one): tips flow through `lantern up`
on its embedded PostgreSQL while one fault after another is injected, among them a SIGKILL of the
PostgreSQL server and of the broker; the system comes back by itself and the history checker finds
nothing lost and nothing duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.run import SHORT, run_suite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(1800)
async def test_under_kills_of_services_postgresql_and_the_broker_nothing_is_lost_or_duplicated(
    tmp_path: Path,
) -> None:
    verdict = await run_suite(tmp_path / ".lantern", "embedded", list(SHORT), mix_tips=0, seed=18, rate=2.0)
    print(verdict.report())
    assert verdict.ok, verdict.report()
    everything = next(row for row in verdict.rows if row["fault"] == "all")
    assert everything["accepted"] == everything["sent"] > 0
    assert everything["lost"] == everything["duplicated"] == 0
    faults = {row["fault"] for row in verdict.rows}
    assert {"kill PostgreSQL", "kill broker (wipe)"} <= faults, "tips were sent while each fault lasted"
