"""The disclosure audit keyed and anchored, on PostgreSQL and the broker: what a database owner can
do to the table, and what `lantern audit verify` then says."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import generate_latest

from lantern.infra import TansuBroker
from schemas import topics
from schemas.audit import AuditHeadV1
from schemas.envelope import utc_now
from schemas.topics import ALL_TOPICS
from services.common import telemetry
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.kafka import ensure_topics
from services.common.messaging import Transactions
from services.common.roles import ServiceRoles, grant_privileges
from services.disclosure.adapters.audit import AuditChain, anchor
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.adapters.witness import FileWitness
from services.disclosure.app import build_app as build_disclosure
from services.disclosure.domain.audit import GENESIS, Head, plain_link
from services.disclosure.domain.case import Note
from services.disclosure.entrypoints.anchor import keep_anchored
from services.disclosure.settings import AuditConfigurationError, DisclosureSettings
from tests.factories import tip_received, tip_triaged
from tests.helpers import environment_of, eventually, publish_events, read_until, running
from tests.keys import stack_keys

CHILD_ON_THE_CALL = {
    "channel": "phone",
    "consent": {"law_enforcement": False, "share_identity": False},
    "assessment": {"minor_involved": "yes", "trafficking_types": ["sex"]},
}
INTACT, TAMPERED, UNANCHORED, WRONG_KEY = 0, 1, 3, 4
MIGRATIONS = Path(__file__).parents[2] / "services" / "disclosure" / "migrations"


def audit_verify(settings: DisclosureSettings, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lantern", "audit", "verify"],
        env={**os.environ, **environment_of(settings), **overrides},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def table_head(settings: DisclosureSettings) -> tuple[int, bytes] | None:
    connection = await asyncpg.connect(settings.database_url)
    try:
        row = await connection.fetchrow(
            "SELECT seq, entry_hash FROM disclosure.audit_log ORDER BY seq DESC LIMIT 1"
        )
        return (row["seq"], bytes(row["entry_hash"])) if row else None
    finally:
        await connection.close()


async def witnessed(settings: DisclosureSettings) -> Head | None:
    return await FileWitness(settings.witness_path()).last()


async def forward_a_case(settings: DisclosureSettings) -> int:
    """A child named on a call goes out at once; return the audit's head once the witness holds it."""
    tip = tip_received(**CHILD_ON_THE_CALL)
    await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", minor=True))

    async def anchored() -> int | None:
        rows = await asyncpg_fetch(
            settings, "SELECT state FROM disclosure.cases WHERE tip_id = $1", tip.tip_id
        )
        head, last = await table_head(settings), await witnessed(settings)
        if not rows or rows[0]["state"] != "forwarded" or head is None or last is None:
            return None
        return head[0] if (last.seq, last.entry_hash) == head else None

    seq = await eventually(anchored, timeout=30)
    assert seq, "the forwarded case's audit head never reached the witness"
    return int(seq)


