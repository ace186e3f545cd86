"""Referral's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from schemas import topics
from schemas.intake import ConsentRecordedV1
from schemas.triage import TipTriagedV1
from services.common.periodic import run_periodically
from services.common.runtime import Runtime
from services.referral import handlers
from services.referral.adapters import directory, provider_requests
from services.referral.settings import ReferralSettings


def wire(runtime: Runtime) -> None:
    cache = handlers.DirectoryCache()
    # Consents first when they come in one batch with a triage (the runtime applies topics in this
    # order): the match then reads the consent that stands.
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, handlers.record_consent)
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, partial(handlers.propose_referrals, cache=cache))
    runtime.background("directory-confirmations", partial(confirmation_cycle, runtime))
    runtime.background("public-directory", partial(keep_published, runtime))
    runtime.background("provider-restrictions", partial(apply_restrictions, runtime))


async def apply_restrictions(runtime: Runtime, every_seconds: float = 2.0) -> None:
    """A provider that asks to hide its address or leave the public directory is out of it within
    seconds, before any approval: the public deployment that took the request may not change it."""

    async def tick() -> int:
        async with runtime.pool.acquire() as connection:
            return await provider_requests.apply_restrictions(connection)

    await run_periodically(
        tick, every_seconds, "providers' restrictions applied", "applying restrictions failed"
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
