"""Disclosure's use cases: decide at the gate, hold for review, forward, and account for everything.

Every decision, approval, refusal, cancellation, unseal-for-forward and forward is written to the
hash-chained audit in the transaction that does it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import asyncpg

from schemas import topics
from schemas.disclosure import (
    MANDATORY_BASES,
    Approver,
    Basis,
    CaseState,
    Decision,
    DisclosureAcknowledgedV1,
    DisclosureCancelledV1,
    DisclosureDecidedV1,
    DisclosureForwardedV1,
    DisclosureReviewedV1,
    LawEnforcementPackageV1,
    LiaisonAcknowledgementV1,
    PackageField,
    PackagePerson,
    Recipient,
    RecipientKind,
    ReviewVerdict,
)
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.sealed import SealedIdentifiers
from schemas.tip import Channel, Consent, Contact, TipFacts
from schemas.triage import IndicatorFinding, Reason, TipTriagedV1, Urgency
from services.common import metrics
from services.common.auth import Staff
from services.common.consumer import Deferred
from services.common.ids import derived_event_id, readable_reference
from services.common.messaging import Transaction, UnitOfWork
from services.common.sealing import DataKey, Keystore
from services.disclosure.adapters import audit, repository
from services.disclosure.domain import packages
from services.disclosure.domain.policy import Case, GateDecision, decide
from services.disclosure.domain.routing import Routing

CONSUMER = "disclosure"
SYSTEM = "system:disclosure"
REVIEW_WITHIN = timedelta(hours=24)
STATE_OF = {
    Decision.FORWARD: CaseState.FORWARDED,
    Decision.HOLD_FOR_REVIEW: CaseState.PENDING_REVIEW,
    Decision.DO_NOT_FORWARD: CaseState.NOT_FORWARDED,
}


class CaseNotFound(Exception):
    pass


class CaseNotPending(Exception):
    """The case is not waiting for this verdict (already forwarded, declined or cancelled)."""


class SameSupervisor(Exception):
    """A legal-obligation forward needs a second, different supervisor."""


class UnknownPackage(Exception):
    """An acknowledgement for a package that did not go to that agency."""


@dataclass(frozen=True, slots=True)
class Verdict:
    state: CaseState
    approvals: int
    approvals_needed: int
    refused: tuple[Reason, ...] = ()
    """The policy's reasons when it found no basis for the approval: nothing was forwarded."""


async def record_tip(event: TipReceivedV1, uow: UnitOfWork) -> None:
    """Keep the tip's sealed identifiers: they are opened only when a package may carry them."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        await repository.save_source(
            tx.connection, source_id=event.tip_id, tip_id=event.tip_id, kind="tip", channel=event.facts.channel.value,
            identifiers=event.identifiers, received_at=event.received_at,
        )  # fmt: skip


async def decide_on_triage(
    event: TipTriagedV1, uow: UnitOfWork, keystore: Keystore, routing: Routing
) -> None:
    """Apply the gate to a triaged tip (or a revision of its triage) and act on the decision."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        existing = await repository.lock_case(tx.connection, event.tip_id)
        if existing is not None and existing["triage_revision"] >= event.revision:
            return
        tip_source = next(
            (s for s in await repository.sources(tx.connection, event.tip_id) if s["kind"] == "tip"), None
        )
        if tip_source is None:
            raise Deferred("the tip's own event has not been handled yet")
        case = dict(existing) if existing else _new_case(event, tip_source["channel"])
        case.update(
            urgency=event.urgency.value, triage_revision=event.revision, facts=event.facts.model_dump(mode="json"),
            indicators=[finding.model_dump(mode="json") for finding in event.indicators],
            minor_involved=event.minor_involved, imminent_danger=event.imminent_danger,
            traceparent=event.traceparent,
        )  # fmt: skip
        consent = await _current_consent(tx.connection, event.tip_id, event.facts.consent)
        gate = decide(_policy_case(case, consent), routing)
        await _settle(tx, keystore, case, gate, existing is None, trigger=f"triage.revision.{event.revision}")


