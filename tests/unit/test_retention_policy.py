"""Retention as data: the defaults, the rules a configured limit must keep, and the audit's checkpoint
as the verifier reads it."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.topics import CONSUMED_TOPICS, dead_letter_topic, settings_of
from services.common.retention import RULES, Kind, Policy, RetentionPolicyError, replay_horizon
from services.common.sealing import Shredding, ShredReason
from services.disclosure.domain.audit import (
    CHECKPOINT,
    GENESIS,
    AuditEntry,
    ChainKey,
    Head,
    Link,
    Status,
    keyed_link,
    verify,
)

KEY = ChainKey(os.urandom(32))
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_every_kind_has_a_default_and_the_inbox_outlasts_any_replay_the_topics_allow() -> None:
    assert set(RULES) == set(Kind)
    event_kept = settings_of(CONSUMED_TOPICS[0]).longest_kept
    dead_letter_kept = settings_of(dead_letter_topic(CONSUMED_TOPICS[0])).longest_kept
    policy = Policy()
    assert policy.limit(Kind.OUTBOX) >= event_kept
    assert replay_horizon(policy.limit(Kind.OUTBOX)) >= event_kept + dead_letter_kept + event_kept
    assert policy.limit(Kind.INBOX) >= replay_horizon(policy.limit(Kind.OUTBOX))
    # A tip's casework outlasts any event about it published before the shred, and who opened its
    # data is kept as long past the shred as the identifying data is kept past the last report.
    assert policy.limit(Kind.CASEWORK) == event_kept + dead_letter_kept
    assert policy.limit(Kind.ACCESS) == policy.limit(Kind.IDENTIFYING)
    # The provider side's audit outlives the requests and directory records it speaks of.
    assert policy.limit(Kind.PROVIDER_AUDIT) >= max(
        policy.limit(Kind.PROVIDER_REQUESTS), policy.limit(Kind.DIRECTORY)
    )


@pytest.mark.parametrize(
    ("days", "field"),
    [
        ({"inbox": 30}, "LANTERN_RETENTION_DAYS.inbox"),
        ({"outbox": 200}, "LANTERN_RETENTION_DAYS.inbox"),  # a longer outbox means later republishing
        ({"outbox": 3}, "LANTERN_RETENTION_DAYS.outbox"),
        ({"audit": 365}, "LANTERN_RETENTION_DAYS.audit"),
        ({"names": 10}, "LANTERN_RETENTION_DAYS.names"),
        ({"journeys": -1}, "LANTERN_RETENTION_DAYS.journeys"),
        ({"casework": 0}, "LANTERN_RETENTION_DAYS.casework"),
        ({"journeys": "soon"}, "LANTERN_RETENTION_DAYS.journeys"),
        ({"provider_audit": 365}, "LANTERN_RETENTION_DAYS.provider_audit"),  # below its trigger's floor
        ({"directory": 3000}, "LANTERN_RETENTION_DAYS.provider_audit"),  # the audit outlives what it records
    ],
)
def test_a_limit_that_breaks_a_rule_is_refused_naming_the_kind(days: dict[str, object], field: str) -> None:
    with pytest.raises(RetentionPolicyError, match=field.replace(".", r"\.")):
        Policy.of(days)  # type: ignore[arg-type]


def test_a_configured_limit_replaces_only_its_own_default() -> None:
    policy = Policy.from_text('{"identifying": 365, "inbox": 120}')
    assert policy.limit(Kind.IDENTIFYING) == timedelta(days=365)
    assert policy.limit(Kind.INBOX) == timedelta(days=120)
    assert policy.limit(Kind.JOURNEYS) == RULES[Kind.JOURNEYS].limit
    with pytest.raises(RetentionPolicyError, match="JSON object"):
        Policy.from_text("[1]")


def test_only_retention_may_shred_without_an_admins_token() -> None:
    assert Shredding(ShredReason.RETENTION, job="retention").token_id is None
    with pytest.raises(ValueError, match="token"):
        Shredding(ShredReason.SAFETY, job="retention")
    with pytest.raises(ValueError, match="token"):
        Shredding(ShredReason.RETENTION)


def append(
    entries: list[AuditEntry], action: str = "decided", detail: dict[str, object] | None = None
) -> None:
    seq = entries[-1].seq + 1 if entries else 1
    previous = entries[-1].entry_hash if entries else GENESIS
    at, body = START + timedelta(seconds=seq), detail or {"basis": "consent"}
    tip = uuid.UUID(int=0) if action == CHECKPOINT else uuid.UUID(int=seq)
    link = keyed_link(KEY, previous, seq, tip, action, body, "system:disclosure", at)
    entries.append(AuditEntry(seq, tip, action, body, "system:disclosure", at, previous, link, Link.KEYED))


def pruned(through: int, length: int = 10) -> tuple[list[AuditEntry], list[Head]]:
    """A chain of ``length`` entries, a checkpoint appended for 1 to ``through``, and those pruned."""
    entries: list[AuditEntry] = []
    for _ in range(length):
        append(entries)
    last = entries[through - 1]
    detail = {
        "through_seq": through,
        "through_link": last.entry_hash.hex(),
        "through_link_kind": "hmac-sha256",
    }
    append(entries, CHECKPOINT, detail)
    witnessed = [Head(seq, entries[seq - 1].entry_hash, KEY.key_id) for seq in (3, length, length + 1)]
    return entries[through:], witnessed


def test_a_chain_pruned_behind_its_checkpoint_verifies_from_the_checkpoints_link() -> None:
    kept, witnessed = pruned(through=5)
    verdict = verify(kept, KEY, witnessed)
    assert (verdict.status, verdict.entries, verdict.pruned_through, verdict.anchored_at) == (
        Status.INTACT, 6, 5, 11,
    )  # fmt: skip


def test_entries_dropped_beyond_the_checkpoint_or_without_one_are_tampering() -> None:
    kept, witnessed = pruned(through=5)
    assert verify(kept[1:], KEY, witnessed).status is Status.TAMPERED, "one more entry than it accounts for"
    whole: list[AuditEntry] = []
    for _ in range(10):
        append(whole)
    verdict = verify(whole[4:], KEY, [Head(10, whole[9].entry_hash, KEY.key_id)])
    assert verdict.status is Status.TAMPERED and verdict.problem is not None and verdict.problem.seq == 1


def test_a_checkpoint_forged_without_the_key_does_not_verify() -> None:
    kept, witnessed = pruned(through=5)
    forged_key = ChainKey(os.urandom(32))
    checkpoint = kept[-1]
    forged = AuditEntry(
        checkpoint.seq, checkpoint.tip_id, checkpoint.action, {**checkpoint.detail, "through_seq": 6},
        checkpoint.actor, checkpoint.at, checkpoint.previous_hash,
        keyed_link(forged_key, checkpoint.previous_hash, checkpoint.seq, checkpoint.tip_id, checkpoint.action,
                   {**checkpoint.detail, "through_seq": 6}, checkpoint.actor, checkpoint.at),
    )  # fmt: skip
    assert verify([*kept[1:-1], forged], KEY, witnessed[:2]).status is Status.TAMPERED
