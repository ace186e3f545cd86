"""The operator's side of retention: what will go and when (as the owner, counts and dates only), and
legal holds, placed and lifted by an admin and recorded with who and why."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg

from schemas.topics import (
    AUDIT_HEADS,
    CONSUMED_TOPICS,
    TopicSettings,
    agency_topic,
    dead_letter_topic,
    settings_of,
)
from services.common.auth import Role, find_staff
from services.common.db import connect
from services.common.retention import (
    RULES,
    Done,
    Kind,
    Outlook,
    Policy,
    Step,
    messaging_steps,
    outlook,
    run_steps,
)
from services.common.roles import ServiceRoles
from services.disclosure.app import SPEC as DISCLOSURE
from services.disclosure.commands import AUDIT_SOURCE
from services.intake.app import SPEC as INTAKE
from services.monitoring.app import SPEC as MONITORING
from services.referral.app import SPEC as REFERRAL
from services.triage.app import SPEC as TRIAGE

SPECS = (INTAKE, TRIAGE, DISCLOSURE, REFERRAL, MONITORING)
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./:#-]{0,63}$")


class HoldReason(StrEnum):
    COURT_ORDER = "court_order"
    LITIGATION = "litigation"
    LAW_ENFORCEMENT_REQUEST = "law_enforcement_request"
    PRIVACY_COMPLAINT = "privacy_complaint"
    ACCESS_REQUEST = "access_request"


class LiftReason(StrEnum):
    PROCEEDINGS_ENDED = "proceedings_ended"
    ORDER_LIFTED = "order_lifted"
    REQUEST_WITHDRAWN = "request_withdrawn"
    ENTERED_IN_ERROR = "entered_in_error"


class HoldRefused(Exception):
    """A hold could not be placed or lifted; the message names the field and the rule."""


def steps_of_services() -> list[tuple[str, Step]]:
    """Every service's retention steps, as each service runs them under its own role."""
    return [(spec.name, step) for spec in SPECS for step in (*messaging_steps(spec.name), *spec.retention)]


async def run_services(
    owner_url: str, roles: ServiceRoles, policy: Policy, now: datetime
) -> list[tuple[str, Done]]:
    """Run every service's retention once, each as its own role (what each service does every hour)."""
    done = []
    for spec in SPECS:
        connection = await connect(roles.url(owner_url, spec.name), spec.name)
        try:
            steps = (*messaging_steps(spec.name), *spec.retention)
            done += [(spec.name, row) for row in await run_steps(connection, steps, policy, now)]
        finally:
            await connection.close()
    return done


@dataclass(frozen=True)
class Report:
    now: datetime
    rows: list[tuple[str, Outlook]]
    """(who runs it: a service's role, or ``owner``) and what will go."""
    holds: int
    topics: list[tuple[str, TopicSettings]]


async def report(owner_url: str, policy: Policy, now: datetime) -> Report:
    """What each kind will let go and when, read as the owner; counts and dates only."""
    connection = await asyncpg.connect(owner_url)
    try:
        rows = [
            (service, await outlook(connection, step.kind, step.table, step.source, policy, now))
            for service, step in steps_of_services()
        ]
        audit = await outlook(connection, Kind.AUDIT, "disclosure.audit_log", AUDIT_SOURCE, policy, now)
        rows.append(("owner", audit))
        holds = await connection.fetchval(
            "SELECT count(*) FROM retention.legal_holds WHERE lifted_at IS NULL"
        )
    finally:
        await connection.close()
    return Report(now, rows, holds, topic_groups())


def topic_groups() -> list[tuple[str, TopicSettings]]:
    """How long the broker keeps each kind of topic (``schemas.topics``): the broker deletes, not Lantern."""
    event = CONSUMED_TOPICS[0]
    return [
        ("every event topic", settings_of(event)),
        ("every <topic>.DLT", settings_of(dead_letter_topic(event))),
        (AUDIT_HEADS, settings_of(AUDIT_HEADS)),
        (agency_topic("<agency>"), settings_of(agency_topic("agency"))),
    ]