async def record_consent(
    event: ConsentRecordedV1, uow: UnitOfWork, keystore: Keystore, routing: Routing
) -> None:
    """A new consent decides the case again: a withdrawal cancels a pending consent-based forward,
    never a mandatory one, and never calls back what already went out. The audit says which.
    """
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        if not await repository.save_consent(tx.connection, event):
            return
        existing = await repository.lock_case(tx.connection, event.tip_id)
        if existing is None:
            return
        case = dict(existing)
        gate = decide(_policy_case(case, event.consent), routing)
        withdrew_police = "law_enforcement" in event.withdrawn
        state = CaseState(case["state"])
        if state is CaseState.PENDING_REVIEW and withdrew_police and not gate.has_basis:
            await repository.mark_case(tx.connection, event.tip_id, state=CaseState.CANCELLED.value)
            await audit.append(
                tx.connection, event.tip_id, "forward_cancelled", SYSTEM, cause="consent_withdrawn",
                consent_version=event.version, previous_basis=case["basis"],
            )  # fmt: skip
            await tx.stage(
                topics.DISCLOSURES,
                DisclosureCancelledV1(
                    event_id=derived_event_id(CONSUMER, event.event_id, "disclosure.cancelled"),
                    **_envelope(case, event.event_id), basis=Basis(case["basis"]), consent_version=event.version,
                ),
            )  # fmt: skip
            return
        if state in (CaseState.FORWARDED, CaseState.DECLINED, CaseState.CANCELLED):
            await audit.append(
                tx.connection, event.tip_id, "consent_changed", SYSTEM, consent_version=event.version,
                withdrawn=sorted(event.withdrawn), state=state.value, basis=case["basis"],
                effect="mandatory_basis_stands" if Basis(case["basis"]) in MANDATORY_BASES and event.withdrawn
                else "already_forwarded" if state is CaseState.FORWARDED else "none",
            )  # fmt: skip
            return
        if _decided_alike(case, gate):
            return
        if withdrew_police and gate.basis in MANDATORY_BASES:
            await audit.append(
                tx.connection, event.tip_id, "consent_withdrawn_mandatory_basis_stands", SYSTEM,
                consent_version=event.version, basis=gate.basis.value,
            )  # fmt: skip
        await _settle(tx, keystore, case, gate, False, trigger=f"consent.version.{event.version}")


async def record_supplement(
    event: TipSupplementedV1, uow: UnitOfWork, keystore: Keystore, routing: Routing
) -> None:
    """Keep the follow-up's sealed identifiers; if the case went out, send it on to the same agencies,
    on the basis and with the fields that hold now: a withdrawn consent narrows or stops what follows.
    """
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        await repository.save_source(
            tx.connection, source_id=event.supplement_id, tip_id=event.tip_id, kind="supplement", channel=None,
            identifiers=event.identifiers, received_at=event.received_at,
        )  # fmt: skip
        existing = await repository.lock_case(tx.connection, event.tip_id)
        if existing is None or existing["state"] != CaseState.FORWARDED.value:
            return
        case = dict(existing)
        facts = event.update.applied_to(TipFacts.model_validate(case["facts"]))
        gate = decide(
            _policy_case(case, await _current_consent(tx.connection, event.tip_id, facts.consent)), routing
        )
        if not gate.has_basis:
            await audit.append(
                tx.connection, event.tip_id, "supplement_not_forwarded", SYSTEM, cause="no_basis",
                supplement_id=str(event.supplement_id),
            )  # fmt: skip
            return
        fields = frozenset(PackageField(name) for name in case["fields"]) & gate.fields
        data_key = await _open_key(tx.connection, keystore, event.tip_id, fields)
        opened = _opened(data_key, [(event.supplement_id, "supplement", event.identifiers)], fields)
        for first in await repository.first_packages(tx.connection, event.tip_id):
            recipient = Recipient(agency_id=first["agency_id"], kind=RecipientKind(first["recipient_kind"]))
            await _issue(
                tx, case, recipient, gate.basis, fields, facts, opened, approvers=[],
                supplementary_to=first["package_id"], source_id=event.supplement_id, actor=SYSTEM,
            )  # fmt: skip


