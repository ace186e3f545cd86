"""Triage's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from schemas import topics
from schemas.intake import TipReceivedV1, TipSupplementedV1
from services.common.runtime import Runtime
from services.triage import handlers


def subscribe(runtime: Runtime) -> None:
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, handlers.triage_tip)
    runtime.consume(topics.TIPS_SUPPLEMENTED, TipSupplementedV1, handlers.retriage_on_supplement)
