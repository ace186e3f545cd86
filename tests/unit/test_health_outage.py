"""A consumer waiting out an outage is not reported stalled: services reconnect by themselves."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.common.runtime import Runtime


class Unreachable:
    async def fetchval(self, *_args: Any) -> Any:
        raise ConnectionRefusedError("the database is restarting")

    async def fetch(self, *_args: Any) -> Any:
        raise ConnectionRefusedError("the database is restarting")

    async def fetchrow(self, *_args: Any) -> Any:
        raise ConnectionRefusedError("the database is restarting")


class Answering(Unreachable):
    async def fetchval(self, *_args: Any) -> Any:
        return 1


def a_runtime(pool: object, broker_up: bool) -> Any:
    async def ping(timeout: float) -> bool:
        return broker_up

    return SimpleNamespace(
        pool=pool,
        broker=SimpleNamespace(ping=ping),
        relay=SimpleNamespace(leading=True),
        settings=SimpleNamespace(outbox_stalled_seconds=60.0),
        consumers_assigned=lambda: True,
        consumer_lag=lambda: 5,
        consuming_stalled=lambda: True,
    )


async def test_a_consumer_without_progress_is_stalled_only_while_the_database_and_broker_answer() -> None:
    health = await Runtime.health(a_runtime(Answering(), broker_up=True))
    assert health.checks["consuming"] == "stalled"
    during_a_database_outage = await Runtime.health(a_runtime(Unreachable(), broker_up=True))
    assert during_a_database_outage.checks["database"] == "unavailable"
    assert during_a_database_outage.checks["consuming"] == "ok"
    during_a_broker_outage = await Runtime.health(a_runtime(Answering(), broker_up=False))
    assert during_a_broker_outage.checks["broker"] == "unavailable"
    assert during_a_broker_outage.checks["consuming"] == "ok"
