"""Stopping and starting `lantern up` again keeps every tip, replays to the fresh broker once, and
the disclosure audit still checks against its witness."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from lantern.launcher import launch
from schemas import topics
from tests.factories import tip_body
from tests.helpers import events_of_tips

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DOWNSTREAM = (topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)


async def test_a_restart_keeps_the_data_and_republishes_the_same_events_once(
    tmp_path: Path, stack_environment: dict[str, str]
) -> None:
    home = tmp_path / ".lantern"
    first = launch(home, stack_environment)
    try:
        async with httpx.AsyncClient(base_url=first.endpoints["intake_url"]) as client:
            tip_id = (await client.post("/v1/tips", json=tip_body())).json()["tip_id"]
        before = await events_of_tips(first.endpoints["kafka_bootstrap_servers"], DOWNSTREAM, {tip_id})
    finally:
        assert first.stop() == 0
    second = launch(home, stack_environment)
    try:
        endpoints = second.endpoints
        after = await events_of_tips(endpoints["kafka_bootstrap_servers"], DOWNSTREAM, {tip_id})
        connection = await asyncpg.connect(endpoints["database_url"])
        try:
            stored = await connection.fetchval(
                "SELECT count(*) FROM intake.tips WHERE tip_id = $1::uuid", tip_id
            )
            decisions = await connection.fetchval(
                "SELECT count(*) FROM triage.triage_decisions WHERE tip_id = $1::uuid", tip_id
            )
        finally:
            await connection.close()
        verdict = await _audit_verified(home, endpoints["database_url"])
    finally:
        assert second.stop() == 0
    assert stored == 1 and decisions == 1
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "audit chain intact" in verdict.stdout and "anchored at entry" in verdict.stdout
    for topic in DOWNSTREAM:
        assert [e["event_id"] for e in after[tip_id][topic]] == [e["event_id"] for e in before[tip_id][topic]]


async def _audit_verified(home: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """`lantern audit verify --home`, once the restarted disclosure has anchored what it found."""
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("LANTERN_AUDIT")},
        "DATABASE_URL": database_url,
    }
    for _attempt in range(60):
        verdict = subprocess.run(
            [sys.executable, "-m", "lantern", "audit", "verify", "--home", str(home)],
            env=environment, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if verdict.returncode != 3:
            return verdict
        await asyncio.sleep(0.5)
    return verdict
