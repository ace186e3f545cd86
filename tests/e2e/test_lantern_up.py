"""The whole system, started as `make run` starts it, takes tips end to end."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import time

import asyncpg
import httpx
import psutil
import pytest

from lantern.launcher import LANTERN, LaunchedStack
from lantern.observe import TopicReader, by_tip
from lantern.stack import KEK_SETTINGS, SERVICE_NAMES
from schemas import topics
from schemas.topics import EVENT_TOPICS
from services.common.roles import UNSEALING, database_of, role_prefix
from tests.factories import IDENTIFYING_VALUES, tip_body
from tests.helpers import events_of_tips, every_stored_text

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DOWNSTREAM = (topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)
# A documentation-range address (RFC 5737) passed as the proxy would pass it; nothing is sent there.
CLIENT_ADDRESS = "203.0.113.77"
USER_AGENT = "LanternProbe/1.0 (Gagnon-Tablet)"
DEVICE_HEADERS = {"x-forwarded-for": CLIENT_ADDRESS, "user-agent": USER_AGENT}


async def test_a_posted_tip_is_answered_202_and_its_events_reach_the_broker(
    stack: LaunchedStack,
) -> None:
    endpoints = stack.endpoints
    assert set(endpoints) >= {"intake_url", "kafka_bootstrap_servers", "database_url"}
    async with TopicReader(endpoints["kafka_bootstrap_servers"], DOWNSTREAM) as reader:
        async with httpx.AsyncClient(base_url=endpoints["intake_url"]) as client:
            response = await client.post(
                "/v1/tips", json=tip_body(assessment={"imminent_danger": "yes"}), headers=DEVICE_HEADERS
            )
            accepted_at = time.monotonic()
        assert response.status_code == 202
        tip_id = response.json()["tip_id"]

        def complete(records: list) -> bool:
            return all(by_tip(records)[tip_id][topic] for topic in DOWNSTREAM)

        # Tests never assert timings (bench/pipeline.py measures latency); the bound only stops a hang.
        records = await reader.collect_until(complete, timeout=20.0)
        elapsed = time.monotonic() - accepted_at
    assert complete(records), f"not all downstream events after {elapsed:.2f} s"
    events = by_tip(records)[tip_id]
    assert events[topics.TIPS_TRIAGED][0]["urgency"] == "urgent"
    assert events[topics.DISCLOSURES][0]["basis"] == "imminent_danger"


def test_every_service_reports_healthy_on_its_private_listener_and_serves_no_metrics_publicly(
    stack: LaunchedStack,
) -> None:
    for name, url in stack.endpoints["operations"].items():
        response = httpx.get(f"{url}/health")
        assert response.status_code == 200, name
        assert response.json()["checks"]["database"] == "ok"
        assert response.json()["checks"]["relaying"] == "ok"
        assert httpx.get(f"{url}/metrics").status_code == 200, name
    for name, url in stack.endpoints["services"].items():
        assert httpx.get(f"{url}/metrics").status_code == 404, name
        assert httpx.get(f"{url}/health").json() == {"service": name, "status": "ok"}
    signin = httpx.get(f"{stack.endpoints['workbench_url']}/signin")
    assert signin.status_code == 200
    assert signin.headers["content-security-policy"].startswith("default-src 'self';")
    directory = stack.endpoints["public_directory_url"]
    assert (
        httpx.get(f"{directory}/hsds/services").json()["total_items"] > 0
    )  # the SAMPLE directory, published
    assert httpx.get(f"{directory}/providers/register").status_code == 200
    assert httpx.get(f"{directory}/v1/provider-requests").status_code == 404


async def test_each_service_process_connects_as_its_own_role_and_only_those_that_unseal_hold_the_kek(
    stack: LaunchedStack,
) -> None:
    database_url = stack.endpoints["database_url"]
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT application_name, usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE 'lantern-%'"
        )
    finally:
        await connection.close()
    prefix = role_prefix(database_of(database_url))
    assert {row["application_name"]: row["usename"] for row in rows} == {
        f"lantern-{name}": f"{prefix}_{name}" for name in (*SERVICE_NAMES, "workbench", "directory")
    }
    holding = {
        name
        for name in (*SERVICE_NAMES, "workbench")
        if set(KEK_SETTINGS) & set(psutil.Process(stack.service_pid(name)).environ())
    }
    assert holding == set(UNSEALING) == {"intake", "triage", "disclosure"}


def test_the_demo_shows_each_sample_tip_s_journey(stack: LaunchedStack) -> None:
    result = subprocess.run(
        [str(LANTERN), "demo", "--home", str(stack.home)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("  triaged ") == 5
    assert "urgent:" in result.stdout and "hold_for_review (basis: child_protection)" in result.stdout
    assert "forward (basis: imminent_danger)" in result.stdout
    assert "Aucune personne mineure" in result.stdout


async def test_killing_services_with_sigkill_while_tips_flow_loses_no_tip_and_duplicates_no_event(
    stack: LaunchedStack,
) -> None:
    endpoints = stack.endpoints
    tip_ids: list[str] = []

    specialist = json.loads((stack.home / "dev-tokens.json").read_text())["specialist"]

    async def submit(count: int) -> None:
        async with httpx.AsyncClient(
            base_url=endpoints["intake_url"], timeout=10, headers={"authorization": f"Bearer {specialist}"}
        ) as client:
            for number in range(count):
                body = tip_body(assessment={"minor_involved": "yes" if number % 3 == 0 else "no"})
                response = await client.post("/v1/tips", json=body)
                assert response.status_code == 202
                tip_ids.append(response.json()["tip_id"])
                await asyncio.sleep(0.03)

    flow = asyncio.create_task(submit(90))
    await asyncio.sleep(0.7)
    psutil.Process(stack.service_pid("triage")).kill()
    await asyncio.sleep(0.7)
    psutil.Process(stack.service_pid("disclosure")).kill()
    await flow
    events = await events_of_tips(endpoints["kafka_bootstrap_servers"], DOWNSTREAM, set(tip_ids), timeout=90)
    for tip_id in tip_ids:
        for topic in DOWNSTREAM:
            ids_by_effect: dict[tuple[str, str | None], set[str]] = {}
            for event in events[tip_id][topic]:
                effect = (event["event_type"], event.get("agency_id"))
                ids_by_effect.setdefault(effect, set()).add(event["event_id"])
            duplicated = {effect: ids for effect, ids in ids_by_effect.items() if len(ids) > 1}
            assert not duplicated, (tip_id, topic, duplicated)
    connection = await asyncpg.connect(endpoints["database_url"])
    try:
        for table in (
            "triage.triage_decisions",
            "disclosure.cases",
            "referral.referral_matches",
        ):
            count = await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE tip_id = ANY($1::uuid[])", tip_ids
            )
            assert count == len(tip_ids), table
    finally:
        await connection.close()
    assert "triage exited with -9; restarting" in stack.output.read_text()


def test_the_key_files_dev_tokens_and_role_passwords_are_readable_by_their_owner_only(
    stack: LaunchedStack,
) -> None:
    signing_keys = [f"keys/{service}.key" for service in SERVICE_NAMES]
    for name in ("kek", "dev-tokens.json", "db-roles.json", "audit.key", *signing_keys):
        assert stat.S_IMODE((stack.home / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((stack.home / "keys").stat().st_mode) == 0o700
    assert set(json.loads((stack.home / "keys" / "public-keys.json").read_text())) == set(SERVICE_NAMES)
    tokens = json.loads((stack.home / "dev-tokens.json").read_text())
    assert set(tokens) == {"specialist", "supervisor", "admin", "partnerships"}
    assert all(token in stack.output.read_text() for token in tokens.values()), "lantern up prints them"


def test_an_admin_token_from_the_command_line_shreds_a_tip(stack: LaunchedStack) -> None:
    environment = {**os.environ, "DATABASE_URL": stack.endpoints["database_url"]}
    created = subprocess.run(
        [str(LANTERN), "token", "create", "--role", "admin", "--label", "e2e", "--home", str(stack.home)],
        capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    admin = created.stdout.strip()
    tip_id = httpx.post(f"{stack.endpoints['intake_url']}/v1/tips", json=tip_body()).json()["tip_id"]
    shred = [str(LANTERN), "tip", "shred", tip_id, "--reason", "entered_in_error", "--home", str(stack.home)]
    refused = subprocess.run(
        [*shred, "--token", "lt_not-a-token"], capture_output=True, text=True, timeout=60
    )
    shredded = subprocess.run([*shred, "--token", admin], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert shredded.returncode == 0, shredded.stdout + shredded.stderr


def test_a_workbench_session_takes_a_call_and_opens_it_answering_no_store_every_time(
    stack: LaunchedStack,
) -> None:
    """Runs before the scan below, so that the workbench's log holds a session that handled a call."""
    tokens = json.loads((stack.home / "dev-tokens.json").read_text())
    answers = []
    with httpx.Client(base_url=stack.endpoints["workbench_url"], follow_redirects=False) as client:
        page = client.get("/signin")
        answers.append(page)
        signin_csrf = page.text.split('name="signin_csrf" value="')[1].split('"')[0]
        answers.append(
            client.post(
                "/signin", data={"token": tokens["specialist"], "lang": "en", "signin_csrf": signin_csrf}
            )
        )
        form = client.get("/calls/new")
        answers.append(form)
        hidden = {name: form.text.split(f'name="{name}" value="')[1].split('"')[0]
                  for name in ("csrf", "started_at", "idempotency_key")}  # fmt: skip
        recorded = client.post("/calls", data={
            **hidden, "narrative": IDENTIFYING_VALUES[0], "anonymous": "no",
            "contact_phone": "+1 514 555 0147", "province": "QC", "city": "Joliette", "consent_statistics": "no",
        })  # fmt: skip
        answers.append(recorded)
        assert recorded.status_code == 201, recorded.text
        case = recorded.text.split('href="/cases/')[1].split('"')[0]
        opened = client.post(
            f"/cases/{case}/open",
            data={"csrf": hidden["csrf"], "purpose": "assess_risk", "parts": "narrative"},
        )
        answers.append(opened)
        assert IDENTIFYING_VALUES[0].replace("'", "&#39;") in opened.text
    assert all(answer.headers["cache-control"] == "no-store" for answer in answers)


async def test_no_log_line_table_or_topic_of_the_run_holds_identifying_or_device_data(
    stack: LaunchedStack,
) -> None:
    logs = stack.logs()
    assert "service started" in logs, "the logs were captured"
    stored = await every_stored_text(stack.endpoints["database_url"])
    async with TopicReader(stack.endpoints["kafka_bootstrap_servers"], EVENT_TOPICS) as reader:
        published = b"".join(
            record.value for record in await reader.collect_until(lambda _: False, timeout=2)
        )
    assert published, "the topics were read"
    for value in (*IDENTIFYING_VALUES, CLIENT_ADDRESS, USER_AGENT):
        assert value not in logs, value
        assert value not in stored, value
        assert value.encode() not in published, value


def test_sigterm_stops_every_process_cleanly(stack: LaunchedStack) -> None:
    children = psutil.Process(stack.process.pid).children(recursive=True)
    assert stack.stop() == 0
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []
    assert not (stack.home / "endpoints.json").exists()
