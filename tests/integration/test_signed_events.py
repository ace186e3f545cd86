"""Only the rightful service speaks on each topic: forged events, on the real broker, change nothing.

Whoever can reach the broker can publish: these tests are that someone, with a plain aiokafka client.
"""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from lantern.observe import Published
from schemas import topics
from schemas.disclosure import LawEnforcementPackageV3
from schemas.envelope import EventBase
from schemas.intake import TipReceivedV1
from services.common.agency_keys import AgencyKeys, open_package
from services.common.settings import ServiceSettings
from services.common.signing import SIGNATURE_HEADER, SIGNER_HEADER, EventVerifier
from services.disclosure.app import build_app as build_disclosure
from tests.factories import consent_recorded, tip_received, tip_triaged
from tests.helpers import (
    eventually,
    fetch,
    new_data_key,
    operations_client,
    publish_events,
    read_until,
    running,
)
from tests.keys import signed_headers, stack_keys

POLICE = "surete-du-quebec"  # the factory's tips are from Joliette, Quebec
MINOR_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"minor_involved": "yes", "trafficking_types": ["sex"]},
    "consent": {"law_enforcement": False, "share_identity": False},
}


class Forger:
    """Someone who reaches the broker without Lantern's keys, but may have read real events."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)

    async def send(self, topic: str, payload: bytes, key: bytes, headers: list[tuple[str, bytes]]) -> None:
        await self.producer.send_and_wait(topic, value=payload, key=key, headers=headers)

    async def unsigned(self, topic: str, event: EventBase) -> None:
        await self.send(topic, event.model_dump_json().encode(), event.partition_key, [])

    async def signed_with_the_key_of(self, service: str, topic: str, event: EventBase) -> None:
        """Signed with another service's key (say, a break-in on the public directory service), while
        the headers name the topic's rightful producer."""
        payload = event.model_dump_json().encode()
        headers = dict(signed_headers(topic, event.partition_key, payload, signer=service))
        headers[SIGNER_HEADER] = topics.producers_of(topic)[0].encode()
        await self.send(topic, payload, event.partition_key, list(headers.items()))

    async def as_a_service_that_may_not_write(self, service: str, topic: str, event: EventBase) -> None:
        payload = event.model_dump_json().encode()
        await self.send(
            topic, payload, event.partition_key, signed_headers(topic, event.partition_key, payload, service)
        )

    async def tampered(self, topic: str, genuine: EventBase, forged: EventBase) -> None:
        """The signature of a genuine event, read off the broker, on a payload changed after signing."""
        signature = signed_headers(topic, genuine.partition_key, genuine.model_dump_json().encode())
        await self.send(topic, forged.model_dump_json().encode(), forged.partition_key, signature)


@pytest.fixture
async def forger(settings: ServiceSettings) -> AsyncIterator[Forger]:
    forger = Forger(settings.kafka_bootstrap_servers)
    await forger.producer.start()
    try:
        yield forger
    finally:
        await forger.producer.stop()


