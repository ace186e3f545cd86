"""The append-only, keyed audit chain in ``disclosure.audit_log``, and its anchoring in the witness.

An append writes the entry with its HMAC link; the head after a unit of work's last append is
staged on ``audit.heads.v1`` in the same transaction (a head covers every entry before it, so the
heads in between would say nothing more). The witness is written after the commit, by the anchor (``anchor``): woken by each
commit that appended, and run at start and every few seconds, it reads the table's head, checks the
links since the last witnessed head with the key, and only then appends the head. A process that
dies between its commit and the witness leaves a head the next anchor run (its own after a restart,
or another process's) witnesses; the witness never holds a head the chain does not reach by key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import asyncpg

from schemas import topics
from schemas.audit import AuditHeadV1
from schemas.envelope import utc_now
from services.common.logging import get_logger
from services.common.messaging import UnitOfWork
from services.disclosure.domain import audit
from services.disclosure.domain.audit import (
    CHECKPOINT,
    GENESIS,
    AuditEntry,
    Chain,
    ChainKey,
    Head,
    Link,
    Status,
    Verdict,
    Verifier,
)
from services.disclosure.domain.case import Note
from services.disclosure.ports import Witness

log = get_logger(__name__)

# Appends take this transaction-scoped lock so that each entry links to the one committed before it.
CHAIN_LOCK = "disclosure.audit_log"
ENTRIES = "SELECT seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link FROM audit_log"


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class AuditChain:
    """What a unit of work needs to extend the chain: the key, and whom to tell once it committed."""

    key: ChainKey
    appended: Callable[[], None] = field(default=_nothing)


async def _chain_head(connection: asyncpg.Connection) -> Head:
    """Take the chain's lock for the rest of the transaction and read its last link."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", CHAIN_LOCK)
    last = await connection.fetchrow("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return Head(last["seq"], bytes(last["entry_hash"])) if last else Head(0, GENESIS)


def _linked(key: ChainKey, head: Head, tip_id: uuid.UUID, note: Note, at: datetime) -> Head:
    """The head after appending ``note`` at ``head``: its sequence and keyed link."""
    seq = head.seq + 1
    link = audit.keyed_link(key, head.entry_hash, seq, tip_id, note.action, note.detail, note.actor, at)
    return Head(seq, link, key.key_id)


async def _write(
    connection: asyncpg.Connection, key: ChainKey, head: Head, tip_id: uuid.UUID, note: Note
) -> Head:
    at = utc_now()
    new = _linked(key, head, tip_id, note, at)
    await connection.execute(
        "INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        new.seq, tip_id, note.action, note.detail, note.actor, at, head.entry_hash, new.entry_hash,
        Link.KEYED.value,
    )  # fmt: skip
    return new


def _entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        row["seq"], row["tip_id"], row["action"], row["detail"], row["actor"], row["at"],
        bytes(row["previous_hash"]), bytes(row["entry_hash"]), Link(row["link"]),
    )  # fmt: skip


async def entries(
    connection: asyncpg.Connection, since: int = 0, batch: int = 1000
) -> AsyncGenerator[AuditEntry, None]:
    """The entries from sequence ``since`` on (all by default), in order, as one snapshot."""
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        query = f"{ENTRIES} WHERE seq >= $1 ORDER BY seq"
        async for row in connection.cursor(query, since, prefetch=batch):
            yield _entry(row)


async def verify(connection: asyncpg.Connection, key: ChainKey, witness: Witness) -> Verdict:
    """Check every link with the key, and the table against every head the witness holds."""
    verdict, _ = await _stream_verify(connection, key, await witness.heads())
    return verdict


async def _stream_verify(
    connection: asyncpg.Connection, key: ChainKey, witnessed: list[Head] | None, batch: int = 1000
) -> tuple[Verdict, Verifier]:
    """``audit.verify`` over one snapshot of the table, read by a cursor ``batch`` rows at a time:
    only the chain's head is kept, whatever the table's length, and no lock is taken."""
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        first = await connection.fetchval("SELECT min(seq) FROM audit_log")
        checkpoint = None
        if first is not None and first > 1:
            row = await connection.fetchrow(
                f"{ENTRIES} WHERE action = $1 AND detail->>'through_seq' = $2 ORDER BY seq DESC LIMIT 1",
                CHECKPOINT,
                str(first - 1),
            )
            checkpoint = _entry(row) if row is not None else None
        verifier = Verifier(key, witnessed, first, checkpoint)
        async for row in connection.cursor(f"{ENTRIES} ORDER BY seq", prefetch=batch):
            if not verifier.add(_entry(row)):
                break
    return verifier.finish(), verifier


