"""The deadline clock: a loop in every triage process, safe to run in several at once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from services.common.logging import get_logger
from services.common.messaging import Transactions
from services.triage import handlers
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.domain.plans import Templates

log = get_logger(__name__)


async def tick(
    transactions: Transactions[TriageUnitOfWork], templates: Templates, now: datetime | None = None
) -> int:
    """Flag what is due in one transaction; return how many flags it published."""
    async with transactions.begin() as uow:
        return await handlers.flag_due_steps(uow, templates, now)


async def run_clock(
    transactions: Transactions[TriageUnitOfWork], templates: Templates, poll_seconds: float
) -> None:
    """Publish due at-risk and breach flags, checking every ``poll_seconds``, until cancelled."""
    while True:
        try:
            flagged = await tick(transactions, templates)
            if flagged:
                log.info("response plan steps flagged", count=flagged)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("deadline clock failed; retrying", error_type=type(error).__name__)
        await asyncio.sleep(poll_seconds)
