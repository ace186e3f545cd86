"""Retention: how long each kind of record is kept, as data, and the jobs that let it go.

Each kind has a limit and a moment its clock starts (``RULES``); a deployment may change a limit
(``LANTERN_RETENTION_DAYS``) within the bounds ``Policy.of`` checks. Each service runs its own steps
under its own database role, in a loop of the service (``keep_retaining``): the messaging steps
(inbox, outbox) that every service has, and the ones its ``ServiceSpec.retention`` adds. A step skips
every row of a case under a legal hold (``retention.legal_holds``, placed by the owner). The audit is
pruned by the owner only (``services.disclosure.commands.prune_audit``), behind a checkpoint entry.

Every step is given the time as an argument (``now``), never reads a clock of its own: tests move it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg

from schemas.envelope import utc_now
from schemas.sealed import SealedIdentifiers
from schemas.topics import CONSUMED_TOPICS, dead_letter_topic, settings_of
from services.common.logging import get_logger

log = get_logger(__name__)

BATCH = 500
"""Rows a step lets go per transaction: locks stay short while the service works on."""
HORIZON = timedelta(days=30)
"""How far ahead ``lantern retention report`` counts what will go."""


class Kind(StrEnum):
    IDENTIFYING = "identifying"
    NARRATIVES = "narratives"
    PACKAGES = "packages"
    AUDIT = "audit"
    OUTBOX = "outbox"
    INBOX = "inbox"
    JOURNEYS = "journeys"
    CASEWORK = "casework"
    ACCESS = "access"
    PROVIDER_REQUESTS = "provider_requests"
    DIRECTORY = "directory"
    PROVIDER_AUDIT = "provider_audit"


@dataclass(frozen=True)
class Rule:
    """One kind of record: its default limit, when its clock starts, and what happens at the limit."""

    limit: timedelta
    since: str
    action: str


def _event_kept() -> timedelta:
    return max(settings_of(topic).longest_kept for topic in CONSUMED_TOPICS)


def _dead_letter_kept() -> timedelta:
    return max(settings_of(dead_letter_topic(topic)).longest_kept for topic in CONSUMED_TOPICS)


def replay_horizon(outbox_limit: timedelta) -> timedelta:
    """How long after a consumer applied an event the same event may still reach it again.

    From the broker's topics (``schemas.topics``): a consumer group that lags, or is reset, reads an
    event for as long as its topic keeps it; another group may dead-letter the same event that long
    after, and a replay from the dead-letter topic (kept for a month) publishes it once more, to be
    kept again. After a broker that lost its topics, each outbox publishes again every row it still
    holds. The inbox must remember the event for all of that, or a replay applies it twice.
    """
    return max(outbox_limit, _event_kept() + _dead_letter_kept()) + _event_kept()


PROVIDER_AUDIT_FLOOR = timedelta(days=2557)
"""The provider side's audit is kept this long at least: its trigger refuses an earlier DELETE
(referral migration 0006)."""

RULES: dict[Kind, Rule] = {
    Kind.IDENTIFYING: Rule(
        timedelta(days=730),
        "the tip's last report (the tip or its latest follow-up)",
        "the tip's data key is shredded: every sealed field, in every table, event and dead letter, is unreadable",
    ),
    Kind.NARRATIVES: Rule(
        timedelta(0),
        "the tip's key was shredded (by retention or by an admin)",
        "the sealed narratives, contacts, names and cities are removed from intake, triage and disclosure",
    ),
    Kind.PACKAGES: Rule(
        timedelta(days=2557),
        "the case's last package was issued",
        "the case's package records (agency, basis, fields, times; never content) are deleted",
    ),
    Kind.AUDIT: Rule(
        timedelta(days=2557),
        "the entry was appended",
        "the oldest entries are pruned by the owner behind a checkpoint entry; the chain still verifies",
    ),
    Kind.OUTBOX: Rule(
        _event_kept(),
        "the row was published (or discarded)",
        "the row is deleted; an unsent or quarantined row is never",
    ),
    Kind.INBOX: Rule(
        timedelta(days=90),
        "the event was applied (or set aside)",
        "the event's id is forgotten; a deferred, waiting or poisoned event is never",
    ),
    Kind.JOURNEYS: Rule(timedelta(days=90), "the step of the journey happened", "the journey row is deleted"),
    Kind.CASEWORK: Rule(
        _event_kept() + _dead_letter_kept(),
        "the tip's key was shredded (its identifying data expired, or an admin shred it)",
        "a case's decisions, consents, plans, approvals, reviews, alerts and referrals are deleted (a disclosure"
        " case and its approvals only once its package records are); monitoring's statistics facts stay, without"
        " the tip's reference",
    ),
    Kind.ACCESS: Rule(
        timedelta(days=730),
        "the tip's key was shredded (its identifying data expired, or an admin shred it)",
        "the records of who unsealed or opened the tip's data are deleted",
    ),
    Kind.PROVIDER_REQUESTS: Rule(
        timedelta(days=365),
        "the request was approved or rejected",
        "the request (the provider's details and its contact person's name, email and phone) is deleted;"
        " a pending request never is",
    ),
    Kind.DIRECTORY: Rule(
        timedelta(days=730),
        "the provider's listing lapsed (it did not confirm its details in time)",
        "every directory record of the organization (its services, locations, addresses, contacts and"
        " phones) is deleted, unless a partnership specialist confirmed it since",
    ),
    Kind.PROVIDER_AUDIT: Rule(
        PROVIDER_AUDIT_FLOOR,
        "the entry was appended",
        "the entry (ids, codes and times) is deleted",
    ),
}


class RetentionPolicyError(ValueError):
    """A configured limit breaks a rule: the message names the kind and the rule, never a value of data."""


@dataclass(frozen=True)
class Policy:
    """The limit of each kind in force: the defaults of ``RULES``, changed by configuration."""

    limits: Mapping[Kind, timedelta] = field(default_factory=lambda: {k: r.limit for k, r in RULES.items()})

    def limit(self, kind: Kind) -> timedelta:
        return self.limits[kind]

    @classmethod
    def of(cls, days: Mapping[str, float] | None) -> Policy:
        """The defaults with ``days`` (kind → days) in their place; refuse a limit that breaks a rule."""
        limits = {kind: rule.limit for kind, rule in RULES.items()}
        for name, value in (days or {}).items():
            try:
                kind = Kind(name)
            except ValueError:
                known = ", ".join(k.value for k in Kind)
                raise RetentionPolicyError(
                    f"LANTERN_RETENTION_DAYS.{name}: not a kind of record (one of {known})"
                ) from None
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise RetentionPolicyError(
                    f"LANTERN_RETENTION_DAYS.{name}: must be a number of days, 0 or more"
                )
            limits[kind] = timedelta(days=value)
        inbox_floor = replay_horizon(limits[Kind.OUTBOX])
        if limits[Kind.INBOX] < inbox_floor:
            raise RetentionPolicyError(
                f"LANTERN_RETENTION_DAYS.inbox: must be at least {inbox_floor.days} days, as long as a replay"
                " can still arrive (the topics' and dead-letter topics' retention and the outbox's limit)"
            )
        if limits[Kind.OUTBOX] < _event_kept():
            raise RetentionPolicyError(
                f"LANTERN_RETENTION_DAYS.outbox: must be at least {_event_kept().days} days, as long as the"
                " broker keeps an event, so that a broker that lost its topics gets every one back"
            )
        if limits[Kind.CASEWORK] < _event_kept() + _dead_letter_kept():
            raise RetentionPolicyError(
                f"LANTERN_RETENTION_DAYS.casework: must be at least {(_event_kept() + _dead_letter_kept()).days}"
                " days, as long as an event about the tip published before the shred can still arrive (the"
                " topics' and dead-letter topics' retention), so that it finds the case as it left it"
            )
        if limits[Kind.PROVIDER_AUDIT] < max(
            PROVIDER_AUDIT_FLOOR, limits[Kind.PROVIDER_REQUESTS], limits[Kind.DIRECTORY]
        ):
            raise RetentionPolicyError(
                f"LANTERN_RETENTION_DAYS.provider_audit: must be at least {PROVIDER_AUDIT_FLOOR.days} days and"
                " the provider requests' and directory's limits: it records who decided what of them"
            )
        if limits[Kind.AUDIT] < limits[Kind.PACKAGES]:
            raise RetentionPolicyError(
                "LANTERN_RETENTION_DAYS.audit: must be at least the packages' limit: the audit is the record"
                " of every forward a package record names"
            )
        return cls(limits)

    @classmethod
    def from_text(cls, text: str | None) -> Policy:
        """The policy from ``LANTERN_RETENTION_DAYS``: a JSON object of kind → days, or nothing."""
        if not text:
            return cls()
        try:
            days = json.loads(text)
        except ValueError:
            raise RetentionPolicyError(
                "LANTERN_RETENTION_DAYS: must be a JSON object of kind to days"
            ) from None
        if not isinstance(days, dict):
            raise RetentionPolicyError("LANTERN_RETENTION_DAYS: must be a JSON object of kind to days")
        return cls.of(days)


Apply = Callable[[asyncpg.Connection, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Step:
    """What one role lets go of one table for one kind.

    ``source`` selects the rows the step still has to act on, as ``since`` (when their clock started)
    and ``held`` (their case is under a legal hold), with schema-qualified names, so the owner's
    report reads it too. ``apply`` acts on at most ``BATCH`` rows whose clock started before the
    cutoff and whose case is not held, and returns how many.
    """

    kind: Kind
    table: str
    source: str
    apply: Apply


def sql_step(kind: Kind, table: str, source: str, statement: str) -> Step:
    """A step whose action is one statement, ``$1`` the cutoff and ``$2`` the batch size."""

    async def apply(connection: asyncpg.Connection, cutoff: datetime) -> int:
        status: str = await connection.execute(statement, cutoff, BATCH)
        return int(status.rsplit(" ", 1)[-1])

    return Step(kind, table, source, apply)


def messaging_steps(schema: str) -> tuple[Step, ...]:
    """Every service's outbox and inbox: published rows and applied events, once past their limits."""
    outbox, inbox = f'"{schema}".outbox', f'"{schema}".inbox'
    outbox_held = "retention.is_held_key(encode(key, 'escape'))"
    return (
        sql_step(
            Kind.OUTBOX,
            f"{schema}.outbox",
            f"SELECT coalesce(sent_at, discarded_at) AS since, {outbox_held} AS held FROM {outbox}"
            " WHERE sent_at IS NOT NULL OR discarded_at IS NOT NULL",
            f"DELETE FROM {outbox} WHERE id = ANY(ARRAY(SELECT id FROM {outbox}"
            f" WHERE coalesce(sent_at, discarded_at) < $1 AND NOT {outbox_held} LIMIT $2))",
        ),
        sql_step(
            Kind.INBOX,
            f"{schema}.inbox",
            f"SELECT processed_at AS since, retention.is_held_key(tip_key) AS held FROM {inbox}"
            " WHERE status IN ('done', 'set_aside')",
            f"DELETE FROM {inbox} WHERE seq = ANY(ARRAY(SELECT seq FROM {inbox}"
            " WHERE status IN ('done', 'set_aside') AND processed_at < $1"
            " AND NOT retention.is_held_key(tip_key) LIMIT $2))",
        ),
    )


