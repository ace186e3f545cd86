"""Monitoring's subscriptions and its watch on every outbox, and the paging they may set off."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from operator import attrgetter

from schemas import topics
from schemas.disclosure import DisclosureMessage
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import ResponsePlanMessage, TipTriagedV1
from services.common.messaging import PostgresUnitOfWork
from services.common.runtime import Runtime
from services.monitoring import handlers
from services.monitoring.adapters.alerts import ConsoleAlertList, PagingOutbox
from services.monitoring.adapters.webhook import PageDispatcher, WebhookSender
from services.monitoring.domain.roster import Roster
from services.monitoring.entrypoints.dead_letters import DeadLetterCounts
from services.monitoring.entrypoints.outboxes import watch_outboxes
from services.monitoring.ports import Notifier
from services.monitoring.settings import MonitoringSettings


def wire(runtime: Runtime, dead_letters: DeadLetterCounts, roster: Callable[[], Roster]) -> None:
    runtime.background(
        "dead-letter-counts",
        partial(dead_letters.watch, runtime.settings.kafka_bootstrap_servers, runtime.kafka_security),
    )
    alerting = _alerting(runtime, roster)
    settings = MonitoringSettings.of(runtime.settings)
    runtime.background(
        "outbox-watch",
        partial(
            watch_outboxes,
            runtime.transactions,
            settings.service_urls,
            alerting,
            settings.outbox_watch_seconds,
        ),
    )
    runtime.consume(topics.TIPS_RECEIVED, TipReceivedV1, handlers.tip_received)
    runtime.consume(topics.CONSENTS, ConsentRecordedV1, handlers.consent_recorded)
    runtime.consume(topics.TIPS_TRIAGED, TipTriagedV1, handlers.tip_triaged)
    runtime.consume(
        topics.RESPONSE_PLANS,
        ResponsePlanMessage,
        partial(handlers.plan_changed, alerting=alerting),
        attrgetter("event.event_id"),
    )
    runtime.consume(
        topics.DISCLOSURES,
        DisclosureMessage,
        partial(handlers.disclosure_changed, alerting=alerting),
        attrgetter("event.event_id"),
    )


def _alerting(runtime: Runtime, roster: Callable[[], Roster]) -> handlers.Alerting:
    """The console's list always; the paging webhook too when one is configured."""
    settings = MonitoringSettings.of(runtime.settings)
    secret = settings.paging_secret()
    if settings.paging_webhook_url is None or secret is None:
        return handlers.Alerting(roster, _console_only)
    sender = WebhookSender(
        settings.paging_webhook_url,
        secret,
        attempts=settings.paging_attempts,
        backoff_seconds=settings.paging_backoff_seconds,
        timeout_seconds=settings.paging_timeout_seconds,
    )
    dispatcher = PageDispatcher(
        runtime.pool,
        sender,
        poll_seconds=settings.paging_poll_seconds,
        retry_seconds=settings.paging_retry_seconds,
    )
    runtime.background("paging", dispatcher.run)
    return handlers.Alerting(roster, _console_and_pager, committed=dispatcher.wake)


def _console_only(uow: PostgresUnitOfWork) -> list[Notifier]:
    return [ConsoleAlertList(uow.connection)]


def _console_and_pager(uow: PostgresUnitOfWork) -> list[Notifier]:
    return [ConsoleAlertList(uow.connection), PagingOutbox(uow.connection)]
