import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.disclosure.domain.audit import GENESIS, AuditEntry, chain_hash, first_broken_link

TIP = uuid.uuid4()
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def chain(length: int) -> list[AuditEntry]:
    entries, previous = [], GENESIS
    for seq in range(1, length + 1):
        detail = {"basis": "consent", "fields": ["location", "situation"]}
        at = START + timedelta(seconds=seq)
        digest = chain_hash(previous, seq, TIP, "decided", detail, "system:disclosure", at)
        entries.append(AuditEntry(seq, TIP, "decided", detail, "system:disclosure", at, previous, digest))
        previous = digest
    return entries


def test_an_untouched_chain_has_no_broken_link() -> None:
    assert first_broken_link(chain(5)) is None


def test_a_changed_entry_is_the_first_broken_link() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], detail={"basis": "child_protection"})
    broken = first_broken_link(entries)
    assert broken is not None and broken.seq == 3


def test_a_removed_entry_is_reported_as_missing() -> None:
    entries = chain(5)
    del entries[1]
    broken = first_broken_link(entries)
    assert broken is not None and (broken.seq, broken.problem) == (2, "entry 2 is missing")


def test_an_entry_rehashed_after_a_change_still_breaks_the_next_link() -> None:
    entries = chain(4)
    forged = replace(entries[1], actor="supervisor:someone-else")
    entries[1] = replace(
        forged,
        entry_hash=chain_hash(
            forged.previous_hash, 2, TIP, forged.action, forged.detail, forged.actor, forged.at
        ),
    )
    broken = first_broken_link(entries)
    assert broken is not None and broken.seq == 3
