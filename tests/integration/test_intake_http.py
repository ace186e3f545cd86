import json
import uuid

from schemas import topics
from services.common.settings import ServiceSettings
from services.intake.app import build_app
from tests.factories import IDENTIFYING_VALUES, NARRATIVE, tip_body
from tests.helpers import events_of_tips, fetch, http_client, running


async def test_an_accepted_tip_is_stored_and_its_event_published(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.post("/v1/tips", json=tip_body())
        assert response.status_code == 202
        answer = response.json()
        assert set(answer) == {"tip_id", "reference"}
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {answer["tip_id"]}
        )
    [received] = events[answer["tip_id"]][topics.TIPS_RECEIVED]
    assert received["reference"] == answer["reference"]
    assert received["facts"]["location"]["province"] == "QC"
    [tip] = await fetch(
        settings,
        "SELECT narrative, reference FROM intake.tips WHERE tip_id = $1",
        uuid.UUID(answer["tip_id"]),
    )
    assert tip["narrative"] == NARRATIVE and tip["reference"] == answer["reference"]


async def test_the_published_event_carries_no_identifying_data(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        answer = (await client.post("/v1/tips", json=tip_body())).json()
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {answer["tip_id"]}
        )
    payload = json.dumps(events[answer["tip_id"]])
    for value in IDENTIFYING_VALUES:
        assert value not in payload


async def test_the_tip_and_its_outbox_row_commit_together(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        answer = (await client.post("/v1/tips", json=tip_body())).json()
    rows = await fetch(
        settings,
        "SELECT o.topic FROM intake.outbox o JOIN intake.tips t ON o.key = convert_to(t.tip_id::text, 'UTF8')"
        " WHERE t.tip_id = $1",
        uuid.UUID(answer["tip_id"]),
    )
    assert [row["topic"] for row in rows] == [topics.TIPS_RECEIVED]


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
    assert "Gagnon" not in response.text and "Joliette" not in response.text and "514" not in response.text
    assert no_narrative.status_code == 422
    assert ("narrative", "missing") in {(e["field"], e["rule"]) for e in no_narrative.json()["errors"]}
    assert broken_json.status_code == 422 and "Gagnon" not in broken_json.text
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
    async with running(app), http_client(app) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"] == "ok"
