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
    """Flag what is due in one transaction, and note the packages withheld on replay in another;
    return how many flags and notes."""
    async with transactions.begin() as uow:
        flagged = await handlers.flag_due_reviews(uow, now or utc_now())
    async with transactions.begin() as uow:
        return flagged + await handlers.note_withheld_packages(uow)


async def run_clock(
    transactions: Transactions[DisclosureUnitOfWork], poll_seconds: float = POLL_SECONDS
) -> None:
    """Publish due at-risk and breach flags of the review queues, and the audit entries of packages
    withheld on replay after a broker wipe, checking every ``poll_seconds``."""
    await run_periodically(
        partial(tick, transactions), poll_seconds, "reviews flagged", "review clock failed; retrying"
    )
