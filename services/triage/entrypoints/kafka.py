"""Triage's subscriptions: thin maps from a topic to a use case."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.runtime import Runtime
from services.triage import handlers


def wire(runtime: Runtime) -> None:
    runtime.consume(
        topics.TIPS_RECEIVED,
        TipReceivedV1,
        partial(handlers.triage_tip, uow=runtime.uow, keystore=runtime.keystore),
    )
