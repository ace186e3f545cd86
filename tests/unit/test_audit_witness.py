"""The witness file's last head is read from its tail, whatever its length, and a torn write is no head."""

import hashlib
from pathlib import Path

from services.disclosure.adapters.witness import TAIL_BYTES, FileWitness
from services.disclosure.domain.audit import Head


def head(seq: int) -> Head:
    return Head(seq, hashlib.sha256(str(seq).encode()).digest(), "key-1")


async def test_the_last_head_of_a_long_witness_is_the_highest_sequence_written(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "witness.jsonl")
    for seq in range(1, 3000):
        witness._append(head(seq))
    assert (tmp_path / "witness.jsonl").stat().st_size > TAIL_BYTES
    last = await witness.last()
    assert last is not None and (last.seq, last.entry_hash) == (2999, head(2999).entry_hash)


async def test_a_torn_last_write_is_not_a_head_and_no_witness_has_none(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "witness.jsonl")
    assert await witness.last() is None
    witness._append(head(1))
    witness._append(head(2))
    with (tmp_path / "witness.jsonl").open("a") as file:
        file.write('{"seq": 3, "hash": "ab')
    last = await witness.last()
    assert last is not None and last.seq == 2
