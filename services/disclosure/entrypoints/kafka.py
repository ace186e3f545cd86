"""Disclosure's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

import operator
from functools import partial

from schemas import topics
from schemas.disclosure import LiaisonAcknowledgementV2
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.triage import TipTriagedV1
from services.common.runtime import Runtime
from services.disclosure import handlers
from services.disclosure.domain.routing import load_routing
from services.disclosure.entrypoints.clock import run_clock
from services.disclosure.settings import DisclosureSettings


def wire(runtime: Runtime) -> None:
    # In this order when a tip's events come in one batch (the runtime sorts by it): a triage then
    # decides on the consents and follow-ups fetched with it, and never before its tip is recorded.
    keystore, routing = runtime.keystore, load_routing()
    cap = DisclosureSettings.of(runtime.settings).package_max_bytes
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, handlers.record_tip, reads_tip=False)
    runtime.consume(
        topics.CONSENTS,
        ConsentRecordedV1,
        partial(handlers.record_consent, keystore=keystore, routing=routing, max_package_bytes=cap),
    )
    runtime.consume(topics.TIPS_SUPPLEMENTED, TipSupplementedV1, handlers.record_supplement)
    runtime.consume(
        topics.TIPS_TRIAGED,
        TipTriagedV1,
        partial(handlers.decide_on_triage, keystore=keystore, routing=routing, max_package_bytes=cap),
    )
    runtime.consume(
        topics.LE_ACKNOWLEDGEMENTS,
        LiaisonAcknowledgementV2,
        handlers.record_acknowledgement,
        event_id=operator.attrgetter("inbox_id"),
    )
    runtime.background("review-clock", partial(run_clock, runtime.transactions))
