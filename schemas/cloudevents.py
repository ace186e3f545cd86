"""CloudEvents 1.0 on Kafka, binary content mode: the envelope mapped to ``ce_*`` headers.

The record value stays our JSON contract as it is (the CloudEvents ``data``); the headers say what it
is, so any CloudEvents-aware consumer can route and deduplicate it without parsing the value.
Headers are not covered by a producer's signature (``services/common/signing.py``): a consumer that
trusts them checks them against the signed payload, as Lantern's own consumers do with ``producer``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas.envelope import EventBase

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
# Each header with what it carries, for the AsyncAPI document and docs/events.md.
HEADERS: dict[str, str] = {
    "ce_specversion": "CloudEvents version, always 1.0.",
    "ce_id": "The event_id (or the message's own id): unique per producer, the same when a message is sent again.",
    "ce_source": "/lantern/<producer>: the service that produced it (`/lantern/liaison/<agency_id>` for acknowledgements).",
    "ce_type": "The envelope's event_type (or message_type), such as tip.received.",
    "ce_time": "When it happened (occurred_at), RFC 3339 in UTC.",
    "ce_subject": "The tip id, for events about a tip (the record key too); absent on other messages.",
    "ce_dataschema": "The committed JSON Schema of the value: urn:lantern:schema:<type>.v<schema_version>.",
    "content-type": "application/json: the record value is the contract's JSON (the CloudEvents data).",
}
REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type")


def source_of(producer: str) -> str:
    return f"/lantern/{producer}"


def data_schema(message_type: str, schema_version: int) -> str:
    """Names the JSON Schema file ``schemas/jsonschema/<type>.v<version>.json`` as a URI."""
    return f"urn:lantern:schema:{message_type}.v{schema_version}"


def headers(
    message_id: uuid.UUID,
    message_type: str,
    schema_version: int,
    source: str,
    time: datetime,
    subject: str | None = None,
) -> dict[str, str]:
    """The binary-mode headers of one message."""
    mapped = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(message_id),
        "ce_source": source,
        "ce_type": message_type,
        "ce_time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "ce_dataschema": data_schema(message_type, schema_version),
        "content-type": CONTENT_TYPE,
    }
    if subject is not None:
        mapped["ce_subject"] = subject
    return mapped


def event_headers(event: EventBase) -> dict[str, str]:
    """The headers of one of our events, mapped from its envelope."""
    return headers(
        event.event_id,
        event.event_type,
        event.schema_version,
        source_of(event.producer),
        event.occurred_at,
        subject=str(event.tip_id),
    )
