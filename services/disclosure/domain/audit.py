"""The disclosure audit as a hash chain: each entry's hash covers its content and the previous hash,
so changing, removing or reordering any entry breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = bytes(32)


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


def chain_hash(
    previous_hash: bytes,
    seq: int,
    tip_id: uuid.UUID,
    action: str,
    detail: dict[str, Any],
    actor: str,
    at: datetime,
) -> bytes:
    canonical = json.dumps(
        {
            "seq": seq,
            "tip_id": str(tip_id),
            "action": action,
            "detail": detail,
            "actor": actor,
            "at": at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(previous_hash + canonical.encode()).digest()


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    problem: str


def first_broken_link(entries: Iterable[AuditEntry]) -> BrokenLink | None:
    """The first entry, in sequence order, whose link to the chain does not hold; None when all do."""
    expected_seq, previous = 1, GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(expected_seq, f"entry {expected_seq} is missing")
        if entry.previous_hash != previous:
            return BrokenLink(entry.seq, "its previous hash is not the hash of the entry before")
        recomputed = chain_hash(
            entry.previous_hash, entry.seq, entry.tip_id, entry.action, entry.detail, entry.actor, entry.at
        )
        if recomputed != entry.entry_hash:
            return BrokenLink(entry.seq, "its content does not match its hash")
        expected_seq, previous = entry.seq + 1, entry.entry_hash
    return None