async def record_acknowledgement(acknowledgement: LiaisonAcknowledgementV1, uow: UnitOfWork) -> None:
    """A liaison unit received its package: record the delivery."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, acknowledgement.acknowledgement_id):
            return
        package = await repository.acknowledge_package(
            tx.connection,
            acknowledgement.package_id,
            acknowledgement.agency_id,
            acknowledgement.acknowledged_at,
        )
        if package is None:
            raise UnknownPackage
        case = await repository.lock_case(tx.connection, package["tip_id"])
        assert case is not None
        await audit.append(
            tx.connection, case["tip_id"], "acknowledged", f"agency:{acknowledgement.agency_id}",
            package_id=str(acknowledgement.package_id), acknowledged_at=acknowledgement.acknowledged_at.isoformat(),
        )  # fmt: skip
        await tx.stage(
            topics.DISCLOSURES,
            DisclosureAcknowledgedV1(
                event_id=derived_event_id(CONSUMER, acknowledgement.acknowledgement_id, "disclosure.acknowledged"),
                **_envelope(dict(case), None), package_id=acknowledgement.package_id,
                agency_id=acknowledgement.agency_id, acknowledged_at=package["acknowledged_at"],
            ),
        )  # fmt: skip


async def approve(
    tip_id: uuid.UUID,
    staff: Staff,
    reason: str,
    legal_reference: str | None,
    uow: UnitOfWork,
    keystore: Keystore,
    routing: Routing,
) -> Verdict:
    """A supervisor approves a forward, or reviews one that went out at once.

    An approval the policy finds no ground for is refused (``Verdict.refused``) and audited;
    ``SameSupervisor`` is raised when a legal-obligation forward is approved twice by one supervisor.
    """
    async with uow.begin() as tx:
        existing = await repository.lock_case(tx.connection, tip_id)
        if existing is None:
            raise CaseNotFound
        case, state, actor = dict(existing), CaseState(existing["state"]), f"supervisor:{staff.token_id}"
        if state is CaseState.FORWARDED and case["reviewed_at"] is None:
            await repository.record_verdict(
                tx.connection, tip_id, staff.token_id, "review_after_forward", reason
            )
            await repository.mark_case(tx.connection, tip_id, reviewed_at=utc_now())
            await audit.append(
                tx.connection, tip_id, "reviewed_after_forward", actor, basis=case["basis"], reason=reason
            )
            await _stage_reviewed(tx, case, "reviewed_after_forward", state, reason)
            return Verdict(state, 1, 1)
        if state not in (CaseState.PENDING_REVIEW, CaseState.NOT_FORWARDED):
            raise CaseNotPending
        consent = await _current_consent(
            tx.connection, tip_id, TipFacts.model_validate(case["facts"]).consent
        )
        reference = legal_reference or case["legal_reference"]
        gate = decide(_policy_case(case, consent, reference), routing)
        if not gate.has_basis:
            await audit.append(
                tx.connection, tip_id, "approval_refused", actor, cause="no_basis", reason=reason
            )
            return Verdict(state, 0, 0, refused=gate.reasons)
        if not await repository.record_verdict(
            tx.connection, tip_id, staff.token_id, "approve", None, reference
        ):
            raise SameSupervisor
        approvers = await repository.approvers(tx.connection, tip_id)
        needed = max(gate.approvals_needed, 1)
        await audit.append(
            tx.connection, tip_id, "approved", actor, basis=gate.basis.value, approvals=len(approvers),
            approvals_needed=needed, legal_reference=reference, reason=reason,
        )  # fmt: skip
        if len(approvers) < needed:
            case.update(_gate_columns(gate), legal_reference=reference, state=CaseState.PENDING_REVIEW.value)
            await repository.save_case(tx.connection, case)
            await _stage_reviewed(tx, case, "approval_recorded", CaseState.PENDING_REVIEW, reason)
            return Verdict(CaseState.PENDING_REVIEW, len(approvers), needed)
        case.update(_gate_columns(gate), legal_reference=reference, state=CaseState.FORWARDED.value)
        await repository.save_case(tx.connection, case)
        await repository.mark_case(tx.connection, tip_id, reviewed_at=utc_now())
        await _stage_reviewed(tx, case, "approved", CaseState.FORWARDED, reason)
        await _forward(tx, keystore, case, gate, approvers, actor)
        return Verdict(CaseState.FORWARDED, len(approvers), needed)


async def decline(tip_id: uuid.UUID, staff: Staff, reason: str, uow: UnitOfWork) -> Verdict:
    """A supervisor declines a pending forward, with a reason code."""
    async with uow.begin() as tx:
        existing = await repository.lock_case(tx.connection, tip_id)
        if existing is None:
            raise CaseNotFound
        if existing["state"] != CaseState.PENDING_REVIEW.value:
            raise CaseNotPending
        case = dict(existing)
        await repository.record_verdict(tx.connection, tip_id, staff.token_id, "decline", reason)
        await repository.mark_case(
            tx.connection, tip_id, state=CaseState.DECLINED.value, reviewed_at=utc_now()
        )
        await audit.append(tx.connection, tip_id, "declined", f"supervisor:{staff.token_id}", reason=reason)
        await _stage_reviewed(tx, case, "declined", CaseState.DECLINED, reason)
        return Verdict(CaseState.DECLINED, 0, case["approvals_needed"])


def _new_case(event: TipTriagedV1, channel: str) -> dict[str, Any]:
    return {
        "tip_id": event.tip_id, "case_reference": readable_reference("LE"), "correlation_id": event.correlation_id,
        "state": None, "legal_reference": None, "received_at": event.received_at,
        "review_due_at": event.received_at + REVIEW_WITHIN, "channel": channel,
    }  # fmt: skip


def _policy_case(case: dict[str, Any], consent: Consent, legal_reference: str | None = None) -> Case:
    facts = TipFacts.model_validate(case["facts"])
    return Case(
        urgency=Urgency(case["urgency"]), channel=Channel(case["channel"]), consent=consent,
        minor_involved=case["minor_involved"], imminent_danger=case["imminent_danger"], location=facts.location,
        outside_canada=facts.outside_canada, legal_reference=legal_reference or case.get("legal_reference"),
    )  # fmt: skip


def _gate_columns(gate: GateDecision) -> dict[str, Any]:
    return {
        "decision": gate.decision.value, "basis": gate.basis.value,
        "recipients": [recipient.model_dump(mode="json") for recipient in gate.recipients],
        "fields": sorted(field.value for field in gate.fields), "approvals_needed": gate.approvals_needed,
        "policy_version": gate.policy_version,
    }  # fmt: skip


def _count_decision(gate: GateDecision, received_at: datetime) -> None:
    labels = {"decision": gate.decision.value, "basis": gate.basis.value}
    metrics.disclosure_decisions.add(1, labels)
    metrics.time_to_disclosure_decision.record((utc_now() - received_at).total_seconds(), labels)


def _decided_alike(case: dict[str, Any], gate: GateDecision) -> bool:
    """The case already stands on this decision (the consent at receipt, recorded again)."""
    columns = _gate_columns(gate)
    return all(case[name] == columns[name] for name in ("decision", "basis", "recipients", "fields"))


async def _current_consent(connection: asyncpg.Connection, tip_id: uuid.UUID, at_receipt: Consent) -> Consent:
    recorded = await repository.consent(connection, tip_id)
    return Consent.model_validate(recorded["consent"]) if recorded else at_receipt


async def _settle(
    tx: Transaction, keystore: Keystore, case: dict[str, Any], gate: GateDecision, new: bool, trigger: str
) -> None:
    """Record the gate's decision on the case and act on it.

    What went out stays out, and a supervisor's decline or a cancellation stands, unless the case
    now must go out at once (an urgent mandatory ground).
    """
    state = CaseState(case["state"]) if case["state"] else None
    settled = state in (CaseState.FORWARDED, CaseState.DECLINED, CaseState.CANCELLED)
    if state is CaseState.FORWARDED or (settled and gate.decision is not Decision.FORWARD):
        await repository.save_case(tx.connection, case)
        await audit.append(
            tx.connection, case["tip_id"], "revision_noted", SYSTEM, trigger=trigger, state=case["state"]
        )
        return
    case.update(_gate_columns(gate), state=STATE_OF[gate.decision].value)
    await repository.save_case(tx.connection, case)
    await audit.append(
        tx.connection, case["tip_id"], "decided", SYSTEM, trigger=trigger, decision=gate.decision.value,
        basis=gate.basis.value, recipients=[r.agency_id for r in gate.recipients], fields=case["fields"],
        policy_version=gate.policy_version, new_case=new,
    )  # fmt: skip
    await tx.stage(
        topics.DISCLOSURES,
        DisclosureDecidedV1(
            **_envelope(case, None), decision=gate.decision, basis=gate.basis, policy_version=gate.policy_version,
            urgency=Urgency(case["urgency"]), reasons=list(gate.reasons), state=STATE_OF[gate.decision],
            recipients=list(gate.recipients), fields=sorted(gate.fields), review_due_at=case["review_due_at"],
            triage_revision=case["triage_revision"],
        ),
    )  # fmt: skip
    tx.after_commit(partial(_count_decision, gate, case["received_at"]))
    if gate.decision is Decision.FORWARD:
        await _forward(tx, keystore, case, gate, [], SYSTEM)


async def _forward(
    tx: Transaction,
    keystore: Keystore,
    case: dict[str, Any],
    gate: GateDecision,
    approvers: list[uuid.UUID],
    actor: str,
) -> None:
    """Open the permitted fields, issue one package per recipient, and mark the case forwarded."""
    tip_id = case["tip_id"]
    data_key = await _open_key(tx.connection, keystore, tip_id, gate.fields)
    sources = [
        (row["source_id"], row["kind"], SealedIdentifiers.model_validate(row["identifiers"]))
        for row in await repository.sources(tx.connection, tip_id)
    ]
    opened = _opened(data_key, sources, gate.fields)
    facts = TipFacts.model_validate(case["facts"])
    for recipient in gate.recipients:
        await _issue(
            tx, case, recipient, gate.basis, gate.fields, facts, opened, approvers, supplementary_to=None,
            source_id=None, actor=actor,
        )  # fmt: skip
    await repository.mark_case(tx.connection, tip_id, state=CaseState.FORWARDED.value, forwarded_at=utc_now())


async def _issue(
    tx: Transaction,
    case: dict[str, Any],
    recipient: Recipient,
    basis: Basis,
    fields: frozenset[PackageField],
    facts: TipFacts,
    opened: packages.Opened,
    approvers: list[uuid.UUID],
    supplementary_to: uuid.UUID | None,
    source_id: uuid.UUID | None,
    actor: str,
) -> None:
    package_id, issued_at = uuid.uuid4(), utc_now()
    seconds = max((issued_at - case["received_at"]).total_seconds(), 0.0)
    indicators = [IndicatorFinding.model_validate(finding) for finding in case["indicators"]]
    package = LawEnforcementPackageV1(
        package_id=package_id, case_reference=case["case_reference"], agency_id=recipient.agency_id,
        recipient_kind=recipient.kind, supplementary_to=supplementary_to, basis=basis,
        legal_reference=case["legal_reference"], policy_version=case["policy_version"],
        approved_by=[Approver(token_id=token) for token in approvers], urgency=Urgency(case["urgency"]),
        issued_at=issued_at, fields=sorted(fields),
        content=packages.content(
            fields, facts, indicators, case["minor_involved"], case["imminent_danger"], case["received_at"], opened
        ),
    )  # fmt: skip
    await repository.save_package(
        tx.connection, package_id=package_id, tip_id=case["tip_id"], agency_id=recipient.agency_id,
        recipient_kind=recipient.kind.value, supplementary_to=supplementary_to, source_id=source_id,
        basis=basis.value, fields=sorted(field.value for field in fields), seconds_from_receipt=seconds,
    )  # fmt: skip
    await tx.stage_outbound(
        topics.agency_topic(recipient.agency_id),
        package_id,
        package.partition_key,
        package,
        package.message_type,
    )
    if supplementary_to is None:
        tx.after_commit(partial(metrics.time_to_forward.record, seconds, {"basis": basis.value}))
    await audit.append(
        tx.connection, case["tip_id"], "forwarded", actor, package_id=str(package_id), agency_id=recipient.agency_id,
        basis=basis.value, fields=sorted(field.value for field in fields),
        supplementary_to=str(supplementary_to) if supplementary_to else None,
        approvers=[str(token) for token in approvers],
    )  # fmt: skip
    await tx.stage(
        topics.DISCLOSURES,
        DisclosureForwardedV1(
            **_envelope(case, None), package_id=package_id, case_reference=case["case_reference"],
            agency_id=recipient.agency_id, recipient_kind=recipient.kind, basis=basis,
            supplementary_to=supplementary_to, fields=sorted(fields), seconds_from_receipt=seconds,
        ),
    )  # fmt: skip


async def _open_key(
    connection: asyncpg.Connection, keystore: Keystore, tip_id: uuid.UUID, fields: frozenset[PackageField]
) -> DataKey | None:
    """The tip's key, opened (and audited) only when a permitted field is identifying."""
    wanted = packages.identifying_fields_needed(fields)
    if not wanted:
        return None
    data_key = await keystore.open(connection, tip_id, purpose="disclosure.forward", fields=wanted)
    await audit.append(
        connection, tip_id, "unsealed", SYSTEM, fields=wanted, outcome="unsealed" if data_key else "erased"
    )
    return data_key


