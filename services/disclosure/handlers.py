"""Disclosure's use cases: load the case, let it decide (``domain.case``), save it, and carry out what
it asks: the audit, the events, and the packages, whose sealed fields are opened here and only here.

Every decision, approval, refusal, cancellation, unseal-for-forward and forward is written to the
hash-chained audit in the transaction that does it. A package is sealed to its agency's public key
before it is staged: the outbox never holds it open.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from schemas import topics
from schemas.disclosure import Basis, DisclosureDecidedV1, LegalReference, LiaisonAcknowledgementV2
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.triage import TipTriagedV1
from services.common import metrics
from services.common.agency_keys import AgencyPublicKeys, seal_package, signed_by
from services.common.consumer import Deferred, Rejected, Unauthenticated
from services.common.ids import readable_reference
from services.common.messaging import Outbox, Transactions
from services.common.sealing import Keystore
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.domain import packages
from services.disclosure.domain.case import (
    SYSTEM,
    Case,
    CaseNotPending,
    Issue,
    Note,
    Outcome,
    Package,
    Supervisor,
    UnknownPackage,
    Verdict,
)
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Source, SourceKind
from services.disclosure.domain.routing import Routing
from services.disclosure.ports import DisclosureTransactions, DisclosureWork


class CaseNotFound(Exception):
    """No disclosure case for this tip."""


class ReissueTooLarge(Exception):
    """The package issued again would be larger than the broker takes: nothing was sent or decided."""


class NoAgencyKey(Exception):
    """A package is due to an agency that has no registered key: nothing is opened or sent."""


async def record_tip(event: TipReceivedV1, uow: DisclosureWork) -> None:
    """Keep the tip's sealed identifiers: they are opened only when a package may carry them."""
    await uow.sources.add(Source.of_tip(event))


async def decide_on_triage(
    event: TipTriagedV1,
    uow: DisclosureWork,
    keystore: Keystore,
    routing: Routing,
    max_package_bytes: int = packages.MAX_PACKAGE_BYTES,
) -> None:
    """Apply the gate to a triaged tip (or a revision of its triage) and act on the decision."""
    case = await uow.cases.get(event.tip_id)
    if case is None:
        tip = next((s for s in await uow.sources.of_tip(event.tip_id) if s.kind is SourceKind.TIP), None)
        if tip is None or tip.channel is None:
            raise Deferred("the tip's own event has not been handled yet")
        case = Case.open(event, readable_reference("LE"), tip.channel, tip.recorded_by)
    else:
        tip = None
    outcome = case.on_triage(event, await uow.consents.history(event.tip_id), routing, utc_now(), tip)
    await _carry_out(uow, keystore, case, outcome, max_package_bytes)


async def record_consent(
    event: ConsentRecordedV1,
    uow: DisclosureWork,
    keystore: Keystore,
    routing: Routing,
    max_package_bytes: int = packages.MAX_PACKAGE_BYTES,
) -> None:
    """Keep every consent record, whatever its version, and decide the case again on the consent that
    stands (see ``domain.consent`` and ``Case.on_consent``).
    """
    record = ConsentRecord(event.version, event.consent, event.recorded_by_role, event.recorded_at)
    if not await uow.consents.record(event.tip_id, event.event_id, record):
        return
    case = await uow.cases.get(event.tip_id)
    if case is None:
        return
    outcome = case.on_consent(event, await uow.consents.history(event.tip_id), routing, utc_now())
    await _carry_out(uow, keystore, case, outcome, max_package_bytes)


async def record_supplement(event: TipSupplementedV1, uow: DisclosureWork) -> None:
    """Keep the follow-up's sealed identifiers; a decided case queues it for a supervisor
    (``Case.on_supplement``): nothing of it goes out before one approves.
    """
    await uow.sources.add(Source.of_supplement(event))
    case = await uow.cases.get(event.tip_id)
    if case is None:
        return
    await _record(uow, case, case.on_supplement(event, utc_now()))


async def record_acknowledgement(acknowledgement: LiaisonAcknowledgementV2, uow: DisclosureWork) -> None:
    """A liaison unit received its package: record the delivery, once its agency's signature holds.

    The signature is checked before anything else: an acknowledgement unsigned, forged, or signed with
    a key its agency never registered is refused as unauthenticated, and so is one signed with a key
    retired before its package was sealed (a key the agency rotated out may still acknowledge what was
    sealed to it). A signed one for a package that did not go to the signer's agency is rejected.
    Neither holds back the case's genuine acknowledgements.
    """
    registered = (
        await uow.agency_keys.named(acknowledgement.agency_id, acknowledgement.key_id)
        if acknowledgement.key_id is not None
        else None
    )
    if registered is None or not signed_by(acknowledgement, registered.keys):
        raise Unauthenticated("not signed by a key its agency registered")
    try:
        case = await uow.cases.with_package(acknowledgement.package_id)
        if case is None:
            raise UnknownPackage
        sealed_at = case.issued_at_of(acknowledgement.package_id)
        if sealed_at is not None and not registered.counts_for(sealed_at):
            raise Unauthenticated("signed with a key retired before its package was sealed")
        await _record(uow, case, case.on_acknowledgement(acknowledgement, utc_now()))
    except UnknownPackage as unknown:
        raise Rejected("no such package for this agency") from unknown


