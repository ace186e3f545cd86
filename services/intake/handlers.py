"""Intake's use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from schemas import topics
from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from schemas.tip import TipFacts, TipSubmission
from services.common.messaging import UnitOfWork
from services.intake.adapters import repository
from services.intake.domain.reference import new_reference

PRODUCER = "intake"
REFERENCE_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class AcceptedTip:
    tip_id: uuid.UUID
    reference: str


class ReferenceSpaceExhausted(RuntimeError):
    """No free reference was drawn in several attempts: something is wrong with the generator."""


async def accept_tip(submission: TipSubmission, uow: UnitOfWork) -> AcceptedTip:
    """Store a tip and stage its ``tip.received`` event in the same transaction."""
    tip_id = uuid.uuid4()
    correlation_id = uuid.uuid4()
    received_at = utc_now()
    async with uow.begin() as tx:
        for _ in range(REFERENCE_ATTEMPTS):
            reference = new_reference()
            if await repository.insert_tip(
                tx.connection,
                tip_id=tip_id,
                reference=reference,
                submission=submission,
                correlation_id=correlation_id,
                received_at=received_at,
            ):
                break
        else:
            raise ReferenceSpaceExhausted
        await tx.stage(
            topics.TIPS_RECEIVED,
            TipReceivedV1(
                tip_id=tip_id,
                correlation_id=correlation_id,
                producer=PRODUCER,
                reference=reference,
                received_at=received_at,
                facts=TipFacts.of(submission),
            ),
        )
    return AcceptedTip(tip_id=tip_id, reference=reference)