async def asyncpg_fetch(settings: DisclosureSettings, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def as_table_owner(settings: DisclosureSettings, *statements: str) -> None:
    """What the owner of the database can do: switch the append-only triggers off and rewrite."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                await connection.execute(statement)
    finally:
        await connection.close()


async def rehash_with_sha256(settings: DisclosureSettings) -> None:
    """Recompute every link as a plain SHA-256 chain, the way the chain was made before it had a key."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            rows = await connection.fetch("SELECT * FROM disclosure.audit_log ORDER BY seq")
            previous = GENESIS
            for row in rows:
                content = json.dumps(
                    {"seq": row["seq"], "tip_id": str(row["tip_id"]), "action": row["action"],
                     "detail": json.loads(row["detail"]), "actor": row["actor"], "at": row["at"].isoformat()},
                    sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                ).encode()  # fmt: skip
                digest = hashlib.sha256(previous + content).digest()
                await connection.execute(
                    "UPDATE disclosure.audit_log SET previous_hash = $2, entry_hash = $3, link = 'sha256'"
                    " WHERE seq = $1",
                    row["seq"], previous, digest,
                )  # fmt: skip
                previous = digest
    finally:
        await connection.close()


@pytest.fixture
async def forwarded(settings: DisclosureSettings) -> AsyncIterator[int]:
    async with running(build_disclosure(settings)):
        yield await forward_a_case(settings)


async def test_a_forwarded_case_is_audited_and_verify_finds_the_chain_intact_and_anchored(
    settings: DisclosureSettings, forwarded: int
) -> None:
    verdict = audit_verify(settings)
    assert verdict.returncode == INTACT, verdict.stdout + verdict.stderr
    assert f"audit chain intact: {forwarded} entries, anchored at entry {forwarded}" in verdict.stdout
    assert stat.S_IMODE(settings.witness_path().stat().st_mode) == 0o600


async def test_every_event_that_appended_publishes_the_head_it_left_on_the_heads_topic(
    settings: DisclosureSettings, forwarded: int
) -> None:
    records = await read_until(
        settings.kafka_bootstrap_servers,
        (topics.AUDIT_HEADS,),
        lambda records: any(record.json()["seq"] == forwarded for record in records),
    )
    heads = [AuditHeadV1.model_validate(record.json()) for record in records]
    links = {
        row["seq"]: bytes(row["entry_hash"]).hex()
        for row in await asyncpg_fetch(settings, "SELECT seq, entry_hash FROM disclosure.audit_log")
    }
    # The forward appends several entries in one event: only the head it left is published, and
    # every published head is an entry of the chain, in order.
    assert forwarded > 1 and [head.seq for head in heads] == sorted({head.seq for head in heads})
    assert heads[-1].seq == forwarded and all(head.link == links[head.seq] for head in heads)
    assert len(heads) < forwarded
    assert {record.key for record in records} == {b"disclosure.audit"}


async def test_a_rewrite_by_the_table_owner_that_recomputes_the_hashes_is_reported(
    settings: DisclosureSettings, forwarded: int
) -> None:
    await as_table_owner(
        settings,
        "UPDATE disclosure.audit_log SET detail = jsonb_set(detail, '{basis}', '\"consent\"') WHERE seq = 2",
    )
    await rehash_with_sha256(settings)

    verdict = audit_verify(settings)
    assert verdict.returncode == TAMPERED, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("audit chain tampered at entry ")
    assert "it differs from the head the witness holds" in verdict.stdout


async def test_a_rewrite_that_keeps_the_keyed_marks_fails_the_key_at_the_changed_entry(
    settings: DisclosureSettings, forwarded: int
) -> None:
    await as_table_owner(
        settings,
        "UPDATE disclosure.audit_log SET actor = 'supervisor:someone-else' WHERE seq = 2",
    )
    verdict = audit_verify(settings)
    assert verdict.returncode == TAMPERED
    assert "tampered at entry 2: its link does not verify under the audit key" in verdict.stdout


async def test_dropping_the_last_entry_is_reported(settings: DisclosureSettings, forwarded: int) -> None:
    await as_table_owner(settings, f"DELETE FROM disclosure.audit_log WHERE seq = {forwarded}")

    verdict = audit_verify(settings)
    assert verdict.returncode == TAMPERED, verdict.stdout + verdict.stderr
    assert f"entries {forwarded} to {forwarded} were witnessed and are gone" in verdict.stdout


async def test_without_its_witness_the_chain_is_reported_unanchored_never_intact(
    settings: DisclosureSettings, forwarded: int
) -> None:
    settings.witness_path().unlink()
    verdict = audit_verify(settings)
    assert verdict.returncode == UNANCHORED, verdict.stdout + verdict.stderr
    assert f"audit chain unanchored: {forwarded} entries check by key" in verdict.stdout
    assert "intact" not in verdict.stdout


async def test_verify_with_another_key_says_it_cannot_check_rather_than_tampered(
    settings: DisclosureSettings, forwarded: int
) -> None:
    verdict = audit_verify(settings, LANTERN_AUDIT_KEY="A" * 43)
    assert verdict.returncode == WRONG_KEY, verdict.stdout + verdict.stderr


async def test_verify_says_nothing_identifying(settings: DisclosureSettings, forwarded: int) -> None:
    [row] = await asyncpg_fetch(settings, "SELECT tip_id FROM disclosure.audit_log WHERE seq = 1")
    for outcome in (
        audit_verify(settings),
        audit_verify(settings, LANTERN_AUDIT_WITNESS_FILE="/nonexistent"),
    ):
        assert str(row["tip_id"]) not in outcome.stdout + outcome.stderr


async def test_a_head_committed_but_never_witnessed_is_witnessed_when_disclosure_starts(
    settings: DisclosureSettings,
) -> None:
    pool = await create_pool(settings.database_url, "disclosure", max_size=2)
    try:
        transactions = Transactions(
            pool,
            partial(DisclosureUnitOfWork, chain=AuditChain(settings.chain_key())),
            stack_keys().signer("disclosure"),
        )
        async with transactions.begin() as uow:
            for action in ("decided", "forwarded"):
                await uow.audit.append(tip_received().tip_id, Note(action, "system:disclosure"))
    finally:
        await pool.close()
    assert await witnessed(settings) is None, "the process died before its witness append"

    async with running(build_disclosure(settings)):
        last = await eventually(partial(witnessed, settings))
    assert last is not None and (last.seq, last.entry_hash) == await table_head(settings)
    assert audit_verify(settings).returncode == INTACT


async def test_the_anchor_refuses_to_witness_a_head_the_key_does_not_reach(
    settings: DisclosureSettings,
) -> None:
    key, witness = settings.chain_key(), FileWitness(settings.witness_path())
    pool = await create_pool(settings.database_url, "disclosure", max_size=2)
    try:
        transactions = Transactions(
            pool, partial(DisclosureUnitOfWork, chain=AuditChain(key)), stack_keys().signer("disclosure")
        )
        async with transactions.begin() as uow:
            await uow.audit.append(tip_received().tip_id, Note("decided", "system:disclosure"))
        async with pool.acquire() as connection:
            assert await anchor(connection, key, witness) == "anchored"
            [first] = await connection.fetch("SELECT * FROM audit_log WHERE seq = 1")
            await connection.execute(
                "INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link)"
                " VALUES (2, $1, 'declined', '{}', 'system:disclosure', now(), $2, $3, 'hmac-sha256')",
                first["tip_id"], first["entry_hash"], bytes(32),
            )  # fmt: skip
            assert await anchor(connection, key, witness) == "refused"
    finally:
        await pool.close()
    heads = await witness.heads()
    assert heads is not None and [head.seq for head in heads] == [1]


async def test_after_a_broker_restart_verify_still_checks_against_the_witness(
    settings: DisclosureSettings, tmp_path: Path
) -> None:
    broker = TansuBroker(log_path=tmp_path / "restarted-tansu.log").start()
    try:
        await ensure_topics(broker.bootstrap_servers, ALL_TOPICS)
        on_broker = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap_servers})
        async with running(build_disclosure(on_broker)):
            first = await forward_a_case(on_broker)
        broker.stop()
        broker = TansuBroker(port=broker.port, log_path=tmp_path / "restarted-tansu.log").start()
        assert topics.AUDIT_HEADS not in await topic_names(broker.bootstrap_servers), (
            "Tansu forgot its topics"
        )

        verdict = audit_verify(on_broker)
        assert verdict.returncode == INTACT, verdict.stdout + verdict.stderr
        assert f"anchored at entry {first}" in verdict.stdout

        await ensure_topics(broker.bootstrap_servers, ALL_TOPICS)
        async with running(build_disclosure(on_broker)):
            second = await forward_a_case(on_broker)
        assert second > first
        assert f"anchored at entry {second}" in audit_verify(on_broker).stdout

        await as_table_owner(on_broker, f"DELETE FROM disclosure.audit_log WHERE seq = {second}")
        assert audit_verify(on_broker).returncode == TAMPERED
    finally:
        broker.stop()


