"""One tip, one trace across every service hop; metrics for Prometheus; nothing identifying in either."""

import asyncio
import re
from datetime import timedelta

import httpx
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lantern.observe import Published, by_tip
from schemas import topics
from services.common.runtime import bound_port, listeners, serve_both
from services.common.settings import ServiceSettings
from services.common.telemetry import tracer_provider
from services.disclosure.app import build_app as build_disclosure
from services.intake.app import build_app as build_intake
from services.monitoring.app import build_app as build_monitoring
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.triage.app import build_app as build_triage
from tests.factories import IDENTIFYING_VALUES, tip_body
from tests.helpers import eventually, fetch, http_client, operations_client, read_until, running, settled

EVERY_SERVICE = {"intake", "triage", "disclosure", "referral", "monitoring"}


async def test_one_tip_yields_a_single_trace_through_every_service_and_its_metrics_are_scraped(
    settings: ServiceSettings,
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider("tests", None).add_span_processor(SimpleSpanProcessor(exporter))
    intake = build_intake(settings)
    apps = (
        intake,
        build_triage(settings),
        build_disclosure(settings),
        build_referral(settings),
        build_monitoring(settings),
    )
    try:
        async with running(*apps):
            await settled(*apps)
            await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=365))
            async with http_client(intake) as client:
                answer = await client.post(
                    "/v1/tips",
                    json=tip_body(assessment={"minor_involved": "yes", "trafficking_types": ["sex"]}),
                )
                tip_id = answer.json()["tip_id"]
                journey = (topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)

                def through(records: list[Published]) -> bool:
                    return all(by_tip(records)[tip_id][topic] for topic in journey)

                assert through(await read_until(settings.kafka_bootstrap_servers, journey, through)), (
                    "the tip's journey never reached the broker"
                )
                assert await eventually(
                    lambda: fetch(settings, "SELECT 1 FROM monitoring.tips WHERE urgency IS NOT NULL")
                ), "monitoring never recorded the triaged tip"

                def hops() -> set[str]:
                    return {
                        str(span.attributes.get("lantern.service"))
                        for span in exporter.get_finished_spans()
                        if span.attributes and span.attributes.get("lantern.tip_id") == tip_id
                    }

                async def all_hops() -> bool:
                    return hops() >= EVERY_SERVICE

                assert await eventually(all_hops, timeout=20), hops()
            async with operations_client(intake) as private:
                scraped = (await private.get("/metrics")).text
    finally:
        spans = exporter.get_finished_spans()
        exporter.shutdown()
    mine = [span for span in spans if span.attributes and span.attributes.get("lantern.tip_id") == tip_id]
    assert len({span.context.trace_id for span in mine}) == 1, "one trace for the tip"
    assert any(span.name.startswith("POST /v1/tips") for span in mine)
    handling = [span for span in mine if " handle " in span.name]
    assert {str((span.attributes or {}).get("lantern.service")) for span in handling} >= EVERY_SERVICE - {
        "intake"
    }
    assert all(span.parent is not None and span.parent.is_remote for span in handling), (
        "each consumed event's span continues the trace of the span that produced the event"
    )
    recorded = " ".join(f"{span.name} {dict(span.attributes or {})}" for span in spans)
    assert not any(value in recorded for value in IDENTIFYING_VALUES)
    assert 'lantern_tips_received_total{channel="web",' in scraped
    assert not re.search(r"[{,]language=", scraped), "no counter says which language a tip came in"
    assert "lantern_time_to_triage_seconds_bucket" in scraped
    assert "lantern_events_handled_total" in scraped and "lantern_outbox_backlog" in scraped
    assert not any(value in scraped for value in IDENTIFYING_VALUES)


async def test_metrics_and_detailed_health_are_served_on_the_private_listener_only(
    settings: ServiceSettings,
) -> None:
    private = settings.model_copy(update={"http_port": 0, "operations_port": 0})
    public, operations = listeners(build_monitoring(private), private)
    serving = asyncio.create_task(serve_both(public, operations))
    try:
        assert await eventually(lambda: asyncio.sleep(0, public.started and operations.started), timeout=60)
        async with httpx.AsyncClient() as client:
            public_url = f"http://127.0.0.1:{bound_port(public)}"
            private_url = f"http://127.0.0.1:{bound_port(operations)}"
            public_metrics = await client.get(f"{public_url}/metrics")
            public_health = await client.get(f"{public_url}/health")
            private_metrics = await client.get(f"{private_url}/metrics")
            private_health = await client.get(f"{private_url}/health")
    finally:
        public.should_exit = True
        await serving
    assert public_metrics.status_code == 404
    assert public_health.json() == {"service": "monitoring", "status": "ok"}
    assert private_metrics.status_code == 200
    assert private_metrics.headers["content-type"].startswith("text/plain")
    assert "lantern_outbox_backlog" in private_metrics.text
    assert private_health.json()["checks"]["database"] == "ok"
    assert private_health.json()["checks"]["relaying"] == "ok"
