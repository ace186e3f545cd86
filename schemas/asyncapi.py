"""The AsyncAPI 3.0 document of every topic, built from the contracts and the topic registry.

``python -m schemas.generate`` writes it to ``docs/asyncapi.json``; a contract test fails when the
committed document drifts from the code. One document describes the whole system: each service's
sends and receives are operations tagged with the service's name.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas import cloudevents, topics
from schemas.audit import AuditHeadV1
from schemas.disclosure import LawEnforcementPackageV3, LiaisonAcknowledgementV2
from schemas.registry import EVENTS_BY_TOPIC

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
PARTITIONS = 3
AGENCY_CHANNEL = "leReferrals"
DEAD_LETTER_CHANNEL = "deadLetters"
SIGNATURE_HEADERS: dict[str, Any] = {
    "lantern-signer": {
        "type": "string",
        "description": "The producing service (an agency's acknowledgement carries its signature in the value).",
    },
    "lantern-signature": {
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]{86}$",
        "description": "Ed25519 over the topic, key, signer and value (docs/events.md), base64url without padding.",
    },
}
TRACEPARENT = {"type": "string", "description": "W3C trace context of the span that produced the message."}
DEAD_LETTER_HEADERS: dict[str, str] = {
    "dlt-original-topic": "The topic the message was consumed from.",
    "dlt-original-partition": "Its partition.",
    "dlt-original-offset": "Its offset.",
    "dlt-original-consumer-group": "The consumer group that refused it.",
    "dlt-exception-fqcn": "The exception's class, never its message.",
    "dlt-failed-at": "When it was refused (RFC 3339).",
    "dlt-reason": "unauthenticated, validation_failed, processing_failed, rejected or held_back.",
    "dlt-error-fields": "For validation: field:rule;… (unknown field names replaced).",
}


def _channel_id(topic: str) -> str:
    head, *rest = re.split(r"[._-]", topic.removesuffix(".v1"))
    return head + "".join(part.capitalize() for part in rest)


def _message_id(model: type[BaseModel]) -> str:
    name = model.model_fields.get("event_type") or model.model_fields["message_type"]
    return f"{name.default}.v{model.model_fields['schema_version'].default}"


def _message(model: type[BaseModel], reference: dict[str, Any], producers: tuple[str, ...]) -> dict[str, Any]:
    fields = model.model_fields
    is_event = "event_type" in fields
    message_type = str((fields["event_type"] if is_event else fields["message_type"]).default)
    version = int(fields["schema_version"].default)
    type_header = "event_type" if is_event else "message_type"
    signed = topics.SIGNED_BY_AGENCY not in producers and topics.LIAISON_UNIT not in producers
    sources = [
        cloudevents.source_of(producer)
        for producer in producers
        if producer not in (topics.SIGNED_BY_AGENCY, topics.LIAISON_UNIT)
    ]
    ce_source: dict[str, Any] = (
        {"type": "string", "enum": sources}
        if sources
        else {"type": "string", "pattern": "^/lantern/liaison/"}
    )
    header_schemas: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": cloudevents.SPEC_VERSION},
        "ce_id": {"type": "string", "format": "uuid"},
        "ce_source": ce_source,
        "ce_type": {"type": "string", "const": message_type},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {"type": "string", "const": cloudevents.data_schema(message_type, version)},
        "content-type": {"type": "string", "const": cloudevents.CONTENT_TYPE},
        type_header: {"type": "string", "const": message_type},
    }
    required = [*cloudevents.REQUIRED, "ce_dataschema", type_header]
    if is_event:
        header_schemas["ce_subject"] = {"type": "string", "format": "uuid"}
        header_schemas["traceparent"] = TRACEPARENT
        required.append("ce_subject")
    for name, schema in header_schemas.items():
        schema.setdefault(
            "description", cloudevents.HEADERS.get(name, "The contract's name, as before CloudEvents.")
        )
    if signed:
        header_schemas.update(SIGNATURE_HEADERS)
        required += list(SIGNATURE_HEADERS)
    else:
        # Liaison units are outside Lantern: their acknowledgement is signed in its value, and
        # the CloudEvents headers are what `lantern liaison` adds; a consumer must not need them.
        required = []
    key = (
        {"type": "string", "format": "uuid", "description": "The tip id: a tip's events stay in order."}
        if is_event
        else {
            "type": "string",
            "description": "The case reference (packages, acknowledgements) or a constant.",
        }
    )
    return {
        "name": message_type,
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().splitlines()[0],
        "contentType": cloudevents.CONTENT_TYPE,
        "headers": {"type": "object", "properties": header_schemas, "required": sorted(set(required))},
        "payload": reference,
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic Lantern uses."""
    event_models: list[type[BaseModel]] = [model for models in EVENTS_BY_TOPIC.values() for model in models]
    others: dict[str, tuple[type[BaseModel], ...]] = {
        topics.LE_ACKNOWLEDGEMENTS: (LiaisonAcknowledgementV2,),
        topics.AUDIT_HEADS: (AuditHeadV1,),
    }
    models: list[type[BaseModel]] = [
        *event_models,
        LawEnforcementPackageV3,
        *(m for ms in others.values() for m in ms),
    ]
    references, definitions = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}"
    )
    reference_of = {model: references[(model, "serialization")] for model in models}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    def add_topic(
        channel: str,
        address: str,
        carried: tuple[type[BaseModel], ...],
        producers: tuple[str, ...],
        consumers: tuple[str, ...],
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        refs = []
        for model in carried:
            messages[_message_id(model)] = _message(model, reference_of[model], producers)
            refs.append({"$ref": f"#/components/messages/{_message_id(model)}"})
        channels[channel] = {
            "address": address,
            "description": description,
            "messages": {_message_id(model): ref for model, ref in zip(carried, refs, strict=True)},
            "bindings": {"kafka": {"partitions": PARTITIONS, "bindingVersion": KAFKA_BINDING_VERSION}},
            **({"parameters": parameters} if parameters else {}),
        }
        if "{" not in address:
            channels[channel]["bindings"]["kafka"]["topic"] = address
        on_channel = [{"$ref": f"#/channels/{channel}/messages/{_message_id(model)}"} for model in carried]
        for producer in producers:
            name = producer.strip("<>").replace(" ", "_")
            operations[f"{name}.sends.{channel}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": on_channel,
                "tags": [{"name": name}],
            }
        for consumer in consumers:
            name = consumer.strip("<>").replace(" ", "_")
            operation: dict[str, Any] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": on_channel,
                "tags": [{"name": name}],
            }
            if consumer != topics.LIAISON_UNIT:
                operation["bindings"] = {
                    "kafka": {
                        "groupId": {"type": "string", "const": consumer},
                        "bindingVersion": KAFKA_BINDING_VERSION,
                    }
                }
            operations[f"{name}.receives.{channel}"] = operation

    for topic, carried in EVENTS_BY_TOPIC.items():
        add_topic(
            _channel_id(topic), topic, carried, topics.PRODUCERS[topic], topics.CONSUMERS[topic],
            f"Events of a tip's journey, keyed by its tip id: {', '.join(_message_id(m) for m in carried)}.",
        )  # fmt: skip
    add_topic(
        AGENCY_CHANNEL,
        topics.agency_topic("{agency_id}"),
        (LawEnforcementPackageV3,),
        topics.AGENCY_PACKAGE_PRODUCERS,
        topics.AGENCY_PACKAGE_CONSUMERS,
        "One topic per agency: its packages, sealed to its public key, keyed by case reference.",
        {"agency_id": {"description": "The agency's id, as `lantern agency register` knows it."}},
    )
    for topic, other in others.items():
        add_topic(
            _channel_id(topic), topic, other, topics.PRODUCERS[topic], topics.CONSUMERS[topic],
            "Liaison units' signed receipts of packages, keyed by case reference."
            if topic == topics.LE_ACKNOWLEDGEMENTS
            else "The head each event or request that appended to the disclosure audit left, one key: for outside auditors.",
        )  # fmt: skip
    messages["dead-letter"] = {
        "name": "dead-letter",
        "title": "A refused message",
        "summary": "The original key, bytes and headers (signature included), and why it was refused.",
        "headers": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": text} for name, text in DEAD_LETTER_HEADERS.items()
            },
            "required": [name for name in DEAD_LETTER_HEADERS if name != "dlt-error-fields"],
        },
        "payload": {"description": "The original record value, byte for byte."},
    }
    channels[DEAD_LETTER_CHANNEL] = {
        "address": "{topic}.DLT",
        "description": "What a consumer could not process, never dropped: replay with `lantern dlt replay`.",
        "parameters": {
            "topic": {
                "enum": list(topics.CONSUMED_TOPICS),
                "description": "The topic the message was refused on.",
            }
        },
        "messages": {"dead-letter": {"$ref": "#/components/messages/dead-letter"}},
    }
    for service in sorted({c for cs in topics.CONSUMERS.values() for c in cs} - {topics.LIAISON_UNIT}):
        operations[f"{service}.sends.{DEAD_LETTER_CHANNEL}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{DEAD_LETTER_CHANNEL}"},
            "messages": [{"$ref": f"#/channels/{DEAD_LETTER_CHANNEL}/messages/dead-letter"}],
            "tags": [{"name": service}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Lantern events",
            "version": "1",
            "description": (
                "Every Kafka topic of Lantern, the back office of a human-trafficking hotline. Each message"
                " carries CloudEvents 1.0 in Kafka's binary content mode (ce_* headers; the value is the"
                " JSON contract) and, from a service, its Ed25519 signature (docs/events.md)."
            ),
        },
        "defaultContentType": cloudevents.CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Tansu as `lantern up` starts it (production: Apache Kafka over SASL_SSL).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": definitions["$defs"]},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
