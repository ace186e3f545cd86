"""Alerts reach people: flags consumed by monitoring are listed on the console and paged, signed, to a
real HTTP receiver, retried after a failure, and never paged twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from schemas.disclosure import (
    Basis,
    CaseState,
    Decision,
    DisclosureDecidedV1,
    DisclosureReviewedV1,
    DisclosureReviewFlaggedV1,
    ReviewQueue,
)
from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from schemas.triage import (
    PlanStep,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    Urgency,
)
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.monitoring.app import build_app as build_monitoring
from services.monitoring.settings import MonitoringSettings
from tests.factories import IDENTIFYING_VALUES, tip_received
from tests.helpers import eventually, fetch, http_client, publish_events, running, settled, staff_token

SECRET = "test-paging-secret-0123456789abcdef"
CASE = "LE-7K3M-9QXD"
ROSTER = {
    "roles": {
        role: {
            "shifts": [
                {"who": [f"@{role}-on-call"], "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                 "from": "00:00", "to": "00:00"}
            ],
            "fallback": [f"@{role}-fallback"],
        }
        for role in ("supervisor", "backup_supervisor", "hotline_manager", "specialist", "admin")
    }
}  # fmt: skip


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def alert_id(self) -> str:
        return self.headers["x-lantern-alert-id"]


class Receiver:
    """A paging system's webhook on a real socket: it keeps every request and answers as told."""

    def __init__(self, answer: Callable[[str, int], int]) -> None:
        self.answer = answer
        self.requests: list[Received] = []
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with lock:
                    seen = sum(
                        1 for r in receiver.requests if r.alert_id == headers.get("x-lantern-alert-id")
                    )
                    status = receiver.answer(headers.get("x-lantern-alert-id", ""), seen)
                    receiver.requests.append(Received(headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/pages"

    def delivered(self) -> list[Received]:
        return [request for request in self.requests if 200 <= request.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Answers 500 to the first request of each alert, then 200."""
    receiver = Receiver(lambda _alert, seen: 500 if seen == 0 else 200)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def monitoring_settings(settings: ServiceSettings, tmp_path: Path, url: str | None) -> MonitoringSettings:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER), encoding="utf-8")
    paging: dict[str, Any] = {
        "oncall_roster": roster, "paging_backoff_seconds": 0.05, "paging_poll_seconds": 0.2,
        "paging_retry_seconds": 0.3, "paging_timeout_seconds": 2.0,
    }  # fmt: skip
    if url is not None:
        paging |= {"paging_webhook_url": url, "paging_webhook_secret": SecretStr(SECRET)}
    return MonitoringSettings.of(settings).model_copy(update=paging)


def plan_of(tip: TipReceivedV1) -> tuple[ResponsePlanStartedV1, ResponsePlanStepFlaggedV1]:
    deadline = utc_now() - timedelta(minutes=1)
    envelope = {"tip_id": tip.tip_id, "correlation_id": tip.correlation_id, "producer": "triage"}
    started = ResponsePlanStartedV1(
        **envelope, plan_id=uuid.uuid4(), urgency=Urgency.URGENT, template_version="test",
        steps=[PlanStep(step="notify_supervisor", at_risk_at=deadline - timedelta(minutes=1), deadline=deadline)],
    )  # fmt: skip
    breached = ResponsePlanStepFlaggedV1(
        **envelope, plan_id=started.plan_id, step="notify_supervisor", flag="breached", deadline=deadline,
        escalated_to="on_duty_supervisor",
    )  # fmt: skip
    return started, breached


def review_flag_of(tip: TipReceivedV1) -> DisclosureReviewFlaggedV1:
    return DisclosureReviewFlaggedV1(
        tip_id=tip.tip_id, correlation_id=tip.correlation_id, producer="disclosure", case_reference=CASE,
        queue=ReviewQueue.EXPEDITED, flag="at_risk", due_at=utc_now() + timedelta(minutes=2),
    )  # fmt: skip


async def plan_recorded(settings: ServiceSettings, started: ResponsePlanStartedV1) -> bool:
    rows = await fetch(
        settings,
        "SELECT 1 FROM monitoring.plans p JOIN monitoring.tips t USING (tip_id) WHERE p.plan_id = $1",
        started.plan_id,
    )
    return bool(rows)


async def page_statuses(settings: ServiceSettings) -> list[str]:
    return [row["status"] for row in await fetch(settings, "SELECT status FROM monitoring.deliveries")]


def signed_correctly(request: Received) -> bool:
    timestamp = request.headers["x-lantern-timestamp"]
    expected = (
        "sha256="
        + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    )
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, request.headers["x-lantern-signature"])


async def test_a_flag_is_paged_signed_retried_after_a_500_and_never_twice_and_listed_on_the_console(
    settings: ServiceSettings, tmp_path: Path, receiver: Receiver
) -> None:
    monitoring = build_monitoring(monitoring_settings(settings, tmp_path, receiver.url))
    tip = tip_received()
    started, breached = plan_of(tip)
    review = review_flag_of(tip)
    async with running(monitoring):
        await settled(monitoring)
        await publish_events(settings.kafka_bootstrap_servers, tip, started)
        assert await eventually(lambda: plan_recorded(settings, started))
        await publish_events(settings.kafka_bootstrap_servers, breached, review)
        assert await eventually(lambda: _are(page_statuses(settings), ["delivered", "delivered"]))

        await publish_events(
            settings.kafka_bootstrap_servers,
            breached,
            breached.model_copy(update={"event_id": uuid.uuid4()}),
            review.model_copy(update={"event_id": uuid.uuid4(), "occurred_at": utc_now()}),
        )
        assert await eventually(lambda: _journey_count(settings, tip, 4))
        await asyncio.sleep(1.0)  # five dispatcher polls: any second page would have gone out

        async with http_client(monitoring) as client:
            refused = await client.get("/v1/alerts")
            token = await staff_token(settings.database_url, Role.SPECIALIST)
            listed = (await client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})).json()
            await publish_events(
                settings.kafka_bootstrap_servers,
                ResponsePlanStepCompletedV1(
                    tip_id=tip.tip_id, correlation_id=tip.correlation_id, producer="triage",
                    plan_id=started.plan_id, step="notify_supervisor", outcome="supervisor_notified",
                    on_time=False, by_role="supervisor",
                ),
            )  # fmt: skip

            async def only_the_review_left() -> bool:
                answer = await client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})
                return [alert["kind"] for alert in answer.json()["alerts"]] == ["review_at_risk"]

            assert await eventually(only_the_review_left)

    assert sorted(request.alert_id for request in receiver.delivered()) == sorted(
        {request.alert_id for request in receiver.requests}
    )
    assert len(receiver.delivered()) == 2
    for alert_id in {request.alert_id for request in receiver.requests}:
        assert [r.answered for r in receiver.requests if r.alert_id == alert_id] == [500, 200]
    assert all(signed_correctly(request) for request in receiver.requests)
    assert all(request.headers["content-type"] == "application/json" for request in receiver.requests)
    pages = {json.loads(request.body)["kind"]: json.loads(request.body) for request in receiver.delivered()}
    assert pages["plan_step_breached"] | {"alert_id": "-"} == {
        "alert_id": "-", "kind": "plan_step_breached", "reference": tip.reference, "subject": "notify_supervisor",
        "deadline": breached.deadline.isoformat(), "role": "supervisor", "paged": ["@supervisor-on-call"],
    }  # fmt: skip
    assert pages["review_at_risk"] | {"alert_id": "-"} == {
        "alert_id": "-", "kind": "review_at_risk", "reference": CASE, "subject": "expedited",
        "deadline": review.due_at.isoformat(), "role": "supervisor", "paged": ["@supervisor-on-call"],
    }  # fmt: skip
    for request in receiver.requests:
        assert json.loads(request.body)["alert_id"] == request.alert_id
        sent = request.body.decode() + json.dumps(request.headers)
        assert not [value for value in (*IDENTIFYING_VALUES, str(tip.tip_id)) if value in sent]

    assert refused.status_code == 401
    assert [(alert["kind"], alert["reference"], alert["page"]["status"], alert["page"]["attempts"])
            for alert in listed["alerts"]] == [
        ("plan_step_breached", tip.reference, "delivered", 2), ("review_at_risk", CASE, "delivered", 2)
    ]  # fmt: skip
    assert not [value for value in (*IDENTIFYING_VALUES, str(tip.tip_id)) if value in json.dumps(listed)]


async def test_a_page_that_keeps_failing_stays_visible_and_goes_out_once_the_receiver_is_back(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    down = threading.Event()
    down.set()
    receiver = Receiver(lambda _alert, _seen: 503 if down.is_set() else 200)
    receiver.thread.start()
    tip = tip_received()
    started, breached = plan_of(tip)
    monitoring = build_monitoring(
        monitoring_settings(settings, tmp_path, receiver.url).model_copy(update={"paging_attempts": 2})
    )
    try:
        async with running(monitoring):
            await settled(monitoring)
            await publish_events(settings.kafka_bootstrap_servers, tip, started, breached)
            assert await eventually(lambda: _are(page_statuses(settings), ["failed"]))
            token = await staff_token(settings.database_url, Role.SUPERVISOR)
            async with http_client(monitoring) as client:
                listed = (await client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})).json()
            assert await eventually(lambda: asyncio.sleep(0, result=len(receiver.requests) >= 4))
            down.clear()
            assert await eventually(lambda: _are(page_statuses(settings), ["delivered"]))
            await asyncio.sleep(1.0)
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()

    [alert] = listed["alerts"]
    assert alert["page"]["status"] == "failed"
    assert alert["page"]["last_error"] == "http_503"
    assert alert["page"]["attempts"] >= 2
    assert len(receiver.delivered()) == 1
    assert all(signed_correctly(request) for request in receiver.requests)
    [row] = await fetch(settings, "SELECT attempts, rounds, last_error FROM monitoring.deliveries")
    assert (row["attempts"], row["last_error"]) == (len(receiver.requests), None)
    assert row["rounds"] >= 2


async def test_without_a_webhook_alerts_are_listed_unpaged_and_a_review_closes_its_alert(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    monitoring = build_monitoring(monitoring_settings(settings, tmp_path, None))
    tip = tip_received()
    review = review_flag_of(tip)
    token = await staff_token(settings.database_url, Role.ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    async with running(monitoring), http_client(monitoring) as client:
        await settled(monitoring)
        await publish_events(settings.kafka_bootstrap_servers, review)

        async def listed() -> list[dict[str, Any]]:
            alerts: list[dict[str, Any]] = (await client.get("/v1/alerts", headers=headers)).json()["alerts"]
            return alerts

        [alert] = await eventually(listed)
        await publish_events(
            settings.kafka_bootstrap_servers,
            DisclosureReviewedV1(
                tip_id=tip.tip_id, correlation_id=tip.correlation_id, producer="disclosure",
                verdict="approved", basis=Basis.CONSENT, state=CaseState.FORWARDED,
            ),
        )  # fmt: skip
        assert await eventually(lambda: _are(listed(), []))

    assert (alert["kind"], alert["reference"], alert["subject"], alert["page"]) == (
        "review_at_risk", CASE, "expedited", None,
    )  # fmt: skip
    assert alert["paged"] == ["@supervisor-on-call"]
    assert await fetch(settings, "SELECT 1 FROM monitoring.deliveries") == []


async def _are(values: Any, expected: list[Any]) -> bool:
    return bool(await values == expected)


async def _journey_count(settings: ServiceSettings, tip: TipReceivedV1, flags: int) -> bool:
    rows = await fetch(
        settings,
        "SELECT count(*) AS n FROM monitoring.journey WHERE tip_id = $1"
        " AND event_type IN ('response_plan.step_flagged', 'disclosure.review_flagged')",
        tip.tip_id,
    )
    return bool(rows[0]["n"] == flags)


def decided_in(
    tip: TipReceivedV1, queue: ReviewQueue | None, due_in: timedelta, state: CaseState
) -> DisclosureDecidedV1:
    return DisclosureDecidedV1(
        tip_id=tip.tip_id, correlation_id=tip.correlation_id, producer="disclosure",
        decision=Decision.HOLD_FOR_REVIEW if state is CaseState.PENDING_REVIEW else Decision.FORWARD,
        basis=Basis.CHILD_PROTECTION, policy_version="gate-2026.12.1", urgency=Urgency.URGENT, reasons=[],
        state=state, review_due_at=utc_now() + due_in if queue else None, queue=queue,
    )  # fmt: skip


async def test_the_console_lists_each_review_queue_s_cases_and_a_reviewed_case_queued_again_waits_again(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    monitoring = build_monitoring(monitoring_settings(settings, tmp_path, None))
    expedited, standard, forwarded = tip_received(), tip_received(), tip_received()
    reviewed = DisclosureReviewedV1(
        tip_id=forwarded.tip_id, correlation_id=forwarded.correlation_id, producer="disclosure",
        verdict="reviewed_after_forward", basis=Basis.CHILD_PROTECTION, state=CaseState.FORWARDED,
    )  # fmt: skip
    async with running(monitoring), http_client(monitoring) as client:
        token = await staff_token(settings.database_url, Role.SUPERVISOR)

        async def queues() -> dict[str, Any]:
            answer = await client.get("/v1/console/state", headers={"Authorization": f"Bearer {token}"})
            state: dict[str, Any] = answer.json()["review_queue"]
            return state

        async def waiting_is(expected: dict[str, int]) -> bool:
            state = await queues()
            return {name: queue["waiting"] for name, queue in state["queues"].items()} == expected

        await publish_events(
            settings.kafka_bootstrap_servers,
            standard,
            expedited,
            decided_in(expedited, ReviewQueue.EXPEDITED, -timedelta(minutes=1), CaseState.PENDING_REVIEW),
            decided_in(standard, ReviewQueue.STANDARD, timedelta(hours=20), CaseState.PENDING_REVIEW),
            decided_in(forwarded, ReviewQueue.STANDARD, timedelta(hours=23), CaseState.FORWARDED),
            reviewed,
        )
        assert await eventually(lambda: waiting_is({"expedited": 1, "standard": 1}))
        state = await queues()
        assert (state["waiting"], state["overdue"]) == (2, 1)
        assert (state["queues"]["expedited"]["overdue"], state["queues"]["standard"]["overdue"]) == (1, 0)
        listed = [(case["reference"], case["queue"]) for case in state["cases"]]
        assert listed == [(expedited.reference, "expedited"), (standard.reference, "standard")], (
            "each waiting case is listed, expedited first"
        )

        await publish_events(
            settings.kafka_bootstrap_servers,
            decided_in(forwarded, ReviewQueue.EXPEDITED, timedelta(minutes=15), CaseState.FORWARDED),
        )
        assert await eventually(lambda: waiting_is({"expedited": 2, "standard": 1}))


async def test_the_console_draws_the_last_day_s_tips_as_a_chart_in_the_language_asked(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    monitoring = build_monitoring(monitoring_settings(settings, tmp_path, None))
    async with running(monitoring), http_client(monitoring) as client:
        token = await staff_token(settings.database_url, Role.SPECIALIST)
        await publish_events(settings.kafka_bootstrap_servers, tip_received())
        headers = {"Authorization": f"Bearer {token}"}

        async def counted() -> bool:
            state = (await client.get("/v1/console/state", headers=headers)).json()
            return bool(state["tips_by_hour"])

        assert await eventually(counted)
        french = await client.get("/v1/console/charts/tips-by-hour.svg?lang=fr", headers=headers)
        english = await client.get("/v1/console/charts/tips-by-hour.svg", headers=headers)
        anonymous = await client.get("/v1/console/charts/tips-by-hour.svg")
    assert french.headers["content-type"] == "image/svg+xml"
    for words in ("Signalements reçus, 24 dernières heures", "Heure (UTC)", "Signalements par heure"):
        assert words in french.text
    assert "Tips received, last 24 hours" in english.text and "Hour (UTC)" in english.text
    assert "<script" not in french.text
    assert anonymous.status_code == 401
