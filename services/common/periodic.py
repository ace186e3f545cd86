"""Work a service repeats for as long as it runs: a clock that flags what falls due."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.common.logging import get_logger

log = get_logger(__name__)


async def run_periodically(
    tick: Callable[[], Awaitable[int]], poll_seconds: float, done: str, failed: str
) -> None:
    """Run ``tick`` every ``poll_seconds`` until cancelled, and again at once while it finds work.

    A failure is logged by its type only (never its message, which may quote data) and tried again.
    """
    while True:
        try:
            count = await tick()
            if count:
                log.info(done, count=count)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning(failed, error_type=type(error).__name__)
        await asyncio.sleep(poll_seconds)
