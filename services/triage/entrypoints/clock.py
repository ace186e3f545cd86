"""The deadline clock: a loop in every triage process, safe to run in several at once."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from services.common.messaging import Transactions
from services.common.periodic import run_periodically
from services.triage import handlers
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.domain.plans import Templates


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
    await run_periodically(
        partial(tick, transactions, templates), poll_seconds,
        "response plan steps flagged", "deadline clock failed; retrying",
    )  # fmt: skip
