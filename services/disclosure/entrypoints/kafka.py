"""Disclosure's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.disclosure import LiaisonAcknowledgementV1
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.triage import TipTriagedV1
from services.common.runtime import Runtime
from services.disclosure import handlers
from services.disclosure.domain.routing import load_routing


def wire(runtime: Runtime) -> None:
    uow, keystore, routing = runtime.uow, runtime.keystore, load_routing()
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, partial(handlers.record_tip, uow=uow))
    runtime.consume(
        topics.TIPS_TRIAGED,
        TipTriagedV1,
        partial(handlers.decide_on_triage, uow=uow, keystore=keystore, routing=routing),
    )
    runtime.consume(
        topics.CONSENTS,
        ConsentRecordedV1,
        partial(handlers.record_consent, uow=uow, keystore=keystore, routing=routing),
    )
    runtime.consume(
        topics.TIPS_SUPPLEMENTED,
        TipSupplementedV1,
        partial(handlers.record_supplement, uow=uow, keystore=keystore, routing=routing),
    )
    runtime.consume(
        topics.LE_ACKNOWLEDGEMENTS,
        LiaisonAcknowledgementV1,
        partial(handlers.record_acknowledgement, uow=uow),
    )