async def anchor(connection: asyncpg.Connection, key: ChainKey, witness: Witness) -> str:
    """Witness the table's head when it is ahead of the last witnessed one and reaches it by key.

    Returns ``anchored``, ``current`` (nothing new), or ``refused`` (the table disagrees with the
    witness or its links do not verify: the head is not witnessed, and a warning says where).
    """
    last = await witness.last()
    start = last.seq if last else 1
    chain = Chain(key)
    async with aclosing(entries(connection, since=start)) as walk:
        async for entry in walk:
            if last is not None and chain.head.seq == 0:
                if entry.seq != last.seq or entry.entry_hash != last.entry_hash:
                    return _refuse(last.seq, "the table disagrees with the last witnessed head")
                chain = Chain(key, Head(entry.seq, entry.entry_hash), keyed_seen=entry.link is Link.KEYED)
                continue
            if not chain.add(entry):
                assert chain.broken is not None
                return _refuse(chain.broken.seq, chain.broken.problem)
    if last is not None and chain.head.seq == 0:
        return _refuse(last.seq, "the table ends before the last witnessed head")
    if chain.head.seq == 0 or (last is not None and chain.head.seq <= last.seq):
        return "current"
    await witness.append(Head(chain.head.seq, chain.head.entry_hash, key.key_id))
    return "anchored"


NO_TIP = uuid.UUID(int=0)
"""The tip a checkpoint names: it is about the chain, not a case."""


class AuditNotPrunable(Exception):
    """The chain does not verify as it stands: pruning it would bury the evidence."""

    def __init__(self, status: Status) -> None:
        super().__init__(f"the audit chain is {status.value}: run `lantern audit verify`; nothing was pruned")
        self.status = status


class AuditPruneContended(Exception):
    """Other prunes kept moving the chain's start while this one verified it: nothing was pruned."""

    def __init__(self) -> None:
        super().__init__(
            "another prune of the audit ran meanwhile, three times: nothing was pruned; run it again"
        )


@dataclass(frozen=True)
class Pruning:
    """What one prune let go: entries ``first`` to ``through``, behind the checkpoint ``checkpoint``."""

    first: int
    through: int
    checkpoint: int | None

    @property
    def entries(self) -> int:
        return self.through - self.first + 1 if self.checkpoint else 0


async def prune(
    connection: asyncpg.Connection, key: ChainKey, witness: Witness, cutoff: datetime, actor: str
) -> Pruning:
    """Prune the entries appended before ``cutoff``, as the table's owner, behind a checkpoint.

    Only a prefix goes, so the chain stays one piece: it stops before the first entry of a case under
    a legal hold, and before the last witnessed head (the anchor starts from it). The chain must
    verify first: it is read as a stream from one snapshot, without the chain's lock, so appends go
    on meanwhile. Then, in one transaction under the lock (held only for this): the entries appended
    since are checked as the verified chain's next links, the checkpoint is appended (keyed and linked
    like any entry: it names the last entry pruned and its link), and the entries are deleted (the
    table's trigger lets only its owner delete, and only what a checkpoint covers; no one may update
    an entry, so what was verified is what goes). The new head is witnessed after the commit. Ids,
    counts and dates only, never an entry's content.
    """
    for _attempt in range(3):
        verdict, verified = await _stream_verify(connection, key, await witness.heads())
        if verdict.status is not Status.INTACT:
            raise AuditNotPrunable(verdict.status)
        assert verdict.anchored_at is not None
        pruning = await _prune_verified(connection, key, verified.chain, verdict.anchored_at, cutoff, actor)
        if pruning is not None:
            if pruning.checkpoint is not None:
                await anchor(connection, key, witness)
            return pruning
    raise AuditPruneContended()


async def _prune_verified(
    connection: asyncpg.Connection,
    key: ChainKey,
    verified: Chain,
    anchored_at: int,
    cutoff: datetime,
    actor: str,
) -> Pruning | None:
    """The locked part of ``prune``, from a chain verified up to ``verified.head``; None when another
    prune moved the chain's start meanwhile (the caller verifies again)."""
    async with connection.transaction():
        head = await _chain_head(connection)
        first = await connection.fetchval("SELECT min(seq) FROM audit_log")
        if first is None:
            return Pruning(1, 0, None)
        if verified.head.seq:
            kept = await connection.fetchval(
                "SELECT entry_hash FROM audit_log WHERE seq = $1", verified.head.seq
            )
            if kept is None or bytes(kept) != verified.head.entry_hash:
                return None
        # Entries appended after the snapshot: only they are read again, as the verified chain's next.
        async for row in connection.cursor(f"{ENTRIES} WHERE seq > $1 ORDER BY seq", verified.head.seq):
            if not verified.add(_entry(row)):
                raise AuditNotPrunable(Status.TAMPERED)
        bound = await connection.fetchval(
            "SELECT least("
            " (SELECT min(seq) FROM audit_log WHERE at >= $1),"
            " (SELECT min(seq) FROM audit_log WHERE retention.is_held(tip_id)),"
            " $2::bigint)",
            cutoff,
            anchored_at,
        )
        through = int(bound) - 1
        if through < first:
            return Pruning(first, through, None)
        last = await connection.fetchrow("SELECT entry_hash, link FROM audit_log WHERE seq = $1", through)
        assert last is not None
        role = await connection.fetchval("SELECT current_user")
        checkpoint = Note(
            CHECKPOINT,
            actor,
            {
                "through_seq": through,
                "through_link": bytes(last["entry_hash"]).hex(),
                "through_link_kind": last["link"],
                "entries": through - first + 1,
                "older_than": cutoff.isoformat(),
                "database_role": role,
            },
        )
        new_head = await _write(connection, key, head, NO_TIP, checkpoint)
        await connection.execute("DELETE FROM audit_log WHERE seq <= $1", through)
    return Pruning(first, through, new_head.seq)


