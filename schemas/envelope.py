"""The envelope every Lantern event carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """Base of every contract model: immutable, strict about unknown fields, no input in errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventBase(Contract):
    """Fields shared by every event; subclasses fix ``event_type`` and ``schema_version``."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    schema_version: int
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    tip_id: uuid.UUID
    correlation_id: uuid.UUID = Field(
        description="Shared by every event of one tip's journey: the intake request that began it."
    )
    causation_id: uuid.UUID | None = Field(
        default=None, description="The event_id of the event whose handling produced this one."
    )
    traceparent: Annotated[str, Field(pattern=TRACEPARENT_PATTERN)] | None = Field(
        default=None, description="W3C trace context of the span that produced the event."
    )
    producer: str = Field(max_length=40, description="The service that published the event.")

    @property
    def partition_key(self) -> bytes:
        return str(self.tip_id).encode()
