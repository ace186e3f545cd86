"""Disclosure's repositories on PostgreSQL: sealed sources, consents, and cases with their verdicts
(``approvals``) and packages, on the unit of work's connection.

The units of work of one transaction (a batch's events) share what the cases and sources
repositories hold (``uow.shared``): a case is locked and read once a transaction, a tip's sources
read once, and new sources and changed cases are written together before the commit
(``before_commit``), each table in one round trip. A later event of the same tip reads them from
there, as the earlier one left them; a row the database refuses fails the flush, and the runtime then
applies the batch one event at a time to find whose.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
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
from services.common.messaging import PostgresUnitOfWork
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

ADD_SOURCE = (
    "INSERT INTO tip_sources (source_id, tip_id, kind, channel, identifiers, received_at, recorded_by, facts,"
    " recorded_by_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
)
SOURCES = "disclosure.sources"
SOURCES_OF_TIPS = (
    "SELECT source_id, tip_id, kind, channel, identifiers, received_at, recorded_by, facts, recorded_by_role"
    " FROM tip_sources WHERE tip_id = ANY($1::uuid[]) ORDER BY kind = 'supplement', received_at, source_id"
)
BATCH_LOCKED = "disclosure.batch_locked"


def _with_batch(uow: PostgresUnitOfWork, tip_id: uuid.UUID) -> list[uuid.UUID]:
    """``tip_id``, and the batch's other tips when their locks are held (``PostgresCases.get``): what
    may be read now for all of them, since a read outside a tip's lock could miss a row another
    transaction commits before it takes the lock."""
    if tip_id in uow.batch_tips and uow.shared.get(BATCH_LOCKED):
        return list(dict.fromkeys((tip_id, *uow.batch_tips)))
    return [tip_id]


@dataclass
class _Sources:
    """A transaction's sources: each tip's as read (once), and those added, not written yet."""

    read: dict[uuid.UUID, list[Source]] = field(default_factory=dict)
    added: list[Source] = field(default_factory=list)

    async def flush(self, connection: asyncpg.Connection) -> None:
        added, self.added = self.added, []
        if added:
            await connection.executemany(ADD_SOURCE, [_source_values(source) for source in added])


class PostgresSources:
    """A tip's sources, read once per transaction (a first triage reads them to open the case and
    again to issue its packages). They are read under the case's tip lock, and a supplement adds its
    source before it takes that lock, so none commits unseen while a transaction holds the tip. On
    the consume path the batch's tips are locked together (``PostgresCases``), and the first read
    reads every one of them in one statement."""

    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    def _state(self) -> _Sources:
        return self.uow.staged(SOURCES, _Sources)

    async def add(self, source: Source) -> None:
        self._state().added.append(source)

    async def of_tip(self, tip_id: uuid.UUID) -> list[Source]:
        state = self._state()
        if tip_id not in state.read:
            unread = [tip for tip in _with_batch(self.uow, tip_id) if tip not in state.read]
            for tip in unread:
                state.read[tip] = []
            for row in await self.connection.fetch(SOURCES_OF_TIPS, unread):
                state.read[row["tip_id"]].append(_source(row))
        sources = list(state.read[tip_id])
        if not any(source.tip_id == tip_id for source in state.added):
            return sources
        # As the inserts will leave them: the first of a source id stays (ON CONFLICT DO NOTHING),
        # in the order the query gives.
        kept = {source.source_id for source in sources}
        for source in state.added:
            if source.tip_id == tip_id and source.source_id not in kept:
                kept.add(source.source_id)
                sources.append(source)
        return sorted(sources, key=lambda s: (s.kind is SourceKind.SUPPLEMENT, s.received_at, s.source_id))


def _source_values(source: Source) -> tuple[Any, ...]:
    return (
        source.source_id, source.tip_id, source.kind.value, source.channel.value if source.channel else None,
        source.identifiers.model_dump(mode="json"), source.received_at, source.recorded_by,
        source.facts.model_dump(mode="json") if source.facts else None, source.recorded_by_role,
    )  # fmt: skip


CONSENTS = "disclosure.consents"
CONSENTS_OF_TIPS = (
    "SELECT tip_id, event_id, version, consent, recorded_by_role, recorded_at FROM consent_records"
    " WHERE tip_id = ANY($1::uuid[]) ORDER BY version, recorded_at, event_id"
)

_Consent = tuple[int, datetime, uuid.UUID, ConsentRecord]
"""A record with what orders a tip's history: version, time recorded, event id."""


@dataclass
class _Consents:
    """A transaction's consent histories read so far, with the records it added since the read."""

    of: dict[uuid.UUID, list[_Consent]] = field(default_factory=dict)

    def added(self, tip_id: uuid.UUID, event_id: uuid.UUID, record: ConsentRecord) -> None:
        kept = self.of.get(tip_id)
        if kept is None:
            return
        kept.append((record.version, record.recorded_at, event_id, record))
        kept.sort(key=lambda consent: consent[:3])

    async def flush(self, connection: asyncpg.Connection) -> None:
        """Nothing to write: a record is inserted as it is recorded (its insert says whether it is new)."""