async def topic_names(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_disclosure_refuses_to_start_without_its_audit_key(settings: DisclosureSettings) -> None:
    without_key = settings.model_copy(update={"audit_key": None, "audit_key_file": None})
    with pytest.raises(AuditConfigurationError):
        async with running(build_disclosure(without_key)):
            pass


@pytest.mark.empty_database
async def test_entries_from_before_the_key_stay_verifiable_and_the_first_keyed_link_covers_them(
    settings: DisclosureSettings, tmp_path: Path, service_roles: ServiceRoles
) -> None:
    before_the_key = tmp_path / "migrations"
    before_the_key.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0004":
            shutil.copy(path, before_the_key / path.name)
    await apply_shared_migrations(settings.database_url)
    await apply_migrations(settings.database_url, "disclosure", service_migrations(before_the_key))
    connection = await asyncpg.connect(settings.database_url)
    try:
        previous = GENESIS
        for seq in (1, 2, 3):
            at, tip_id = utc_now(), tip_received().tip_id
            digest = plain_link(previous, seq, tip_id, "decided", {}, "system:disclosure", at)
            await connection.execute(
                "INSERT INTO disclosure.audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash)"
                " VALUES ($1, $2, 'decided', '{}', 'system:disclosure', $3, $4, $5)",
                seq, tip_id, at, previous, digest,
            )  # fmt: skip
            previous = digest
    finally:
        await connection.close()
    await apply_migrations(settings.database_url, "disclosure", service_migrations(MIGRATIONS))
    await grant_privileges(settings.database_url, service_roles)

    assert audit_verify(settings).returncode == UNANCHORED
    async with running(build_disclosure(settings)):
        assert await eventually(partial(witnessed, settings)), "disclosure never witnessed the head on start"
        key = settings.chain_key()
        async with running_pool(settings) as pool:
            transactions = Transactions(
                pool, partial(DisclosureUnitOfWork, chain=AuditChain(key)), stack_keys().signer("disclosure")
            )
            async with transactions.begin() as uow:
                await uow.audit.append(tip_received().tip_id, Note("decided", "system:disclosure"))

        async def anchored_at_four() -> bool:
            last = await witnessed(settings)
            return last is not None and last.seq == 4

        assert await eventually(anchored_at_four)
    verdict = audit_verify(settings)
    assert verdict.returncode == INTACT, verdict.stdout + verdict.stderr
    assert "4 entries, anchored at entry 4; the first 3 predate the audit key" in verdict.stdout

    await as_table_owner(settings, "UPDATE disclosure.audit_log SET action = 'declined' WHERE seq = 2")
    await rehash_with_sha256(settings)
    assert audit_verify(settings).returncode == TAMPERED


@asynccontextmanager
async def running_pool(settings: DisclosureSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url, "disclosure", max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def exported(name: str, label: str) -> float | None:
    """The value ``/metrics`` (what Prometheus scrapes) gives the metric ``name`` with ``label``."""
    telemetry.meter_provider("disclosure")
    for line in generate_latest().decode().splitlines():
        if line.startswith(f"{name}{{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_the_anchor_exports_whether_the_chain_verifies_and_a_tampered_chain_reads_as_failing(
    settings: DisclosureSettings,
) -> None:
    key, witness = settings.chain_key(), FileWitness(settings.witness_path())
    pool = await create_pool(settings.database_url, "disclosure", max_size=2)
    wake = asyncio.Event()
    anchoring = asyncio.create_task(
        keep_anchored(pool, key, witness, wake, poll_seconds=0.05, min_interval_seconds=0.01)
    )
    try:
        transactions = Transactions(
            pool, partial(DisclosureUnitOfWork, chain=AuditChain(key)), stack_keys().signer("disclosure")
        )
        async with transactions.begin() as uow:
            await uow.audit.append(tip_received().tip_id, Note("decided", "system:disclosure"))

        async def intact() -> bool:
            head = await witness.last()
            verified = exported("lantern_audit_chain_verified", 'service="disclosure"')
            return head is not None and head.seq == 1 and verified == 1

        assert await eventually(intact)
        async with pool.acquire() as connection:
            [first] = await connection.fetch("SELECT * FROM audit_log WHERE seq = 1")
            await connection.execute(
                "INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link)"
                " VALUES (2, $1, 'declined', '{}', 'system:disclosure', now(), $2, $3, 'hmac-sha256')",
                first["tip_id"], first["entry_hash"], bytes(32),
            )  # fmt: skip

        async def failing() -> bool:
            return exported("lantern_audit_chain_verified", 'service="disclosure"') == 0

        assert await eventually(failing)
        refused = exported("lantern_audit_anchor_runs_total", 'outcome="refused"')
        assert refused is not None and refused >= 1
    finally:
        anchoring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await anchoring
        await pool.close()