# Sealed identifiers with every field gone: what intake's and disclosure's rows hold once erased.
ERASED_IDENTIFIERS = f"'{SealedIdentifiers(narrative=None).model_dump_json()}'::jsonb"


def erase_sealed_step(
    table: str, row_id: str, column: str, erased: str, tip: str = "tip_id", tip_lock: str = ""
) -> Step:
    """Narratives: the sealed values of ``table.column`` set to ``erased`` (an SQL constant) once their
    tip's key is shredded; ciphertext nobody can open then leaves the tables and the next backups.
    ``tip_lock``: see ``after_shred_step``."""
    rows = (
        f"FROM {table} x JOIN keys.data_keys k ON k.tip_id = x.{tip}"
        f" WHERE k.shredded_at IS NOT NULL AND x.{column} IS DISTINCT FROM {erased}"
    )
    return _step(
        Kind.NARRATIVES,
        f"{table}.{column}",
        f"SELECT k.shredded_at AS since, retention.is_held(x.{tip}) AS held {rows}",
        f"x.{tip}",
        f"{rows} AND k.shredded_at < $1 AND NOT retention.is_held(x.{tip})",
        f"UPDATE {table} SET {column} = {erased} WHERE {row_id} = ANY(ARRAY(SELECT x.{row_id} {{due}} LIMIT $2))",
        tip_lock,
    )


