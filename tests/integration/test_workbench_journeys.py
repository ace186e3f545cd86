"""Whole shifts in Debian's Chromium on the running services, broker and database:

- a specialist takes a phone call about a minor from the keyboard; the plan starts and its clocks run;
- a supervisor opens the web-form tip, reads it, previews and approves the package, and the liaison
  unit's acknowledgement appears;
- a returning caller's information, taken by another specialist, reaches the same tip;
- a specialist cannot open a case another person holds (the page and the API both refuse);

and afterwards nothing identifying is left in the browser (local and session storage, IndexedDB,
cache storage, cookies beyond the session's), every workbench page answered no-store, and no log
line of any service holds what was typed.
"""

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from lantern.liaison import run_liaison
from services.common.agency_keys import AgencyKeys
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.workbench.app import build_app as build_workbench
from tests.helpers import fetch
from tests.integration.test_workbench import person_token, served, staff_apps, workbench_settings
from tests.keys import stack_keys

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
POLICE = "surete-du-quebec"
CALL = "Ma nièce Océane Bélanger, 15 ans, est gardée par Steve Lapointe dans un motel de Joliette."
WEB = "Un homme nommé Gilles Fortier garde une adolescente de 16 ans dans un appartement à Joliette."
LATER = "Gilles Fortier l'a déplacée hier soir vers Trois-Rivières."
TYPED = (CALL, WEB, LATER, "Océane Bélanger", "Steve Lapointe", "Gilles Fortier")
STORAGE = """async () => ({
  local: localStorage.length, session: sessionStorage.length, cookies: document.cookie,
  indexeddb: (await indexedDB.databases()).length, caches: (await caches.keys()).length,
})"""


