"""The envelope of an event that a service publishes because of another one."""

from __future__ import annotations

import uuid
from typing import Any

from schemas.envelope import EventBase
from services.common.ids import derived_event_id


def following(cause: EventBase, producer: str, event_type: str | None = None) -> dict[str, Any]:
    """Envelope fields for an event that ``producer`` publishes in answer to ``cause``.

    Same tip, same journey (correlation), caused by ``cause``, in its trace. With ``event_type`` the
    event id is derived from the cause, so handling ``cause`` again yields the same event.
    """
    fields: dict[str, Any] = {
        "tip_id": cause.tip_id,
        "correlation_id": cause.correlation_id,
        "causation_id": cause.event_id,
        "traceparent": cause.traceparent,
        "producer": producer,
    }
    if event_type is not None:
        fields["event_id"] = derived_event_id(producer, cause.event_id, event_type)
    return fields


def of_tip(
    tip_id: uuid.UUID,
    correlation_id: uuid.UUID,
    producer: str,
    traceparent: str | None = None,
    causation_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Envelope fields for an event about a tip that no single event caused (a person's action, a clock)."""
    return {
        "tip_id": tip_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "traceparent": traceparent,
        "producer": producer,
    }
