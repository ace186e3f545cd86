"""Disclosure's subscriptions."""

from __future__ import annotations

from functools import partial

from schemas import topics
from schemas.triage import TipTriagedV1
from services.common.runtime import Runtime
from services.disclosure import handlers


def wire(runtime: Runtime) -> None:
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, partial(handlers.decide_disclosure, uow=runtime.uow))