def after_shred_step(
    kind: Kind, table: str, tip: str = "x.tip_id", via: str = "", unless: str = "", tip_lock: str = ""
) -> Step:
    """Rows of ``table`` (as ``x``, joined ``via`` to what names their tip) about a tip whose key was
    shredded, deleted once past ``kind``'s limit from the shred; ``unless`` (SQL) keeps some longer.
    The shred's time comes from ``retention.shredded_at``, so a service that may not read the keys
    learns only that.

    ``tip_lock``: the prefix of the per-tip advisory lock the service's consume path holds while it
    reads and changes a tip's rows (disclosure's ``disclosure.case/``). The step then takes it for
    the tips whose rows it acts on, in the consume path's order, before it acts: a transaction
    holding a tip never sees its rows go from under it (a case opened from a source just deleted)."""
    shred = f"retention.shredded_at({tip})"
    rows = f"FROM {table} x {via} WHERE {shred} IS NOT NULL{unless}"
    return _step(
        kind,
        table,
        f"SELECT {shred} AS since, retention.is_held({tip}) AS held {rows}",
        tip,
        f"{rows} AND {shred} < $1 AND NOT retention.is_held({tip})",
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT x.ctid {{due}} LIMIT $2))",
        tip_lock,
    )


def _step(kind: Kind, table: str, source: str, tip: str, due: str, act: str, tip_lock: str) -> Step:
    """A step acting (``act``, ``{due}`` the rows it may act on) on at most ``BATCH`` rows, under their
    tips' locks when ``tip_lock`` names them: in one round trip the tips of a batch of due rows are
    locked (sorted by the lock's key, as the consume path sorts them), then the action, in a
    statement that starts once they are held, takes only rows of those tips."""
    if not tip_lock:
        return sql_step(kind, table, source, act.replace("{due}", due))
    lock = (
        f"WITH due AS MATERIALIZED (SELECT {tip} AS tip {due} LIMIT $2),"
        " locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(k) FROM"
        f" (SELECT DISTINCT hashtext('{tip_lock}' || tip) AS k FROM due ORDER BY k) AS keys)"
        " SELECT array_agg(DISTINCT tip) FROM due WHERE (SELECT count(*) FROM locked) >= 0"
    )
    statement = act.replace("{due}", f"{due} AND {tip} = ANY($3::uuid[])")

    async def apply(connection: asyncpg.Connection, cutoff: datetime) -> int:
        tips = await connection.fetchval(lock, cutoff, BATCH)
        if not tips:
            return 0
        status: str = await connection.execute(statement, cutoff, BATCH, tips)
        return int(status.rsplit(" ", 1)[-1])

    return Step(kind, table, source, apply)


