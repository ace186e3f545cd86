"""Retention with a moved clock, on the real PostgreSQL and broker: each service lets go, under its own
role, what is past its limit and nothing younger; the owner prunes the audit behind a checkpoint and
the chain still verifies; a case under a legal hold is left exactly as it was."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from lantern.retention import (
    HoldReason,
    HoldRefused,
    LiftReason,
    lift_hold,
    list_holds,
    place_hold,
    render,
    report,
    run_services,
)
from schemas.envelope import utc_now
from services.common.auth import Role
from services.common.db import connect, create_pool
from services.common.retention import Kind, Policy, Step, keep_retaining, messaging_steps, run_steps
from services.common.roles import ServiceRoles
from services.common.settings import ServiceSettings
from services.disclosure.adapters.audit import anchor
from services.disclosure.adapters.witness import FileWitness
from services.disclosure.app import build_app as build_disclosure
from services.disclosure.commands import Status, prune_audit, verify_audit
from services.disclosure.settings import DisclosureSettings
from services.intake.app import build_app as build_intake
from services.intake.retention import shred_step
from services.monitoring.app import build_app as build_monitoring
from services.monitoring.retention import STEPS as MONITORING_STEPS
from services.referral.app import build_app as build_referral
from services.triage.app import build_app as build_triage
from tests.factories import tip_body
from tests.helpers import eventually, fetch, http_client, running, staff_token

MINOR_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"minor_involved": "yes", "trafficking_types": ["sex"]},
    "consent": {
        "law_enforcement": False,
        "share_identity": False,
        "service_referral": True,
        "statistics": True,
    },
}
# Every table that holds a tip's rows, and the column that names the tip.
BY_TIP = {
    "intake.tips": "tip_id", "intake.supplements": "tip_id", "intake.consents": "tip_id",
    "triage.triage_decisions": "tip_id", "triage.tip_supplements": "tip_id",
    "disclosure.tip_sources": "tip_id", "disclosure.cases": "tip_id", "disclosure.packages": "tip_id",
    "disclosure.audit_log": "tip_id", "monitoring.journey": "tip_id", "monitoring.tips": "tip_id",
    "keys.data_keys": "tip_id",
    "intake.openings": "tip_id", "keys.unseal_audit": "tip_id", "disclosure.approvals": "tip_id",
    "disclosure.consent_records": "tip_id",
    "triage.response_plans": "tip_id", "triage.urgency_overrides": "tip_id", "referral.consents": "tip_id",
    "referral.referral_matches": "tip_id", "referral.referrals": "tip_id", "monitoring.plans": "tip_id",
    "monitoring.reviews": "tip_id", "monitoring.alert_sources": "tip_id",
    "intake.calls": "tip_id", "intake.assignments": "tip_id", "intake.assignment_history": "tip_id",
    "intake.follow_up_codes": "tip_id", "intake.idempotency_keys": "tip_id",
}  # fmt: skip
# Tables whose rows name their tip through another table: (table, join, the joined tip column).
BY_JOIN = {
    "triage.plan_steps": "JOIN triage.response_plans p ON p.plan_id = t.plan_id",
    "triage.plan_actions": "JOIN triage.response_plans p ON p.plan_id = t.plan_id",
    "monitoring.plan_steps": "JOIN monitoring.plans p ON p.plan_id = t.plan_id",
    "monitoring.alerts": "JOIN monitoring.alert_sources p ON p.alert_id = t.alert_id",
    "monitoring.deliveries": "JOIN monitoring.alert_sources p ON p.alert_id = t.alert_id",
    "referral.referral_history": "JOIN referral.referrals p ON p.referral_id = t.referral_id",
    "intake.supplement_recorders": "JOIN intake.supplements p ON p.supplement_id = t.supplement_id",
}
# What a case keeps after its casework went: the shred's record, the records of who opened its data
# (their own, longer limit) and the facts that statistics count (without the reference); the rest of
# BY_TIP and BY_JOIN goes, intake's tip row and follow-ups included.
KEPT_AFTER_CASEWORK = {"keys.data_keys", "monitoring.tips", "keys.unseal_audit", "intake.openings"}
MESSAGING = ("intake", "triage", "disclosure", "monitoring", "referral")
SEALED = "sealed.v1."


async def rows_of(settings: ServiceSettings, tip_id: uuid.UUID) -> dict[str, list[str]]:
    """Every row about one tip, in every table (inbox and outbox by their key), as JSON text."""
    rows = {
        table: [
            row["j"]
            for row in await fetch(
                settings, f"SELECT row_to_json(t)::text AS j FROM {table} t WHERE {column} = $1", tip_id
            )
        ]
        for table, column in BY_TIP.items()
    }
    for table, join in BY_JOIN.items():
        rows[table] = [
            row["j"]
            for row in await fetch(
                settings,
                f"SELECT row_to_json(t)::text AS j FROM {table} t {join} WHERE p.tip_id = $1",
                tip_id,
            )
        ]
    for schema in MESSAGING:
        rows[f"{schema}.outbox"] = [
            row["j"]
            for row in await fetch(
                settings,
                f"SELECT row_to_json(t)::text AS j FROM {schema}.outbox t WHERE encode(key, 'escape') = $1 ORDER BY id",
                str(tip_id),
            )
        ]
        rows[f"{schema}.inbox"] = [
            row["j"]
            for row in await fetch(
                settings,
                f"SELECT row_to_json(t)::text AS j FROM {schema}.inbox t WHERE tip_key = $1 ORDER BY seq",
                str(tip_id),
            )
        ]
    return {table: sorted(found) for table, found in rows.items()}


def count(rows: dict[str, list[str]], table: str) -> int:
    return len(rows[table])


async def run_retention(
    settings: ServiceSettings, roles: ServiceRoles, now: datetime, policy: Policy | None = None
) -> dict[tuple[str, str], int]:
    done = await run_services(settings.database_url, roles, policy or Policy(), now)
    return {(service, row.table): row.rows for service, row in done}


@pytest.fixture
async def three_cases(settings: ServiceSettings) -> dict[str, Any]:
    """Three phone tips with a minor, sent at once to the police and child protection: A (with a
    follow-up) and B first, then C. Every service has handled them, and its outbox is sent."""
    intake, triage, disclosure, monitoring, referral = (
        build_intake(settings), build_triage(settings), build_disclosure(settings), build_monitoring(settings),
        build_referral(settings),
    )  # fmt: skip
    specialist = {"authorization": f"Bearer {await staff_token(settings.database_url, Role.SPECIALIST)}"}
    async with running(intake, triage, disclosure, monitoring, referral), http_client(intake) as client:

        async def submit() -> dict[str, Any]:
            answer = await client.post("/v1/tips", json=tip_body(**MINOR_ON_THE_CALL), headers=specialist)
            assert answer.status_code == 202, answer.text
            return dict(answer.json())

        async def handled(tip: dict[str, Any], packages: int = 2) -> None:
            async def done() -> bool:
                issued = await fetch(
                    settings, "SELECT 1 FROM disclosure.packages WHERE tip_id = $1", uuid.UUID(tip["tip_id"])
                )
                journey = await fetch(
                    settings, "SELECT 1 FROM monitoring.journey WHERE tip_id = $1", uuid.UUID(tip["tip_id"])
                )
                unsent = await fetch(
                    settings,
                    " UNION ALL ".join(f"SELECT 1 FROM {s}.outbox WHERE sent_at IS NULL" for s in MESSAGING),
                )
                matched = await fetch(
                    settings,
                    "SELECT 1 FROM referral.referral_matches WHERE tip_id = $1",
                    uuid.UUID(tip["tip_id"]),
                )
                return len(issued) >= packages and bool(journey) and bool(matched) and not unsent

            assert await eventually(done, timeout=60), "the tip was not handled everywhere"

        a = await submit()
        follow_up = await client.post(
            f"/v1/tips/{a['reference']}/supplements",
            json={"code": a["follow_up_code"], "narrative": "Elle a été déplacée à Trois-Rivières."},
        )
        assert follow_up.status_code == 202, follow_up.text

        async def supplemented() -> bool:
            return bool(
                await fetch(
                    settings, "SELECT 1 FROM triage.tip_supplements WHERE tip_id = $1", uuid.UUID(a["tip_id"])
                )
            )

        assert await eventually(supplemented, timeout=60)
        b = await submit()
        await handled(a)
        await handled(b)
        c = await submit()
        await handled(c)
    tips = {name: uuid.UUID(tip["tip_id"]) for name, tip in (("a", a), ("b", b), ("c", c))}
    # Someone opened each tip's identifying data (the workbench records it so).
    await fetch(
        settings,
        "INSERT INTO intake.openings (opening_id, tip_id, person_id, role, token_id, purpose, fields, outcome)"
        " SELECT gen_random_uuid(), t, gen_random_uuid(), 'specialist', gen_random_uuid(), 'follow_up',"
        " '{narrative}', 'unsealed' FROM unnest($1::uuid[]) AS t",
        list(tips.values()),
    )
    # Each was a call a specialist took, held and handed over, with a note sealed under its key.
    await fetch(
        settings,
        "INSERT INTO intake.calls (tip_id, started_at, ended_at, heard_via) SELECT t, now() - interval '10 minutes',"
        " now(), 'search_engine' FROM unnest($1::uuid[]) AS t",
        list(tips.values()),
    )
    await fetch(
        settings,
        "INSERT INTO intake.assignments (tip_id, person_id, assigned_by) SELECT t, gen_random_uuid(),"
        " gen_random_uuid() FROM unnest($1::uuid[]) AS t",
        list(tips.values()),
    )
    await fetch(
        settings,
        "INSERT INTO intake.assignment_history (tip_id, action, person_id, by_person, by_role, sealed_note)"
        " SELECT t, 'handed_over', gen_random_uuid(), gen_random_uuid(), 'supervisor', 'sealed.v1.note'"
        " FROM unnest($1::uuid[]) AS t",
        list(tips.values()),
    )
    return tips | {"reference_c": c["reference"]}


async def anchored(settings: DisclosureSettings) -> None:
    """Witness the audit's head, as disclosure's anchor does within a second of each commit."""
    connection = await connect(settings.database_url, "disclosure")
    try:
        assert (
            await anchor(connection, settings.chain_key(), FileWitness(settings.witness_path())) != "refused"
        )
    finally:
        await connection.close()


async def test_records_leave_at_their_limits_under_each_services_role_and_a_held_case_is_untouched(
    settings: DisclosureSettings, service_roles: ServiceRoles, three_cases: dict[str, Any]
) -> None:
    a, b, c = three_cases["a"], three_cases["b"], three_cases["c"]
    await anchored(settings)
    admin = await staff_token(settings.database_url, Role.ADMIN)
    hold_id, held_tip = await place_hold(
        settings.database_url, three_cases["reference_c"], HoldReason.COURT_ORDER, "2026-0457", admin
    )
    assert held_tip == c
    before = {tip: await rows_of(settings, tip) for tip in (a, b, c)}
    for tip in (a, b, c):
        rows = before[tip]
        assert count(rows, "disclosure.packages") == 2 and count(rows, "monitoring.journey") > 0
        assert all(count(rows, f"{s}.outbox") > 0 for s in ("intake", "triage", "disclosure"))
        assert all(count(rows, f"{s}.inbox") > 0 for s in ("triage", "disclosure", "monitoring"))
        assert SEALED in "".join(
            rows["intake.tips"] + rows["triage.triage_decisions"] + rows["disclosure.tip_sources"]
        )
        casework = ("disclosure.cases", "disclosure.consent_records", "triage.response_plans",
                    "triage.plan_steps", "referral.referral_matches", "monitoring.plans", "keys.unseal_audit",
                    "intake.openings", "intake.consents", "intake.calls", "intake.assignments",
                    "intake.assignment_history", "intake.follow_up_codes")  # fmt: skip
        assert all(count(rows, table) > 0 for table in casework), [t for t in casework if not rows[t]]
    assert SEALED in "".join(before[a]["intake.supplements"] + before[a]["triage.tip_supplements"])
    now = utc_now()

    # 20 days on: published outbox rows (kept 15 days) go; applied inbox rows and journeys (90) stay.
    done = await run_retention(settings, service_roles, now + timedelta(days=20))
    after_20 = {tip: await rows_of(settings, tip) for tip in (a, b)}
    for tip in (a, b):
        assert all(count(after_20[tip], f"{s}.outbox") == 0 for s in MESSAGING)
        unchanged = {t: r for t, r in after_20[tip].items() if not t.endswith(".outbox")}
        assert unchanged == {t: r for t, r in before[tip].items() if not t.endswith(".outbox")}
    assert done[("intake", "intake.outbox")] >= 3 and done[("intake", "keys.data_keys")] == 0

    # 100 days on: applied inbox rows and journeys go too; identifying data, packages and audit stay.
    await run_retention(settings, service_roles, now + timedelta(days=100))
    for tip in (a, b):
        rows = await rows_of(settings, tip)
        assert all(count(rows, f"{s}.inbox") == 0 for s in MESSAGING)
        assert count(rows, "monitoring.journey") == 0
        kept = (
            "keys.data_keys",
            "intake.tips",
            "triage.triage_decisions",
            "disclosure.packages",
            "disclosure.audit_log",
        )
        assert {t: rows[t] for t in kept} == {t: before[tip][t] for t in kept}
    assert (
        await prune_audit(settings.database_url, settings, Policy(), now + timedelta(days=100))
    ).entries == 0

    # Eight years on: keys shredded (by the job, for retention), sealed values gone from every table,
    # package records gone, the audit pruned behind a checkpoint up to the held case's first entry.
    # A shred is recorded at the database's time, not the moved clock's: a ten-year limit for the
    # records of who opened the data keeps this run off the tips it shreds now (as two years would in
    # a real run); their own limit is tried below from the time of the shred.
    later, ten_years = now + timedelta(days=8 * 365), Policy.of({"access": 3650})
    done = await run_retention(settings, service_roles, later, ten_years)
    assert done[("intake", "keys.data_keys")] == 2
    pruning = await prune_audit(settings.database_url, settings, Policy(), later)
    first_held = (
        await fetch(settings, "SELECT min(seq) AS seq FROM disclosure.audit_log WHERE tip_id = $1", c)
    )[0]["seq"]
    assert pruning.checkpoint is not None and pruning.through == first_held - 1
    for tip in (a, b):
        rows = await rows_of(settings, tip)
        [key] = await fetch(settings, "SELECT * FROM keys.data_keys WHERE tip_id = $1", tip)
        assert key["wrapped_key"] is None and key["shred_reason"] == "retention"
        assert key["shredded_by_job"] == "retention" and key["shredded_by_token"] is None
        assert not any(SEALED in row for table in rows for row in rows[table]), "a sealed value stayed"
        for table in ("disclosure.packages", "disclosure.audit_log", "monitoring.journey"):
            assert count(rows, table) == 0, table
        # The casework went with the identifying data; who opened it stays its own time.
        gone = {t: r for t, r in rows.items() if r and t not in KEPT_AFTER_CASEWORK}
        assert not gone, f"casework stayed: {sorted(gone)}"
        for table in ("keys.unseal_audit", "intake.openings"):
            assert rows[table] == before[tip][table], table
        assert rows["keys.unseal_audit"] and rows["intake.openings"]
        [facts] = rows["monitoring.tips"]
        assert json.loads(facts)["reference"] is None and json.loads(facts)["channel"] == "phone"
    assert await rows_of(settings, c) == before[c], "the held case changed"

    verdict = await verify_audit(settings.database_url, settings)
    assert verdict.status is Status.INTACT and verdict.pruned_through == pruning.through
    checkpoint = await fetch(
        settings, "SELECT detail FROM disclosure.audit_log WHERE seq = $1", pruning.checkpoint
    )
    assert json.loads(checkpoint[0]["detail"])["through_seq"] == pruning.through

    # Lifted, the hold lets retention take the case at its next run; the record keeps who and why.
    await lift_hold(settings.database_url, str(c), LiftReason.PROCEEDINGS_ENDED, admin)
    await run_retention(settings, service_roles, later, ten_years)
    [key] = await fetch(settings, "SELECT wrapped_key FROM keys.data_keys WHERE tip_id = $1", c)
    assert key["wrapped_key"] is None
    assert (await prune_audit(settings.database_url, settings, Policy(), later)).checkpoint is not None
    assert (await verify_audit(settings.database_url, settings)).status is Status.INTACT
    assert count(await rows_of(settings, c), "disclosure.cases") == 0

    # Two years after the shreds, the records of who unsealed or opened the data go too.
    await run_retention(settings, service_roles, utc_now() + timedelta(days=729))
    for tip in (a, b, c):
        assert count(await rows_of(settings, tip), "keys.unseal_audit") > 0
    await run_retention(settings, service_roles, utc_now() + timedelta(days=731))
    for tip in (a, b, c):
        rows = await rows_of(settings, tip)
        assert count(rows, "keys.unseal_audit") == 0 and count(rows, "intake.openings") == 0
        assert count(rows, "monitoring.tips") == 1
    [hold] = await list_holds(settings.database_url)
    assert (hold["hold_id"], hold["reason"], hold["reference"], hold["lift_reason"]) == (
        hold_id,
        "court_order",
        "2026-0457",
        "proceedings_ended",
    )
    assert hold["placed_by_person"] is not None and hold["lifted_by_person"] == hold["placed_by_person"]


async def test_the_report_gives_counts_and_dates_per_kind_and_nothing_identifying(
    settings: DisclosureSettings, three_cases: dict[str, Any]
) -> None:
    now = utc_now()
    soon = await report(settings.database_url, Policy(), now + timedelta(days=16))
    by_table = {(row.kind, row.table): row for _runner, row in soon.rows}
    assert by_table[(Kind.OUTBOX, "intake.outbox")].due >= 3
    identifying = by_table[(Kind.IDENTIFYING, "keys.data_keys")]
    assert identifying.due == 0 and identifying.next_due is not None
    assert identifying.next_due.date() >= (now + timedelta(days=729)).date()
    assert by_table[(Kind.AUDIT, "disclosure.audit_log")].due == 0
    # Casework and access records are listed, each under the service that lets them go; nothing was
    # shredded, so nothing of theirs is due or has a date.
    for kind, table in (
        (Kind.CASEWORK, "disclosure.cases"), (Kind.CASEWORK, "triage.response_plans"),
        (Kind.CASEWORK, "referral.referral_matches"), (Kind.CASEWORK, "monitoring.plans"),
        (Kind.ACCESS, "keys.unseal_audit"), (Kind.ACCESS, "intake.openings"),
    ):  # fmt: skip
        assert (by_table[(kind, table)].due, by_table[(kind, table)].next_due) == (0, None), table
    runners = {(runner, row.table) for runner, row in soon.rows}
    assert ("referral", "referral.referrals") in runners and ("intake", "keys.unseal_audit") in runners
    # What was not governed before is listed too, under the service that lets it go.
    for runner, kind, table in (
        ("intake", Kind.CASEWORK, "intake.tips"), ("intake", Kind.CASEWORK, "intake.assignment_history"),
        ("intake", Kind.CASEWORK, "intake.calls"), ("referral", Kind.PROVIDER_REQUESTS, "referral.provider_requests"),
        ("referral", Kind.DIRECTORY, "referral.hsds_records"), ("referral", Kind.PROVIDER_AUDIT, "referral.provider_audit"),
    ):  # fmt: skip
        assert (runner, table) in runners and (kind, table) in by_table, table
    lines = "\n".join(render(soon))
    stored = json.dumps([await rows_of(settings, tip) for tip in (three_cases["a"], three_cases["c"])])
    assert str(three_cases["a"]) not in lines and three_cases["reference_c"] not in lines
    assert "Trois-Rivières" not in lines and SEALED not in lines and SEALED in stored
    assert "le.referrals.<agency>.v1\tbroker\t6 d" in lines


async def test_a_hold_needs_an_admin_and_a_known_case_and_stands_once(
    settings: DisclosureSettings, three_cases: dict[str, Any]
) -> None:
    supervisor = await staff_token(settings.database_url, Role.SUPERVISOR)
    admin = await staff_token(settings.database_url, Role.ADMIN)
    with pytest.raises(HoldRefused, match="token"):
        await place_hold(
            settings.database_url, str(three_cases["a"]), HoldReason.LITIGATION, None, supervisor
        )
    with pytest.raises(HoldRefused, match="case"):
        await place_hold(settings.database_url, str(uuid.uuid4()), HoldReason.LITIGATION, None, admin)
    with pytest.raises(HoldRefused, match="reference"):
        await place_hold(
            settings.database_url,
            str(three_cases["a"]),
            HoldReason.LITIGATION,
            "Jean Tremblay, 514-555",
            admin,
        )
    await place_hold(settings.database_url, str(three_cases["a"]), HoldReason.LITIGATION, None, admin)
    with pytest.raises(HoldRefused, match="already"):
        await place_hold(settings.database_url, str(three_cases["a"]), HoldReason.LITIGATION, None, admin)
    with pytest.raises(HoldRefused, match="no legal hold"):
        await lift_hold(settings.database_url, str(three_cases["b"]), LiftReason.ENTERED_IN_ERROR, admin)


async def test_the_owner_cannot_delete_an_audit_entry_that_no_checkpoint_covers_nor_a_service_place_a_hold(
    database_url: str, service_roles: ServiceRoles
) -> None:
    owner = await connect(database_url, "disclosure")
    try:
        await owner.execute(
            "INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link)"
            " VALUES (1, $1, 'decided', '{}'::jsonb, 'system:disclosure', now(), $2, $2, 'hmac-sha256')",
            uuid.uuid4(), bytes(32),
        )  # fmt: skip
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("DELETE FROM audit_log WHERE seq = 1")
    finally:
        await owner.close()
    for service in MESSAGING:
        connection = await connect(service_roles.url(database_url, service), service)
        try:
            assert await connection.fetchval("SELECT count(*) FROM retention.legal_holds") == 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "INSERT INTO retention.legal_holds (hold_id, tip_id, reason, placed_by_token)"
                    " VALUES ($1, $1, 'litigation', $1)",
                    uuid.uuid4(),
                )
        finally:
            await connection.close()


async def test_a_held_tips_unseal_audit_stays_even_shredded_whoever_asks_to_delete_it(
    database_url: str, service_roles: ServiceRoles
) -> None:
    tip = uuid.uuid4()
    owner = await connect(database_url, "keys")
    intake = await connect(service_roles.url(database_url, "intake"), "intake")
    try:
        await owner.execute(
            "INSERT INTO keys.data_keys (tip_id, kek_id, wrapped_key, shredded_at, shred_reason, shredded_by_job)"
            " VALUES ($1, 'kek-1', NULL, now(), 'retention', 'retention')",
            tip,
        )
        await owner.execute(
            "INSERT INTO keys.unseal_audit (tip_id, service, purpose, fields, outcome)"
            " VALUES ($1, 'disclosure', 'disclosure.forward', '{narrative}', 'unsealed')",
            tip,
        )
        hold = uuid.uuid4()
        await owner.execute(
            "INSERT INTO retention.legal_holds (hold_id, tip_id, reason, placed_by_token)"
            " VALUES ($1, $2, 'litigation', $1)",
            hold, tip,
        )  # fmt: skip
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await intake.execute("DELETE FROM keys.unseal_audit WHERE tip_id = $1", tip)
        await owner.execute(
            "UPDATE retention.legal_holds SET lifted_at = now(), lifted_by_token = $1,"
            " lift_reason = 'proceedings_ended' WHERE hold_id = $1",
            hold,
        )
        assert await intake.execute("DELETE FROM keys.unseal_audit WHERE tip_id = $1", tip) == "DELETE 1"
    finally:
        await intake.close()
        await owner.close()


async def test_a_service_runs_its_retention_by_itself_under_its_own_role_with_the_clock_it_is_given(
    database_url: str, service_roles: ServiceRoles
) -> None:
    owner = await connect(database_url, "monitoring")
    kept, old = uuid.uuid4(), uuid.uuid4()
    try:
        await owner.executemany(
            "INSERT INTO journey (tip_id, topic, event_type, occurred_at) VALUES ($1, 'tips.received.v1', 'tip.received', $2)",
            [(kept, utc_now()), (old, utc_now() - timedelta(days=91))],
        )
    finally:
        await owner.close()
    pool = await create_pool(service_roles.url(database_url, "monitoring"), "monitoring")
    clock_reads: list[datetime] = []

    def clock() -> datetime:
        clock_reads.append(utc_now())
        return clock_reads[-1]

    steps = (*messaging_steps("monitoring"), *MONITORING_STEPS)
    loop = asyncio.create_task(keep_retaining(pool, "monitoring", steps, Policy(), 0.05, clock=clock))
    try:

        async def gone() -> bool:
            return not await pool.fetch("SELECT 1 FROM journey WHERE tip_id = $1", old)

        assert await eventually(gone)
        assert await pool.fetch("SELECT 1 FROM journey WHERE tip_id = $1", kept)
        assert await pool.fetchval("SELECT current_user") == service_roles.name("monitoring")
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await pool.close()


async def test_the_audit_prune_streams_a_long_chain_and_takes_the_chain_lock_only_to_cut_it(
    settings: DisclosureSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.disclosure.adapters import audit as audit_adapter
    from services.disclosure.domain.case import Note

    key = settings.chain_key()

    async def append(connection: asyncpg.Connection, entries: int) -> None:
        async with connection.transaction():
            head = await audit_adapter._chain_head(connection)
            for n in range(entries):
                note = Note("decided", "system:disclosure", {"n": n})
                head = await audit_adapter._write(connection, key, head, uuid.uuid4(), note)

    owner = await connect(settings.database_url, "disclosure")
    try:
        await append(owner, 3000)
    finally:
        await owner.close()
    await anchored(settings)
    streamed: list[int] = []
    verify_stream = audit_adapter._stream_verify
    prune_verified = audit_adapter._prune_verified

    async def counted(*args: Any, **kwargs: Any) -> Any:
        verdict, verifier = await verify_stream(*args, **kwargs, batch=200)
        streamed.append(verifier.count)
        return verdict, verifier

    async def between(connection: asyncpg.Connection, *args: Any) -> Any:
        # Verified and not yet cutting: the chain's lock is free, and others append meanwhile.
        other = await connect(settings.database_url, "disclosure")
        try:
            held = await other.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1",
                connection.get_server_pid(),
            )
            assert held == 0
            await append(other, 5)
        finally:
            await other.close()
        return await prune_verified(connection, *args)

    monkeypatch.setattr(audit_adapter, "_stream_verify", counted)
    monkeypatch.setattr(audit_adapter, "_prune_verified", between)
    pruning = await prune_audit(settings.database_url, settings, Policy(), utc_now() + timedelta(days=2558))
    assert streamed == [3000]
    assert (pruning.first, pruning.through, pruning.checkpoint) == (1, 2999, 3006)
    verdict = await verify_audit(settings.database_url, settings)
    assert verdict.status is Status.INTACT and verdict.pruned_through == 2999
    assert verdict.entries == 7, "the last witnessed entry, the five appended meanwhile and the checkpoint"


@pytest.fixture
async def two_tips(settings: ServiceSettings) -> list[uuid.UUID]:
    """Two tips intake accepted (each with its data key), nothing else running."""
    specialist = {"authorization": f"Bearer {await staff_token(settings.database_url, Role.SPECIALIST)}"}
    intake = build_intake(settings)
    tips = []
    async with running(intake), http_client(intake) as client:
        for _ in range(2):
            answer = await client.post("/v1/tips", json=tip_body(**MINOR_ON_THE_CALL), headers=specialist)
            assert answer.status_code == 202, answer.text
            tips.append(uuid.UUID(answer.json()["tip_id"]))
    return tips


async def shreds_as_intake(
    settings: ServiceSettings, roles: ServiceRoles, step: Step, now: datetime
) -> dict[uuid.UUID, bool]:
    """Run only the identifying data's step as intake's role; which tips' keys are shredded after."""
    connection = await connect(roles.url(settings.database_url, "intake"), "intake")
    try:
        await run_steps(connection, (step,), Policy(), now)
    finally:
        await connection.close()
    rows = await fetch(settings, "SELECT tip_id, wrapped_key IS NULL AS shredded FROM keys.data_keys")
    return {row["tip_id"]: row["shredded"] for row in rows}


