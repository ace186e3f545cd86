"""The staff workbench over HTTP and in Debian's Chromium, on real services, broker and database."""

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import async_playwright

from lantern.infra import free_port
from services.common.auth import Role, add_staff, create_token
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from services.intake.app import build_app as build_intake
from services.monitoring.app import build_app as build_monitoring
from services.monitoring.settings import MonitoringSettings
from services.triage.app import build_app as build_triage
from services.triage.settings import TriageSettings
from services.workbench.app import CONTENT_SECURITY_POLICY
from services.workbench.app import build_app as build_workbench
from services.workbench.settings import WorkbenchSettings
from tests.factories import CONTACT, IDENTIFYING_VALUES, NARRATIVE, tip_body
from tests.helpers import eventually, fetch, http_client, running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_INSTALLED = Path(CHROMIUM).exists()
MINOR = {"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["sex"]}


def workbench_settings(
    settings: ServiceSettings, services: dict[str, str] | None = None
) -> WorkbenchSettings:
    return WorkbenchSettings(
        DATABASE_URL=settings.service_database_urls["workbench"],
        LANTERN_WORKBENCH_SERVICES=services or {},
        LANTERN_WORKBENCH_SECURE_COOKIE=False,
    )


def staff_apps(settings: ServiceSettings) -> list[FastAPI]:
    """The services the workbench calls, triage's clocks quick enough for a browser to see them move."""
    triage = TriageSettings.of(settings).model_copy(update={"clock_poll_seconds": 0.2})
    monitoring = MonitoringSettings.of(settings).model_copy(update={"service_urls": {}})
    return [
        build_intake(settings),
        build_triage(triage),
        build_disclosure(settings),
        build_monitoring(monitoring),
    ]


async def person_token(settings: ServiceSettings, name: str, role: Role) -> str:
    connection = await asyncpg.connect(settings.database_url)
    try:
        person = await add_staff(connection, name, [role])
        return (await create_token(connection, role, "test", person_id=person))[1]
    finally:
        await connection.close()


async def signin_form(client: httpx.AsyncClient) -> dict[str, str]:
    """The sign-in form's hidden fields (its login-CSRF value; the client keeps the cookie)."""
    page = await client.get("/signin")
    return {"lang": "en", "signin_csrf": page.text.split('name="signin_csrf" value="')[1].split('"')[0]}


async def signed_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign in; return the session cookie."""
    answer = await client.post("/signin", data={**await signin_form(client), "token": token})
    assert answer.status_code == 303, answer.text
    return str(answer.cookies["lantern_session"])


async def test_signing_in_sets_only_an_httponly_strict_cookie_and_every_page_has_a_strict_policy(
    settings: ServiceSettings,
) -> None:
    app = build_workbench(workbench_settings(settings))
    token = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client:
        page = await client.get("/signin")
        refused = await client.post("/signin", data={**await signin_form(client), "token": "lt_not-a-token"})
        answer = await client.post("/signin", data={**await signin_form(client), "token": token})
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"
    assert refused.status_code == 401 and "refused" in refused.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("lantern_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert token not in cookie
    assert "lantern_signin=" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    stored = await fetch(settings, "SELECT sealed_token FROM workbench.sessions")
    assert len(stored) == 1 and token.encode() not in bytes(stored[0]["sealed_token"])


async def test_a_sign_in_from_another_site_or_a_guesser_is_refused_and_each_person_opens_few_sessions(
    settings: ServiceSettings,
) -> None:
    limited = workbench_settings(settings).model_copy(
        update={"signin_failures_per_address": 3, "sessions_per_person": 2}
    )
    app = build_workbench(limited)
    token = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client, http_client(app) as forger:
        forged = await forger.post("/signin", data={"token": token, "lang": "en", "signin_csrf": "x" * 43})
        first, second = await signed_in(client, token), await signed_in(client, token)
        third = await client.post("/signin", data={**await signin_form(client), "token": token})
        guesses = [
            (
                await client.post("/signin", data={**await signin_form(client), "token": f"lt_guess{n}"})
            ).status_code
            for n in range(4)
        ]
    assert forged.status_code == 400 and "lantern_session" not in forged.headers.get("set-cookie", "")
    assert first != second and third.status_code == 429 and "Retry-After" in third.headers
    assert guesses == [401, 401, 401, 429]
    assert len(await fetch(settings, "SELECT 1 FROM workbench.sessions")) == 2


async def test_a_form_without_the_sessions_csrf_token_changes_nothing(settings: ServiceSettings) -> None:
    app = build_workbench(workbench_settings(settings))
    token = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client:
        await signed_in(client, token)
        forged = await client.post("/signout", data={"csrf": "0" * 64})
        sessions_after_forgery = await fetch(settings, "SELECT 1 FROM workbench.sessions")
    assert forged.status_code == 303
    assert len(sessions_after_forgery) == 1


async def test_signing_out_everywhere_ends_every_session_of_the_person_and_an_idle_session_expires(
    settings: ServiceSettings,
) -> None:
    app = build_workbench(workbench_settings(settings))
    token = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as first, http_client(app) as second, http_client(app) as third:
        await signed_in(first, token)
        await signed_in(second, token)
        await signed_in(third, token)
        page = await second.get("/alerts")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        await second.post("/signout", data={"csrf": csrf, "everywhere": "1"})
        after = await first.get("/queue")
        assert after.status_code == 303 and after.headers["location"].startswith("/signin")
        assert await fetch(settings, "SELECT 1 FROM workbench.sessions") == []

        await signed_in(third, token)
        await fetch(settings, "UPDATE workbench.sessions SET last_seen_at = now() - interval '31 minutes'")
        idle = await third.get("/queue")
    assert idle.status_code == 303 and idle.headers["location"] == "/signin?notice=signin.expired"
    assert await fetch(settings, "SELECT 1 FROM workbench.sessions") == []


@contextlib.asynccontextmanager
async def served(*apps: FastAPI) -> AsyncIterator[list[str]]:
    """Serve each app on a port of its own, as `lantern up` does, until the block ends."""
    servers = []
    for app in apps:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        servers.append((uvicorn.Server(config), port))
    tasks = [asyncio.create_task(server.serve()) for server, _ in servers]
    try:
        for server, _ in servers:
            assert await eventually(lambda server=server: asyncio.sleep(0, result=server.started), timeout=90)
        yield [f"http://127.0.0.1:{port}" for _, port in servers]
    finally:
        for server, _ in reversed(servers):
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def browser_storage(page: Any) -> dict[str, Any]:
    return await page.evaluate(
        "() => ({local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage),"
        " cookies: document.cookie})"
    )


@pytest.mark.slow
async def test_a_specialist_takes_an_urgent_tip_and_opens_it_on_purpose_and_a_supervisor_approves_a_web_tip(
    settings: ServiceSettings,
) -> None:
    assert CHROMIUM_INSTALLED, "Debian's chromium is needed: apt-get install chromium (make test does)"
    apps = staff_apps(settings)
    specialist = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    async with served(*apps) as urls:
        names = dict(zip(("intake", "triage", "disclosure", "monitoring"), urls, strict=True))
        async with served(build_workbench(workbench_settings(settings, names))) as [workbench]:
            async with httpx.AsyncClient(base_url=names["intake"]) as intake:
                phone = await intake.post(
                    "/v1/tips", json=tip_body(channel="phone", assessment=MINOR),
                    headers={"authorization": f"Bearer {specialist}"},
                )  # fmt: skip
                web = await intake.post("/v1/tips", json=tip_body(assessment=MINOR))
            phone_tip, web_tip = phone.json(), web.json()

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                context = await browser.new_context()
                page = await context.new_page()
                first = await page.goto(f"{workbench}/signin")
                assert (
                    first is not None and first.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                )
                await page.fill("#token", specialist)
                await page.click("#signin")
                row = f"#unassigned tr:has-text('{phone_tip['reference']}')"
                for _ in range(60):
                    if await page.locator(row).count():
                        break
                    await asyncio.sleep(0.5)
                    await page.reload()
                await page.wait_for_selector(f"{row} time.clock", timeout=5_000)
                await page.click(f"{row} button:has-text('Take')")
                await page.wait_for_selector("#holder:has-text('you')")
                await page.wait_for_selector("#reasons li")
                await page.select_option("#purpose", "assess_risk")
                await page.check("#part-contact")
                await page.click("#open")
                await page.wait_for_selector("#narrative")
                assert await page.text_content("#narrative") == NARRATIVE
                assert CONTACT["phone"] in (await page.text_content("#opened") or "")
                storage = await browser_storage(page)
                cookies = await context.cookies()
                await page.click("#language")
                await page.wait_for_selector("h2:has-text('Ouvrir les renseignements identificatoires')")
                assert await page.locator("#narrative").count() == 0  # a reload shows nothing opened
                await page.click("#signout")
                await page.wait_for_selector("#token")

                await page.fill("#token", supervisor)
                await page.click("#signin")
                await page.wait_for_selector("#who")
                await page.goto(f"{workbench}/reviews")
                review_row = await eventually_row(page, workbench, web_tip["tip_id"])
                await review_row.click()
                await page.select_option("#approve-reason", "mandatory_ground_confirmed")
                await page.click("#approve")
                await page.wait_for_selector("#state:has-text('forwarded')")
                supervisor_storage = await browser_storage(page)
                await browser.close()

    assert [(cookie["name"], cookie["httpOnly"], cookie["sameSite"]) for cookie in cookies] == [
        ("lantern_session", True, "Strict")
    ]
    for kept in (storage, supervisor_storage):
        assert kept == {"local": "{}", "session": "{}", "cookies": ""}
    audit = await fetch(
        settings, "SELECT purpose FROM keys.unseal_audit WHERE tip_id = $1 AND purpose LIKE 'staff_open:%'",
        uuid.UUID(phone_tip["tip_id"]),
    )  # fmt: skip
    assert [row["purpose"] for row in audit] == ["staff_open:assess_risk"]
    stored = "".join(str(row) for row in await fetch(settings, "SELECT * FROM workbench.sessions"))
    assert not any(value in stored for value in IDENTIFYING_VALUES)


async def eventually_row(page: Any, workbench: str, tip_id: str) -> Any:
    link = page.locator(f"#reviews a[href='/reviews/{tip_id}']")
    for _ in range(60):
        if await link.count():
            return link
        await asyncio.sleep(0.5)
        await page.goto(f"{workbench}/reviews")
    raise AssertionError("the web tip never reached the review queue")
