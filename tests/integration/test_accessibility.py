"""axe-core run in Debian's Chromium on every screen, in English and French: the workbench's (the
partnership specialist's page included), the public web form and its follow-up page, the providers'
registration form, and the operations console. No serious or critical
violation is allowed.

axe-core (MPL-2.0, tests/data/axe-core/) is evaluated in the page through the browser's debugging
protocol, which the pages' Content-Security-Policy does not govern, so the pages are audited with
their real policy. With LANTERN_SCREENSHOTS set to a folder, the run saves the screenshots that
docs/ shows (queue, case, review, public form).
"""

import os
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright

from services.common.auth import Role
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.referral.adapters import provider_requests
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.settings import ReferralSettings
from services.workbench.app import build_app as build_workbench
from tests.factories import tip_body
from tests.integration.test_workbench import (
    MINOR,
    eventually_row,
    person_token,
    served,
    staff_apps,
    workbench_settings,
)

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
AXE = (Path(__file__).parents[1] / "data" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
SERIOUS = {"serious", "critical"}
SCREENSHOTS = os.environ.get("LANTERN_SCREENSHOTS")


async def violations(page: Page) -> list[dict[str, Any]]:
    await page.evaluate(AXE)
    result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "rule": found["id"],
            "impact": found["impact"],
            "targets": [node["target"] for node in found["nodes"]],
        }
        for found in result["violations"]
        if found["impact"] in SERIOUS
    ]


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def test_every_screen_has_no_serious_or_critical_accessibility_violation_in_either_language(
    settings: ServiceSettings,
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    apps = staff_apps(settings)
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    found: dict[str, list[dict[str, Any]]] = {}
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=365))).errors
    async with served(*apps) as urls:
        names = dict(zip(("intake", "triage", "disclosure", "monitoring"), urls, strict=True))
        referral = ReferralSettings.of(settings).model_copy(update={"intake_url": names["intake"]})
        async with served(build_referral(referral)) as [referral_url]:
            names["referral"] = referral_url
            async with served(build_workbench(workbench_settings(settings, names))) as [workbench]:
                async with httpx.AsyncClient(base_url=names["intake"]) as intake:
                    phone = await intake.post(
                        "/v1/tips", json=tip_body(channel="phone", assessment=MINOR),
                        headers={"authorization": f"Bearer {supervisor}"},
                    )  # fmt: skip
                    web = await intake.post("/v1/tips", json=tip_body(assessment=MINOR))
                phone_tip, web_tip = phone.json(), web.json()
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(
                        executable_path=CHROMIUM, args=["--no-sandbox"]
                    )
                    page = await browser.new_page(viewport={"width": 1280, "height": 900})

                    async def audit(name: str) -> None:
                        found[name] = await violations(page)

                    # The check can fail: an image without a text alternative is a critical violation.
                    await page.set_content(
                        '<!doctype html><html lang="en"><title>x</title><img src="x.png"></html>'
                    )
                    control = await violations(page)

                    for language in ("en", "fr"):
                        await page.goto(f"{names['intake']}/report?lang={language}")
                        await audit(f"report.{language}")
                        if language == "en":
                            await screenshot(page, "public-form")
                        await page.goto(f"{names['intake']}/report/follow-up?lang={language}")
                        await audit(f"follow-up.{language}")
                        await page.goto(f"{workbench}/signin?lang={language}")
                        await audit(f"signin.{language}")

                    await page.goto(f"{workbench}/signin")
                    await page.fill("#token", supervisor)
                    await page.click("#signin")
                    await eventually_row(page, workbench, web_tip["tip_id"])  # the tips are triaged
                    for language in ("en", "fr"):
                        await page.goto(f"{workbench}/queue")
                        await page.wait_for_selector(f"text={phone_tip['reference']}")
                        await audit(f"queue.{language}")
                        await screenshot(page, f"queue.{language}")
                        await page.goto(f"{workbench}/cases/{phone_tip['tip_id']}")
                        await page.wait_for_selector("#reasons li")
                        await page.check("#part-contact")
                        await page.click("#open")
                        await page.wait_for_selector("#narrative")
                        await page.wait_for_selector("#referrals li")
                        await audit(f"case.{language}")
                        await screenshot(page, f"case.{language}")
                        await page.goto(f"{workbench}/reviews")
                        await audit(f"reviews.{language}")
                        await page.goto(f"{workbench}/reviews/{web_tip['tip_id']}")
                        await page.select_option("#preview-reason", "mandatory_ground_confirmed")
                        await page.click("#preview")
                        await page.wait_for_selector("#preview-result")
                        await audit(f"review.{language}")
                        await screenshot(page, f"review.{language}")
                        for path in ("/alerts", "/calls/new", "/calls/returning"):
                            await page.goto(f"{workbench}{path}")
                            await audit(f"{path.strip('/')}.{language}")
                        if (
                            language == "en"
                        ):  # a referral accepted, confirmed by the supervisor: the address shows
                            await page.goto(f"{workbench}/cases/{phone_tip['tip_id']}")
                            await page.select_option("#confirmed-1", "supervisor")
                            await page.click(".referral-accept button")
                            await page.wait_for_selector("#referral-address")
                            await audit("referral-accepted.en")
                        await page.click("#language")  # the next round in the other language
                        await page.wait_for_load_state()

                    await page.goto(f"{names['monitoring']}/console")
                    await page.fill("#token", supervisor)
                    await page.click("#signin")
                    await page.wait_for_selector("#console:not([hidden])")
                    for language in ("en", "fr"):
                        await page.click(f"#lang-{language}")
                        await page.wait_for_selector("#chart[src^='blob:']")
                        await audit(f"console.{language}")
                    await browser.close()
    assert [seen["rule"] for seen in control] == ["image-alt"]
    assert len(found) == 23, " ".join(sorted(found))
    assert {name: seen for name, seen in found.items() if seen} == {}