def render(report: Report) -> list[str]:
    """The report as tab-separated lines: kind, table, role, limit, due now, within 30 days, next due, held."""
    lines = [
        f"retention report at {report.now:%Y-%m-%d %H:%M} UTC; legal holds standing: {report.holds}",
        "kind\ttable\trun by\tlimit\tclock starts at\tdue now\twithin 30 days\tnext due\theld",
    ]
    for runner, row in report.rows:
        next_due = f"{row.next_due:%Y-%m-%d}" if row.next_due else "-"
        lines.append(
            f"{row.kind.value}\t{row.table}\t{runner}\t{_days(row.limit)}\t{RULES[row.kind].since}"
            f"\t{row.due}\t{row.within}\t{next_due}\t{row.held}"
        )
    for name, settings in report.topics:
        lines.append(
            f"topics\t{name}\tbroker\t{_days(settings.retention)} (+{_days(settings.segment)} segment)"
            "\tthe record was written\t-\t-\t-\t-"
        )
    return lines


def _days(limit: timedelta) -> str:
    if limit % timedelta(days=1):
        return f"{limit.total_seconds() / 3600:g} h"
    return f"{limit.days} d"


async def _admin(connection: asyncpg.Connection, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    staff = await find_staff(connection, token)
    if staff is None or staff.role is not Role.ADMIN:
        raise HoldRefused("token: an admin's live token is needed to place or lift a legal hold")
    return staff.token_id, staff.person_id


async def _tip_of(connection: asyncpg.Connection, case: str) -> uuid.UUID:
    """The tip a case names: its tip id, its tip reference (LT-…) or its case reference (LE-…)."""
    try:
        tip_id = uuid.UUID(case)
        found = await connection.fetchval("SELECT tip_id FROM intake.tips WHERE tip_id = $1", tip_id)
    except ValueError:
        found = await connection.fetchval(
            "SELECT tip_id FROM intake.tips WHERE reference = $1"
            " UNION SELECT tip_id FROM disclosure.cases WHERE case_reference = $1",
            case,
        )
    if found is None:
        raise HoldRefused("case: no tip has this id or reference")
    tip: uuid.UUID = found
    return tip


async def place_hold(
    owner_url: str, case: str, reason: HoldReason, reference: str | None, token: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """Stop retention for a case, recorded with the admin and the reason; (hold id, tip id)."""
    if reference is not None and not REFERENCE.match(reference):
        raise HoldRefused("reference: a docket or order number (letters, digits, ' ./:#-', at most 64)")
    connection = await asyncpg.connect(owner_url)
    try:
        token_id, person_id = await _admin(connection, token)
        tip_id = await _tip_of(connection, case)
        hold_id = uuid.uuid4()
        try:
            async with connection.transaction():
                # The shred takes this lock too (services/intake/retention.py): a hold placed while a
                # retention run is under way either stops its shred or comes after it, never between.
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('legal-hold:' || $1::uuid::text))", tip_id
                )
                await connection.execute(
                    "INSERT INTO retention.legal_holds (hold_id, tip_id, reason, reference, placed_by_person,"
                    " placed_by_token) VALUES ($1, $2, $3, $4, $5, $6)",
                    hold_id, tip_id, reason.value, reference, person_id, token_id,
                )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise HoldRefused("case: a legal hold already stands on it") from None
    finally:
        await connection.close()
    return hold_id, tip_id


async def lift_hold(owner_url: str, case: str, reason: LiftReason, token: str) -> uuid.UUID:
    """Let retention resume for a case: the hold's row records who lifted it and why; its tip id."""
    connection = await asyncpg.connect(owner_url)
    try:
        token_id, person_id = await _admin(connection, token)
        tip_id = await _tip_of(connection, case)
        status = await connection.execute(
            "UPDATE retention.legal_holds SET lifted_at = now(), lifted_by_person = $2, lifted_by_token = $3,"
            " lift_reason = $4 WHERE tip_id = $1 AND lifted_at IS NULL",
            tip_id, person_id, token_id, reason.value,
        )  # fmt: skip
    finally:
        await connection.close()
    if status.endswith(" 0"):
        raise HoldRefused("case: no legal hold stands on it")
    return tip_id


async def list_holds(owner_url: str) -> list[asyncpg.Record]:
    """Every hold, standing or lifted: ids, codes, times and who (person ids), never a name."""
    connection = await asyncpg.connect(owner_url)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(
            "SELECT hold_id, tip_id, reason, reference, placed_at, placed_by_person, lifted_at,"
            " lifted_by_person, lift_reason FROM retention.legal_holds ORDER BY placed_at"
        )
        return rows
    finally:
        await connection.close()
