"""Triage's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.intake import TipReceivedV1, TipSupplementedV1
from services.common.runtime import Runtime
from services.triage import handlers
from services.triage.domain.plans import load_templates
from services.triage.entrypoints.clock import run_clock


def wire(runtime: Runtime) -> None:
    runtime.background(
        "deadline-clock",
        partial(run_clock, runtime.uow, load_templates(), runtime.settings.clock_poll_seconds),
    )
    runtime.consume(
        topics.TIPS_RECEIVED,
        TipReceivedV1,
        partial(handlers.triage_tip, uow=runtime.uow, keystore=runtime.keystore),
    )
    runtime.consume(
        topics.TIPS_SUPPLEMENTED,
        TipSupplementedV1,
        partial(handlers.retriage_on_supplement, uow=runtime.uow, keystore=runtime.keystore),
    )
