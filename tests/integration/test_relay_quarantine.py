"""A package the broker cannot take is quarantined in disclosure's outbox: forwards for other tips
still reach their agencies, the supervisors on call are paged through monitoring, and a supervisor
releases it (a package is never discarded)."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from lantern.cli import app as lantern
from lantern.held import settle_quarantined
from schemas import topics
from services.common import runtime
from services.common.auth import Role
from services.common.relay import PackageNotDiscardable
from services.common.runtime import bound_port, listeners, serve_both
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from services.monitoring.app import build_app as build_monitoring
from tests.factories import tip_received, tip_triaged
from tests.helpers import (
    eventually,
    fetch,
    http_client,
    new_data_key,
    operations_client,
    publish_events,
    read_until,
    running,
    staff_token,
)
from tests.integration.test_alert_paging import Receiver, monitoring_settings

POLICE = "surete-du-quebec"  # the factory's tips are from Joliette, Quebec
DANGER_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"imminent_danger": "yes", "trafficking_types": ["labour"]},
}


@contextlib.asynccontextmanager
async def serving(settings: ServiceSettings) -> AsyncIterator[str]:
    """Disclosure as a process runs it, on real sockets; yields its private operations URL."""
    private = settings.model_copy(update={"http_port": 0, "operations_port": 0})
    public, operations = listeners(build_disclosure(private), private)
    task = asyncio.create_task(serve_both(public, operations))
    try:
        assert await eventually(lambda: _started(public, operations, task), timeout=90), (
            "disclosure never started"
        )
        yield f"http://127.0.0.1:{bound_port(operations)}"
    finally:
        public.should_exit = True
        await task


async def _started(public: uvicorn.Server, operations: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()
    return bool(public.started and operations.started)


@pytest.fixture
def pager() -> Iterator[Receiver]:
    receiver = Receiver(lambda _alert, _seen: 200)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


async def test_forwards_for_other_tips_keep_flowing_while_a_poison_package_is_quarantined_and_the_supervisors_are_paged(
    settings: ServiceSettings, tmp_path: Path, pager: Receiver
) -> None:
    poison = uuid.uuid4()
    await fetch(
        settings,
        "INSERT INTO disclosure.outbox (event_id, topic, key, payload, headers, scrub_after_send)"
        " VALUES ($1, $2, 'LE-POISON0', $3, '{\"message_type\": \"le.package\"}', true)",
        poison, topics.agency_topic(POLICE), b"x" * 1_500_000,
    )  # fmt: skip
    admin = {"Authorization": f"Bearer {await staff_token(settings.database_url, Role.ADMIN)}"}
    supervisor = await staff_token(settings.database_url, Role.SUPERVISOR)
    async with serving(settings) as operations_url:
        watching = monitoring_settings(settings, tmp_path, pager.url).model_copy(
            update={"service_urls": {"disclosure": operations_url}, "outbox_watch_seconds": 0.2}
        )
        monitoring = build_monitoring(watching)
        async with running(monitoring), http_client(monitoring) as client:
            tips = [tip_received(key=await new_data_key(settings), **DANGER_ON_THE_CALL) for _ in range(2)]
            for tip in tips:
                await publish_events(
                    settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", danger=True)
                )
            packages = await read_until(
                settings.kafka_bootstrap_servers,
                (topics.agency_topic(POLICE),),
                lambda rs: len(rs) >= 2,
                timeout=60,
            )

            async def alerts() -> list[dict[str, Any]]:
                listed: list[dict[str, Any]] = (await client.get("/v1/alerts", headers=admin)).json()[
                    "alerts"
                ]
                return listed

            [alert] = await eventually(alerts, timeout=30)
            assert await eventually(lambda: asyncio.sleep(0, pager.delivered()), timeout=30)
            with pytest.raises(PackageNotDiscardable):
                await settle_quarantined(settings.database_url, "disclosure", poison, supervisor, send=False)
            assert await settle_quarantined(
                settings.database_url, "disclosure", poison, supervisor, send=True
            )
            # Released, it is tried again; the broker refuses it again, so it is quarantined anew.
            [again] = await eventually(lambda: _other_than(alerts(), alert), timeout=30)
            assert await eventually(lambda: asyncio.sleep(0, len(pager.delivered()) == 2), timeout=30)

    assert len({package.json()["case_reference"] for package in packages}) == 2, "both other tips went out"
    assert (alert["kind"], alert["reference"], alert["subject"]) == (
        "outbox_row_quarantined",
        str(poison),
        "disclosure",
    )
    assert (alert["role"], alert["paged"]) == ("supervisor", ["@supervisor-on-call"])
    assert again["reference"] == alert["reference"] == str(poison)
    assert [json.loads(page.body)["kind"] for page in pager.delivered()] == ["outbox_row_quarantined"] * 2
    [row] = await fetch(
        settings,
        "SELECT quarantine_reason, last_error, length(payload) AS size, sent_at, discarded_at"
        " FROM disclosure.outbox WHERE event_id = $1",
        poison,
    )
    assert (row["quarantine_reason"], row["last_error"]) == ("refused", "MessageSizeTooLargeError")
    assert row["size"] == 1_500_000 and row["sent_at"] is None and row["discarded_at"] is None


async def _other_than(values: Any, alert: dict[str, Any]) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = await values
    return [] if [item["alert_id"] for item in listed] == [alert["alert_id"]] else listed


async def test_health_is_degraded_but_200_with_a_quarantined_row_and_503_once_a_row_waits_too_long(
    settings: ServiceSettings,
) -> None:
    app = build_disclosure(settings)
    quarantined = uuid.uuid4()
    async with running(app), operations_client(app) as client:
        await fetch(
            settings,
            "INSERT INTO disclosure.outbox (event_id, topic, key, payload, quarantined_at, quarantine_reason)"
            " VALUES ($1, $2, 'LE-HEALTH01', '{}', now(), 'refused')",
            quarantined, topics.agency_topic(POLICE),
        )  # fmt: skip
        degraded = await client.get("/health")
        # A row to a topic that cannot exist: each send waits out the producer's timeout, and a broker
        # that takes nothing else counts nothing against the row, so it waits (the relay has stalled).
        await fetch(
            settings,
            "INSERT INTO disclosure.outbox (event_id, topic, key, payload, created_at)"
            " VALUES ($1, 'not a topic!', 'LE-HEALTH02', '{}', now() - interval '2 minutes')",
            uuid.uuid4(),
        )
        stalled = await client.get("/health")
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["checks"]["outbox_quarantined"] == "1"
    assert [row["event_id"] for row in degraded.json()["quarantined"]] == [str(quarantined)]
    assert stalled.status_code == 503
    assert stalled.json()["checks"]["relaying"] == "stalled"
    assert int(stalled.json()["checks"]["outbox_oldest_seconds"]) >= 120


async def test_health_says_its_quarantined_rows_are_unknown_not_none_when_it_cannot_read_them(
    settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreadable(*_args: Any, **_kwargs: Any) -> list[dict[str, Any]]:
        raise asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout")

    app = build_disclosure(settings)
    async with running(app), operations_client(app) as client:
        await fetch(
            settings,
            "INSERT INTO disclosure.outbox (event_id, topic, key, payload, quarantined_at, quarantine_reason)"
            " VALUES ($1, $2, 'LE-HEALTH03', '{}', now(), 'refused')",
            uuid.uuid4(), topics.agency_topic(POLICE),
        )  # fmt: skip
        monkeypatch.setattr(runtime, "quarantined_rows", unreadable)
        answer = await client.get("/health")
    assert answer.json()["quarantined"] is None, "an empty list would close every quarantine alert"
    assert answer.json()["checks"]["relaying"] == "unknown"
    assert answer.json()["status"] == "degraded"


def test_a_quarantined_package_to_an_agency_is_never_discarded_only_released(database_url: str) -> None:
    package, event = uuid.uuid4(), uuid.uuid4()

    async def quarantine() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(
                "INSERT INTO disclosure.outbox (event_id, topic, key, payload, scrub_after_send,"
                " quarantined_at, quarantine_reason) VALUES ($1, $2, 'LE-PACKAGE1', '{\"sealed\": 1}', true,"
                " now(), 'attempts_exhausted'), ($3, $4, 'tip', '{}', false, now(), 'refused')",
                package, topics.agency_topic(POLICE), event, topics.DISCLOSURES,
            )  # fmt: skip
        finally:
            await connection.close()

    asyncio.run(quarantine())
    token = asyncio.run(staff_token(database_url, Role.SUPERVISOR))

    def outbox(command: str, row: uuid.UUID) -> Result:
        return CliRunner().invoke(
            lantern, ["outbox", command, "disclosure", str(row), "--token", token],
            env={"DATABASE_URL": database_url},
        )  # fmt: skip

    refused = outbox("discard", package)
    assert refused.exit_code == 1
    assert f"package to {POLICE}" in refused.stderr and "lantern outbox release" in refused.stderr
    assert "reach the agency another way" in refused.stderr
    [kept] = asyncio.run(
        _rows(database_url, "SELECT payload, discarded_at, quarantined_at FROM disclosure.outbox"
              " WHERE event_id = $1", package)
    )  # fmt: skip
    assert kept["payload"] == b'{"sealed": 1}' and kept["discarded_at"] is None
    assert kept["quarantined_at"] is not None, "still quarantined, its alert still open"
    assert outbox("discard", event).exit_code == 0, "a service's own event may still be discarded"
    released = outbox("release", package)
    assert released.exit_code == 0, released.output
    [sent_again] = asyncio.run(
        _rows(database_url, "SELECT quarantined_at FROM disclosure.outbox WHERE event_id = $1", package)
    )
    assert sent_again["quarantined_at"] is None


async def _rows(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()
