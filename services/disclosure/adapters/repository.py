"""Disclosure's repositories on PostgreSQL: sealed sources, consents, and cases with their verdicts
(``approvals``) and packages, on the unit of work's connection.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from schemas.disclosure import (
    Basis,
    CaseState,
    Decision,
    Jurisdiction,
    LegalReference,
    PackageField,
    Recipient,
    RecipientKind,
    ReviewQueue,
)
from schemas.sealed import SealedIdentifiers
from schemas.tip import Channel, Consent, TipFacts
from schemas.triage import IndicatorFinding, Urgency
from services.common.sealing import DataKey, Keystore
from services.disclosure.domain.case import (
    Case,
    Package,
    SupervisorVerdict,
    Triage,
    VerdictKind,
    WithheldDecision,
)
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Source, SourceKind, WithheldPackage
from services.disclosure.domain.policy import load_rules


class PostgresSources:
    """A tip's sources, read once per unit of work: a first triage reads them to open the case and
    again to issue its packages."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._read: dict[uuid.UUID, list[Source]] = {}

    async def add(self, source: Source) -> None:
        self._read.pop(source.tip_id, None)
        await self.connection.execute(
            "INSERT INTO tip_sources (source_id, tip_id, kind, channel, identifiers, received_at, recorded_by, facts,"
            " recorded_by_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            source.source_id, source.tip_id, source.kind.value, source.channel.value if source.channel else None,
            source.identifiers.model_dump(mode="json"), source.received_at, source.recorded_by,
            source.facts.model_dump(mode="json") if source.facts else None, source.recorded_by_role,
        )  # fmt: skip

    async def of_tip(self, tip_id: uuid.UUID) -> list[Source]:
        if tip_id not in self._read:
            rows = await self.connection.fetch(
                "SELECT source_id, tip_id, kind, channel, identifiers, received_at, recorded_by, facts,"
                " recorded_by_role FROM tip_sources"
                " WHERE tip_id = $1"
                " ORDER BY kind = 'supplement', received_at, source_id",
                tip_id,
            )
            self._read[tip_id] = [_source(row) for row in rows]
        return list(self._read[tip_id])


class PostgresConsents:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def record(self, tip_id: uuid.UUID, event_id: uuid.UUID, record: ConsentRecord) -> bool:
        status: str = await self.connection.execute(
            "INSERT INTO consent_records (tip_id, event_id, version, consent, recorded_by_role, recorded_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            tip_id, event_id, record.version, record.consent.model_dump(mode="json"), record.recorded_by_role,
            record.recorded_at,
        )  # fmt: skip
        return status.endswith(" 1")

    async def history(self, tip_id: uuid.UUID) -> list[ConsentRecord]:
        rows = await self.connection.fetch(
            "SELECT version, consent, recorded_by_role, recorded_at FROM consent_records WHERE tip_id = $1"
            " ORDER BY version, recorded_at, event_id",
            tip_id,
        )
        return [
            ConsentRecord(row["version"], Consent.model_validate(row["consent"]), row["recorded_by_role"],
                          row["recorded_at"])
            for row in rows
        ]  # fmt: skip