async def approve(
    tip_id: uuid.UUID,
    supervisor: Supervisor,
    reason: str,
    transactions: DisclosureTransactions,
    keystore: Keystore,
    routing: Routing,
    legal_reference: LegalReference | None = None,
    ground: Basis | None = None,
    max_package_bytes: int = packages.MAX_PACKAGE_BYTES,
) -> Verdict:
    """A supervisor approves a forward, reviews one that went out at once, or sends changes on
    (see ``Case.approve``).
    """
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.approve(
            supervisor,
            reason,
            await uow.consents.history(tip_id),
            routing,
            utc_now(),
            legal_reference,
            ground,
        )
        if await _carry_out(uow, keystore, case, outcome, max_package_bytes) and case.state is not None:
            return replace(verdict, state=case.state)
        return verdict


PREVIEW_PURPOSE = "disclosure.preview"
FORWARD_PURPOSE = "disclosure.forward"
MOST_APPROVALS = 3


@dataclass(frozen=True, slots=True)
class Preview:
    """What an approval would send now: each package with its values, or the policy's refusal."""

    packages: list[dict[str, Any]]
    approvals_needed: int
    refused: tuple[Any, ...] = ()


async def preview(
    tip_id: uuid.UUID,
    supervisor: Supervisor,
    reason: str,
    transactions: DisclosureTransactions,
    keystore: Keystore,
    routing: Routing,
    legal_reference: LegalReference | None = None,
    ground: Basis | None = None,
) -> Preview:
    """The packages an approval would send, exactly as each agency would read them, for a supervisor
    about to decide: the case decides on a copy (never saved) with as many approvals as it needs, and
    the sealed fields those packages carry are opened under the supervisor's name, audited twice (the
    unseal audit and the case's chain). Nothing is staged, sent or decided.
    """
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        trial, records, now = copy.deepcopy(case), await uow.consents.history(tip_id), utc_now()
        issue, needed = None, 1
        for _ in range(MOST_APPROVALS):
            # Stand-in approvers: each approval of a round must be another person's.
            stand_in = Supervisor(person_id=uuid.uuid4(), token_id=uuid.uuid4())
            verdict, outcome = trial.approve(stand_in, reason, records, routing, now, legal_reference, ground)
            if verdict.refused:
                return Preview([], verdict.approvals_needed, verdict.refused)
            needed = max(needed, verdict.approvals_needed)
            if outcome.issue is not None:
                issue = outcome.issue
                break
        if issue is None:
            raise CaseNotPending
        sources = await uow.sources.of_tip(tip_id)
        wanted = packages.identifying_fields_needed(issue.fields, sources)
        data_key = await uow.keys.open(keystore, tip_id, wanted, PREVIEW_PURPOSE) if wanted else None
        await uow.audit.append(
            tip_id,
            Note("previewed", supervisor.actor, {
                "fields": sorted(field.value for field in issue.fields), "opened": wanted,
                "outcome": "unsealed" if data_key or not wanted else "erased",
                "agencies": sorted(dispatch.package.agency_id for dispatch in issue.dispatches),
            }),
        )  # fmt: skip
        shown = []
        for dispatch in issue.dispatches:
            opened = packages.Opened()
            if data_key is not None:
                carried = [source for source in sources if dispatch.carries(source)]
                opened = packages.opened(data_key, carried, dispatch.package.fields)
            package = trial.package(dispatch, issue, opened).model_dump(
                mode="json", exclude={"package_id", "approved_by", "issued_at"}
            )
            shown.append({**package, "supplementary_to": package.get("supplementary_to")})
    return Preview(shown, needed)


async def decline(
    tip_id: uuid.UUID, supervisor: Supervisor, reason: str, transactions: DisclosureTransactions
) -> Verdict:
    """A supervisor declines a pending forward, with a reason code."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.decline(supervisor, reason, utc_now())
        await _record(uow, case, outcome)
        return verdict


async def reopen(
    tip_id: uuid.UUID,
    supervisor: Supervisor,
    reason: str,
    transactions: DisclosureTransactions,
    routing: Routing,
) -> Verdict:
    """A supervisor reopens a declined, cancelled or unforwarded case for review."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.reopen(
            supervisor, reason, await uow.consents.history(tip_id), routing, utc_now()
        )
        await _record(uow, case, outcome)
        return verdict


