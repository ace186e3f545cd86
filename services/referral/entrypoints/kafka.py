"""Referral's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import asyncpg

from schemas import topics
from schemas.intake import ConsentRecordedV1
from schemas.triage import TipTriagedV1
from services.common import metrics
from services.common.logging import get_logger
from services.common.periodic import run_periodically
from services.common.runtime import Runtime
from services.referral import handlers
from services.referral.adapters import directory, provider_requests
from services.referral.domain.provider_requests import RecentRestrictions, recent_restrictions
from services.referral.settings import ReferralSettings

log = get_logger(__name__)


def wire(runtime: Runtime) -> None:
    cache = handlers.DirectoryCache()
    # Consents first when they come in one batch with a triage (the runtime applies topics in this
    # order): the match then reads the consent that stands.
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, handlers.record_consent)
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, partial(handlers.propose_referrals, cache=cache))
    runtime.background("directory-confirmations", partial(confirmation_cycle, runtime))
    runtime.background("public-directory", partial(keep_published, runtime))
    runtime.background("provider-restrictions", partial(apply_restrictions, runtime))
    runtime.background("restriction-bursts", partial(watch_restriction_bursts, runtime))


async def apply_restrictions(runtime: Runtime, every_seconds: float = 2.0) -> None:
    """A provider that asks to hide its address or leave the public directory is out of it within
    seconds, before any approval: the public deployment that took the request may not change it."""

    async def tick() -> int:
        async with runtime.pool.acquire() as connection:
            return await provider_requests.apply_restrictions(connection)

    await run_periodically(
        tick, every_seconds, "providers' restrictions applied", "applying restrictions failed"
    )


@dataclass
class RestrictionWatch:
    """Counts providers' hide and leave requests within the window and exports whether they are a
    burst (``lantern_directory_restriction_burst``, the DirectoryRestrictionBurst alert); says so in
    the log once when a burst begins and once when it ends, with counts only."""

    pool: asyncpg.Pool
    service: str
    threshold: int
    window: timedelta
    bursting: bool = field(default=False, init=False)

    async def check(self) -> RecentRestrictions:
        async with self.pool.acquire() as connection:
            now = await connection.fetchval("SELECT now()")  # the clock received_at was set by
            received = await provider_requests.restriction_requests_since(connection, now - self.window)
        recent = recent_restrictions(received, now, self.window, self.threshold)
        metrics.directory_restriction_requests[self.service] = recent.requests
        metrics.directory_restriction_burst[self.service] = int(recent.burst)
        if recent.burst and not self.bursting:
            log.warning(
                "burst of providers' hide or leave requests", count=recent.requests,
                organization_count=recent.organizations, threshold=self.threshold,
                window_seconds=self.window.total_seconds(),
            )  # fmt: skip
        elif self.bursting and not recent.burst:
            log.info("burst of providers' hide or leave requests over", count=recent.requests)
        self.bursting = recent.burst
        return recent


async def watch_restriction_bursts(runtime: Runtime, every_seconds: float = 30.0) -> None:
    settings = ReferralSettings.of(runtime.settings)
    watch = RestrictionWatch(
        runtime.pool, runtime.spec.name, settings.restriction_burst,
        timedelta(seconds=settings.restriction_burst_window_seconds),
    )  # fmt: skip

    async def tick() -> int:
        await watch.check()
        return 0  # a count, not work done: the next look waits its turn

    await run_periodically(
        tick, every_seconds, "restriction bursts checked", "checking restriction bursts failed"
    )


async def keep_published(runtime: Runtime, every_seconds: float = 60.0) -> None:
    """Publish the public directory when its copy is behind: every change publishes in its own
    transaction, so this finds work only after a migration or a change made outside referral."""

    async def tick() -> int:
        async with runtime.pool.acquire() as connection:
            return int(await directory.publish_if_behind(connection))

    await run_periodically(
        tick, every_seconds, "public directory published", "publishing the directory failed"
    )


async def confirmation_cycle(runtime: Runtime) -> None:
    """Ask stale providers to confirm their details; let lapse those who did not in time."""
    settings = ReferralSettings.of(runtime.settings)
    max_age, grace = timedelta(days=settings.confirm_after_days), timedelta(days=settings.confirm_grace_days)

    async def tick() -> int:
        async with runtime.pool.acquire() as connection:
            await provider_requests.reconfirmation_round(connection, max_age, grace)
        return 0  # one round a period: a round leaves nothing for a second one to do

    await run_periodically(
        tick,
        settings.confirm_poll_seconds,
        "providers asked to confirm",
        "confirmation cycle failed; retrying",
    )
