"""The operations console in headless Chromium: sign in, an urgent tip appears, a breached deadline and its alert show."""

import asyncio
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright

from lantern.infra import free_port
from schemas import topics
from schemas.envelope import utc_now
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.monitoring.app import build_app as build_monitoring
from services.monitoring.settings import MonitoringSettings
from services.triage.app import build_app as build_triage
from services.triage.settings import TriageSettings
from tests.factories import IDENTIFYING_VALUES, tip_received
from tests.helpers import eventually, produce, running, staff_token

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
SCREENSHOT = os.environ.get("LANTERN_CONSOLE_SCREENSHOT")
URGENT = {"assessment": {"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["sex"]}}


async def test_the_console_signs_in_and_shows_an_urgent_tip_and_its_breached_deadline(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    port = free_port()
    fast = TriageSettings.of(settings).model_copy(update={"clock_poll_seconds": 0.1})
    monitoring = MonitoringSettings.of(settings).model_copy(
        update={"service_urls": {"monitoring": f"http://127.0.0.1:{port}"}}
    )
    server = uvicorn.Server(
        uvicorn.Config(
            build_monitoring(monitoring), host="127.0.0.1", port=port, log_config=None, lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with running(build_triage(fast)):
            assert await eventually(lambda: asyncio.sleep(0, result=server.started), timeout=60)
            token = await staff_token(settings.database_url, Role.SUPERVISOR)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = await browser.new_page(viewport={"width": 1400, "height": 900})
                await page.goto(f"http://127.0.0.1:{port}/console")
                await page.fill("#token", "lt_not-a-token")
                await page.click("#signin")
                await page.wait_for_selector("text=Token refused")
                await page.fill("#token", token)
                await page.click("#signin")
                await page.wait_for_selector("#console:not([hidden])")

                tip = tip_received(**URGENT).model_copy(
                    update={"reference": "LT-7K3M-9QXD", "received_at": utc_now() - timedelta(minutes=12)}
                )
                await produce(
                    fast.kafka_bootstrap_servers,
                    topics.TIPS_RECEIVED,
                    tip.model_dump_json().encode(),
                    tip.partition_key,
                )
                await page.wait_for_selector("#urgent >> text=LT-7K3M-9QXD", timeout=15_000)
                await page.wait_for_selector("#deadlines .breached", timeout=15_000)
                await page.wait_for_selector("#deadlines >> text=/overdue \\d+ (min|h)/", timeout=15_000)
                await page.wait_for_selector("#chart[src^='blob:']", timeout=15_000)
                await page.click("#lang-fr")
                await page.wait_for_selector("#deadlines >> text=/en retard de \\d+ (min|h)/", timeout=15_000)
                await page.wait_for_selector("#chart[alt^='Signalements']", timeout=15_000)
                await page.click("#lang-en")
                await page.wait_for_selector(
                    "#alerts tr:has-text('notify_supervisor') .breached", timeout=15_000
                )
                await page.fill("#reference", "LT-7K3M-9QXD")
                await page.click("#follow")
                await page.wait_for_selector("#journey >> text=tip.triaged")
                await produce(fast.kafka_bootstrap_servers, topics.TIPS_RECEIVED, b"not an event", b"x")
                await page.wait_for_selector("#services >> text=monitoring")
                await page.wait_for_selector(
                    "#dead tr:has-text('tips.received.v1.DLT') .breached", timeout=30_000
                )
                shown = await page.inner_text("body")
                await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
                if SCREENSHOT:
                    shutil.copy(tmp_path / "console.png", SCREENSHOT)
                await browser.close()
    finally:
        server.should_exit = True
        await serving
    assert "notify_supervisor" in shown
    assert not any(value in shown for value in IDENTIFYING_VALUES)
