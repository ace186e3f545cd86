"""Monitoring's subscriptions."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.disclosure import DisclosureMessage
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import ResponsePlanMessage, TipTriagedV1
from services.common.runtime import Runtime
from services.monitoring import handlers
from services.monitoring.entrypoints.dead_letters import DeadLetterCounts


def wire(runtime: Runtime, dead_letters: DeadLetterCounts) -> None:
    runtime.background(
        "dead-letter-counts", partial(dead_letters.watch, runtime.settings.kafka_bootstrap_servers)
    )
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, partial(handlers.tip_received, uow=runtime.uow))
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, partial(handlers.consent_recorded, uow=runtime.uow))
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, partial(handlers.tip_triaged, uow=runtime.uow))
    runtime.consume(
        topics.RESPONSE_PLANS, ResponsePlanMessage, partial(handlers.plan_changed, uow=runtime.uow)
    )
    runtime.consume(
        topics.DISCLOSURES, DisclosureMessage, partial(handlers.disclosure_changed, uow=runtime.uow)
    )
