"""Monitoring's use cases: keep the read model that the console and the statistics read, and raise an
alert, to the console and to the people on call, for each at-risk or breached deadline and for each
outbox row a service quarantined."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas import topics
from schemas.disclosure import DisclosureMessage, DisclosureReviewFlaggedV1
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import ResponsePlanMessage, ResponsePlanStepFlaggedV1, TipTriagedV1
from services.common.messaging import PostgresUnitOfWork
from services.monitoring.adapters import alerts, repository
from services.monitoring.domain.alerts import Alert, plan_step_alert, quarantine_alert, review_alert
from services.monitoring.domain.roster import Roster
from services.monitoring.ports import Notifier

CONSUMER = "monitoring"


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Alerting:
    """Who is on call, how a transaction notifies them, and what to wake once it has committed."""

    roster: Callable[[], Roster]
    """The roster as it stands now: an operator's edit of the file applies without a restart."""
    notifiers: Callable[[PostgresUnitOfWork], Sequence[Notifier]]
    committed: Callable[[], None] = _nothing
    clock: Callable[[], datetime] = utc_now


async def tip_received(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
    repository.record_tip(uow, event)
    repository.record_journey(uow, event, topics.TIPS_RECEIVED, event.facts.channel.value)


async def consent_recorded(event: ConsentRecordedV1, uow: PostgresUnitOfWork) -> None:
    repository.record_consent(uow, event)
    repository.record_journey(uow, event, topics.CONSENTS, f"version {event.version}")


async def tip_triaged(event: TipTriagedV1, uow: PostgresUnitOfWork) -> None:
    repository.record_triage(uow, event)
    repository.record_journey(
        uow,
        event,
        topics.TIPS_TRIAGED,
        f"{event.urgency.value} (revision {event.revision})",
    )


async def plan_changed(message: ResponsePlanMessage, uow: PostgresUnitOfWork, *, alerting: Alerting) -> None:
    event = message.event
    await repository.record_plan_event(uow, event)
    repository.record_journey(uow, event, topics.RESPONSE_PLANS, getattr(event, "step", None))
    if isinstance(event, ResponsePlanStepFlaggedV1):
        reference = await repository.reference_of_plan(uow, event.plan_id)
        alert = plan_step_alert(event, reference, alerting.roster(), alerting.clock())
        await _raise(alert, event.tip_id, event.plan_id, uow, alerting)


async def disclosure_changed(
    message: DisclosureMessage, uow: PostgresUnitOfWork, *, alerting: Alerting
) -> None:
    event = message.event
    await repository.record_disclosure_event(uow, event)
    basis = getattr(event, "basis", None)
    detail = event.flag if isinstance(event, DisclosureReviewFlaggedV1) else basis and basis.value
    repository.record_journey(uow, event, topics.DISCLOSURES, detail)
    if isinstance(event, DisclosureReviewFlaggedV1):
        await _raise(
            review_alert(event, alerting.roster(), alerting.clock()), event.tip_id, None, uow, alerting
        )


async def outbox_rows_quarantined(
    service: str,
    rows: Sequence[tuple[uuid.UUID, datetime]],
    uow: PostgresUnitOfWork,
    *,
    alerting: Alerting,
    close_others: bool = True,
) -> None:
    """Alert the supervisors on call to each row ``service`` quarantined (``rows``: event id, when), once
    per quarantine; when ``rows`` is every quarantined row (``close_others``), close the alerts of rows
    released or discarded since.

    An alert closed while its row is still quarantined (a list read while the service's outbox could
    not be) opens again; its page goes out only if it never did (see ``reopen_quarantine_alerts``).
    """
    raised = []
    for event_id, quarantined_at in rows:
        alert = quarantine_alert(service, event_id, quarantined_at, alerting.roster(), alerting.clock())
        for notifier in alerting.notifiers(uow):
            await notifier.notify(alert)
        raised.append(alert.alert_id)
    await alerts.reopen_quarantine_alerts(uow.connection, service, raised)
    if close_others:
        await alerts.close_quarantine_alerts(uow.connection, service, raised)
    if raised:
        uow.after_commit(alerting.committed)


async def _raise(
    alert: Alert, tip_id: uuid.UUID, plan_id: uuid.UUID | None, uow: PostgresUnitOfWork, alerting: Alerting
) -> None:
    """Record what the alert is about and notify; pages leave once the transaction has committed."""
    await alerts.record_source(uow.connection, alert.alert_id, tip_id, plan_id)
    for notifier in alerting.notifiers(uow):
        await notifier.notify(alert)
    uow.after_commit(alerting.committed)