class PostgresConsents:
    """A tip's consent history, read once per transaction under the case's tip lock (a consent is
    recorded before its handler takes the lock, as a source is), on the consume path for every tip of
    the batch at once; a record this transaction adds joins what was read."""

    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    def _state(self) -> _Consents:
        return self.uow.staged(CONSENTS, _Consents)

    async def record(self, tip_id: uuid.UUID, event_id: uuid.UUID, record: ConsentRecord) -> bool:
        status: str = await self.connection.execute(
            "INSERT INTO consent_records (tip_id, event_id, version, consent, recorded_by_role, recorded_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            tip_id, event_id, record.version, record.consent.model_dump(mode="json"), record.recorded_by_role,
            record.recorded_at,
        )  # fmt: skip
        inserted = status.endswith(" 1")
        if inserted:
            self._state().added(tip_id, event_id, record)
        return inserted

    async def history(self, tip_id: uuid.UUID) -> list[ConsentRecord]:
        state = self._state()
        if tip_id not in state.of:
            unread = [tip for tip in _with_batch(self.uow, tip_id) if tip not in state.of]
            for tip in unread:
                state.of[tip] = []
            for row in await self.connection.fetch(CONSENTS_OF_TIPS, unread):
                record = ConsentRecord(
                    row["version"], Consent.model_validate(row["consent"]), row["recorded_by_role"],
                    row["recorded_at"],
                )  # fmt: skip
                state.of[row["tip_id"]].append((row["version"], row["recorded_at"], row["event_id"], record))
        return [consent[3] for consent in state.of[tip_id]]


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
# A batch's tips locked in one order whatever the batch's (that of the locks' keys, as retention
# takes them; the inbox's ``LOCK_HELD_TIPS`` locks other keys), then their cases' rows, in the same
# round trip: the review-flag clock locks
# due cases' rows with SKIP LOCKED before it takes the audit chain's lock, so it must find the rows of
# every case a batch holds already locked, not take one the batch would wait for after the batch took
# the chain for an earlier event. The gate on ``locked`` is a one-time filter: every tip's lock is
# held before the first row is read and locked. The rows are those of the statement's snapshot, taken
# before it waited: a case opened by a transaction it waited for is not row-locked here (``LOCK_CASE``
# reads it again under the tip's lock; only the clock's skipping of it is lost).
LOCK_CASE_TIPS = """
WITH locked AS MATERIALIZED (
  SELECT pg_advisory_xact_lock(k)
  FROM (SELECT DISTINCT hashtext('disclosure.case/' || tip) AS k FROM unnest($1::uuid[]) AS tip ORDER BY k) AS keys
)
SELECT tip_id FROM cases
WHERE tip_id = ANY($1::uuid[]) AND (SELECT count(*) FROM locked) >= 0
ORDER BY tip_id
FOR UPDATE
"""
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

# A package the transaction read and then changed is updated, never inserted again: retention deletes
# expired packages without the case's lock, so it may be gone since it was read.
UPDATE_PACKAGE = (
    "UPDATE packages SET acknowledged_at = $2, owed_follow_ups = $3, withheld_decision = $4, reissued_as = $5,"
    " withheld_decided_at = CASE WHEN $4::text IS NULL THEN NULL ELSE coalesce(withheld_decided_at, now()) END"
    " WHERE package_id = $1"
)

CASES = "disclosure.cases"


@dataclass
class _Held:
    """The cases a transaction holds (their tip's lock taken, their row locked): each as the
    database had it when read, as it stands now, and those changed since, not written yet."""

    locked: set[uuid.UUID] = field(default_factory=set)
    as_loaded: dict[uuid.UUID, tuple[set[SupervisorVerdict], set[Package]]] = field(default_factory=dict)
    now: dict[uuid.UUID, Case | asyncpg.Record | None] = field(default_factory=dict)
    """A case as read (its row, made into a case again only when asked again) or as saved."""
    changed: dict[uuid.UUID, Case] = field(default_factory=dict)

    async def flush(self, connection: asyncpg.Connection) -> None:
        changed, self.changed = list(self.changed.values()), {}
        if not changed:
            return
        await connection.executemany(SAVE_CASE, [_case_values(case) for case in changed])
        verdicts, packages, updates = [], [], []
        for case in changed:
            loaded_verdicts, loaded_packages = self.as_loaded.get(case.tip_id, (set(), set()))
            loaded_ids = {package.package_id for package in loaded_packages}
            verdicts += [_verdict_values(case, v) for v in case.verdicts if v not in loaded_verdicts]
            for package in case.packages:
                if package in loaded_packages:
                    continue
                if package.package_id in loaded_ids:
                    updates.append(_package_update_values(package))
                else:
                    packages.append(_package_values(case, package))
            self.as_loaded[case.tip_id] = (set(case.verdicts), set(case.packages))
        if verdicts:
            await connection.executemany(ADD_VERDICT, verdicts)
        if packages:
            await connection.executemany(SAVE_PACKAGE, packages)
        if updates:
            await connection.executemany(UPDATE_PACKAGE, updates)


