"""A service rides out a broker it cannot reach and a broker that lost everything: its health says so
while it lasts, and what it stored reaches the broker once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lantern.infra import TansuBroker, free_port
from schemas import topics
from services.common.kafka import ensure_topics
from services.common.settings import ServiceSettings
from services.triage.app import build_app as build_triage
from tests.factories import tip_received
from tests.faults.proxy import ProxyThread
from tests.helpers import eventually, fetch, operations_client, produce, read_until, running


@pytest.fixture
async def proxied_broker(tmp_path: Path) -> AsyncIterator[tuple[TansuBroker, ProxyThread]]:
    """A broker that tells its clients to connect through a proxy the test can cut."""
    proxy_port, broker_port = free_port(), free_port()
    broker = TansuBroker(port=broker_port, log_path=tmp_path / "tansu.log", advertised_port=proxy_port)
    proxy = ProxyThread(proxy_port, "127.0.0.1", broker_port).start()
    broker.start()
    try:
        await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
        yield broker, proxy
    finally:
        broker.stop()
        proxy.stop()


def on_broker(settings: ServiceSettings, broker: TansuBroker) -> ServiceSettings:
    return settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap_servers})


async def health(app: object) -> tuple[int, dict[str, str]]:
    async with operations_client(app) as client:  # type: ignore[arg-type]
        answer = await client.get("/health")
    return answer.status_code, answer.json()["checks"]


async def triaged(settings: ServiceSettings, tip_id: object) -> bool:
    rows = await fetch(settings, "SELECT 1 FROM triage.triage_decisions WHERE tip_id = $1", tip_id)
    return bool(rows)


async def test_a_broker_out_of_reach_turns_health_503_and_the_service_goes_on_once_it_is_back(
    settings: ServiceSettings, proxied_broker: tuple[TansuBroker, ProxyThread]
) -> None:
    broker, proxy = proxied_broker
    settings = on_broker(settings, broker)
    async with running(build_triage(settings)) as (triage,):
        proxy.cut()

        async def broker_reported_out() -> bool:
            status, checks = await health(triage)
            return status == 503 and checks["broker"] == "unavailable"

        assert await eventually(broker_reported_out, timeout=30), "the outage shows on /health"
        proxy.heal()

        async def broker_back() -> bool:
            status, checks = await health(triage)
            return status == 200 and checks["broker"] == "ok"

        assert await eventually(broker_back, timeout=60), "/health recovers with the broker"
        tip = tip_received()
        await produce(
            broker.bootstrap_servers, topics.TIPS_RECEIVED, tip.model_dump_json().encode(), tip.partition_key
        )
        assert await eventually(lambda: triaged(settings, tip.tip_id), timeout=60), "consuming resumed"
        records = await read_until(
            broker.bootstrap_servers,
            (topics.TIPS_TRIAGED,),
            lambda rs: any(r.json()["tip_id"] == str(tip.tip_id) for r in rs),
            timeout=60,
        )
    assert any(record.json()["tip_id"] == str(tip.tip_id) for record in records), "relaying resumed"


async def test_a_broker_that_lost_everything_receives_the_stored_events_again_and_consumers_start_over(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    try:
        await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
        settings = on_broker(settings, broker)
        async with running(build_triage(settings)):
            before = tip_received()
            await produce(
                broker.bootstrap_servers,
                topics.TIPS_RECEIVED,
                before.model_dump_json().encode(),
                before.partition_key,
            )
            first = await read_until(
                broker.bootstrap_servers, (topics.TIPS_TRIAGED,), lambda rs: bool(rs), timeout=60
            )
            first_cluster = broker.cluster_id

            broker.stop()
            broker.start()
            await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
            after = tip_received()
            await produce(
                broker.bootstrap_servers,
                topics.TIPS_RECEIVED,
                after.model_dump_json().encode(),
                after.partition_key,
            )
            assert await eventually(lambda: triaged(settings, after.tip_id), timeout=60), (
                "a fresh group reads"
            )
            again = await read_until(
                broker.bootstrap_servers,
                (topics.TIPS_TRIAGED,),
                lambda rs: {r.json()["tip_id"] for r in rs} >= {str(before.tip_id), str(after.tip_id)},
                timeout=60,
            )
        [epoch] = await fetch(settings, "SELECT cluster_id FROM triage.broker_epoch")
    finally:
        broker.stop()
    assert broker.cluster_id != first_cluster and epoch["cluster_id"] == broker.cluster_id
    republished = [r.json()["event_id"] for r in again if r.json()["tip_id"] == str(before.tip_id)]
    assert republished == [first[0].json()["event_id"]], "the same event, published again once"


async def test_the_first_start_with_no_broker_epoch_recorded_publishes_the_recent_window_once(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    """After the upgrade that brought epochs nothing says whether the broker holds what was published
    before it: the relay publishes the window again once, records the broker, and never again."""
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    try:
        await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
        settings = on_broker(settings, broker)
        tip = tip_received()
        async with running(build_triage(settings)):
            await produce(
                broker.bootstrap_servers,
                topics.TIPS_RECEIVED,
                tip.model_dump_json().encode(),
                tip.partition_key,
            )
            first = await read_until(
                broker.bootstrap_servers, (topics.TIPS_TRIAGED,), lambda rs: bool(rs), timeout=60
            )
        # As before the upgrade: no epoch stored, and a broker that holds none of it.
        await fetch(settings, "DELETE FROM triage.broker_epoch RETURNING cluster_id")
        broker.stop()
        broker.start()
        await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
        async with running(build_triage(settings)):
            again = await read_until(
                broker.bootstrap_servers, (topics.TIPS_TRIAGED,), lambda rs: bool(rs), timeout=60
            )
        async with running(build_triage(settings)):
            later = tip_received()
            await produce(
                broker.bootstrap_servers,
                topics.TIPS_RECEIVED,
                later.model_dump_json().encode(),
                later.partition_key,
            )
            assert await eventually(lambda: triaged(settings, later.tip_id), timeout=60)
            once = await read_until(
                broker.bootstrap_servers,
                (topics.TIPS_TRIAGED,),
                lambda rs: str(later.tip_id) in {r.json()["tip_id"] for r in rs},
                timeout=60,
            )
        [epoch] = await fetch(settings, "SELECT cluster_id FROM triage.broker_epoch")
    finally:
        broker.stop()
    assert epoch["cluster_id"] == broker.cluster_id
    event_id = first[0].json()["event_id"]
    assert [r.json()["event_id"] for r in again] == [event_id], "published again, the same event"
    assert [r.json()["event_id"] for r in once].count(event_id) == 1, "and only once"
