import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.disclosure.domain.audit import (
    GENESIS,
    AuditEntry,
    ChainKey,
    Head,
    Link,
    Status,
    first_broken_link,
    keyed_link,
    plain_link,
    verify,
)

TIP = uuid.uuid4()
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KEY = ChainKey(os.urandom(32))


def chain(length: int, key: ChainKey = KEY, plain: int = 0) -> list[AuditEntry]:
    """``length`` entries, the first ``plain`` of them written before the audit had a key."""
    entries, previous = [], GENESIS
    for seq in range(1, length + 1):
        detail = {"basis": "consent", "fields": ["location", "situation"]}
        at = START + timedelta(seconds=seq)
        if seq <= plain:
            link, digest = (
                Link.PLAIN,
                plain_link(previous, seq, TIP, "decided", detail, "system:disclosure", at),
            )
        else:
            link, digest = (
                Link.KEYED,
                keyed_link(key, previous, seq, TIP, "decided", detail, "system:disclosure", at),
            )
        entries.append(
            AuditEntry(seq, TIP, "decided", detail, "system:disclosure", at, previous, digest, link)
        )
        previous = digest
    return entries


def heads(entries: list[AuditEntry], *seqs: int) -> list[Head]:
    return [Head(seq, entries[seq - 1].entry_hash, KEY.key_id) for seq in seqs]


def rehashed_as_an_owner_would(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The chain recomputed with plain SHA-256, the best a database owner without the key can do."""
    forged, previous = [], GENESIS
    for entry in entries:
        fields = (previous, entry.seq, entry.tip_id, entry.action, entry.detail, entry.actor, entry.at)
        digest = plain_link(*fields)
        forged.append(replace(entry, previous_hash=previous, entry_hash=digest))
        previous = digest
    return forged


def test_an_untouched_chain_has_no_broken_link() -> None:
    assert first_broken_link(chain(5), KEY) is None


def test_a_changed_entry_is_the_first_broken_link() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], detail={"basis": "child_protection"})
    broken = first_broken_link(entries, KEY)
    assert broken is not None and broken.seq == 3


def test_a_removed_entry_is_reported_as_missing() -> None:
    entries = chain(5)
    del entries[1]
    broken = first_broken_link(entries, KEY)
    assert broken is not None and (broken.seq, broken.problem) == (2, "entry 2 is missing")


def test_a_chain_recomputed_with_plain_hashes_after_a_change_breaks_at_the_first_keyed_link() -> None:
    entries = chain(4)
    entries[1] = replace(entries[1], actor="supervisor:someone-else")
    broken = first_broken_link(rehashed_as_an_owner_would(entries), KEY)
    assert broken is not None and broken.seq == 1
    assert broken.problem == "its link does not verify under the audit key"


def test_a_chain_recomputed_under_another_key_does_not_verify() -> None:
    broken = first_broken_link(chain(3, key=ChainKey(os.urandom(32))), KEY)
    assert broken is not None and broken.seq == 1


def test_entries_from_before_the_key_verify_when_they_come_first() -> None:
    verdict = verify(chain(5, plain=2), KEY, heads(chain(5, plain=2), 5))
    assert (verdict.status, verdict.entries, verdict.plain_entries) == (Status.INTACT, 5, 2)


def test_an_unkeyed_link_after_keyed_ones_is_tampering() -> None:
    entries = chain(3)
    previous, at = entries[2].entry_hash, START + timedelta(seconds=4)
    digest = plain_link(previous, 4, TIP, "decided", {}, "system:disclosure", at)
    entries.append(AuditEntry(4, TIP, "decided", {}, "system:disclosure", at, previous, digest, Link.PLAIN))
    broken = first_broken_link(entries, KEY)
    assert broken is not None and (broken.seq, broken.problem) == (4, "an unkeyed link after keyed ones")


def test_a_chain_matching_its_last_witnessed_head_is_intact() -> None:
    entries = chain(5)
    verdict = verify(entries, KEY, heads(entries, 1, 2, 3, 4, 5))
    assert (verdict.status, verdict.entries, verdict.anchored_at, verdict.unwitnessed) == (
        Status.INTACT,
        5,
        5,
        0,
    )


def test_entries_after_the_last_witnessed_head_still_verify_by_key_and_are_counted() -> None:
    entries = chain(5)
    verdict = verify(entries, KEY, heads(entries, 3))
    assert (verdict.status, verdict.anchored_at, verdict.unwitnessed) == (Status.INTACT, 3, 2)


def test_dropping_the_newest_entries_is_tampering_the_witness_shows() -> None:
    entries = chain(5)
    witnessed = heads(entries, 5)
    verdict = verify(entries[:4], KEY, witnessed)
    assert verdict.status is Status.TAMPERED and verdict.problem is not None
    assert (verdict.problem.seq, verdict.problem.problem) == (5, "entries 5 to 5 were witnessed and are gone")


def test_an_empty_table_with_witnessed_heads_is_tampering() -> None:
    verdict = verify([], KEY, heads(chain(2), 2))
    assert verdict.status is Status.TAMPERED


def test_a_chain_without_a_witness_is_unanchored_never_intact() -> None:
    assert verify(chain(3), KEY, None).status is Status.UNANCHORED
    assert verify(chain(3), KEY, []).status is Status.UNANCHORED
    assert verify([], KEY, None).status is Status.UNANCHORED


def test_a_broken_chain_is_tampering_even_without_a_witness() -> None:
    entries = chain(3)
    entries[0] = replace(entries[0], action="declined")
    assert verify(entries, KEY, None).status is Status.TAMPERED


def test_a_head_rewritten_in_the_table_differs_from_the_one_witnessed() -> None:
    entries, witnessed = chain(3), heads(chain(3), 3)
    rewritten = chain(3)
    rewritten[2] = replace(rewritten[2], detail={"basis": "none"})
    rewritten[2] = replace(
        rewritten[2],
        entry_hash=keyed_link(KEY, entries[1].entry_hash, 3, TIP, "decided", {"basis": "none"},
                              "system:disclosure", rewritten[2].at),
    )  # fmt: skip
    verdict = verify(rewritten, KEY, witnessed)
    assert verdict.status is Status.TAMPERED and verdict.problem is not None and verdict.problem.seq == 3


def test_a_witness_recorded_under_another_key_says_the_key_is_wrong_rather_than_tampered() -> None:
    other = ChainKey(os.urandom(32))
    entries = chain(2, key=other)
    verdict = verify(entries, KEY, [Head(2, entries[1].entry_hash, other.key_id)])
    assert verdict.status is Status.WRONG_KEY


def test_the_key_never_shows_in_its_representation() -> None:
    assert KEY.secret.hex() not in repr(KEY) and KEY.key_id in repr(KEY)