class PostgresCases:
    """Cases read under their tip's lock (``LOCK_CASE_TIP``) and locked ``FOR UPDATE``, so that one
    transaction at a time opens or changes a case. Once it holds one, nothing else can change it
    until it commits: it is read once a transaction, and saved once, before the commit."""

    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    def _held(self) -> _Held:
        return self.uow.staged(CASES, _Held)

    async def get(self, tip_id: uuid.UUID) -> Case | None:
        held = self._held()
        if tip_id in held.now:
            kept = held.now[tip_id]
            if kept is None or isinstance(kept, Case):
                return copy.deepcopy(kept)
            return _case(kept)
        # The tip's lock first, even when the case is there: a case not opened yet has no row to
        # lock, and a triage opening it and a consent recorded for it, in two transactions at once,
        # would each miss the other (the consent finds no case to decide again; the case is decided
        # on the consent history without it). Taken before the read, whose snapshot then holds what
        # the earlier transaction committed: two round trips for every case, where reading first
        # and locking only a case not found took one for an opened case and three for the rest
        # (every tip's first consent and first triage).
        if tip_id not in held.locked:
            await self._lock(held, tip_id)
        row = held.now[tip_id] = await self.connection.fetchrow(LOCK_CASE, tip_id)
        return self._loaded(held, row)

    async def _lock(self, held: _Held, tip_id: uuid.UUID) -> None:
        """Take the tip's lock; on the consume path, every tip of the batch with it and then their
        cases' rows, in one statement (in one order, so two batches take the tips they share in the
        same order), so that their sources and consents can then be read together under their locks.

        An acknowledgement names a package, not a tip (``with_package``): its case is locked when it
        is handled, after an earlier event of the batch may have taken the audit chain's lock. The
        review-flag clock, which locks due cases' rows before the chain, may then deadlock with it;
        PostgreSQL detects it and the batch is tried again."""
        batch = self.uow.batch_tips
        if tip_id not in batch or self.uow.shared.get(BATCH_LOCKED):
            await self.connection.execute(LOCK_CASE_TIP, tip_id)
            held.locked.add(tip_id)
            return
        unlocked = sorted(tip for tip in batch if tip not in held.locked)
        await self.connection.fetch(LOCK_CASE_TIPS, unlocked)
        held.locked.update(unlocked)
        self.uow.shared[BATCH_LOCKED] = True

    @staticmethod
    def _loaded(held: _Held, row: asyncpg.Record | None) -> Case | None:
        if row is None:
            return None
        case = _case(row)
        held.as_loaded[case.tip_id] = (set(case.verdicts), set(case.packages))
        return case

    async def with_package(self, package_id: uuid.UUID) -> Case | None:
        held = self._held()
        # A package issued in this transaction is not in the table yet.
        for kept in held.now.values():
            if isinstance(kept, Case) and any(package.package_id == package_id for package in kept.packages):
                return await self.get(kept.tip_id)
        tip_id = await self.connection.fetchval(
            "SELECT tip_id FROM packages WHERE package_id = $1", package_id
        )
        return await self.get(tip_id) if tip_id is not None else None

    async def save(self, case: Case) -> None:
        held = self._held()
        held.now[case.tip_id] = held.changed[case.tip_id] = copy.deepcopy(case)

    async def due_for_review_flags(self, now: datetime, limit: int) -> list[Case]:
        share = load_rules().at_risk_share
        tip_ids = await self.connection.fetch(DUE_FOR_FLAGS, now, share, limit)
        # Their rows are locked already; taking their tips' locks after them would invert the order
        # every other transaction takes them in (tip, then row) and could deadlock with a consumer.
        held = self._held()
        cases = [
            self._loaded(held, await self.connection.fetchrow(LOCK_CASE, row["tip_id"])) for row in tip_ids
        ]
        return [case for case in cases if case is not None]


def _verdict_values(case: Case, verdict: SupervisorVerdict) -> tuple[Any, ...]:
    return (
        case.tip_id, verdict.person_id, verdict.token_id, verdict.kind.value, verdict.reason,
        verdict.legal_reference.model_dump(mode="json") if verdict.legal_reference else None,
        verdict.ground.value if verdict.ground else None, verdict.at, verdict.package_id,
    )  # fmt: skip


def _package_update_values(package: Package) -> tuple[Any, ...]:
    decision = package.withheld_decision.value if package.withheld_decision else None
    return (package.package_id, package.acknowledged_at, list(package.owed), decision, package.reissued_as)


def _package_values(case: Case, package: Package) -> tuple[Any, ...]:
    return (
        package.package_id, case.tip_id, package.agency_id, package.recipient_kind.value,
        package.supplementary_to, package.source_id, package.basis.value,
        sorted(field.value for field in package.fields), package.issued_at, package.seconds_from_receipt,
        package.acknowledged_at, package.moved_to.model_dump(mode="json") if package.moved_to else None,
        package.withheld_at, package.withheld_reason,
        package.withheld_decision.value if package.withheld_decision else None, package.reissued_as,
        list(package.owed),
    )  # fmt: skip


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
