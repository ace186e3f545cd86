"""A service started while PostgreSQL cannot be reached waits for it and starts once it is back,
instead of exiting for its supervisor to start it again (issue 18); past its patience it gives up."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from lantern.infra import free_port
from services.common.db import create_pool
from services.common.settings import ServiceSettings
from services.triage.app import build_app as build_triage
from tests.faults.proxy import ProxyThread
from tests.helpers import fetch, running, server_address, through

WAITING = "database not reachable yet; trying again"


async def test_a_service_started_while_its_database_is_cut_starts_once_the_database_is_back(
    settings: ServiceSettings,
) -> None:
    proxy = ProxyThread(free_port(), *server_address(settings.database_url)).start()
    try:
        proxy.cut()
        settings = settings.model_copy(
            update={
                "service_database_urls": {
                    service: through(url, proxy.listen_port)
                    for service, url in settings.service_database_urls.items()
                },
                "database_patience_seconds": 60.0,
            }
        )
        healed = asyncio.Event()

        async def heal_later() -> None:
            await asyncio.sleep(2.0)
            healed.set()
            proxy.heal()

        healing = asyncio.create_task(heal_later())
        with capture_logs() as logs:
            async with running(build_triage(settings)):
                assert healed.is_set(), "the service waited for its database"
                rows = await fetch(
                    settings,
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'lantern-triage'",
                )
                assert rows[0]["n"] >= 1, "it connected once the database was back"
        await healing
        waits = [entry for entry in logs if entry["event"] == WAITING]
        assert waits, "the wait is in the log"
        assert all(settings.database_url not in str(entry) for entry in waits), "no DSN in the log"
    finally:
        proxy.stop()


async def test_a_database_still_out_of_reach_after_the_patience_fails_the_start_with_the_connection_error(
    database_url: str,
) -> None:
    proxy = ProxyThread(free_port(), *server_address(database_url)).start()
    try:
        proxy.cut()
        with capture_logs() as logs, pytest.raises(ConnectionError):
            await create_pool(through(database_url, proxy.listen_port), "triage", patience_seconds=1.5)
        assert len([entry for entry in logs if entry["event"] == WAITING]) >= 2, (
            "it tried again before giving up"
        )
    finally:
        proxy.stop()


async def test_without_patience_a_database_out_of_reach_fails_at_once(database_url: str) -> None:
    proxy = ProxyThread(free_port(), *server_address(database_url)).start()
    try:
        proxy.cut()
        with capture_logs() as logs, pytest.raises(ConnectionError):
            await create_pool(through(database_url, proxy.listen_port), "triage")
        assert not [entry for entry in logs if entry["event"] == WAITING]
    finally:
        proxy.stop()
