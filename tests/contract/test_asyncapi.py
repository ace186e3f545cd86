"""The AsyncAPI document: committed as the code builds it, valid AsyncAPI 3.0, built from the topic
registry and the consumer table (which `tests/unit/test_deploy.py` holds to every service's wiring)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from schemas import asyncapi, topics
from schemas.generate import ASYNCAPI_DOCUMENT
from schemas.registry import EVENTS_BY_TOPIC

# The official JSON Schema of AsyncAPI 3.0.0, from the npm package @asyncapi/specs 6.11.1
# (schemas/3.0.0-without-$id.json), Apache-2.0, copyright the AsyncAPI Initiative.
ASYNCAPI_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "asyncapi-3.0.0.schema.json"


@cache
def validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8")))


def test_the_committed_asyncapi_document_matches_the_code() -> None:
    assert ASYNCAPI_DOCUMENT.read_text(encoding="utf-8") == asyncapi.render(), "run `make schemas`"


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    errors = [
        f"{error.instance_path}: {error}"[:300] for error in validator().iter_errors(asyncapi.document())
    ]
    assert errors == []


def test_a_document_that_breaks_asyncapi_3_is_refused() -> None:
    broken = copy.deepcopy(asyncapi.document())
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word
    assert not validator().is_valid(broken)


def test_every_topic_has_a_channel_with_its_messages() -> None:
    document = asyncapi.document()
    addresses = {channel["address"]: channel for channel in document["channels"].values()}
    for topic in (*topics.CONSUMED_TOPICS, topics.AUDIT_HEADS):
        assert topic in addresses, topic
    assert topics.agency_topic("{agency_id}") in addresses
    assert "{topic}.DLT" in addresses
    for topic, events in EVENTS_BY_TOPIC.items():
        carried = {message["$ref"].rsplit("/", 1)[-1] for message in addresses[topic]["messages"].values()}
        types = {document["components"]["messages"][name]["name"] for name in carried}
        assert types == {event.model_fields["event_type"].default for event in events}


def test_each_message_declares_the_cloudevents_headers_it_carries() -> None:
    messages = asyncapi.document()["components"]["messages"]
    received = messages["tip.received.v1"]["headers"]
    assert received["properties"]["ce_type"]["const"] == "tip.received"
    assert received["properties"]["ce_source"]["enum"] == ["/lantern/intake"]
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type",
            "lantern-signature"} <= set(received["required"])  # fmt: skip


def test_operations_follow_the_producer_and_consumer_tables() -> None:
    operations = asyncapi.document()["operations"]
    receives = {name for name in operations if ".receives." in name}
    assert "triage.receives.tipsReceived" in receives
    assert "referral.receives.tipsTriaged" in receives
    assert "intake.sends.tipsReceived" in operations
    assert not any(name.startswith("intake.receives") for name in receives)
