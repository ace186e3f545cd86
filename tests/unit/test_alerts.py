"""Alerts: what they say, whom they page, and that they can carry nothing that identifies anyone."""

import hashlib
import hmac
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from schemas.disclosure import DisclosureReviewFlaggedV1, ReviewQueue
from schemas.triage import ResponsePlanStepFlaggedV1
from services.monitoring.adapters.webhook import signature
from services.monitoring.domain.alerts import AlertKind, NotACode, plan_step_alert, review_alert
from services.monitoring.domain.roster import OnCallRole, Roster
from tests.factories import IDENTIFYING_VALUES, NARRATIVE, tip_received

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday, 10:00 in Toronto
ROSTER = Roster.model_validate(
    {
        "roles": {
            "supervisor": {
                "shifts": [{"who": ["@sup-day"], "days": ["wed"], "from": "08:00", "to": "16:00"}],
                "fallback": ["@duty-supervisor"],
            },
            "specialist": {
                "shifts": [{"who": ["@spec-a", "@spec-b"], "days": ["wed"], "from": "08:00", "to": "16:00"}],
                "fallback": ["@duty-supervisor"],
            },
            "backup_supervisor": {"fallback": ["@backup-supervisor"]},
            "hotline_manager": {"fallback": ["@hotline-manager"]},
            "admin": {"fallback": ["@admin"]},
        }
    }
)
DOCUMENT_FIELDS = {"alert_id", "kind", "reference", "subject", "deadline", "role", "paged"}


def plan_flag(flag: str = "breached", **fields: object) -> ResponsePlanStepFlaggedV1:
    tip = tip_received()
    return ResponsePlanStepFlaggedV1.model_validate(
        {
            "tip_id": tip.tip_id, "correlation_id": tip.correlation_id, "producer": "triage",
            "plan_id": uuid.UUID(int=7), "step": "notify_supervisor", "flag": flag,
            "deadline": NOW - timedelta(minutes=1), "escalated_to": "on_duty_supervisor", **fields,
        }
    )  # fmt: skip


def review_flag(
    flag: str = "at_risk", queue: ReviewQueue = ReviewQueue.EXPEDITED
) -> DisclosureReviewFlaggedV1:
    tip = tip_received()
    return DisclosureReviewFlaggedV1(
        tip_id=tip.tip_id, correlation_id=tip.correlation_id, producer="disclosure",
        case_reference="LE-7K3M-9QXD", queue=queue, flag=flag, due_at=NOW + timedelta(minutes=5),
    )  # fmt: skip


def test_a_plan_step_at_risk_pages_the_specialists_on_call() -> None:
    alert = plan_step_alert(plan_flag("at_risk"), "LT-7K3M-9QXD", ROSTER, NOW)
    assert (alert.kind, alert.role, alert.paged) == (
        AlertKind.PLAN_STEP_AT_RISK, OnCallRole.SPECIALIST, ("@spec-a", "@spec-b"),
    )  # fmt: skip
    assert (alert.reference, alert.subject) == ("LT-7K3M-9QXD", "notify_supervisor")


def test_a_breached_plan_step_pages_the_supervisors_on_call() -> None:
    alert = plan_step_alert(plan_flag("breached"), "LT-7K3M-9QXD", ROSTER, NOW)
    assert (alert.kind, alert.role, alert.paged) == (
        AlertKind.PLAN_STEP_BREACHED,
        OnCallRole.SUPERVISOR,
        ("@sup-day",),
    )
    assert alert.deadline == NOW - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("level", "role", "paged"),
    [
        ("on_duty_supervisor", OnCallRole.SUPERVISOR, "@sup-day"),
        ("backup_supervisor", OnCallRole.BACKUP_SUPERVISOR, "@backup-supervisor"),
        ("hotline_manager", OnCallRole.HOTLINE_MANAGER, "@hotline-manager"),
        ("a_level_no_roster_knows", OnCallRole.SUPERVISOR, "@sup-day"),
    ],
)
def test_each_breach_of_a_plan_pages_the_level_it_escalates_to(
    level: str, role: OnCallRole, paged: str
) -> None:
    alert = plan_step_alert(plan_flag("breached", escalated_to=level), "LT-7K3M-9QXD", ROSTER, NOW)
    assert (alert.role, alert.paged) == (role, (paged,))


def test_a_plan_alert_names_the_plan_when_the_tips_reference_is_not_known() -> None:
    assert plan_step_alert(plan_flag(), None, ROSTER, NOW).reference == str(uuid.UUID(int=7))
    assert plan_step_alert(plan_flag(), NARRATIVE, ROSTER, NOW).reference == str(uuid.UUID(int=7))


