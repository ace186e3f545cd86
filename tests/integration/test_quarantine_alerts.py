"""Monitoring's watch on a service's quarantined outbox rows, against a service's health answering on a
real socket and monitoring's own tables: only a complete list closes an alert, and an alert closed
while its row stays quarantined opens again without paging twice."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.common.db import create_pool
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.monitoring.adapters.alerts import ConsoleAlertList, PagingOutbox
from services.monitoring.adapters.roster_file import RosterFile
from services.monitoring.domain.alerts import AlertKind
from services.monitoring.entrypoints.outboxes import watch_outboxes
from services.monitoring.handlers import Alerting
from services.monitoring.ports import Notifier
from tests.helpers import eventually
from tests.integration.test_alert_paging import ROSTER

SERVICE = "disclosure"
QUARANTINED_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class ServiceHealth:
    """A service's operations listener on a real socket, answering /health as the test says."""

    def __init__(self) -> None:
        self.status, self.body = 200, b'{"quarantined": [], "checks": {"outbox_quarantined": "0"}}'
        self.answered = 0
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = health.status, health.body
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                health.answered += 1

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, status: int, quarantined: list[uuid.UUID] | None, counted: int | None = None) -> None:
        rows = (
            None
            if quarantined is None
            else [{"event_id": str(row), "quarantined_at": QUARANTINED_AT.isoformat()} for row in quarantined]
        )
        checks = (
            {} if rows is None else {"outbox_quarantined": str(len(rows) if counted is None else counted)}
        )
        self.status, self.body = status, json.dumps({"quarantined": rows, "checks": checks}).encode()

    async def rounds(self, count: int) -> None:
        """Wait until monitoring has read the answer now set ``count`` more times."""
        target = self.answered + count
        assert await eventually(lambda: asyncio.sleep(0, self.answered >= target), timeout=20)


@pytest.fixture
def service() -> Iterator[ServiceHealth]:
    health = ServiceHealth()
    health.thread.start()
    try:
        yield health
    finally:
        health.server.shutdown()
        health.server.server_close()


@asynccontextmanager
async def watching(database_url: str, tmp_path: Path, service: ServiceHealth) -> AsyncIterator[asyncpg.Pool]:
    """Monitoring's outbox watch, with the console list and the paging outbox, on monitoring's schema."""
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER), encoding="utf-8")

    def notifiers(uow: PostgresUnitOfWork) -> list[Notifier]:
        return [ConsoleAlertList(uow.connection), PagingOutbox(uow.connection)]

    pool = await create_pool(database_url, "monitoring")
    alerting = Alerting(RosterFile(roster), notifiers)
    task = asyncio.create_task(
        watch_outboxes(Transactions(pool, PostgresUnitOfWork, None), {SERVICE: service.url}, alerting, 0.02)
    )
    try:
        yield pool
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pool.close()


async def open_rows(pool: asyncpg.Pool) -> set[str]:
    rows = await pool.fetch(
        "SELECT reference FROM alerts WHERE kind = $1 AND closed_at IS NULL",
        AlertKind.OUTBOX_ROW_QUARANTINED.value,
    )
    return {row["reference"] for row in rows}


async def test_a_service_that_cannot_list_its_quarantined_rows_closes_none_of_their_alerts(
    database_url: str, tmp_path: Path, service: ServiceHealth
) -> None:
    stuck, other = uuid.uuid4(), uuid.uuid4()
    async with watching(database_url, tmp_path, service) as pool:
        service.answer(200, [stuck])
        assert await eventually(lambda: open_rows(pool)) == {str(stuck)}
        service.answer(503, [])  # what a service answered when its outbox could not be read
        await service.rounds(3)
        assert await open_rows(pool) == {str(stuck)}, "a 503 says nothing of the rows it leaves out"
        service.answer(200, None)  # what it answers now: not known
        await service.rounds(3)
        assert await open_rows(pool) == {str(stuck)}
        service.answer(200, [other], counted=2)  # a list cut short
        await service.rounds(3)
        assert await open_rows(pool) == {str(stuck), str(other)}
        service.answer(200, [other])
        await service.rounds(3)
        assert await open_rows(pool) == {str(other)}, "a complete list closes the alert of a row handled"


async def test_an_alert_closed_while_its_row_stays_quarantined_opens_again_and_is_paged_once(
    database_url: str, tmp_path: Path, service: ServiceHealth
) -> None:
    stuck = uuid.uuid4()
    async with watching(database_url, tmp_path, service) as pool:
        service.answer(200, [stuck])
        assert await eventually(lambda: open_rows(pool)) == {str(stuck)}
        # Closed by a wrong answer before its page went out: the paging dispatcher cancels the page.
        await close_alerts(pool, page_status="cancelled")
        assert await eventually(lambda: open_rows(pool)) == {str(stuck)}, "raised again, it opens again"
        assert await eventually(lambda: page_statuses(pool, "pending")), "its page goes out after all"
        # Closed again once its page was delivered: it opens again, and nobody is paged twice.
        await close_alerts(pool, page_status="delivered")
        assert await eventually(lambda: open_rows(pool)) == {str(stuck)}
        await service.rounds(3)
        assert await page_statuses(pool, "delivered")


async def close_alerts(pool: asyncpg.Pool, page_status: str) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("UPDATE alerts SET closed_at = now()")
        await connection.execute("UPDATE deliveries SET status = $1", page_status)


async def page_statuses(pool: asyncpg.Pool, expected: str) -> bool:
    return [row["status"] for row in await pool.fetch("SELECT status FROM deliveries")] == [expected]
