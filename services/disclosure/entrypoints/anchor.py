"""The audit anchor: writes the chain's head to the witness after each commit that appended, at start
(catching up on a head a dead process committed and never witnessed) and every few seconds."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from services.common import metrics
from services.common.logging import get_logger
from services.disclosure.adapters.audit import anchor
from services.disclosure.domain.audit import ChainKey
from services.disclosure.ports import Witness

log = get_logger(__name__)
SERVICE = "disclosure"
POLL_SECONDS = 5.0
MIN_INTERVAL_SECONDS = 1.0
"""At most one anchoring a second: a head witnesses every entry before it, and anchoring after each
commit (reading the witness, walking the links, an fsync) tripled forwarding latency (bench/forwarding.py)."""


async def keep_anchored(
    pool: asyncpg.Pool,
    key: ChainKey,
    witness: Witness,
    wake: asyncio.Event,
    poll_seconds: float = POLL_SECONDS,
    min_interval_seconds: float = MIN_INTERVAL_SECONDS,
) -> None:
    """Anchor now, then whenever woken or every ``poll_seconds``, until cancelled."""
    while True:
        wake.clear()
        try:
            async with pool.acquire() as connection:
                outcome = await anchor(connection, key, witness)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("audit anchor failed; retrying", error_type=type(error).__name__)
            outcome = "failed"
        record(outcome)
        # Commits during this pause set ``wake``; the next anchoring covers them all at once.
        await asyncio.sleep(min_interval_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), poll_seconds)


def record(outcome: str) -> None:
    """Export an anchoring's outcome: the alert "audit verify failing" reads it."""
    metrics.audit_anchor_runs.add(1, {"outcome": outcome})
    metrics.audit_chain_verified[SERVICE] = int(outcome in {"anchored", "current"})
