"""The public channel's limits on the real HTTP app, database and broker: caps on follow-ups, body
sizes, rate limit by client, idempotency that expires, a lock that ends, a city that is sealed.
"""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schemas import topics
from schemas.tip import TipSubmission
from services.common.auth import Role
from services.common.sealing import configured_kek
from services.common.settings import ServiceSettings
from services.common.telemetry import tracer_provider
from services.disclosure.app import build_app as build_disclosure
from services.intake.app import build_app
from services.intake.domain.idempotency import Fingerprints, derived_secret
from services.intake.settings import IntakeSettings
from services.monitoring.app import build_app as build_monitoring
from services.referral.app import build_app as build_referral
from services.triage.app import build_app as build_triage
from tests.factories import tip_body
from tests.helpers import events_of_tips, every_stored_text, fetch, http_client, running, staff_token

HOTLINE = "1-833-900-1010"
FRENCH = {"accept-language": "fr-CA,fr;q=0.9"}


def intake_with(settings: ServiceSettings, **changes: Any) -> FastAPI:
    return build_app(IntakeSettings.of(settings).model_copy(update=changes))


async def supplement(client: httpx.AsyncClient, reference: str, code: str, **extra: Any) -> httpx.Response:
    body = {"code": code, "narrative": "Elle est toujours là-bas.", **extra}
    return await client.post(f"/v1/tips/{reference}/supplements", json=body)


