"""The deadline clock: a loop in every triage process, safe to run in several at once."""

from __future__ import annotations

import asyncio

from services.common.logging import get_logger
from services.common.messaging import UnitOfWork
from services.triage import handlers
from services.triage.domain.plans import Templates

log = get_logger(__name__)


async def run_clock(uow: UnitOfWork, templates: Templates, poll_seconds: float) -> None:
    """Publish due at-risk and breach flags, checking every ``poll_seconds``, until cancelled."""
    while True:
        try:
            flagged = await handlers.flag_due_steps(uow, templates)
            if flagged:
                log.info("response plan steps flagged", count=flagged)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("deadline clock failed; retrying", error_type=type(error).__name__)
        await asyncio.sleep(poll_seconds)