def _refuse(seq: int, problem: str) -> str:
    log.warning("audit head not witnessed", offset=seq, reason=problem)
    return "refused"


async def trail(connection: asyncpg.Connection | asyncpg.Pool, tip_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT seq, action, detail, actor, at FROM audit_log WHERE tip_id = $1 ORDER BY seq", tip_id
    )
    return [
        {"seq": row["seq"], "action": row["action"], "detail": row["detail"], "actor": row["actor"],
         "at": row["at"].isoformat()}
        for row in rows
    ]  # fmt: skip


@dataclass
class _Appending:
    """The chain as one transaction extends it: the head after its last entry, and the entries it
    has not written yet. Shared by the units of work of one transaction (a batch's events)."""

    head: Head
    pending: list[tuple[Head, Head, uuid.UUID, Note, datetime]] = field(default_factory=list)


SHARED_KEY = "disclosure.audit"
HEAD_MESSAGES = "audit.head"
WRITE_ENTRIES = """
INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash, link)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[],
                     $7::bytea[], $8::bytea[], $9::text[])
"""


class PostgresAudit:
    """The audit as the unit of work's repository: entries appended in its transaction, each new head
    staged for ``audit.heads.v1`` and the anchor told once the transaction commits.

    The units of work of one transaction (a batch's events) extend the chain together: its lock and
    head are read once, the entries are linked as they are appended and written in one statement
    before the commit (``before_commit``), and only the transaction's last head is published (a head
    covers every entry before it).
    """

    def __init__(self, connection: asyncpg.Connection, chain: AuditChain, uow: UnitOfWork) -> None:
        self.connection = connection
        self.chain = chain
        self.uow = uow
        self._staged: uuid.UUID | None = None

    async def append(self, tip_id: uuid.UUID, note: Note) -> None:
        state: _Appending | None = self.uow.shared.get(SHARED_KEY)
        if state is None:
            # The chain's lock is held until the transaction ends, so the head read once stays the head.
            state = _Appending(await _chain_head(self.connection))
            self.uow.shared[SHARED_KEY] = state
            self.uow.after_commit(self.chain.appended)
            self.uow.before_commit(partial(self._flush, state))
        previous, at = state.head, utc_now()
        state.head = _linked(self.chain.key, previous, tip_id, note, at)
        state.pending.append((previous, state.head, tip_id, note, at))
        head = AuditHeadV1.of(state.head.seq, state.head.entry_hash, self.chain.key.key_id)
        if self._staged is not None:
            self.uow.outbox.withdraw(self._staged)
        self._staged = head.head_id
        self.uow.outbox.stage_outbound(
            topics.AUDIT_HEADS,
            head.head_id,
            head.partition_key,
            head,
            head.message_type,
            producer=head.producer,
            scrub_after_send=False,
            coalesce=HEAD_MESSAGES,
        )

    async def _flush(self, state: _Appending) -> None:
        entries, state.pending = state.pending, []
        if not entries:
            return
        await self.connection.execute(
            WRITE_ENTRIES,
            [head.seq for _previous, head, *_ in entries],
            [tip_id for *_, tip_id, _note, _at in entries],
            [note.action for *_, note, _at in entries],
            [note.detail for *_, note, _at in entries],
            [note.actor for *_, note, _at in entries],
            [at for *_, at in entries],
            [previous.entry_hash for previous, *_ in entries],
            [head.entry_hash for _previous, head, *_ in entries],
            [Link.KEYED.value] * len(entries),
        )

    async def trail(self, tip_id: uuid.UUID) -> list[Note]:
        state: _Appending | None = self.uow.shared.get(SHARED_KEY)
        if state is not None:
            await self._flush(state)
        return [
            Note(entry["action"], entry["actor"], entry["detail"])
            for entry in await trail(self.connection, tip_id)
        ]
