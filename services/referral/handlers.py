"""Referral's use cases: match a triaged tip, keep consent, and move referrals along their lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import asyncpg

from schemas import topics
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1
from schemas.referral import ProviderProposal, ReferralChangedV1, ReferralsProposedV1, ReferralStatus
from schemas.triage import TipTriagedV1
from services.common import metrics
from services.common.auth import Staff
from services.common.envelope import following
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.referral.adapters import directory as directory_store
from services.referral.adapters import repository
from services.referral.domain.directory import Directory
from services.referral.domain.lifecycle import TransitionRefused, check_transition
from services.referral.domain.matching import match

CONSUMER = "referral"
SYSTEM = "system"
DIRECTORY_VERSION = "referral.directory_version"


class DirectoryCache:
    """The matcher's in-memory directory, reloaded when an import changed the stored one."""

    def __init__(self) -> None:
        self.version = -1
        self.directory = Directory.of(())

    async def current(self, uow: PostgresUnitOfWork) -> Directory:
        """The directory as stored when the transaction first asked: its version is read once a
        transaction (a batch's events match against one directory), not once an event."""
        stored: int | None = uow.shared.get(DIRECTORY_VERSION)
        if stored is None:
            stored = uow.shared[DIRECTORY_VERSION] = await directory_store.version(uow.connection)
        if stored != self.version:
            self.directory, self.version = await directory_store.load(uow.connection), stored
        return self.directory


class ReferralNotFound(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Moved:
    referral_id: uuid.UUID
    provider_id: str
    status: ReferralStatus
    confidential_address: str | None


async def propose_referrals(event: TipTriagedV1, uow: PostgresUnitOfWork, cache: DirectoryCache) -> None:
    """Match a triaged tip (or a revision of its triage) and propose providers, with reasons."""
    existing = await repository.lock_match(uow.connection, event.tip_id)
    if existing is not None and existing["triage_revision"] >= event.revision:
        return
    if existing is not None:
        await repository.withdraw_open_proposals(uow.connection, event.tip_id)
    consented = await repository.referral_consent(uow.connection, event.tip_id)
    facts = event.facts
    if consented is not None:
        facts = facts.model_copy(
            update={"consent": facts.consent.model_copy(update={"service_referral": consented})}
        )
    result = match(facts, await cache.current(uow), event.urgency)
    await repository.save_match(
        uow.connection, event.tip_id, event.correlation_id, result.status, event.revision, event.event_id,
        [reason.model_dump(mode="json") for reason in result.reasons],
    )  # fmt: skip
    referral_ids = await repository.add_referrals(
        uow.connection,
        event.tip_id,
        [
            repository.Proposed(
                uuid.uuid5(event.event_id, proposal.provider_id), proposal.provider_id, rank, proposal.score,
                [reason.model_dump(mode="json") for reason in proposal.reasons],
            )
            for rank, proposal in enumerate(result.proposals, 1)
        ],
    )  # fmt: skip
    proposals = [
        proposal.model_copy(update={"referral_id": referral_id})
        for proposal, referral_id in zip(result.proposals, referral_ids, strict=True)
    ]
    uow.after_commit(partial(_count_match, result.status.value, event.received_at))
    uow.outbox.stage(
        topics.REFERRALS,
        ReferralsProposedV1(
            **following(event, CONSUMER, "referral.proposed"), status=result.status, proposals=list[ProviderProposal](proposals),
            reasons=list(result.reasons), outside_referral=result.outside_referral,
        ),
    )  # fmt: skip


def _count_match(status: str, received_at: datetime) -> None:
    metrics.referral_matches.add(1, {"status": status})
    metrics.time_to_referral.record((utc_now() - received_at).total_seconds(), {"status": status})


async def record_consent(event: ConsentRecordedV1, uow: PostgresUnitOfWork) -> None:
    """Keep the caller's referral consent; a withdrawal revokes the referrals nobody acted on yet."""
    await repository.save_consent(uow.connection, event.tip_id, event.version, event.consent.service_referral)
    if "service_referral" not in event.withdrawn:
        return
    rows = await uow.connection.fetch(
        "SELECT r.*, m.correlation_id FROM referrals r JOIN referral_matches m USING (tip_id)"
        " WHERE r.tip_id = $1 AND r.status = 'proposed' FOR UPDATE OF r",
        event.tip_id,
    )
    for referral in rows:
        await _move(uow, referral, ReferralStatus.REVOKED, "consent_withdrawn", False, None, SYSTEM)


async def act(
    referral_id: uuid.UUID,
    to: ReferralStatus,
    staff: Staff,
    transactions: Transactions[PostgresUnitOfWork],
    reason: str | None = None,
    warm_transfer: bool = False,
    confirmed_by: str | None = None,
) -> Moved:
    """Move a referral on behalf of staff. An acceptance confirmed by the provider or by a supervisor
    (``confirmed_by``) gives them the provider's real address; an unconfirmed one does not, until a
    supervisor confirms it (``confirm``).

    Raises ``ReferralNotFound`` or ``TransitionRefused``.
    """
    async with transactions.begin() as tx:
        referral = await repository.lock_referral(tx.connection, referral_id)
        if referral is None:
            raise ReferralNotFound
        consented = bool(await repository.referral_consent(tx.connection, referral["tip_id"]))
        check_transition(ReferralStatus(referral["status"]), to, reason, warm_transfer, consented)
        await _move(tx, referral, to, reason, warm_transfer, staff.token_id, staff.role.value)
        address = None
        if to is ReferralStatus.ACCEPTED and confirmed_by is not None:
            await repository.confirm_referral(tx.connection, referral_id, confirmed_by)
            address = await directory_store.confidential_address(tx.connection, referral["provider_id"])
        return Moved(referral_id, referral["provider_id"], to, address)


async def confirm(referral_id: uuid.UUID, transactions: Transactions[PostgresUnitOfWork]) -> Moved:
    """A supervisor confirms an accepted referral: the answer gives the provider's real address."""
    async with transactions.begin() as tx:
        referral = await repository.lock_referral(tx.connection, referral_id)
        if referral is None:
            raise ReferralNotFound
        if referral["status"] != ReferralStatus.ACCEPTED.value:
            raise TransitionRefused(f"a {referral['status']} referral is not confirmed")
        if referral["confirmed_by"] is None:
            await repository.confirm_referral(tx.connection, referral_id, "supervisor")
        address = await directory_store.confidential_address(tx.connection, referral["provider_id"])
        return Moved(referral_id, referral["provider_id"], ReferralStatus.ACCEPTED, address)


async def _move(
    tx: PostgresUnitOfWork,
    referral: asyncpg.Record,
    to: ReferralStatus,
    reason: str | None,
    warm_transfer: bool,
    staff_token_id: uuid.UUID | None,
    role: str,
) -> None:
    await repository.move_referral(
        tx.connection, referral, to.value, reason, warm_transfer, staff_token_id, role
    )
    tx.outbox.stage(
        topics.REFERRALS,
        ReferralChangedV1(
            tip_id=referral["tip_id"], correlation_id=referral["correlation_id"], producer=CONSUMER,
            referral_id=referral["referral_id"], provider_id=referral["provider_id"], status=to,
            previous_status=ReferralStatus(referral["status"]), reason=reason,
            warm_transfer=warm_transfer or referral["warm_transfer"], by_role=role,
        ),
    )  # fmt: skip
