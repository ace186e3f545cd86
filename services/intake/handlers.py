"""Intake's use cases."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import asyncpg

from schemas import topics
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, FactsUpdate, TipReceivedV1, TipSupplementedV1
from schemas.sealed import SealedIdentifiers
from schemas.tip import Channel, Consent, TipFacts, TipSubmission
from services.common import sealing
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.sealing import Keystore, Shredding
from services.intake.adapters import repository
from services.intake.domain import follow_up, places
from services.intake.domain.idempotency import Fingerprints
from services.intake.domain.identifiers import seal_identifiers
from services.intake.domain.reference import new_reference
from services.intake.domain.submissions import ConsentUpdate, SupplementSubmission

PRODUCER = "intake"
REFERENCE_ATTEMPTS = 8
FOLLOW_UP_CHANNELS = frozenset({Channel.WEB, Channel.PHONE})
REPORTER = "reporter"
CALL_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT})


@dataclass(frozen=True, slots=True)
class Submitter:
    """Who submits: the public (``reporter``) or a staff member with a role and a token."""

    role: str
    token_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None


PUBLIC = Submitter(REPORTER)


@dataclass(frozen=True, slots=True)
class StaffChannel:
    """A staff member attaching a returning caller's information, and the channel it came by."""

    person_id: uuid.UUID
    role: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class AcceptedTip:
    tip_id: uuid.UUID
    reference: str
    follow_up_code: str | None
    replayed: bool = False


class ReferenceSpaceExhausted(RuntimeError):
    """No free reference was drawn in several attempts: something is wrong with the generator."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different submission."""


@cache
def _decoy_hash() -> bytes:
    return follow_up.hash_code("decoy", follow_up.DECOY_SALT)


async def accept_tip(
    submission: TipSubmission,
    transactions: Transactions[PostgresUnitOfWork],
    keystore: Keystore,
    submitter: Submitter = PUBLIC,
    idempotency_key: str | None = None,
    fingerprints: Fingerprints | None = None,
) -> AcceptedTip:
    """Seal and store a tip, record its consent and stage its events, all in one transaction.

    A retry with the same ``idempotency_key`` (within 24 hours) gets the same tip; ``fingerprints``
    keys what is kept of the key and the submission.
    """
    if submitter.role == REPORTER:
        submission = submission.model_copy(update={"channel": Channel.WEB, "call": None})
    code = follow_up.new_code() if submission.channel in FOLLOW_UP_CHANNELS else None
    # A form sent twice ends the same call twice: its length does not make it another tip.
    fingerprint = (
        fingerprints.submission(submission.model_dump_json(exclude={"call": {"duration_seconds"}}))
        if idempotency_key is not None and fingerprints is not None
        else None
    )
    if idempotency_key is not None and fingerprints is not None:
        # A retry of a stored tip is answered before the scrypt below: under load, clients retrying
        # with their key would otherwise each queue one more hash and no answer would come in time.
        known = fingerprints.key(str(submitter.token_id or "public"), idempotency_key)
        async with transactions.begin() as tx:
            earlier = await repository.idempotent_submission(tx.connection, known)
            if earlier is not None:
                if earlier["fingerprint"] != fingerprint:
                    raise IdempotencyConflict
                return await _replay(tx.connection, keystore, earlier)
    salted = await asyncio.to_thread(follow_up.new_salted_hash, code) if code else None
    async with transactions.begin() as tx:
        connection = tx.connection
        key_hash = None
        if idempotency_key is not None and fingerprints is not None:
            key_hash = fingerprints.key(str(submitter.token_id or "public"), idempotency_key)
            await connection.execute(
                "SELECT pg_advisory_xact_lock($1)", int.from_bytes(key_hash[:8], "big", signed=True)
            )
            await repository.forget_expired_submissions(connection)
            earlier = await repository.idempotent_submission(connection, key_hash)
            if earlier is not None:
                if earlier["fingerprint"] != fingerprint:
                    raise IdempotencyConflict
                return await _replay(connection, keystore, earlier)
        tip_id, correlation_id, received_at = uuid.uuid4(), uuid.uuid4(), utc_now()
        data_key = await keystore.create(connection, tip_id)
        location, unlisted_city = places.in_clear(submission.location)
        identifiers = seal_identifiers(
            data_key, submission.narrative, submission.contact, submission.named_persons,
            unlisted_city=unlisted_city,
        )  # fmt: skip
        facts = TipFacts.of(submission.model_copy(update={"location": location}))
        reference = await _store_with_fresh_reference(
            connection, tip_id, facts, identifiers, submitter, correlation_id, received_at
        )
        if code and salted:
            await repository.replace_follow_up_code(connection, tip_id, *salted)
        if submission.call is not None and submission.channel in CALL_CHANNELS:
            await repository.record_call(connection, tip_id, submission.call, submitter.person_id)
        if key_hash is not None and fingerprint is not None:
            sealed_code = data_key.seal("follow_up_code", code) if code else None
            await repository.remember_submission(connection, key_hash, fingerprint, tip_id, sealed_code)
        tx.outbox.stage(
            topics.TIPS_RECEIVED,
            TipReceivedV1(
                tip_id=tip_id, correlation_id=correlation_id, producer=PRODUCER, reference=reference,
                received_at=received_at, facts=facts, identifiers=identifiers, recorded_by=submitter.person_id,
                recorded_by_role=submitter.role if submitter.person_id is not None else None,
            ),
        )  # fmt: skip
        await _record_consent(
            tx,
            tip_id,
            correlation_id,
            submission.consent,
            submission.interpreter_used,
            submission.channel,
            submitter,
            first=True,
        )
    return AcceptedTip(tip_id=tip_id, reference=reference, follow_up_code=code)


