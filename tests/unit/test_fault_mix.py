"""The fault suite's random mix (tests/faults/run.py): a schedule drawn from the run's seed that
overlaps faults only within its caps, and a summary that says how dense the mix really was."""

from __future__ import annotations

import random

from tests.faults.history import MIX, Fault, History
from tests.faults.run import A_SERVICE, CAPS, DOWN, MIX_GAP_SECONDS, MixSchedule, faults_for, holds


def _drawn_until_full(seed: int, database: str) -> tuple[MixSchedule, list[tuple[str, str | None]]]:
    """Draws with nothing ever released: the schedule must stop drawing once every part is taken."""
    schedule = MixSchedule(sorted(faults_for(database)), seed)
    drawn = []
    while (draw := schedule.draw()) is not None:
        schedule.take(*draw)
        drawn.append(draw)
    return schedule, drawn


def test_the_mix_never_has_more_out_at_once_than_its_caps_allow() -> None:
    for seed in range(50):
        for database in ("embedded", "shared"):
            schedule, drawn = _drawn_until_full(seed, database)
            assert schedule.out[DOWN] <= CAPS[DOWN] == 1
            assert schedule.out[A_SERVICE] <= CAPS[A_SERVICE] == 2
            assert all(count <= 1 for part, count in schedule.out.items() if part not in CAPS)
            services = [target for _name, target in drawn if target is not None]
            assert len(services) == len(set(services)), "one service is not hit twice at once"


def test_a_fault_released_can_be_drawn_again_and_a_cut_holds_the_database_proxy() -> None:
    schedule = MixSchedule(["cut PostgreSQL", "delay to PostgreSQL", "kill broker (wipe)"], seed=1)
    schedule.take("cut PostgreSQL", None)
    assert schedule.draw() is None, "the broker may not go down beside PostgreSQL, nor the proxy change"
    schedule.release("cut PostgreSQL", None)
    assert schedule.draw() is not None
    assert holds("cut PostgreSQL", None) == {DOWN, "the database proxy"}


def test_the_same_seed_draws_the_same_schedule_whatever_else_draws_from_its_own_generator() -> None:
    def schedule_of(seed: int) -> list[tuple[float, tuple[str, str | None] | None]]:
        schedule = MixSchedule(sorted(faults_for("shared")), seed)
        clients = random.Random(seed)
        steps = []
        for _ in range(30):
            clients.random()
            steps.append((schedule.gap(), schedule.draw()))
            schedule.out.clear()
        return steps

    assert schedule_of(7) == schedule_of(7) != schedule_of(8)
    gaps = [gap for gap, _draw in schedule_of(7)]
    assert all(MIX_GAP_SECONDS[0] <= gap <= MIX_GAP_SECONDS[1] for gap in gaps)


def test_the_mix_summary_counts_its_faults_their_mean_gap_and_how_many_overlapped() -> None:
    history = History()
    history.faults = [
        Fault("kill triage", 0.0, 20.0, window=MIX, target="triage"),
        Fault("kill broker (wipe)", 3.0, 8.0, window=MIX),
        Fault("clock jump", 6.0, 9.0, window=MIX),
        Fault("kill intake", 100.0, 110.0),  # a single fault before the mix: not in it
    ]
    summary = history.mix_summary()
    assert summary is not None
    assert summary["faults"] == 3
    assert summary["mean_gap_s"] == 3.0
    assert summary["most_out_at_once"] == 3