async def signed_in(context: BrowserContext, workbench: str, token: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{workbench}/signin?lang=en")
    await page.fill("#token", token)
    await page.click("#signin")
    await page.wait_for_selector("#who")
    return page


async def until(page: Page, url: str, selector: str, tries: int = 120) -> None:
    """Reload ``url`` until ``selector`` shows (the services work through the broker meanwhile)."""
    for _ in range(tries):
        await page.goto(url)
        if await page.locator(selector).count():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{selector} never showed on {url}")


async def test_a_shift_in_the_browser_from_the_call_to_the_liaison_acknowledgement(
    settings: ServiceSettings, agency_keys: dict[str, AgencyKeys], tmp_path: Path, capfd: Any
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    apps = staff_apps(settings)
    alice = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    bob = await person_token(settings, "Bob Specialist", Role.SPECIALIST)
    sam = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    pages_answered: list[tuple[str, str | None]] = []
    storages: dict[str, Any] = {}
    cookies: dict[str, list[str]] = {}
    async with served(*apps) as urls:
        names = dict(zip(("intake", "triage", "disclosure", "monitoring"), urls, strict=True))
        async with (
            served(build_workbench(workbench_settings(settings, names))) as [workbench],
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            contexts = {who: await browser.new_context() for who in ("alice", "bob", "sam", "public")}
            for context in contexts.values():
                context.on(
                    "response",
                    lambda response: (
                        pages_answered.append((response.url, response.headers.get("cache-control")))
                        if response.url.startswith(workbench) and "/static/" not in response.url
                        else None
                    ),
                )

            # 1. Alice takes a phone call about a minor, from the keyboard.
            page = await signed_in(contexts["alice"], workbench, alice)
            await page.click("#nav-call")
            await page.wait_for_selector("#call-form")
            focused = await page.evaluate("() => document.activeElement.name")
            assert focused == "reporter_role", "the first question has the focus"
            await page.keyboard.press("ArrowRight")  # the second caller role: family or friend
            await page.check("#language-fr")
            await page.check("#consent_law_enforcement-no")
            await page.check("#consent_service_referral-yes")
            await page.select_option("#province", "QC")
            await page.fill("#city", "Joliette")
            await page.focus("#narrative")
            await page.keyboard.type(CALL)
            await page.check("#minor_involved-yes")
            await page.fill("#victim_age", "15")
            await page.check("#trafficking_types-sex")
            await page.check("#safe_to_call_back-no")
            await page.select_option("#heard_via", "school")
            await page.focus("#record-call")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#call-reference")
            call_reference = (await page.inner_text("#call-reference")).strip()
            await page.click("#open-case")
            case_url = page.url
            phone_tip_id = case_url.rsplit("/", 1)[-1]
            await until(page, case_url, "#plan-steps time.clock")
            assert "urgent" in (await page.get_attribute("#urgency", "class") or "")
            assert await page.inner_text("#holder") == "you"
            first = await page.inner_text("#plan-steps time.clock >> nth=0")
            await page.wait_for_function(
                "first => document.querySelector('#plan-steps time.clock').textContent !== first",
                arg=first,
            )  # the clock runs

            # 2. A report on the public web form, then the supervisor's review.
            public = await contexts["public"].new_page()
            await public.goto(f"{names['intake']}/report?lang=fr")
            await public.fill("#narrative", WEB)
            await public.select_option("#province", "QC")
            await public.fill("#city", "Joliette")
            await public.check("#minor_involved-yes")
            await public.click("button[type=submit]")
            web_reference = (await public.inner_text("#reference")).strip()
            web_code = (await public.inner_text("#follow-up-code")).strip()

            [web_tip] = await fetch(
                settings, "SELECT tip_id FROM intake.tips WHERE reference = $1", web_reference
            )
            row = f"#reviews a[href='/reviews/{web_tip['tip_id']}']"  # listed by its opaque case reference
            review = await signed_in(contexts["sam"], workbench, sam)
            await until(review, f"{workbench}/reviews", row)
            await review.click(row)
            review_url = review.url
            await review.click("#read-tip")
            await review.select_option("#purpose", "review_disclosure")
            await review.click("#open")
            assert WEB in await review.inner_text("#narrative")
            await review.goto(review_url)
            await review.select_option("#preview-reason", "mandatory_ground_confirmed")
            await review.click("#preview")
            await review.wait_for_selector("#preview-result h3:has-text('surete-du-quebec')")
            await review.select_option("#approve-reason", "mandatory_ground_confirmed")
            await review.click("#approve")
            await review.wait_for_selector("#state:has-text('forwarded')")
            received = await run_liaison(
                settings.kafka_bootstrap_servers, agency_keys[POLICE], stack_keys().verifier(),
                tmp_path / "inbox", lambda _: None, lambda _: None, max_packages=2, idle_timeout=30,
            )  # fmt: skip
            assert received == 2  # the call's, sent at once on the minor it recorded, and this one
            await until(review, review_url, "#packages .acknowledged")

            # 3. The web reporter calls back; Bob, who holds nothing, attaches what they add.
            returning = await signed_in(contexts["bob"], workbench, bob)
            await returning.click("#nav-returning")
            await returning.fill("#reference", web_reference)
            await returning.fill("#code", web_code)
            await returning.fill("#narrative", LATER)
            await returning.click("#attach")
            await returning.wait_for_selector("#returning-code")
            web_case = review_url.replace("/reviews/", "/cases/")
            await until(review, web_case, "#supplements li:has-text('Bob Specialist')")
            await review.check("#part-narrative")
            await review.click("#open")
            assert LATER in await review.inner_text("#opened")

            # 4. Bob cannot open the case Alice holds; neither can his token through the API.
            refused = await returning.goto(case_url)
            assert refused is not None and refused.status == 403
            assert await returning.is_visible("#refused")
            async with httpx.AsyncClient(base_url=names["intake"]) as intake:
                api = await intake.get(
                    f"/v1/casework/tips/{phone_tip_id}", headers={"authorization": f"Bearer {bob}"}
                )
            assert api.status_code == 403

            for who, context in contexts.items():
                opened = context.pages[0]
                storages[who] = await opened.evaluate(STORAGE)
                cookies[who] = [cookie["name"] for cookie in await context.cookies()]
            await browser.close()

    assert call_reference.startswith("LT-")
    for who, kept in storages.items():
        assert kept == {"local": 0, "session": 0, "cookies": "", "indexeddb": 0, "caches": 0}, who
    assert cookies == {"alice": ["lantern_session"], "bob": ["lantern_session"], "sam": ["lantern_session"],
                       "public": []}  # fmt: skip
    assert pages_answered, "the workbench's answers were seen"
    for url, cache_control in pages_answered:
        assert cache_control == "no-store", url
    logged = "".join(capfd.readouterr())
    assert "service started" in logged, "the services' logs were read"
    for value in TYPED:
        assert value not in logged, value