async def _replay(connection: asyncpg.Connection, keystore: Keystore, earlier: asyncpg.Record) -> AcceptedTip:
    tip_id: uuid.UUID = earlier["tip_id"]
    sealed_code: str | None = earlier["follow_up_sealed"]
    code = None
    if sealed_code is not None:
        data_key = await keystore.open(
            connection, tip_id, purpose="idempotent_replay", fields=["follow_up_code"]
        )
        code = data_key.unseal("follow_up_code", sealed_code) if data_key else None
    return AcceptedTip(tip_id=tip_id, reference=earlier["reference"], follow_up_code=code, replayed=True)


async def _store_with_fresh_reference(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    facts: TipFacts,
    identifiers: SealedIdentifiers,
    submitter: Submitter,
    correlation_id: uuid.UUID,
    received_at: datetime,
) -> str:
    for _ in range(REFERENCE_ATTEMPTS):
        reference = new_reference()
        if await repository.insert_tip(
            connection,
            tip_id=tip_id,
            reference=reference,
            facts=facts,
            identifiers=identifiers,
            submitted_by_role=submitter.role,
            submitted_by_token=submitter.token_id,
            correlation_id=correlation_id,
            received_at=received_at,
        ):
            return reference
    raise ReferenceSpaceExhausted


async def _record_consent(
    tx: PostgresUnitOfWork,
    tip_id: uuid.UUID,
    correlation_id: uuid.UUID,
    consent: Consent,
    interpreter_used: bool,
    channel: Channel,
    submitter: Submitter,
    first: bool = False,
) -> int:
    version, earlier, consent, recorded_at = await repository.record_consent(
        tx.connection, tip_id=tip_id, consent=consent, interpreter_used=interpreter_used, channel=channel,
        recorded_by_role=submitter.role, recorded_by_token=submitter.token_id, first=first,
    )  # fmt: skip
    withdrawn = [
        scope
        for scope in Consent.model_fields
        if earlier is not None and getattr(earlier, scope) and not getattr(consent, scope)
    ]
    tx.outbox.stage(
        topics.CONSENTS,
        ConsentRecordedV1(
            tip_id=tip_id, correlation_id=correlation_id, producer=PRODUCER, version=version, consent=consent,
            withdrawn=withdrawn, channel=channel, interpreter_used=interpreter_used,
            recorded_by_role=submitter.role, recorded_at=recorded_at,
        ),
    )  # fmt: skip
    return version


async def update_consent(
    tip_id: uuid.UUID,
    update: ConsentUpdate,
    submitter: Submitter,
    transactions: Transactions[PostgresUnitOfWork],
) -> int | None:
    """Record a new version of a tip's consent; None when there is no such tip."""
    async with transactions.begin() as tx:
        tip = await repository.tip_summary(tx.connection, tip_id)
        if tip is None:
            return None
        return await _record_consent(
            tx,
            tip_id,
            tip["correlation_id"],
            update.consent,
            update.interpreter_used,
            update.channel,
            submitter,
        )


@dataclass(frozen=True, slots=True)
class SupplementCaps:
    """How much follow-up one tip may take, so that no tip grows past what a package can carry."""

    supplements: int
    stored_bytes: int


OVER_COUNT, OVER_BYTES = "supplements_per_tip", "supplement_bytes_per_tip"