@pytest.fixture
async def disclosure(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_disclosure(settings)
    async with running(app), operations_client(app) as client:
        yield client


async def disclosure_tables(settings: ServiceSettings) -> dict[str, list[str]]:
    """Every row of every table of the disclosure schema (inbox and outbox included), as text."""
    tables = await fetch(
        settings,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'disclosure'"
        " AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    snapshot = {}
    for table in tables:
        name = table["table_name"]
        rows = await fetch(
            settings, f'SELECT to_jsonb(t)::text AS row FROM disclosure."{name}" AS t ORDER BY 1'
        )
        snapshot[name] = [row["row"] for row in rows]
    return snapshot


async def recorded(settings: ServiceSettings, tip: TipReceivedV1) -> bool:
    rows = await fetch(settings, "SELECT 1 FROM disclosure.inbox WHERE event_id = $1", tip.event_id)
    return bool(rows)


async def dead_letters(settings: ServiceSettings, topic: str, count: int) -> list[Published]:
    return await read_until(
        settings.kafka_bootstrap_servers, (topics.dead_letter_topic(topic),), lambda rs: len(rs) >= count
    )


def unauthenticated_count(scraped: str, topic: str) -> float:
    pattern = rf'lantern_unauthenticated_events_total\{{[^}}]*topic="{re.escape(topic)}"[^}}]*\}} ([0-9.e+]+)'
    return sum(float(value) for value in re.findall(pattern, scraped))


async def test_a_forged_urgent_triage_of_a_minor_ends_on_the_dlt_and_disclosure_forwards_nothing(
    settings: ServiceSettings,
    forger: Forger,
    disclosure: httpx.AsyncClient,
    agency_keys: dict[str, AgencyKeys],
) -> None:
    tip = tip_received(key=await new_data_key(settings), **MINOR_ON_THE_CALL)
    await publish_events(settings.kafka_bootstrap_servers, tip)
    assert await eventually(lambda: recorded(settings, tip)), "disclosure knows the tip"
    genuine = tip_triaged(tip, "non_urgent")
    # The first verdict would go out at once; a high revision would take the case over.
    forged, high = tip_triaged(tip, "urgent", minor=True), tip_triaged(tip, "urgent", minor=True, revision=99)
    before = await disclosure_tables(settings)
    metrics_before = unauthenticated_count((await disclosure.get("/metrics")).text, topics.TIPS_TRIAGED)

    await forger.unsigned(topics.TIPS_TRIAGED, high)
    await forger.unsigned(topics.TIPS_TRIAGED, forged)
    await forger.signed_with_the_key_of("referral", topics.TIPS_TRIAGED, forged)
    await forger.as_a_service_that_may_not_write("intake", topics.TIPS_TRIAGED, forged)
    await forger.tampered(topics.TIPS_TRIAGED, genuine, forged)
    dead = await dead_letters(settings, topics.TIPS_TRIAGED, 5)

    assert [record.headers["dlt-reason"] for record in dead] == [b"unauthenticated"] * 5
    assert [record.headers["dlt-error-fields"] for record in dead] == [
        b"<signature>:missing",
        b"<signature>:missing",
        b"<signature>:invalid",
        b"<signer>:not_a_producer_of_topic",
        b"<signature>:invalid",
    ]
    assert {record.headers["dlt-exception-fqcn"] for record in dead} == {
        b"services.common.signing.Unauthenticated"
    }
    assert [record.json()["revision"] for record in dead] == [99, 1, 1, 1, 1], "kept as they were sent"
    assert await disclosure_tables(settings) == before, "no inbox row, no case, no decision, no package"
    scraped = (await disclosure.get("/metrics")).text
    assert unauthenticated_count(scraped, topics.TIPS_TRIAGED) == metrics_before + 5

    # The same verdict, signed by triage, makes disclosure forward at once: the forgery would have
    # sent the package.
    await publish_events(settings.kafka_bootstrap_servers, forged)
    [package] = await read_until(
        settings.kafka_bootstrap_servers, (topics.agency_topic(POLICE),), lambda rs: len(rs) >= 1
    )
    opened = open_package(LawEnforcementPackageV3.model_validate_json(package.value), agency_keys[POLICE])
    assert opened.basis == "child_protection"
    assert package.headers[SIGNER_HEADER] == b"disclosure", "packages are signed too"
    verified = (
        stack_keys()
        .verifier()
        .verify(package.topic, package.key, package.value, list(package.headers.items()))
    )
    assert verified.signer == "disclosure"


async def test_a_forged_consent_ends_on_the_dlt_and_no_consent_is_recorded(
    settings: ServiceSettings, forger: Forger, disclosure: httpx.AsyncClient
) -> None:
    tip = tip_received(key=await new_data_key(settings), consent={"law_enforcement": False})
    await publish_events(settings.kafka_bootstrap_servers, tip)
    assert await eventually(lambda: recorded(settings, tip)), "disclosure knows the tip"
    widening = consent_recorded(tip, 2, [], law_enforcement=True, share_identity=True)
    narrowing = consent_recorded(tip, 2, ["statistics"], law_enforcement=False)
    before = await disclosure_tables(settings)

    await forger.unsigned(topics.CONSENTS, widening)
    await forger.signed_with_the_key_of("triage", topics.CONSENTS, widening)
    await forger.as_a_service_that_may_not_write("disclosure", topics.CONSENTS, widening)
    await forger.tampered(topics.CONSENTS, narrowing, widening)
    dead = await dead_letters(settings, topics.CONSENTS, 4)

    assert [record.headers["dlt-reason"] for record in dead] == [b"unauthenticated"] * 4
    assert await disclosure_tables(settings) == before

    # Signed by intake, the same consent is recorded.
    await publish_events(settings.kafka_bootstrap_servers, widening)

    async def consent_recorded_by_disclosure() -> bool:
        rows = await fetch(settings, "SELECT 1 FROM disclosure.consent_records WHERE tip_id = $1", tip.tip_id)
        return len(rows) == 1

    assert await eventually(consent_recorded_by_disclosure), "the signed consent counts"


async def test_a_signed_event_that_names_another_producer_in_its_envelope_is_refused(
    settings: ServiceSettings, forger: Forger, disclosure: httpx.AsyncClient
) -> None:
    tip = tip_received(key=await new_data_key(settings), **MINOR_ON_THE_CALL)
    await publish_events(settings.kafka_bootstrap_servers, tip)
    assert await eventually(lambda: recorded(settings, tip))
    posing = tip_triaged(tip, "urgent", minor=True).model_copy(update={"producer": "intake"})
    before = await disclosure_tables(settings)

    await publish_events(settings.kafka_bootstrap_servers, posing)
    [dead] = await dead_letters(settings, topics.TIPS_TRIAGED, 1)

    assert dead.headers["dlt-reason"] == b"unauthenticated"
    assert dead.headers["dlt-error-fields"] == b"producer:not_the_signer"
    assert await disclosure_tables(settings) == before


async def test_events_a_service_publishes_carry_its_signature_over_the_bytes_on_the_broker(
    settings: ServiceSettings, disclosure: httpx.AsyncClient
) -> None:
    tip = tip_received(key=await new_data_key(settings), **MINOR_ON_THE_CALL)
    await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", minor=True))

    def decided(records: list[Published]) -> bool:
        return any(record.json().get("tip_id") == str(tip.tip_id) for record in records)

    records = await read_until(settings.kafka_bootstrap_servers, (topics.DISCLOSURES,), decided)
    assert decided(records), "the tip's decision never reached the broker"
    verifier: EventVerifier = stack_keys().verifier()
    for record in records:
        headers: list[tuple[str, Any]] = list(record.headers.items())
        assert verifier.verify(record.topic, record.key, record.value, headers).signer == "disclosure"
        assert record.headers[SIGNATURE_HEADER]
    stored = await fetch(
        settings, "SELECT headers FROM disclosure.outbox WHERE topic = $1", topics.DISCLOSURES
    )
    assert stored and all(SIGNATURE_HEADER in json.loads(row["headers"]) for row in stored), (
        "signed as written"
    )