async def keep(
    tip_id: uuid.UUID, supervisor: Supervisor, reason: str, transactions: DisclosureTransactions
) -> Verdict:
    """A supervisor keeps a decided case's decision after looking at what changed."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.keep(supervisor, reason, utc_now())
        await _record(uow, case, outcome)
        return verdict


async def confirm_consent(
    tip_id: uuid.UUID,
    supervisor: Supervisor,
    version: int,
    transactions: DisclosureTransactions,
    keystore: Keystore,
    routing: Routing,
    max_package_bytes: int = packages.MAX_PACKAGE_BYTES,
) -> Verdict:
    """A supervisor confirms a widening of consent that staff recorded after the tip."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.confirm_consent(
            supervisor, version, await uow.consents.history(tip_id), routing, utc_now()
        )
        if await _carry_out(uow, keystore, case, outcome, max_package_bytes) and case.state is not None:
            return replace(verdict, state=case.state)  # a package was held: the case waits again
        return verdict


async def reissue(
    tip_id: uuid.UUID,
    package_id: uuid.UUID,
    supervisor: Supervisor,
    reason: str,
    transactions: DisclosureTransactions,
    keystore: Keystore,
    routing: Routing,
    max_package_bytes: int = packages.MAX_PACKAGE_BYTES,
) -> Verdict:
    """A supervisor issues a package withheld on replay again, on what holds now (``Case.reissue``);
    the last approval the policy asks for sends a new package, sealed to the agency's current key."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.reissue(
            supervisor,
            package_id,
            reason,
            await uow.consents.history(tip_id),
            routing,
            utc_now(),
            await uow.keys.shredded(tip_id),
        )
        if await _carry_out(uow, keystore, case, outcome, max_package_bytes):
            # Rolled back: the package stays withheld, for the supervisor to set aside instead.
            raise ReissueTooLarge
        return verdict


async def set_aside(
    tip_id: uuid.UUID,
    package_id: uuid.UUID,
    supervisor: Supervisor,
    reason: str,
    transactions: DisclosureTransactions,
) -> Verdict:
    """A supervisor sets a package withheld on replay aside: it stays unsent (``Case.set_aside``)."""
    async with transactions.begin() as uow:
        case = await _case(uow, tip_id)
        verdict, outcome = case.set_aside(supervisor, package_id, reason, utc_now())
        await _record(uow, case, outcome)
        return verdict


async def flag_due_reviews(uow: DisclosureWork, now: datetime, limit: int = 100) -> int:
    """Publish, once each, the at-risk and breach flags of cases waiting for a supervisor; return how many."""
    flagged = 0
    for case in await uow.cases.due_for_review_flags(now, limit):
        flags = case.due_flags(now)
        if flags:
            await _record(uow, case, Outcome(events=tuple(flags)))
            flagged += len(flags)
            for flag in flags:
                labels = {"queue": flag.queue.value, "flag": flag.flag}
                uow.after_commit(partial(metrics.review_flags.add, 1, labels))
    return flagged


async def note_withheld_packages(uow: DisclosureWork, limit: int = 100) -> int:
    """Write the audit entry of each package withheld on replay after a broker wipe (its case is
    flagged for a supervisor already) and count it, by reason code only; return how many."""
    withheld = await uow.withheld.unnoted(limit)
    for package in withheld:
        detail = {
            "package_id": str(package.package_id),
            "agency_id": package.agency_id,
            "reason": package.reason,
        }
        await uow.audit.append(package.tip_id, Note(packages.WITHHELD_ON_REPLAY, SYSTEM, detail))
        uow.after_commit(partial(metrics.packages_withheld_on_replay.add, 1, {"reason": package.reason}))
    if withheld:
        await uow.withheld.noted([package.package_id for package in withheld])
    return len(withheld)


async def review_queue(transactions: Transactions[DisclosureUnitOfWork], limit: int) -> list[dict[str, Any]]:
    """Cases waiting for a supervisor, the one due soonest first."""
    async with transactions.begin() as uow:
        return [dict(row) for row in await uow.views.review_queue(limit)]


async def case_record(
    transactions: Transactions[DisclosureUnitOfWork], tip_id: uuid.UUID
) -> dict[str, Any] | None:
    """A case's decision, packages (never their content) and audit trail, all as of one moment (a
    decision committed while they are read shows in all three or in none); None when there is no case.
    """
    async with transactions.snapshot() as uow:
        row = await uow.views.case(tip_id)
        if row is None:
            return None
        return {
            **dict(row),
            "packages": [dict(package) for package in await uow.views.packages(tip_id)],
            "audit": await uow.views.trail(tip_id),
        }


async def _case(uow: DisclosureWork, tip_id: uuid.UUID) -> Case:
    case = await uow.cases.get(tip_id)
    if case is None:
        raise CaseNotFound
    return case


async def _carry_out(
    uow: DisclosureWork, keystore: Keystore, case: Case, outcome: Outcome, max_package_bytes: int
) -> bool:
    """Audit and stage what the case decided, then issue its packages; a package larger than
    ``max_package_bytes`` is not issued and the case waits for a supervisor (``Case.hold_packages``).
    The case is saved last, with only the packages that went out. Return whether any was held.
    """
    if outcome.is_empty:
        return False
    await _audit_and_stage(uow, case, outcome)
    held = await _issue(uow, keystore, case, outcome.issue, max_package_bytes) if outcome.issue else []
    if held:
        packages_held, sizes = zip(*held, strict=True)
        await _audit_and_stage(uow, case, case.hold_packages(packages_held, sizes, utc_now()))
    await uow.cases.save(case)
    return bool(held)


async def _record(uow: DisclosureWork, case: Case, outcome: Outcome) -> None:
    """Save the case, audit and stage what it decided."""
    if outcome.is_empty:
        return
    await uow.cases.save(case)
    await _audit_and_stage(uow, case, outcome)


async def _audit_and_stage(uow: DisclosureWork, case: Case, outcome: Outcome) -> None:
    for note in outcome.notes:
        await uow.audit.append(case.tip_id, note)
    for event in outcome.events:
        uow.outbox.stage(topics.DISCLOSURES, event)
        if isinstance(event, DisclosureDecidedV1):
            uow.after_commit(partial(_count_decision, event, case.received_at))


async def _issue(
    uow: DisclosureWork, keystore: Keystore, case: Case, issue: Issue, max_package_bytes: int
) -> list[tuple[Package, int]]:
    """Open the sealed fields the packages may carry (audited), then send each package to its agency
    with only its own fields and sources, sealed to that agency's key. Return the packages held back,
    with their size: the size is that of the sealed bytes staged for the broker, so the cap holds at
    the boundary; a package over it is taken off the outbox before anything is written.
    """
    recipients = await _recipient_keys(uow, {dispatch.package.agency_id for dispatch in issue.dispatches})
    data_key = None
    sources = await uow.sources.of_tip(case.tip_id)
    wanted = packages.identifying_fields_needed(issue.fields, sources)
    if wanted:
        data_key = await uow.keys.open(keystore, case.tip_id, wanted, FORWARD_PURPOSE)
        outcome = "unsealed" if data_key else "erased"
        await uow.audit.append(case.tip_id, Note("unsealed", SYSTEM, {"fields": wanted, "outcome": outcome}))
    held: list[tuple[Package, int]] = []
    for dispatch in issue.dispatches:
        opened = packages.Opened()
        if data_key is not None:
            carried = [source for source in sources if dispatch.carries(source)]
            opened = packages.opened(data_key, carried, dispatch.package.fields)
        package = case.package(dispatch, issue, opened)
        sealed = seal_package(package, recipients[package.agency_id])
        uow.outbox.stage_outbound(
            topics.agency_topic(sealed.agency_id),
            sealed.package_id,
            sealed.partition_key,
            sealed,
            sealed.message_type,
            producer="disclosure",
        )
        size = staged_size(uow.outbox, sealed.package_id)
        if size > max_package_bytes:
            uow.outbox.withdraw(sealed.package_id)
            held.append((dispatch.package, size))
            continue
        # Which key it was sealed to: if that key ever leaks, the audit lists what it opens.
        await uow.audit.append(
            case.tip_id, replace(dispatch.note, detail={**dispatch.note.detail, "key_id": sealed.key_id})
        )
        uow.outbox.stage(topics.DISCLOSURES, dispatch.event)
        if package.supplementary_to is None and not case.reissues(package.package_id):
            seconds, labels = dispatch.package.seconds_from_receipt, {"basis": package.basis.value}
            uow.after_commit(partial(metrics.time_to_forward.record, seconds, labels))
    return held


def staged_size(outbox: Outbox, message_id: uuid.UUID) -> int:
    """The bytes staged for the broker under ``message_id``."""
    return sum(len(message.payload) for message in outbox.messages if message.message_id == message_id)


async def _recipient_keys(uow: DisclosureWork, agency_ids: set[str]) -> dict[str, AgencyPublicKeys]:
    """Each recipient's registered key; without one, the forward stops before anything is opened."""
    found = await uow.agency_keys.current_of(agency_ids)
    missing = sorted(agency_ids - found.keys())
    if missing:
        raise NoAgencyKey(", ".join(missing))
    return found


def _count_decision(decided: DisclosureDecidedV1, received_at: datetime) -> None:
    labels = {"decision": decided.decision.value, "basis": decided.basis.value}
    metrics.disclosure_decisions.add(1, labels)
    metrics.time_to_disclosure_decision.record((utc_now() - received_at).total_seconds(), labels)