def _opened(
    data_key: DataKey | None,
    sources: list[tuple[uuid.UUID, str, SealedIdentifiers]],
    fields: frozenset[PackageField],
) -> packages.Opened:
    """Open, in memory, the sealed values the permitted fields call for."""
    if data_key is None:
        return packages.Opened()
    narratives: list[str] = []
    persons: list[PackagePerson] = []
    contact: Contact | None = None
    for source_id, kind, identifiers in sources:
        prefix = "" if kind == "tip" else f"supplements.{source_id}."
        if PackageField.NARRATIVE in fields and identifiers.narrative:
            narratives.append(data_key.unseal(f"{prefix}narrative", identifiers.narrative))
        if PackageField.NAMED_PERSONS in fields:
            persons += [
                PackagePerson(name=data_key.unseal(f"{prefix}named_persons.{number}.name", person.name),
                              relation=person.relation)
                for number, person in enumerate(identifiers.named_persons)
            ]  # fmt: skip
        if PackageField.CALLER_CONTACT in fields and identifiers.contact and contact is None:
            sealed = identifiers.contact

            def opened(name: str, value: str | None, prefix: str = prefix) -> str | None:
                return data_key.unseal(f"{prefix}contact.{name}", value) if value else None

            contact = Contact(
                name=opened("name", sealed.name),
                phone=opened("phone", sealed.phone),
                email=opened("email", sealed.email),
            )
    return packages.Opened(narratives, persons, contact)


def _envelope(case: dict[str, Any], causation_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "tip_id": case["tip_id"], "correlation_id": case["correlation_id"], "causation_id": causation_id,
        "traceparent": case.get("traceparent"), "producer": CONSUMER,
    }  # fmt: skip


async def _stage_reviewed(
    tx: Transaction, case: dict[str, Any], verdict: ReviewVerdict, state: CaseState, reason: str | None = None
) -> None:
    await tx.stage(
        topics.DISCLOSURES,
        DisclosureReviewedV1(
            **_envelope(case, None),
            verdict=verdict,
            basis=Basis(case["basis"]),
            state=state,
            reason=reason,
        ),
    )
