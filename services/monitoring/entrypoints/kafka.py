"""Monitoring's subscriptions."""

from __future__ import annotations

from functools import partial
from operator import attrgetter

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
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, handlers.tip_received)
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, handlers.consent_recorded)
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, handlers.tip_triaged)
    runtime.consume(
        topics.RESPONSE_PLANS, ResponsePlanMessage, handlers.plan_changed, attrgetter("event.event_id")
    )
    runtime.consume(
        topics.DISCLOSURES, DisclosureMessage, handlers.disclosure_changed, attrgetter("event.event_id")
    )