@dataclass(frozen=True)
class Done:
    kind: Kind
    table: str
    rows: int


async def run_steps(
    connection: asyncpg.Connection, steps: Iterable[Step], policy: Policy, now: datetime
) -> list[Done]:
    """Run each step to the end, one transaction per batch; what each let go, by kind and table."""
    done = []
    for step in steps:
        cutoff, total = now - policy.limit(step.kind), 0
        while True:
            async with connection.transaction():
                rows = await step.apply(connection, cutoff)
            total += rows
            if rows < BATCH:
                break
        done.append(Done(step.kind, step.table, total))
    return done


async def keep_retaining(
    pool: asyncpg.Pool,
    service: str,
    steps: tuple[Step, ...],
    policy: Policy,
    every_seconds: float,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run the service's retention steps now and every ``every_seconds``, until cancelled.

    Logs counts per kind only; a failure is logged by its type (never its message) and tried again.
    """
    while True:
        try:
            async with pool.acquire() as connection:
                for done in await run_steps(connection, steps, policy, clock()):
                    if done.rows:
                        log.info(
                            "retention",
                            service=service,
                            kind=done.kind.value,
                            table=done.table,
                            rows=done.rows,
                        )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("retention failed; retrying", service=service, error_type=type(error).__name__)
        await asyncio.sleep(every_seconds)


@dataclass(frozen=True)
class Outlook:
    """What one step will let go, for ``lantern retention report``: counts and dates only."""

    kind: Kind
    table: str
    limit: timedelta
    due: int
    """Rows past their limit now (the service's next run lets them go)."""
    within: int
    """Rows that pass their limit within ``HORIZON``."""
    next_due: datetime | None
    """When the next row not yet due passes its limit."""
    held: int
    """Rows kept by a legal hold whatever their age."""


async def outlook(
    connection: asyncpg.Connection, kind: Kind, table: str, source: str, policy: Policy, now: datetime
) -> Outlook:
    """What rows of ``source`` (a step's, or the owner's audit) will go, by date; counts only."""
    limit = policy.limit(kind)
    row = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE NOT held AND since < $1) AS due,"
        " count(*) FILTER (WHERE NOT held AND since >= $1 AND since < $2) AS within,"
        " min(since) FILTER (WHERE NOT held AND since >= $1) AS next_since,"
        f" count(*) FILTER (WHERE held) AS held FROM ({source}) AS source",
        now - limit,
        now + HORIZON - limit,
    )
    assert row is not None
    next_due = row["next_since"] + limit if row["next_since"] is not None else None
    return Outlook(kind, table, limit, row["due"], row["within"], next_due, row["held"])
