"""Disclosure's repositories on PostgreSQL: sealed sources, consents, and cases with their verdicts
(``approvals``) and packages, on the unit of work's connection.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from schemas.disclosure import Basis, CaseState, Decision, PackageField, Recipient, RecipientKind
from schemas.sealed import SealedIdentifiers
from schemas.tip import Channel, Consent, TipFacts
from schemas.triage import IndicatorFinding, Urgency
from services.common.sealing import DataKey, Keystore
from services.disclosure.domain.case import Case, Package, SupervisorVerdict, Triage, VerdictKind
from services.disclosure.domain.packages import Source, SourceKind

FORWARD_PURPOSE = "disclosure.forward"


class PostgresSources:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def add(self, source: Source) -> None:
        await self.connection.execute(
            "INSERT INTO tip_sources (source_id, tip_id, kind, channel, identifiers, received_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            source.source_id, source.tip_id, source.kind.value, source.channel.value if source.channel else None,
            source.identifiers.model_dump(mode="json"), source.received_at,
        )  # fmt: skip

    async def of_tip(self, tip_id: uuid.UUID) -> list[Source]:
        rows = await self.connection.fetch(
            "SELECT source_id, tip_id, kind, channel, identifiers, received_at FROM tip_sources WHERE tip_id = $1"
            " ORDER BY kind = 'supplement', received_at, source_id",
            tip_id,
        )
        return [_source(row) for row in rows]


class PostgresConsents:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def record(self, tip_id: uuid.UUID, version: int, consent: Consent, recorded_at: datetime) -> bool:
        status: str = await self.connection.execute(
            "INSERT INTO consents (tip_id, version, consent, recorded_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tip_id) DO UPDATE SET version = excluded.version, consent = excluded.consent,"
            " recorded_at = excluded.recorded_at WHERE consents.version < excluded.version",
            tip_id, version, consent.model_dump(mode="json"), recorded_at,
        )  # fmt: skip
        return status.endswith(" 1")

    async def current(self, tip_id: uuid.UUID) -> Consent | None:
        recorded = await self.connection.fetchval("SELECT consent FROM consents WHERE tip_id = $1", tip_id)
        return Consent.model_validate(recorded) if recorded is not None else None


CASE_COLUMNS = (
    "tip_id", "case_reference", "correlation_id", "traceparent", "state", "decision", "basis", "recipients",
    "fields", "approvals_needed", "policy_version", "urgency", "channel", "triage_revision", "facts",
    "indicators", "minor_involved", "imminent_danger", "legal_reference", "received_at", "review_due_at",
    "reviewed_at", "forwarded_at",
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
                   'staff_token_id', a.staff_token_id, 'verdict', a.verdict, 'at', a.at, 'reason', a.reason,
                   'legal_reference', a.legal_reference) ORDER BY a.at, a.staff_token_id, a.verdict)
                 FROM approvals a WHERE a.tip_id = c.tip_id), '[]') AS verdicts,
       coalesce((SELECT json_agg(json_build_object(
                   'package_id', p.package_id, 'agency_id', p.agency_id, 'recipient_kind', p.recipient_kind,
                   'basis', p.basis, 'fields', p.fields, 'issued_at', p.issued_at,
                   'seconds_from_receipt', p.seconds_from_receipt, 'supplementary_to', p.supplementary_to,
                   'source_id', p.source_id, 'acknowledged_at', p.acknowledged_at) ORDER BY p.issued_at, p.package_id)
                 FROM packages p WHERE p.tip_id = c.tip_id), '[]') AS packages
FROM cases c WHERE c.tip_id = $1
FOR UPDATE OF c
"""
ADD_VERDICT = (
    "INSERT INTO approvals (tip_id, staff_token_id, verdict, reason, legal_reference, at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
)
SAVE_PACKAGE = (
    "INSERT INTO packages (package_id, tip_id, agency_id, recipient_kind, supplementary_to, source_id, basis,"
    " fields, issued_at, seconds_from_receipt, acknowledged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (package_id) DO UPDATE SET acknowledged_at = excluded.acknowledged_at"
)