async def test_the_partnership_page_and_the_providers_form_have_no_serious_violation_in_either_language(
    settings: ServiceSettings,
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    partner = await person_token(settings, "Paula Partnerships", Role.PARTNERSHIPS)
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    connection = await connect(settings.database_url, "referral")
    try:
        later = date.today() + timedelta(days=800)
        await provider_requests.reconfirmation_round(
            connection, timedelta(days=365), timedelta(days=30), later
        )
    finally:
        await connection.close()
    found: dict[str, list[dict[str, Any]]] = {}
    async with served(build_referral(settings)) as [referral]:
        async with httpx.AsyncClient(base_url=referral) as public:
            for body in ("kind=registration&organization_name=Maison+Aurore&city=Gatineau&province=QC",
                         "kind=update&organization_id=corath&organization_name=CORATH&languages=fr%2Cen"
                         "&hours=Du+lundi+au+vendredi&address_1=1+Rue+X&postal_code=K1P1J1&city=Ottawa&province=ON"):  # fmt: skip
                sent = await public.post(
                    "/providers/register", content=body,
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )  # fmt: skip
                assert sent.status_code == 200
        async with (
            served(build_workbench(workbench_settings(settings, {"referral": referral}))) as [workbench],
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            for language in ("en", "fr"):
                await page.goto(f"{referral}/providers/register?lang={language}")
                found[f"register.{language}"] = await violations(page)
            await page.goto(f"{workbench}/signin")
            await page.fill("#token", partner)
            await page.click("#signin")
            await page.wait_for_selector(".provider-request")
            await page.click(".provider-request form button")  # take the first: its decision forms show
            await page.wait_for_selector(".provider-request form.approve")
            for language in ("en", "fr"):
                await page.wait_for_selector("#reconfirmations")
                found[f"partnerships.{language}"] = await violations(page)
                await screenshot(page, f"partnerships.{language}")
                await page.click("#language")
                await page.wait_for_load_state()
            await browser.close()
    assert len(found) == 4
    assert {name: seen for name, seen in found.items() if seen} == {}