@pytest.mark.parametrize(
    ("flag", "kind"), [("at_risk", AlertKind.REVIEW_AT_RISK), ("breached", AlertKind.REVIEW_BREACHED)]
)
def test_a_case_waiting_for_review_pages_the_supervisors_on_call_under_its_case_reference(
    flag: str, kind: AlertKind
) -> None:
    alert = review_alert(review_flag(flag, ReviewQueue.STANDARD), ROSTER, NOW)
    assert (alert.kind, alert.reference, alert.subject, alert.role, alert.paged) == (
        kind, "LE-7K3M-9QXD", "standard", OnCallRole.SUPERVISOR, ("@sup-day",),
    )  # fmt: skip


def test_the_people_paged_are_those_on_call_when_the_alert_is_raised() -> None:
    at_night = NOW + timedelta(hours=10)
    assert plan_step_alert(plan_flag(), None, ROSTER, at_night).paged == ("@duty-supervisor",)


def test_the_same_flag_is_the_same_alert_even_under_another_event_id() -> None:
    flag = plan_flag()
    again = flag.model_copy(update={"event_id": uuid.uuid4(), "occurred_at": NOW + timedelta(seconds=5)})
    later = NOW + timedelta(hours=1)
    assert (
        plan_step_alert(flag, None, ROSTER, NOW).alert_id
        == plan_step_alert(again, "LT-7K3M-9QXD", ROSTER, later).alert_id
    )
    assert (
        plan_step_alert(flag, None, ROSTER, NOW).alert_id
        != plan_step_alert(plan_flag("at_risk"), None, ROSTER, NOW).alert_id
    )
    assert (
        review_alert(review_flag(), ROSTER, NOW).alert_id
        == review_alert(review_flag(), ROSTER, later).alert_id
    )
    assert (
        review_alert(review_flag(), ROSTER, NOW).alert_id
        != review_alert(review_flag("breached"), ROSTER, NOW).alert_id
    )


def test_no_identifying_value_of_the_tip_ever_appears_in_an_alert_or_a_webhook_body() -> None:
    alerts = [
        plan_step_alert(plan_flag(flag), reference, ROSTER, NOW)
        for flag in ("at_risk", "breached")
        for reference in ("LT-7K3M-9QXD", None, *IDENTIFYING_VALUES)
    ] + [
        review_alert(review_flag(flag, queue), ROSTER, NOW)
        for flag in ("at_risk", "breached")
        for queue in ReviewQueue
    ]
    for alert in alerts:
        shown = "\n".join([repr(alert), json.dumps(alert.document()), alert.body().decode()])
        assert not [value for value in IDENTIFYING_VALUES if value in shown]
        assert not [value for value in IDENTIFYING_VALUES if value.lower() in shown.lower()]
        assert str(plan_flag().tip_id) not in shown


def test_a_webhook_body_carries_only_the_alerts_fields_as_compact_sorted_json() -> None:
    alert = plan_step_alert(plan_flag(), "LT-7K3M-9QXD", ROSTER, NOW)
    document = json.loads(alert.body())
    assert set(document) == DOCUMENT_FIELDS
    assert document == {
        "alert_id": str(alert.alert_id), "kind": "plan_step_breached", "reference": "LT-7K3M-9QXD",
        "subject": "notify_supervisor", "deadline": "2026-12-02T14:59:00+00:00", "role": "supervisor",
        "paged": ["@sup-day"],
    }  # fmt: skip
    assert alert.body() == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "change",
    [
        {"reference": NARRATIVE},
        {"reference": "Jean-Philippe Gagnon"},
        {"reference": "+1 514 555 0147"},
        {"subject": "Marie-Claude Tremblay"},
        {"subject": "jp.gagnon@example.org"},
        {"paged": ("+1 514 555 0147",)},
        {"paged": ("jp.gagnon@example.org",)},
        {"paged": ()},
        {"deadline": datetime(2026, 12, 2, 15, 0)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_an_alert_refuses_anything_but_codes(change: dict[str, object]) -> None:
    alert = plan_step_alert(plan_flag(), "LT-7K3M-9QXD", ROSTER, NOW)
    with pytest.raises(NotACode):
        replace(alert, **change)


def test_a_page_is_signed_over_its_timestamp_and_body() -> None:
    secret, body = b"k" * 32, plan_step_alert(plan_flag(), None, ROSTER, NOW).body()
    expected = hmac.new(secret, b"1796223600." + body, hashlib.sha256).hexdigest()
    assert signature(secret, "1796223600", body) == f"sha256={expected}"
    assert signature(secret, "1796223601", body) != signature(secret, "1796223600", body)
    assert signature(b"x" * 32, "1796223600", body) != signature(secret, "1796223600", body)