CASE_COLUMNS = (
    "tip_id", "case_reference", "correlation_id", "traceparent", "state", "decision", "basis", "recipients",
    "fields", "approvals_needed", "policy_version", "urgency", "channel", "triage_revision", "facts",
    "indicators", "minor_involved", "imminent_danger", "legal_reference", "received_at", "review_due_at",
    "reviewed_at", "forwarded_at", "recorded_by", "possibilities", "recorded_grounds", "confirmed_grounds",
    "consent_confirmed", "queue", "queued_at", "review_reasons", "review_flags", "reopened_at",
    "pending_supplements", "replay_withheld_at", "kept_supplements",
)  # fmt: skip
SAVE_CASE = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)})"
    f" VALUES ({', '.join(f'${number}' for number in range(1, len(CASE_COLUMNS) + 1))})"
    f" ON CONFLICT (tip_id) DO UPDATE SET"
    f" {', '.join(f'{column} = excluded.{column}' for column in CASE_COLUMNS[3:])}, updated_at = now()"
)
# Verdicts and packages travel with their case in one round trip, in a stable order.
LOCK_CASE = """
SELECT c.*,
       coalesce((SELECT json_agg(json_build_object(
                   'person_id', a.person_id, 'staff_token_id', a.staff_token_id, 'verdict', a.verdict, 'at', a.at,
                   'reason', a.reason, 'legal_reference', a.legal_reference, 'ground', a.ground,
                   'package_id', a.package_id)
                   ORDER BY a.at, a.person_id, a.verdict)
                 FROM approvals a WHERE a.tip_id = c.tip_id), '[]') AS verdicts,
       coalesce((SELECT json_agg(json_build_object(
                   'package_id', p.package_id, 'agency_id', p.agency_id, 'recipient_kind', p.recipient_kind,
                   'basis', p.basis, 'fields', p.fields, 'issued_at', p.issued_at,
                   'seconds_from_receipt', p.seconds_from_receipt, 'supplementary_to', p.supplementary_to,
                   'source_id', p.source_id, 'acknowledged_at', p.acknowledged_at, 'moved_to', p.moved_to,
                   'withheld_at', p.withheld_on_replay_at, 'withheld_reason', p.withheld_reason,
                   'withheld_decision', p.withheld_decision, 'reissued_as', p.reissued_as,
                   'owed', p.owed_follow_ups)
                   ORDER BY p.issued_at, p.package_id)
                 FROM packages p WHERE p.tip_id = c.tip_id), '[]') AS packages
FROM cases c WHERE c.tip_id = $1
FOR UPDATE OF c
"""
LOCK_CASE_TIP = "SELECT pg_advisory_xact_lock(hashtext('disclosure.case/' || $1::uuid))"
DUE_FOR_FLAGS = """
SELECT tip_id FROM cases
WHERE queue IS NOT NULL
  AND ((NOT 'at_risk' = ANY (review_flags) AND queued_at + (review_due_at - queued_at) * $2 <= $1)
       OR (NOT 'breached' = ANY (review_flags) AND review_due_at <= $1))
ORDER BY review_due_at
LIMIT $3
FOR UPDATE SKIP LOCKED
"""
ADD_VERDICT = (
    "INSERT INTO approvals (tip_id, person_id, staff_token_id, verdict, reason, legal_reference, ground, at,"
    " package_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
)
# The withheld mark is the relay's (``app.WITHHELD_ON_REPLAY``), so an update never writes it back; the
# insert carries it only because a CHECK constraint judges the proposed row before ON CONFLICT does.
SAVE_PACKAGE = (
    "INSERT INTO packages (package_id, tip_id, agency_id, recipient_kind, supplementary_to, source_id, basis,"
    " fields, issued_at, seconds_from_receipt, acknowledged_at, moved_to, withheld_on_replay_at, withheld_reason,"
    " withheld_decision, reissued_as, owed_follow_ups)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    " ON CONFLICT (package_id) DO UPDATE SET acknowledged_at = excluded.acknowledged_at,"
    " owed_follow_ups = excluded.owed_follow_ups,"
    " withheld_decision = excluded.withheld_decision, reissued_as = excluded.reissued_as,"
    " withheld_decided_at = CASE WHEN excluded.withheld_decision IS NULL THEN NULL"
    " ELSE coalesce(packages.withheld_decided_at, now()) END"
)