async def test_a_hold_placed_after_the_run_read_a_tip_as_due_stops_its_shred(
    settings: ServiceSettings, service_roles: ServiceRoles, two_tips: list[uuid.UUID]
) -> None:
    admin = await staff_token(settings.database_url, Role.ADMIN)
    held, other = two_tips
    read_as_due: list[uuid.UUID] = []

    async def hold_it_now(tip_id: uuid.UUID) -> None:
        # The run has read both tips as due and not yet taken the first one's lock.
        read_as_due.append(tip_id)
        if tip_id == held:
            await place_hold(settings.database_url, str(held), HoldReason.COURT_ORDER, None, admin)

    step = shred_step(before_lock=hold_it_now)
    shredded = await shreds_as_intake(settings, service_roles, step, utc_now() + timedelta(days=731))
    assert sorted(read_as_due) == sorted(two_tips)
    assert shredded == {held: False, other: True}


async def test_a_hold_asked_for_while_the_shred_holds_the_tips_lock_comes_after_the_shred(
    settings: ServiceSettings, service_roles: ServiceRoles, two_tips: list[uuid.UUID]
) -> None:
    admin = await staff_token(settings.database_url, Role.ADMIN)
    held = two_tips[0]
    placing: list[asyncio.Task[Any]] = []

    async def hold_it_now(tip_id: uuid.UUID) -> None:
        if tip_id != held:
            return
        placing.append(
            asyncio.create_task(
                place_hold(settings.database_url, str(held), HoldReason.COURT_ORDER, None, admin)
            )
        )

        async def waiting_on_the_lock() -> bool:
            rows = await fetch(settings, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            return bool(rows)

        # The hold's transaction waits on the lock the shred holds: it cannot slip in between.
        assert await eventually(waiting_on_the_lock, timeout=30)

    step = shred_step(after_lock=hold_it_now)
    shredded = await shreds_as_intake(settings, service_roles, step, utc_now() + timedelta(days=731))
    assert shredded[held] is True
    [task] = placing
    hold_id, tip_id = await task
    assert tip_id == held
    [hold] = await list_holds(settings.database_url)
    assert hold["hold_id"] == hold_id and hold["lifted_at"] is None


ORGANIZATION = [
    ("organization", "lapsed-org", {"id": "lapsed-org", "name": "Refuge Lapsed"}),
    ("service", "lapsed-svc", {"id": "lapsed-svc", "organization_id": "lapsed-org"}),
    ("location", "lapsed-loc", {"id": "lapsed-loc", "organization_id": "lapsed-org"}),
    ("service_at_location", "lapsed-sal", {"id": "lapsed-sal", "service_id": "lapsed-svc", "location_id": "lapsed-loc"}),
    ("contact", "lapsed-contact", {"id": "lapsed-contact", "service_id": "lapsed-svc", "name": "Marie Contact"}),
    ("phone", "lapsed-phone", {"id": "lapsed-phone", "contact_id": "lapsed-contact", "number": "514-555-0199"}),
    ("attribute", "lapsed-attr", {"id": "lapsed-attr", "link_id": "lapsed-svc", "link_type": "service"}),
    ("organization", "listed-org", {"id": "listed-org", "name": "Refuge Listed"}),
    ("service", "listed-svc", {"id": "listed-svc", "organization_id": "listed-org"}),
    ("contact", "listed-contact", {"id": "listed-contact", "organization_id": "listed-org", "name": "Luc Contact"}),
]  # fmt: skip


async def test_provider_records_leave_at_their_limits_and_a_listed_provider_or_a_pending_request_stays(
    settings: ServiceSettings, service_roles: ServiceRoles
) -> None:
    await fetch(
        settings,
        "INSERT INTO referral.hsds_records (resource, id, record) SELECT r, i, j::jsonb"
        " FROM unnest($1::text[], $2::text[], $3::text[]) AS x(r, i, j)",
        [r for r, _, _ in ORGANIZATION], [i for _, i, _ in ORGANIZATION],
        [json.dumps(j) for _, _, j in ORGANIZATION],
    )  # fmt: skip
    await fetch(
        settings,
        "INSERT INTO referral.hsds_addresses (id, location_id, record) VALUES"
        ' (\'lapsed-addr\', \'lapsed-loc\', \'{"id": "lapsed-addr", "address_1": "12 rue Cachée"}\')',
    )
    await fetch(
        settings,
        "INSERT INTO referral.directory_confirmations (resource, id, public, confirmed_by) VALUES"
        " ('organization', 'lapsed-org', true, 'partnerships'), ('organization', 'listed-org', true, 'partnerships')",
    )
    await fetch(
        settings,
        "INSERT INTO referral.directory_reconfirmations (organization_id, due_at, lapsed_at) VALUES"
        " ('lapsed-org', now(), now()), ('listed-org', now() + interval '30 days', NULL)",
    )
    details = json.dumps(
        {"organization": "Refuge", "contact_name": "Marie Contact", "email": "m@example.org"}
    )
    # A request is inserted pending (a trigger refuses any other): one is then rejected.
    await fetch(
        settings,
        "INSERT INTO referral.provider_requests (request_id, kind, details, language)"
        " VALUES (gen_random_uuid(), 'registration', $1::jsonb, 'fr'),"
        " (gen_random_uuid(), 'registration', $1::jsonb, 'en')",
        details,
    )
    await fetch(
        settings,
        "UPDATE referral.provider_requests SET status = 'rejected', decided_at = now(), reason = 'not_eligible'"
        " WHERE language = 'fr'",
    )
    await fetch(
        settings,
        "INSERT INTO referral.provider_audit (subject, action, role, at) VALUES"
        " ('organization:listed-org', 'details_confirmed', 'partnerships', now() - interval '2558 days'),"
        " ('organization:listed-org', 'confirmation_requested', 'clock', now())",
    )

    async def provider_rows() -> dict[str, Any]:
        return {
            "records": sorted(r["id"] for r in await fetch(settings, "SELECT id FROM referral.hsds_records")),
            "addresses": len(await fetch(settings, "SELECT 1 FROM referral.hsds_addresses")),
            "confirmations": sorted(
                r["id"] for r in await fetch(settings, "SELECT id FROM referral.directory_confirmations")
            ),
            "lapses": len(await fetch(settings, "SELECT 1 FROM referral.directory_reconfirmations")),
            "requests": sorted(r["status"] for r in await fetch(settings, "SELECT status FROM referral.provider_requests")),
            "audit": sorted(r["action"] for r in await fetch(settings, "SELECT action FROM referral.provider_audit")),
        }  # fmt: skip

    now = utc_now()
    before = await provider_rows()
    # A year less a day on: nothing of the provider side goes but the audit entry past seven years.
    await run_retention(settings, service_roles, now + timedelta(days=364))
    after_364 = await provider_rows()
    # The requests' own received lines (the database writes them) are young: they stay.
    assert after_364 == {**before, "audit": ["confirmation_requested", "received", "received"]}

    # A year on, the rejected request goes with its contact person; the pending one stays.
    await run_retention(settings, service_roles, now + timedelta(days=366))
    assert (await provider_rows())["requests"] == ["pending"]
    assert (await provider_rows())["records"] == before["records"]

    # Two years after the lapse, every record of the lapsed provider goes; the listed one stays whole.
    await run_retention(settings, service_roles, now + timedelta(days=731))
    after = await provider_rows()
    assert after["records"] == ["listed-contact", "listed-org", "listed-svc"]
    assert (after["addresses"], after["confirmations"], after["lapses"]) == (0, ["listed-org"], 1)
    assert after["requests"] == ["pending"]
    assert sorted(after["audit"]) == ["confirmation_requested", "received", "received", "retention_deleted"]
    # The young audit entry stays whatever the moved clock says: its trigger reads the database's.
    await run_retention(settings, service_roles, now + timedelta(days=3000))
    assert "confirmation_requested" in (await provider_rows())["audit"]
    referral = await connect(service_roles.url(settings.database_url, "referral"), "referral")
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await referral.execute("DELETE FROM provider_audit WHERE action = 'confirmation_requested'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # no right to, and its trigger refuses
            await referral.execute("UPDATE provider_audit SET reason = 'x'")
    finally:
        await referral.close()
