"""The public web form in headless Chromium with JavaScript off: a report goes in, the codes show,
no cookie is set, nothing is asked of another origin, and the quick exit leaves."""

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import Route, async_playwright

from lantern.infra import free_port
from services.common.settings import ServiceSettings
from services.intake.app import build_app as build_intake
from services.intake.settings import IntakeSettings
from tests.helpers import eventually, fetch

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
EXIT = "https://neutral.example/"


@asynccontextmanager
async def serving(settings: ServiceSettings) -> AsyncIterator[str]:
    port = free_port()
    intake = IntakeSettings.of(settings).model_copy(update={"quick_exit_url": EXIT, "public_rate_limit": 100})
    server = uvicorn.Server(
        uvicorn.Config(build_intake(intake), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        assert await eventually(lambda: asyncio.sleep(0, result=server.started), timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_report_made_without_javascript_sets_no_cookie_and_asks_nothing_of_another_origin(
    settings: ServiceSettings,
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    async with serving(settings) as origin, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(java_script_enabled=False, locale="fr-CA")
        elsewhere: list[str] = []

        async def watch(route: Route) -> None:
            url = route.request.url
            if url.startswith(origin):
                await route.continue_()
            else:
                elsewhere.append(url)
                await route.fulfill(status=200, content_type="text/html", body="<title>Neutral</title>")

        await context.route("**/*", watch)
        page = await context.new_page()
        await page.goto(f"{origin}/report")
        assert await page.get_attribute("html", "lang") == "fr", "Accept-Language chooses French"
        await page.click("text=English")
        assert await page.get_attribute("html", "lang") == "en"
        await page.click("text=Français")
        await page.click("button[type=submit]")
        assert await page.is_visible("#narrative-error")
        assert await page.get_attribute("#narrative", "aria-invalid") == "true"
        await page.get_by_label("Racontez-nous ce qui s'est passé").fill(
            "Un homme garde les passeports de trois femmes dans un motel de Sherbrooke."
        )
        await page.select_option("#province", "QC")
        await page.check("#imminent_danger-yes")
        await page.check("#trafficking_types-sex")
        await page.check("#statistics-yes")
        await page.click("button[type=submit]")
        reference = (await page.inner_text("#reference")).strip()
        code = (await page.inner_text("#follow-up-code")).strip()
        assert reference.startswith("LT-") and len(code) >= 16
        assert await context.cookies() == []
        assert elsewhere == [], "no request left for another origin"

        await page.click("text=Ajouter de l'information à un signalement")
        await page.fill("#reference", reference)
        await page.fill("#code", code)
        await page.fill("#narrative", "Elles ont été déplacées ce matin.")
        await page.click("button[type=submit]")
        assert await page.is_visible("text=Votre information a été ajoutée")
        assert (await page.inner_text("#follow-up-code")).strip() != code

        await page.click("#quick-exit")
        await page.wait_for_url(EXIT)
        assert [urlsplit(url).netloc for url in elsewhere] == ["neutral.example"]
        assert await context.cookies() == []
        await browser.close()
    rows = await fetch(settings, "SELECT count(*) AS n FROM intake.supplements")
    assert rows[0]["n"] == 1


async def test_with_javascript_the_quick_exit_leaves_no_way_back_to_the_form(
    settings: ServiceSettings,
) -> None:
    async with serving(settings) as origin, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context()
        await context.route(
            f"{EXIT}**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<p>Weather</p>"),
        )
        page = await context.new_page()
        await page.goto(f"{origin}/report?lang=en")
        await page.goto(f"{origin}/report/follow-up?lang=en")
        await page.click("#quick-exit")
        await page.wait_for_url(EXIT)
        await page.go_back()
        assert "/report/follow-up" not in page.url, "the exit replaced the page it left"
        await browser.close()
