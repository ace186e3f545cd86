"""The review clock: flags cases waiting too long for a supervisor; safe to run in several processes."""

from __future__ import annotations

import asyncio
from datetime import datetime

from schemas.envelope import utc_now
from services.common.logging import get_logger
from services.common.messaging import Transactions
from services.disclosure import handlers
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork

log = get_logger(__name__)
POLL_SECONDS = 1.0


async def tick(transactions: Transactions[DisclosureUnitOfWork], now: datetime | None = None) -> int:
    """Flag what is due in one transaction; return how many flags it published."""
    async with transactions.begin() as uow:
        return await handlers.flag_due_reviews(uow, now or utc_now())


async def run_clock(
    transactions: Transactions[DisclosureUnitOfWork], poll_seconds: float = POLL_SECONDS
) -> None:
    """Publish due at-risk and breach flags of the review queues, checking every ``poll_seconds``."""
    while True:
        try:
            flagged = await tick(transactions)
            if flagged:
                log.info("reviews flagged", count=flagged)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("review clock failed; retrying", error_type=type(error).__name__)
        await asyncio.sleep(poll_seconds)