@dataclass(frozen=True, slots=True)
class SupplementOutcome:
    """The next one-time code when the follow-up was added; otherwise refused, or over a cap (the
    rule it broke), which only a caller holding the right code ever learns.
    """

    next_code: str | None = None
    over_cap: str | None = None


async def supplement_tip(
    reference: str,
    supplement: SupplementSubmission,
    transactions: Transactions[PostgresUnitOfWork],
    keystore: Keystore,
    caps: SupplementCaps,
    attached_by: StaffChannel | None = None,
) -> SupplementOutcome:
    """Add a reporter's new information and issue the next one-time code, up to the tip's caps.

    A wrong reference, a wrong code, a locked reference and an erased tip are refused alike, at the
    same cost (one scrypt), so that no answer tells whether a reference exists. ``attached_by`` is the
    staff member who attached it for a returning caller: the code is checked all the same, and
    nothing of the tip is read back.
    """
    next_code = follow_up.new_code()
    next_salt, next_hash = await asyncio.to_thread(follow_up.new_salted_hash, next_code)
    attempt_key = follow_up.reference_key(reference)
    async with transactions.begin() as tx:
        connection = tx.connection
        attempts = await repository.attempts(connection, attempt_key)
        tip = await repository.tip_by_reference(connection, reference)
        known = tip is not None and tip["code_hash"] is not None
        salt, expected = (follow_up.DECOY_SALT, _decoy_hash())
        if tip is not None and known:
            salt, expected = tip["salt"], tip["code_hash"]
        right = await asyncio.to_thread(follow_up.matches, supplement.code, salt, expected)
        locked = attempts is not None and bool(attempts["locked"])
        data_key = None
        if known and right and not locked:
            assert tip is not None
            data_key = await keystore.open(
                connection, tip["tip_id"], purpose="seal_supplement", fields=["supplement"]
            )
        if data_key is None or tip is None:
            await repository.record_failure(
                connection, attempt_key, follow_up.MAX_FAILURES, follow_up.LOCK_MINUTES
            )
            return SupplementOutcome()
        await repository.clear_failures(connection, attempt_key)
        supplement_id, received_at = uuid.uuid4(), utc_now()
        location, unlisted_city = (
            places.in_clear(supplement.location) if supplement.location else (None, None)
        )
        identifiers = seal_identifiers(
            data_key, supplement.narrative, supplement.contact, supplement.named_persons,
            prefix=f"supplements.{supplement_id}.", unlisted_city=unlisted_city,
        )  # fmt: skip
        update = FactsUpdate(
            location=location, assessment=supplement.assessment,
            victim_profile=supplement.victim_profile, needs=supplement.needs,
        )  # fmt: skip
        stored_update = update.model_dump(mode="json")
        count, stored_bytes = await repository.supplements_so_far(connection, tip["tip_id"])
        adding = len(json.dumps(stored_update)) + len(identifiers.model_dump_json())
        if count >= caps.supplements:
            return SupplementOutcome(over_cap=OVER_COUNT)
        if stored_bytes + adding > caps.stored_bytes:
            return SupplementOutcome(over_cap=OVER_BYTES)
        await repository.insert_supplement(
            connection, supplement_id, tip["tip_id"], stored_update, identifiers, received_at
        )
        if attached_by is not None:
            await repository.record_supplement_recorder(
                connection, supplement_id, attached_by.person_id, attached_by.role, attached_by.channel.value
            )
        await repository.replace_follow_up_code(connection, tip["tip_id"], next_salt, next_hash)
        tx.outbox.stage(
            topics.TIPS_SUPPLEMENTED,
            TipSupplementedV1(
                tip_id=tip["tip_id"], correlation_id=tip["correlation_id"], producer=PRODUCER,
                supplement_id=supplement_id, received_at=received_at, update=update, identifiers=identifiers,
            ),
        )  # fmt: skip
    return SupplementOutcome(next_code=next_code)


async def shred_tip(
    tip_id: uuid.UUID, shredding: Shredding, transactions: Transactions[PostgresUnitOfWork]
) -> bool:
    """Delete a tip's data key, recording who and why: its identifying data becomes unreadable
    everywhere, for good. What intake kept to replay a retried submission goes with it.
    """
    async with transactions.begin() as tx:
        return await shred_on(tx.connection, tip_id, shredding)


async def shred_on(connection: asyncpg.Connection, tip_id: uuid.UUID, shredding: Shredding) -> bool:
    """Shred a tip in the caller's transaction: by an admin's order, or by retention when its
    identifying data expires."""
    await repository.forget_submissions_of(connection, tip_id)
    return await sealing.shred(connection, tip_id, shredding)