class PostgresCases:
    """Cases read under their tip's lock (``LOCK_CASE_TIP``) and locked ``FOR UPDATE``, so that one
    transaction at a time opens or changes a case."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._as_loaded: dict[uuid.UUID, tuple[set[SupervisorVerdict], set[Package]]] = {}
        self._locked: set[uuid.UUID] = set()

    async def get(self, tip_id: uuid.UUID) -> Case | None:
        # The tip's lock first, even when the case is there: a case not opened yet has no row to
        # lock, and a triage opening it and a consent recorded for it, in two transactions at once,
        # would each miss the other (the consent finds no case to decide again; the case is decided
        # on the consent history without it). Taken before the read, whose snapshot then holds what
        # the earlier transaction committed: two round trips for every case, where reading first
        # and locking only a case not found took one for an opened case and three for the rest
        # (every tip's first consent and first triage).
        if tip_id not in self._locked:
            await self.connection.execute(LOCK_CASE_TIP, tip_id)
            self._locked.add(tip_id)
        return self._loaded(await self.connection.fetchrow(LOCK_CASE, tip_id))

    def _loaded(self, row: asyncpg.Record | None) -> Case | None:
        if row is None:
            return None
        case = _case(row)
        self._as_loaded[case.tip_id] = (set(case.verdicts), set(case.packages))
        return case

    async def with_package(self, package_id: uuid.UUID) -> Case | None:
        tip_id = await self.connection.fetchval(
            "SELECT tip_id FROM packages WHERE package_id = $1", package_id
        )
        return await self.get(tip_id) if tip_id is not None else None

    async def save(self, case: Case) -> None:
        await self.connection.execute(SAVE_CASE, *_case_values(case))
        verdicts, packages = self._as_loaded.get(case.tip_id, (set(), set()))
        added = [verdict for verdict in case.verdicts if verdict not in verdicts]
        if added:
            await self.connection.executemany(
                ADD_VERDICT,
                [
                    (case.tip_id, verdict.person_id, verdict.token_id, verdict.kind.value, verdict.reason,
                     verdict.legal_reference.model_dump(mode="json") if verdict.legal_reference else None,
                     verdict.ground.value if verdict.ground else None, verdict.at, verdict.package_id)
                    for verdict in added
                ],
            )  # fmt: skip
        changed = [package for package in case.packages if package not in packages]
        if changed:
            await self.connection.executemany(
                SAVE_PACKAGE,
                [
                    (package.package_id, case.tip_id, package.agency_id, package.recipient_kind.value,
                     package.supplementary_to, package.source_id, package.basis.value,
                     sorted(field.value for field in package.fields), package.issued_at,
                     package.seconds_from_receipt, package.acknowledged_at,
                     package.moved_to.model_dump(mode="json") if package.moved_to else None,
                     package.withheld_at, package.withheld_reason,
                     package.withheld_decision.value if package.withheld_decision else None, package.reissued_as,
                     list(package.owed))
                    for package in changed
                ],
            )  # fmt: skip
        self._as_loaded[case.tip_id] = (set(case.verdicts), set(case.packages))

    async def due_for_review_flags(self, now: datetime, limit: int) -> list[Case]:
        share = load_rules().at_risk_share
        tip_ids = await self.connection.fetch(DUE_FOR_FLAGS, now, share, limit)
        # Their rows are locked already; taking their tips' locks after them would invert the order
        # every other transaction takes them in (tip, then row) and could deadlock with a consumer.
        cases = [self._loaded(await self.connection.fetchrow(LOCK_CASE, row["tip_id"])) for row in tip_ids]
        return [case for case in cases if case is not None]


class PostgresDataKeys:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def open(
        self, keystore: Keystore, tip_id: uuid.UUID, fields: list[str], purpose: str
    ) -> DataKey | None:
        return await keystore.open(self.connection, tip_id, purpose=purpose, fields=fields)

    async def shredded(self, tip_id: uuid.UUID) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT shredded_at IS NOT NULL FROM keys.data_keys WHERE tip_id = $1", tip_id
            )
        )


def _source(row: asyncpg.Record) -> Source:
    channel = Channel(row["channel"]) if row["channel"] else None
    identifiers = SealedIdentifiers.model_validate(row["identifiers"])
    return Source(
        row["source_id"],
        row["tip_id"],
        SourceKind(row["kind"]),
        channel,
        identifiers,
        row["received_at"],
        row["recorded_by"],
        TipFacts.model_validate(row["facts"]) if row["facts"] else None,
        row["recorded_by_role"],
    )


def _case_values(case: Case) -> list[Any]:
    triage = case.triage
    return [
        case.tip_id, case.reference, case.correlation_id, case.traceparent,
        case.state.value if case.state else None, case.decision.value, case.basis.value,
        [recipient.model_dump(mode="json") for recipient in case.recipients],
        sorted(field.value for field in case.fields), case.approvals_needed, case.policy_version,
        triage.urgency.value, case.channel.value, triage.revision, triage.facts.model_dump(mode="json"),
        [finding.model_dump(mode="json") for finding in triage.indicators], triage.minor_involved,
        triage.imminent_danger, case.legal_reference.model_dump(mode="json") if case.legal_reference else None,
        case.received_at, case.review_due_at, case.reviewed_at, case.forwarded_at, case.recorded_by,
        list(triage.possibilities), sorted(g.value for g in case.recorded_grounds),
        sorted(g.value for g in case.confirmed_grounds), sorted(case.consent_confirmed),
        case.queue.value if case.queue else None, case.queued_at, list(case.review_reasons),
        sorted(case.review_flags), case.reopened_at, list(case.pending_supplements), case.replay_withheld_at,
        list(case.kept_supplements),
    ]  # fmt: skip


def _case(row: asyncpg.Record) -> Case:
    return Case(
        tip_id=row["tip_id"], reference=row["case_reference"], correlation_id=row["correlation_id"],
        channel=Channel(row["channel"]), received_at=row["received_at"],
        triage=Triage(
            revision=row["triage_revision"], urgency=Urgency(row["urgency"]),
            facts=TipFacts.model_validate(row["facts"]),
            indicators=tuple(IndicatorFinding.model_validate(finding) for finding in row["indicators"]),
            minor_involved=row["minor_involved"], imminent_danger=row["imminent_danger"],
            possibilities=tuple(row["possibilities"]),
        ),
        recorded_by=row["recorded_by"], traceparent=row["traceparent"], state=CaseState(row["state"]), decision=Decision(row["decision"]),
        basis=Basis(row["basis"]), recipients=tuple(Recipient.model_validate(r) for r in row["recipients"]),
        fields=frozenset(PackageField(name) for name in row["fields"]), approvals_needed=row["approvals_needed"],
        policy_version=row["policy_version"], legal_reference=_reference(row["legal_reference"]),
        recorded_grounds=frozenset(Basis(g) for g in row["recorded_grounds"]),
        confirmed_grounds=frozenset(Basis(g) for g in row["confirmed_grounds"]),
        consent_confirmed=frozenset(row["consent_confirmed"]),
        queue=ReviewQueue(row["queue"]) if row["queue"] else None, queued_at=row["queued_at"],
        review_due_at=row["review_due_at"], review_reasons=tuple(row["review_reasons"]),
        review_flags=frozenset(row["review_flags"]), reopened_at=row["reopened_at"],
        pending_supplements=tuple(row["pending_supplements"]),
        reviewed_at=row["reviewed_at"], forwarded_at=row["forwarded_at"],
        replay_withheld_at=row["replay_withheld_at"], kept_supplements=tuple(row["kept_supplements"]),
        verdicts=[_verdict(verdict) for verdict in row["verdicts"]],
        packages=[_package(package) for package in row["packages"]],
    )  # fmt: skip


def _verdict(stored: dict[str, Any]) -> SupervisorVerdict:
    return SupervisorVerdict(
        person_id=uuid.UUID(stored["person_id"]), token_id=uuid.UUID(stored["staff_token_id"]),
        kind=VerdictKind(stored["verdict"]), at=datetime.fromisoformat(stored["at"]), reason=stored["reason"],
        legal_reference=_reference(stored["legal_reference"]),
        ground=Basis(stored["ground"]) if stored["ground"] else None, package_id=_uuid(stored["package_id"]),
    )  # fmt: skip


def _reference(stored: dict[str, Any] | None) -> LegalReference | None:
    return LegalReference.model_validate(stored) if stored else None


def _package(stored: dict[str, Any]) -> Package:
    return Package(
        package_id=uuid.UUID(stored["package_id"]), agency_id=stored["agency_id"],
        recipient_kind=RecipientKind(stored["recipient_kind"]), basis=Basis(stored["basis"]),
        fields=frozenset(PackageField(name) for name in stored["fields"]),
        issued_at=datetime.fromisoformat(stored["issued_at"]), seconds_from_receipt=stored["seconds_from_receipt"],
        supplementary_to=_uuid(stored["supplementary_to"]), source_id=_uuid(stored["source_id"]),
        acknowledged_at=datetime.fromisoformat(stored["acknowledged_at"]) if stored["acknowledged_at"] else None,
        moved_to=Jurisdiction.model_validate(stored["moved_to"]) if stored["moved_to"] else None,
        withheld_at=datetime.fromisoformat(stored["withheld_at"]) if stored["withheld_at"] else None,
        withheld_reason=stored["withheld_reason"],
        withheld_decision=WithheldDecision(stored["withheld_decision"]) if stored["withheld_decision"] else None,
        reissued_as=_uuid(stored["reissued_as"]), owed=tuple(uuid.UUID(s) for s in stored["owed"]),
    )  # fmt: skip


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class PostgresWithheld:
    """Packages withheld on replay after a broker wipe, as ``app.WITHHELD_ON_REPLAY`` marked them."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def unnoted(self, limit: int) -> list[WithheldPackage]:
        rows = await self.connection.fetch(
            "SELECT package_id, tip_id, agency_id, withheld_reason FROM packages"
            " WHERE withheld_on_replay_at IS NOT NULL AND withheld_noted_at IS NULL"
            " ORDER BY withheld_on_replay_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [
            WithheldPackage(row["package_id"], row["tip_id"], row["agency_id"], row["withheld_reason"])
            for row in rows
        ]

    async def noted(self, package_ids: list[uuid.UUID]) -> None:
        await self.connection.execute(
            "UPDATE packages SET withheld_noted_at = now() WHERE package_id = ANY($1::uuid[])", package_ids
        )
