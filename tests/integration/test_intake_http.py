"""Intake's HTTP edge: sealed storage, public and staff channels, validation, size limits."""

import json
import uuid

import pytest

from schemas import topics
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from tests.factories import IDENTIFYING_VALUES, NARRATIVE, tip_body
from tests.helpers import (
    events_of_tips,
    every_stored_text,
    fetch,
    http_client,
    operations_client,
    read_until,
    running,
    staff_token,
)

CLIENT_ADDRESS = "127.0.0.1"


async def test_a_tip_is_stored_and_published_with_its_identifying_data_sealed(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.post(
            "/v1/tips", json=tip_body(), headers={"user-agent": "Mozilla/5.0 Gagnon-Phone"}
        )
        assert response.status_code == 202
        answer = response.json()
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED, topics.CONSENTS), {answer["tip_id"]}
        )
    [received] = events[answer["tip_id"]][topics.TIPS_RECEIVED]
    assert received["reference"] == answer["reference"]
    assert received["identifiers"]["narrative"].startswith("sealed.v1.")
    assert received["facts"]["channel"] == "web" and received["facts"]["outside_canada"] is False
    stored = await every_stored_text(settings.database_url)
    published = json.dumps(events)
    for value in (*IDENTIFYING_VALUES, CLIENT_ADDRESS, "Gagnon-Phone", "Mozilla"):
        assert value not in stored, value
        assert value not in published, value
    [tip] = await fetch(
        settings, "SELECT identifiers FROM intake.tips WHERE tip_id = $1", uuid.UUID(answer["tip_id"])
    )
    assert json.loads(tip["identifiers"])["narrative"] == received["identifiers"]["narrative"]


async def test_the_public_channel_is_always_web_and_staff_choose_theirs(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        public = (await client.post("/v1/tips", json=tip_body(channel="phone"))).json()
        token = await staff_token(settings.database_url, Role.SPECIALIST)
        staff = await client.post(
            "/v1/tips", json=tip_body(channel="chat"), headers={"authorization": f"Bearer {token}"}
        )
        admin_token = await staff_token(settings.database_url, Role.ADMIN)
        entered = await client.post(
            "/v1/tips", json=tip_body(channel="phone"), headers={"authorization": f"Bearer {admin_token}"}
        )
        forged = await client.post("/v1/tips", json=tip_body(), headers={"authorization": "Bearer lt_forged"})
        events = await events_of_tips(
            settings.kafka_bootstrap_servers,
            (topics.TIPS_RECEIVED,),
            {public["tip_id"], staff.json()["tip_id"], entered.json()["tip_id"]},
        )
    assert events[public["tip_id"]][topics.TIPS_RECEIVED][0]["facts"]["channel"] == "web"
    recorders = {
        tip: (received["recorded_by"] is not None, received["recorded_by_role"])
        for tip, by_topic in events.items()
        for received in by_topic[topics.TIPS_RECEIVED]
    }
    assert recorders == {
        public["tip_id"]: (False, None),
        staff.json()["tip_id"]: (True, "specialist"),
        entered.json()["tip_id"]: (True, "admin"),
    }, "disclosure sends a call at once only on a call-taker's answers, never on a tip an admin entered"
    assert "follow_up_code" in public
    assert events[staff.json()["tip_id"]][topics.TIPS_RECEIVED][0]["facts"]["channel"] == "chat"
    assert "follow_up_code" not in staff.json(), "chat reporters are answered in the chat itself"
    assert forged.status_code == 401


async def test_an_out_of_country_tip_is_accepted_and_marked(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        answer = (
            await client.post("/v1/tips", json=tip_body(location={"country": "US", "city": "Buffalo"}))
        ).json()
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {answer["tip_id"]}
        )
    assert events[answer["tip_id"]][topics.TIPS_RECEIVED][0]["facts"]["outside_canada"] is True


async def test_a_retried_submission_with_the_same_idempotency_key_returns_the_same_tip(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    key = {"idempotency-key": f"retry-{uuid.uuid4()}"}
    async with running(app), http_client(app) as client:
        first = await client.post("/v1/tips", json=tip_body(), headers=key)
        retry = await client.post("/v1/tips", json=tip_body(), headers=key)
        other_body = await client.post("/v1/tips", json=tip_body(language="en"), headers=key)
    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 422
    assert len(await fetch(settings, "SELECT 1 FROM intake.tips")) == 1


async def test_an_invalid_tip_is_refused_naming_each_field_and_rule_without_echoing_values(
    settings: ServiceSettings,
) -> None:
    body = tip_body(
        channel="fax",
        location={"country": "CA", "province": "Joliette"},
        contact={"email": "Jean-Philippe Gagnon"},
        assessment={"victim_age": 514},
    )
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.post("/v1/tips", json=body)
        french = await client.post(
            "/v1/tips", json=body, headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"}
        )
        no_narrative = await client.post("/v1/tips", json={"location": {"country": "CA"}})
        broken_json = await client.post(
            "/v1/tips", content=b'{"narrative": "Gagnon', headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    fields = {(error["field"], error["rule"]) for error in response.json()["errors"]}
    assert fields == {
        ("channel", "enum"),
        ("location.province", "enum"),
        ("contact.email", "string_pattern_mismatch"),
        ("assessment.victim_age", "less_than_equal"),
    }
    messages = {error["field"]: error["message"] for error in french.json()["errors"]}
    assert messages["assessment.victim_age"] == "Indiquez un nombre d'au plus 120."
    assert french.headers["content-language"] == "fr"
    for text in (response.text, french.text, broken_json.text):
        assert "Gagnon" not in text and "Joliette" not in text and "514" not in text
    assert no_narrative.status_code == 422
    assert ("narrative", "missing") in {(e["field"], e["rule"]) for e in no_narrative.json()["errors"]}
    assert broken_json.status_code == 422
    assert await fetch(settings, "SELECT 1 FROM intake.tips") == []


async def test_an_oversized_body_is_refused_before_it_is_read(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.post(
            "/v1/tips", content=b"x" * 300_000, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413


async def test_health_reports_the_database_and_the_broker(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), operations_client(app) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"] == "ok"


@pytest.fixture
def strict_settings(settings: ServiceSettings) -> ServiceSettings:
    return IntakeSettings.of(settings).model_copy(
        update={"public_rate_limit": 5, "public_rate_window_seconds": 3600}
    )


async def test_the_public_rate_limit_holds_under_a_burst(strict_settings: ServiceSettings) -> None:
    import asyncio

    app = build_app(strict_settings)
    async with running(app), http_client(app) as client:
        token = await staff_token(strict_settings.database_url, Role.SPECIALIST)
        answers = await asyncio.gather(*(client.post("/v1/tips", json=tip_body()) for _ in range(20)))
        staff = await client.post("/v1/tips", json=tip_body(), headers={"authorization": f"Bearer {token}"})
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [202] * 5 + [429] * 15
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert staff.status_code == 202, "staff are not limited by the public channel's limit"


async def test_no_topic_carries_a_client_address(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        await client.post("/v1/tips", json=tip_body())
        records = await read_until(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), lambda rs: bool(rs)
        )
    assert records, "no tip reached the broker to be read"
    assert CLIENT_ADDRESS.encode() not in b"".join(record.value for record in records)
    assert NARRATIVE.encode() not in b"".join(record.value for record in records)
