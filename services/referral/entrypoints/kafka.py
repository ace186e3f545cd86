"""Referral's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.intake import ConsentRecordedV1
from schemas.triage import TipTriagedV1
from services.common.runtime import Runtime
from services.referral import handlers


def wire(runtime: Runtime) -> None:
    cache = handlers.DirectoryCache()
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, partial(handlers.propose_referrals, cache=cache))
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, handlers.record_consent)
