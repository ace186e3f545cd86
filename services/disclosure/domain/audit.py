"""The disclosure audit as a keyed chain, anchored outside the database.

Each entry's link is an HMAC-SHA256, under a key the database never holds, of the previous link and
the entry's canonical content: someone who can rewrite the table can recompute plain hashes, not
these. After each append the chain's head (sequence, link) is written to a witness outside the
database; checking the table against the heads witnessed finds entries dropped from the end, which
no link can show. Entries written before the key existed keep their plain SHA-256 links: they are
accepted only before the first keyed entry, whose link covers theirs.

Retention prunes the oldest entries, only behind a *checkpoint*: an entry appended to the chain (so
keyed and linked like any other) that names the last entry pruned and its link. The chain then
verifies from that link; entries missing without a checkpoint that accounts for them are tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

GENESIS = bytes(32)
KEY_BYTES = 32
CHECKPOINT = "audit_pruned"
"""The action of a checkpoint entry: ``detail`` holds ``through_seq``, ``through_link`` (hex) and
``through_link_kind`` of the last entry pruned."""


class Link(StrEnum):
    PLAIN = "sha256"
    KEYED = "hmac-sha256"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    tip_id: uuid.UUID
    action: str
    detail: dict[str, Any]
    actor: str
    at: datetime
    previous_hash: bytes
    entry_hash: bytes
    link: Link = Link.KEYED


@dataclass(frozen=True, slots=True)
class ChainKey:
    """The audit key: 32 random bytes from configuration, never stored in the database."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"the audit key must be {KEY_BYTES} bytes")

    @property
    def key_id(self) -> str:
        """Names the key without revealing it, so a verifier given the wrong key says so."""
        return hmac.new(self.secret, b"lantern audit key id", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"ChainKey({self.key_id})"


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's last entry: what the witness keeps after every append."""

    seq: int
    entry_hash: bytes
    key_id: str | None = None


def canonical(
    seq: int, tip_id: uuid.UUID, action: str, detail: dict[str, Any], actor: str, at: datetime
) -> bytes:
    return json.dumps(
        {"seq": seq, "tip_id": str(tip_id), "action": action, "detail": detail, "actor": actor,
         "at": at.isoformat()},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()  # fmt: skip


def keyed_link(
    key: ChainKey,
    previous_hash: bytes,
    seq: int,
    tip_id: uuid.UUID,
    action: str,
    detail: dict[str, Any],
    actor: str,
    at: datetime,
) -> bytes:
    content = canonical(seq, tip_id, action, detail, actor, at)
    return hmac.new(key.secret, previous_hash + content, hashlib.sha256).digest()


def plain_link(
    previous_hash: bytes,
    seq: int,
    tip_id: uuid.UUID,
    action: str,
    detail: dict[str, Any],
    actor: str,
    at: datetime,
) -> bytes:
    """The link of an entry written before the audit had a key."""
    return hashlib.sha256(previous_hash + canonical(seq, tip_id, action, detail, actor, at)).digest()


def link_of(key: ChainKey, entry: AuditEntry) -> bytes:
    fields = (entry.previous_hash, entry.seq, entry.tip_id, entry.action, entry.detail, entry.actor, entry.at)
    return keyed_link(key, *fields) if entry.link is Link.KEYED else plain_link(*fields)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    problem: str


class Chain:
    """Walks entries in sequence order from a known head, checking each link; stops at the first break."""

    def __init__(self, key: ChainKey, start: Head = Head(0, GENESIS), keyed_seen: bool = False) -> None:
        self.key = key
        self.head = start
        self.keyed_seen = keyed_seen
        self.plain = 0
        self.broken: BrokenLink | None = None

    def add(self, entry: AuditEntry) -> bool:
        """Check ``entry`` as the next link; False (and ``broken`` set) once the chain does not hold."""
        if self.broken is not None:
            return False
        expected = self.head.seq + 1
        if entry.seq != expected:
            self.broken = BrokenLink(expected, f"entry {expected} is missing")
        elif entry.previous_hash != self.head.entry_hash:
            self.broken = BrokenLink(entry.seq, "its previous hash is not the link of the entry before")
        elif entry.link is Link.PLAIN and self.keyed_seen:
            self.broken = BrokenLink(entry.seq, "an unkeyed link after keyed ones")
        elif not hmac.compare_digest(link_of(self.key, entry), entry.entry_hash):
            self.broken = BrokenLink(entry.seq, "its link does not verify under the audit key")
        else:
            self.keyed_seen = self.keyed_seen or entry.link is Link.KEYED
            self.plain += entry.link is Link.PLAIN
            self.head = Head(entry.seq, entry.entry_hash)
        return self.broken is None


def first_broken_link(entries: Iterable[AuditEntry], key: ChainKey) -> BrokenLink | None:
    """The first entry, in sequence order, whose link to the chain does not hold; None when all do."""
    chain = Chain(key)
    for entry in entries:
        if not chain.add(entry):
            break
    return chain.broken


class Status(StrEnum):
    INTACT = "intact"
    TAMPERED = "tampered"
    UNANCHORED = "unanchored"
    WRONG_KEY = "wrong_key"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `lantern audit verify` reports: ids and counts only, never an entry's content."""

    status: Status
    entries: int
    problem: BrokenLink | None = None
    anchored_at: int | None = None
    plain_entries: int = 0
    pruned_through: int = 0
    """The last entry retention pruned (behind a checkpoint); 0 when none was."""

    @property
    def unwitnessed(self) -> int:
        """Entries appended after the last witnessed head (checked by key, not yet anchored)."""
        return self.entries - (self.anchored_at or 0)


def verify(entries: Iterable[AuditEntry], key: ChainKey, witnessed: list[Head] | None) -> Verdict:
    """Check every link with ``key``, then the table against every head the witness holds.

    ``witnessed`` is None when there is no witness: the chain may be whole, but nothing outside the
    database vouches that its newest entries are all there, so it is never called intact.
    """
    collected = list(entries)
    first = collected[0].seq if collected else None
    checkpoint = None
    if first is not None and first > 1:
        checkpoint = next(
            (
                e
                for e in reversed(collected)
                if e.action == CHECKPOINT and e.detail.get("through_seq") == first - 1
            ),
            None,
        )
    verifier = Verifier(key, witnessed, first, checkpoint)
    for entry in collected:
        if not verifier.add(entry):
            break
    return verifier.finish()


class Verifier:
    """``verify`` one entry at a time, keeping only the chain's head: a table of any length is checked
    as it streams by. ``first`` is the table's lowest sequence and ``checkpoint`` the last entry whose
    ``through_seq`` is just below it (the one that accounts for what was pruned), found beforehand.
    """

    def __init__(
        self, key: ChainKey, witnessed: list[Head] | None, first: int | None, checkpoint: AuditEntry | None
    ) -> None:
        self.chain = Chain(key)
        self.count = 0
        self.pruned_through = 0
        self.witnessed = witnessed
        self.by_seq: dict[int, bytes] = {}
        self.verdict: Verdict | None = None
        if witnessed and any(head.key_id not in (None, key.key_id) for head in witnessed):
            self.verdict = Verdict(Status.WRONG_KEY, 0)
            return
        for head in witnessed or []:
            if self.by_seq.setdefault(head.seq, head.entry_hash) != head.entry_hash:
                problem = BrokenLink(head.seq, "the witness holds two links for it")
                self.verdict = Verdict(Status.TAMPERED, 0, problem)
                return
        start = checkpoint_chain(checkpoint, key) if first is not None and first > 1 else None
        if start is not None:
            self.chain, self.pruned_through = start, start.head.seq
            if self.pruned_through in self.by_seq and not hmac.compare_digest(
                self.by_seq[self.pruned_through], start.head.entry_hash
            ):
                differs = "the checkpoint's link differs from the head the witness holds"
                self.verdict = Verdict(Status.TAMPERED, 0, BrokenLink(self.pruned_through, differs))
        elif first is not None and first > 1:
            missing = f"entries 1 to {first - 1} are missing and no checkpoint accounts for them"
            self.verdict = Verdict(Status.TAMPERED, 0, BrokenLink(1, missing))

    def add(self, entry: AuditEntry) -> bool:
        """Check the next entry; False once a verdict is reached early (the rest need not be read)."""
        if self.verdict is not None:
            return False
        chain = self.chain
        if not chain.add(entry):
            self.verdict = Verdict(Status.TAMPERED, self.count, chain.broken, plain_entries=chain.plain)
            return False
        self.count += 1
        if entry.seq in self.by_seq and not hmac.compare_digest(self.by_seq[entry.seq], entry.entry_hash):
            self.verdict = Verdict(
                Status.TAMPERED, self.count, BrokenLink(entry.seq, "it differs from the head the witness holds"),
                plain_entries=chain.plain,
            )  # fmt: skip
            return False
        return True

    def finish(self) -> Verdict:
        if self.verdict is not None:
            return self.verdict
        chain, count = self.chain, self.count
        if not self.by_seq:
            return Verdict(
                Status.UNANCHORED, count, plain_entries=chain.plain, pruned_through=self.pruned_through
            )
        last = max(self.by_seq)
        if last > chain.head.seq:
            problem = BrokenLink(
                chain.head.seq + 1, f"entries {chain.head.seq + 1} to {last} were witnessed and are gone"
            )
            return Verdict(Status.TAMPERED, count, problem, anchored_at=last, plain_entries=chain.plain)
        return Verdict(
            Status.INTACT,
            count,
            anchored_at=last,
            plain_entries=chain.plain,
            pruned_through=self.pruned_through,
        )


def checkpoint_chain(checkpoint: AuditEntry | None, key: ChainKey) -> Chain | None:
    """The chain as the checkpoint left it: from the link of the last entry it pruned. None without a
    readable one. The checkpoint is itself an entry of the chain, checked by key in the walk, so a
    forged or altered one is found there."""
    if checkpoint is None:
        return None
    try:
        through = int(checkpoint.detail["through_seq"])
        link = bytes.fromhex(str(checkpoint.detail["through_link"]))
    except (KeyError, TypeError, ValueError):
        return None
    keyed = checkpoint.detail.get("through_link_kind") == Link.KEYED.value
    return Chain(key, Head(through, link), keyed_seen=keyed)
