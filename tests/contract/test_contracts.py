import uuid

import pytest

from lantern.openapi import SERVICES_WITH_AN_API, document, path_of, render
from schemas import topics
from schemas.generate import JSONSCHEMA_DIR, rendered_schemas
from schemas.registry import ALL_EVENTS, EVENTS_BY_TOPIC
from tests.factories import IDENTIFYING_VALUES, tip_received


def test_the_committed_json_schemas_match_the_code() -> None:
    committed = {path.name: path.read_text(encoding="utf-8") for path in JSONSCHEMA_DIR.glob("*.json")}
    assert committed == rendered_schemas(), "run `python -m schemas.generate` and commit the result"


def test_every_event_topic_has_its_contracts_and_a_dead_letter_topic() -> None:
    assert set(EVENTS_BY_TOPIC) == set(topics.EVENT_TOPICS)
    assert {topics.dead_letter_topic(t) for t in topics.EVENT_TOPICS} <= set(topics.ALL_TOPICS)


def test_event_types_are_unique_and_in_the_past_tense() -> None:
    names = [event.model_fields["event_type"].default for event in ALL_EVENTS]
    assert len(names) == len(set(names))
    assert all(name.split(".")[-1].endswith("ed") for name in names)


def test_an_event_is_partitioned_by_its_tip_id() -> None:
    event = tip_received()
    assert event.partition_key == str(event.tip_id).encode()


def test_events_round_trip_through_json() -> None:
    event = tip_received()
    assert type(event).model_validate_json(event.model_dump_json()) == event
    assert isinstance(event.event_id, uuid.UUID)


def test_the_tip_received_event_carries_identifying_data_only_sealed() -> None:
    event = tip_received()
    payload = event.model_dump_json()
    for value in IDENTIFYING_VALUES:
        assert value not in payload
    identifiers = event.identifiers
    assert identifiers.contact is not None
    sealed = [identifiers.narrative, identifiers.contact.name, identifiers.contact.phone, identifiers.contact.email,
              *(person.name for person in identifiers.named_persons)]  # fmt: skip
    assert all(value is not None and value.startswith("sealed.v1.") for value in sealed)


@pytest.mark.parametrize("service", SERVICES_WITH_AN_API)
def test_the_committed_openapi_document_matches_the_service(service: str) -> None:
    assert path_of(service).read_text(encoding="utf-8") == render(service), "run `make schemas`"


def test_the_intake_openapi_document_has_examples_in_both_languages() -> None:
    examples = document("intake")["paths"]["/v1/tips"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert {example["value"].get("language") for example in examples.values()} == {"en", "fr"}