async def test_supplements_past_the_cap_are_refused_in_both_languages_with_the_hotlines_number(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, max_supplements_per_tip=2, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        code, answers = tip["follow_up_code"], []
        for _ in range(2):
            answers.append(await supplement(client, tip["reference"], code))
            code = answers[-1].json()["follow_up_code"]
        english = await supplement(client, tip["reference"], code)
        french = await client.post(
            f"/v1/tips/{tip['reference']}/supplements",
            json={"code": code, "narrative": "Encore."},
            headers=FRENCH,
        )
        other = (await client.post("/v1/tips", json=tip_body())).json()
        elsewhere = await supplement(client, other["reference"], other["follow_up_code"])
    assert [answer.status_code for answer in answers] == [202, 202]
    assert english.status_code == french.status_code == 429
    assert english.json()["rule"] == french.json()["rule"] == "supplements_per_tip"
    assert "call the hotline" in english.json()["detail"] and HOTLINE in english.json()["detail"]
    assert "Ligne d'urgence" in french.json()["detail"] and HOTLINE in french.json()["detail"]
    assert french.headers["content-language"] == "fr"
    assert "retry-after" not in english.headers, "a full tip does not empty with time"
    assert elsewhere.status_code == 202, "the cap is per tip"
    stored = await fetch(settings, "SELECT tip_id FROM intake.supplements")
    assert [str(row["tip_id"]) for row in stored].count(tip["tip_id"]) == 2


async def test_supplements_that_would_add_up_past_the_tips_byte_cap_are_refused(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, max_supplement_bytes_per_tip=8_000, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        first = await supplement(client, tip["reference"], tip["follow_up_code"], narrative="a" * 3_000)
        second = await supplement(
            client, tip["reference"], first.json()["follow_up_code"], narrative="b" * 3_000
        )
        still = await supplement(client, tip["reference"], first.json()["follow_up_code"], narrative="short")
    assert first.status_code == 202
    assert second.status_code == 429 and second.json()["rule"] == "supplement_bytes_per_tip"
    assert still.status_code == 202, "a refused follow-up spends no code, and a short one still fits"


async def test_an_oversize_body_is_refused_before_it_is_parsed_whether_declared_or_streamed(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, max_body_bytes=4_096)

    async def streamed() -> AsyncIterator[bytes]:
        yield b'{"narrative": "'
        for _ in range(10):
            yield b"x" * 1_000

    async with running(app), http_client(app) as client:
        declared = await client.post(
            "/v1/tips", content=b"x" * 5_000, headers={"content-type": "application/json"}
        )
        chunked = await client.post(
            "/v1/tips", content=streamed(), headers={"content-type": "application/json", **FRENCH}
        )
        staff_route = await client.put(f"/v1/tips/{uuid.uuid4()}/consent", content=streamed())
        small = await client.post("/v1/tips", json=tip_body())
    assert "content-length" not in chunked.request.headers, "the streamed body declared no length"
    assert declared.status_code == chunked.status_code == staff_route.status_code == 413
    assert staff_route.status_code == 413, "refused before the token is even looked at"
    assert HOTLINE in declared.json()["detail"] and "4096" in declared.json()["detail"]
    assert "Ligne d'urgence" in chunked.json()["detail"] and HOTLINE in chunked.json()["detail"]
    assert small.status_code == 202
    assert len(await fetch(settings, "SELECT 1 FROM intake.tips")) == 1


@pytest.mark.parametrize(
    "build",
    [build_app, build_triage, build_disclosure, build_referral, build_monitoring],
    ids=["intake", "triage", "disclosure", "referral", "monitoring"],
)
async def test_every_service_refuses_an_oversize_body_before_reading_it_into_a_route(
    settings: ServiceSettings, build: Callable[[ServiceSettings], FastAPI]
) -> None:
    # Not started: a route reached would fail for want of a database, so 413 shows none was.
    app = build(settings.model_copy(update={"max_body_bytes": 2_048}))

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"{" * 1_000

    async with http_client(app) as client:
        answer = await client.post(
            "/v1/anything", content=streamed(), headers={"authorization": "Bearer lt_x"}
        )
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("The request is too large: at most 2048 bytes")


async def test_the_rate_limit_believes_forwarded_addresses_only_from_named_proxies_and_counts_an_ipv6_64(
    settings: ServiceSettings,
) -> None:
    # The test client connects from 127.0.0.1, which uvicorn alone would have trusted by default.
    direct = intake_with(settings, public_rate_limit=2)
    proxied = intake_with(settings, public_rate_limit=2, forwarded_allow_ips="127.0.0.1, 10.0.0.0/8")

    async def statuses(app: FastAPI, forwarded: list[str]) -> list[int]:
        async with http_client(app) as client:
            answers = [
                await client.post("/v1/tips", json=tip_body(), headers={"x-forwarded-for": hop})
                for hop in forwarded
            ]
        return [answer.status_code for answer in answers]

    async with running(direct, proxied):
        spoofed = await statuses(direct, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
        one_64 = await statuses(proxied, ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:abcd::9"])
        other_64 = await statuses(proxied, ["2001:db8:1:3::1"])
        chained = await statuses(
            proxied, ["198.51.100.9, 10.1.2.3", "198.51.100.9", "203.0.113.50, 198.51.100.9"]
        )
    assert spoofed == [202, 202, 429], "X-Forwarded-For from an unnamed peer is not believed"
    assert one_64 == [202, 202, 429], "one /64 is one client"
    assert other_64 == [202]
    assert chained == [202, 202, 429], "the nearest hop no named proxy is, is the client"


def test_a_wildcard_or_a_non_address_in_forwarded_allow_ips_stops_intake_from_starting(
    settings: ServiceSettings,
) -> None:
    for value in ("*", "proxy.internal"):
        with pytest.raises(ValueError, match="FORWARDED_ALLOW_IPS"):
            IntakeSettings(**{**settings.model_dump(by_alias=True), "FORWARDED_ALLOW_IPS": value})


async def test_a_public_request_starts_a_fresh_trace_whatever_traceparent_the_caller_sends(
    settings: ServiceSettings,
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider("tests", None).add_span_processor(SimpleSpanProcessor(exporter))
    chosen_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    planted = {"traceparent": f"00-{chosen_trace}-00f067aa0ba902b7-01", "tracestate": "x=1", "baggage": "k=v"}
    app = build_app(settings)
    try:
        async with running(app), http_client(app) as client:
            tip = (await client.post("/v1/tips", json=tip_body(), headers=planted)).json()
            events = await events_of_tips(
                settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {tip["tip_id"]}
            )
        spans = exporter.get_finished_spans()
    finally:
        exporter.shutdown()
    [server] = [
        span for span in spans if span.name.startswith("POST /v1/tips") and span.kind.name == "SERVER"
    ]
    assert server.parent is None, "the caller's span is no parent"
    assert format(server.context.trace_id, "032x") != chosen_trace
    [received] = events[tip["tip_id"]][topics.TIPS_RECEIVED]
    assert chosen_trace not in received["traceparent"]
    assert format(server.context.trace_id, "032x") in received["traceparent"], "the tip's journey starts here"


async def test_an_idempotency_key_expires_after_24_hours_and_is_kept_only_as_hmacs(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    key = f"retry-{uuid.uuid4()}"
    async with running(app), http_client(app) as client:
        first = await client.post("/v1/tips", json=tip_body(), headers={"idempotency-key": key})
        [kept] = await fetch(settings, "SELECT key_hash, fingerprint FROM intake.idempotency_keys")
        await fetch(settings, "UPDATE intake.idempotency_keys SET created_at = now() - interval '25 hours'")
        later = await client.post("/v1/tips", json=tip_body(), headers={"idempotency-key": key})
    assert first.status_code == later.status_code == 202
    assert "idempotent-replayed" not in later.headers and later.json()["tip_id"] != first.json()["tip_id"]
    assert len(await fetch(settings, "SELECT 1 FROM intake.idempotency_keys")) == 1, "the expired one is gone"
    canonical = TipSubmission.model_validate(tip_body()).model_dump_json()
    assert kept["fingerprint"] != hashlib.sha256(canonical.encode()).digest()
    kek = configured_kek(settings.kek.get_secret_value() if settings.kek else None, None)
    fingerprints = Fingerprints(derived_secret(kek.key))
    assert kept["fingerprint"] == fingerprints.submission(canonical)
    assert kept["key_hash"] == fingerprints.key("public", key)


async def test_after_a_follow_up_lock_ends_one_wrong_code_does_not_lock_the_reference_again(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        for n in range(5):
            await supplement(client, tip["reference"], f"WRONG-{n}")
        locked = await supplement(client, tip["reference"], tip["follow_up_code"])
        await fetch(
            settings, "UPDATE intake.follow_up_attempts SET locked_until = now() - interval '1 second'"
        )
        after_the_lock = await supplement(client, tip["reference"], "WRONG-AGAIN")
        right = await supplement(client, tip["reference"], tip["follow_up_code"])
    assert locked.status_code == 403 and after_the_lock.status_code == 403
    assert right.status_code == 202, "the failure count started again when the lock ended"


async def test_a_city_the_gazetteer_does_not_list_is_sealed_and_a_listed_one_travels_in_its_spelling(
    settings: ServiceSettings,
) -> None:
    unlisted = "12 rue des Érables, chez Lucienne Gagnon"
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        token = await staff_token(settings.database_url, Role.SPECIALIST)
        listed = (
            await client.post(
                "/v1/tips", json=tip_body(location={"country": "CA", "province": "QC", "city": "montreal"})
            )
        ).json()
        sealed = (
            await client.post(
                "/v1/tips", json=tip_body(channel="phone", location={"country": "CA", "province": "QC", "city": unlisted}),
                headers={"authorization": f"Bearer {token}"},
            )
        ).json()  # fmt: skip
        moved = await supplement(
            client,
            listed["reference"],
            listed["follow_up_code"],
            location={"country": "CA", "city": unlisted},
        )
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {listed["tip_id"], sealed["tip_id"]}
        )
    assert moved.status_code == 202
    [clear] = events[listed["tip_id"]][topics.TIPS_RECEIVED]
    [hidden] = events[sealed["tip_id"]][topics.TIPS_RECEIVED]
    assert clear["facts"]["location"]["city"] == "Montréal" and clear["identifiers"]["city"] is None
    assert hidden["facts"]["location"] == {"country": "CA", "province": "QC", "city": None}
    assert hidden["identifiers"]["city"].startswith("sealed.v1.")
    [stored] = await fetch(settings, "SELECT update FROM intake.supplements")
    assert json.loads(stored["update"])["location"]["city"] is None
    everything = await every_stored_text(settings.database_url) + json.dumps(events)
    assert "Érables" not in everything and "Lucienne" not in everything
