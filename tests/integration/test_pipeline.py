"""A tip travels through all four services, each with its own schema, inbox and outbox."""

from datetime import timedelta

import pytest

from lantern.database import set_up
from lantern.observe import by_tip
from schemas import topics
from services.common.roles import ServiceRoles
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from services.intake.app import build_app as build_intake
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.triage.app import build_app as build_triage
from tests.factories import tip_body, tip_received
from tests.helpers import events_of_tips, eventually, fetch, http_client, produce, read_until, running

JOURNEY = (topics.TIPS_RECEIVED, topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)


async def test_a_tip_travels_from_intake_through_triage_disclosure_and_referral(
    settings: ServiceSettings,
) -> None:
    intake = build_intake(settings)
    urgent = tip_body(
        language="en",
        assessment={"minor_involved": "yes", "trafficking_types": ["sex"]},
        location={"country": "CA", "province": "ON", "city": "Ottawa"},
        needs=["emergency_shelter"],
    )
    consenting = tip_body(consent={"law_enforcement": True, "service_referral": True})
    async with running(intake, build_triage(settings), build_disclosure(settings), build_referral(settings)):
        await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=365))
        async with http_client(intake) as client:
            answers = [(await client.post("/v1/tips", json=body)).json() for body in (urgent, consenting)]
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, JOURNEY, {a["tip_id"] for a in answers}
        )
    urgent_events, consenting_events = (events[answer["tip_id"]] for answer in answers)
    assert urgent_events[topics.TIPS_TRIAGED][0]["urgency"] == "urgent"
    assert (
        urgent_events[topics.DISCLOSURES][0]["decision"],
        urgent_events[topics.DISCLOSURES][0]["basis"],
    ) == ("hold_for_review", "child_protection"), "a web tip waits for a supervisor, whatever the ground"
    proposals = urgent_events[topics.REFERRALS][0]["proposals"]
    assert proposals and "emergency_shelter" in proposals[0]["services"]
    assert {"area.city", "needs.met"} <= {reason["code"] for reason in proposals[0]["reasons"]}
    assert consenting_events[topics.TIPS_TRIAGED][0]["urgency"] == "non_urgent"
    assert consenting_events[topics.DISCLOSURES][0]["basis"] == "consent"
    assert consenting_events[topics.REFERRALS][0]["status"] == "proposed"
    correlation = {event["correlation_id"] for topic in JOURNEY for event in urgent_events[topic]}
    assert len(correlation) == 1, "every event of one tip's journey shares its correlation id"


async def test_an_event_published_twice_on_the_broker_has_one_effect_downstream(
    settings: ServiceSettings,
) -> None:
    event = tip_received()
    raw = event.model_dump_json().encode()
    async with running(build_triage(settings), build_disclosure(settings), build_referral(settings)):
        for _ in range(3):
            await produce(settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED, raw, event.partition_key)
        await events_of_tips(settings.kafka_bootstrap_servers, JOURNEY[1:], {str(event.tip_id)})
        assert await eventually(
            lambda: fetch(settings, "SELECT 1 FROM triage.inbox WHERE event_id = $1", event.event_id)
        ), "triage never recorded the event in its inbox"
        second = tip_received()
        await produce(
            settings.kafka_bootstrap_servers,
            topics.TIPS_RECEIVED,
            second.model_dump_json().encode(),
            event.partition_key,
        )
        after = await events_of_tips(settings.kafka_bootstrap_servers, JOURNEY[1:], {str(second.tip_id)})
        assert all(after[str(second.tip_id)][topic] for topic in JOURNEY[1:]), (
            "the tip behind the duplicates never went through"
        )
        records = await read_until(settings.kafka_bootstrap_servers, JOURNEY[1:], lambda _: False, timeout=1)
    mine = [record.json() for record in records if record.json()["tip_id"] == str(event.tip_id)]
    assert sorted(payload["event_type"] for payload in mine) == [
        "disclosure.decided",
        "referral.proposed",
        "tip.triaged",
    ]
    for table in ("triage.triage_decisions", "disclosure.cases", "referral.referral_matches"):
        rows = await fetch(settings, f"SELECT tip_id FROM {table} WHERE tip_id = $1", event.tip_id)
        assert len(rows) == 1, table


@pytest.mark.empty_database  # the owner migrates it; the services, as their own roles, cannot
async def test_each_service_keeps_its_tables_in_its_own_schema(
    settings: ServiceSettings, service_roles: ServiceRoles
) -> None:
    await set_up(settings.database_url, service_roles)
    async with running(
        build_intake(settings), build_triage(settings), build_disclosure(settings), build_referral(settings)
    ):
        pass
    rows = await fetch(
        settings,
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('intake', 'triage', 'disclosure', 'referral')",
    )
    by_schema: dict[str, set[str]] = {}
    for row in rows:
        by_schema.setdefault(row["table_schema"], set()).add(row["table_name"])
    for schema, tables in by_schema.items():
        assert {"inbox", "outbox", "schema_migrations"} <= tables, schema
    assert "tips" in by_schema["intake"] and "tips" not in by_schema["triage"]
    assert set(by_schema) == {"intake", "triage", "disclosure", "referral"}


async def test_a_reporters_follow_up_reaches_triage_and_every_service_decides_again(
    settings: ServiceSettings,
) -> None:
    intake = build_intake(settings)
    routine = tip_body(channel="web", language="fr", victim_profile=None)
    async with running(intake, build_triage(settings), build_disclosure(settings), build_referral(settings)):
        async with http_client(intake) as client:
            accepted = (await client.post("/v1/tips", json=routine)).json()
            follow_up = await client.post(
                f"/v1/tips/{accepted['reference']}/supplements",
                json={"code": accepted["follow_up_code"], "narrative": "Elle a 15 ans et il la menace."},
            )
            assert follow_up.status_code == 202, follow_up.text

        def revised(records: list) -> bool:
            mine = by_tip(records)[accepted["tip_id"]]
            return all(len(mine[topic]) >= 2 for topic in JOURNEY[1:])

        records = await read_until(settings.kafka_bootstrap_servers, JOURNEY[1:], revised)
    mine = by_tip(records)[accepted["tip_id"]]
    first, second = mine[topics.TIPS_TRIAGED][:2]
    assert (first["urgency"], second["urgency"], second["revision"]) == ("non_urgent", "urgent", 2)
    assert mine[topics.DISCLOSURES][1]["basis"] == "child_protection"