class PostgresCases:
    """Cases locked ``FOR UPDATE`` when read, so that one transaction at a time changes a case."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._as_loaded: dict[uuid.UUID, tuple[set[SupervisorVerdict], set[Package]]] = {}

    async def get(self, tip_id: uuid.UUID) -> Case | None:
        row = await self.connection.fetchrow(LOCK_CASE, tip_id)
        if row is None:
            return None
        case = _case(row)
        self._as_loaded[tip_id] = (set(case.verdicts), set(case.packages))
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
                    (case.tip_id, verdict.staff_token_id, verdict.kind.value, verdict.reason,
                     verdict.legal_reference, verdict.at)
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
                     package.seconds_from_receipt, package.acknowledged_at)
                    for package in changed
                ],
            )  # fmt: skip
        self._as_loaded[case.tip_id] = (set(case.verdicts), set(case.packages))


class PostgresDataKeys:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def open(self, keystore: Keystore, tip_id: uuid.UUID, fields: list[str]) -> DataKey | None:
        return await keystore.open(self.connection, tip_id, purpose=FORWARD_PURPOSE, fields=fields)


def _source(row: asyncpg.Record) -> Source:
    channel = Channel(row["channel"]) if row["channel"] else None
    identifiers = SealedIdentifiers.model_validate(row["identifiers"])
    return Source(
        row["source_id"], row["tip_id"], SourceKind(row["kind"]), channel, identifiers, row["received_at"]
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
        triage.imminent_danger, case.legal_reference, case.received_at, case.review_due_at, case.reviewed_at,
        case.forwarded_at,
    ]  # fmt: skip


def _case(row: asyncpg.Record) -> Case:
    return Case(
        tip_id=row["tip_id"], reference=row["case_reference"], correlation_id=row["correlation_id"],
        channel=Channel(row["channel"]), received_at=row["received_at"], review_due_at=row["review_due_at"],
        triage=Triage(
            revision=row["triage_revision"], urgency=Urgency(row["urgency"]),
            facts=TipFacts.model_validate(row["facts"]),
            indicators=tuple(IndicatorFinding.model_validate(finding) for finding in row["indicators"]),
            minor_involved=row["minor_involved"], imminent_danger=row["imminent_danger"],
        ),
        traceparent=row["traceparent"], state=CaseState(row["state"]), decision=Decision(row["decision"]),
        basis=Basis(row["basis"]), recipients=tuple(Recipient.model_validate(r) for r in row["recipients"]),
        fields=frozenset(PackageField(name) for name in row["fields"]), approvals_needed=row["approvals_needed"],
        policy_version=row["policy_version"], legal_reference=row["legal_reference"],
        reviewed_at=row["reviewed_at"], forwarded_at=row["forwarded_at"],
        verdicts=[_verdict(verdict) for verdict in row["verdicts"]],
        packages=[_package(package) for package in row["packages"]],
    )  # fmt: skip


def _verdict(stored: dict[str, Any]) -> SupervisorVerdict:
    return SupervisorVerdict(
        staff_token_id=uuid.UUID(stored["staff_token_id"]), kind=VerdictKind(stored["verdict"]),
        at=datetime.fromisoformat(stored["at"]), reason=stored["reason"], legal_reference=stored["legal_reference"],
    )  # fmt: skip


def _package(stored: dict[str, Any]) -> Package:
    return Package(
        package_id=uuid.UUID(stored["package_id"]), agency_id=stored["agency_id"],
        recipient_kind=RecipientKind(stored["recipient_kind"]), basis=Basis(stored["basis"]),
        fields=frozenset(PackageField(name) for name in stored["fields"]),
        issued_at=datetime.fromisoformat(stored["issued_at"]), seconds_from_receipt=stored["seconds_from_receipt"],
        supplementary_to=_uuid(stored["supplementary_to"]), source_id=_uuid(stored["source_id"]),
        acknowledged_at=datetime.fromisoformat(stored["acknowledged_at"]) if stored["acknowledged_at"] else None,
    )  # fmt: skip


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
