"""The review clock: flags cases waiting too long for a supervisor; safe to run in several processes."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from schemas.envelope import utc_now
from services.common.messaging import Transactions
from services.common.periodic import run_periodically
from services.disclosure import handlers
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork

POLL_SECONDS = 1.0


async def tick(transactions: Transactions[DisclosureUnitOfWork], now: datetime | None = None) -> int:
    """Flag what is due in one transaction; return how many flags it published."""
    async with transactions.begin() as uow:
        return await handlers.flag_due_reviews(uow, now or utc_now())


async def run_clock(
    transactions: Transactions[DisclosureUnitOfWork], poll_seconds: float = POLL_SECONDS
) -> None:
    """Publish due at-risk and breach flags of the review queues, checking every ``poll_seconds``."""
    await run_periodically(
        partial(tick, transactions), poll_seconds, "reviews flagged", "review clock failed; retrying"
    )
