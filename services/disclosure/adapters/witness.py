"""The default witness of the audit chain's heads: a file outside the database, one JSON line per head.

Each head is appended with ``O_APPEND`` (one ``write`` of one short line, so two processes never
interleave) and made durable with ``fsync`` before the append counts. Production points the
witness port at write-once storage instead; a file is only as safe as the account that can rewrite it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from schemas.envelope import utc_now
from services.disclosure.domain.audit import Head


class WitnessUnreadable(Exception):
    """A line of the witness is not a head: something other than Lantern wrote to it."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} of the witness is not a head")
        self.line = line


TAIL_BYTES = 64 * 1024


class FileWitness:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def append(self, head: Head) -> None:
        await asyncio.to_thread(self._append, head)

    async def heads(self) -> list[Head] | None:
        """Every head witnessed, in the order written; None when there is no witness at all."""
        return await asyncio.to_thread(self._read)

    async def last(self) -> Head | None:
        """The witnessed head with the highest sequence; None when none is.

        Heads are appended in sequence order, so the file's tail holds the last one: the anchor asks
        for it after every commit, and reading a witness that grows for ever each time stalled the
        service (``verify`` still reads every head).
        """
        tail = await asyncio.to_thread(self._tail)
        if tail:
            return max(tail, key=lambda head: head.seq)
        heads = await self.heads()
        return max(heads, key=lambda head: head.seq) if heads else None

    def _tail(self, size: int = TAIL_BYTES) -> list[Head]:
        """The heads in the last ``size`` bytes (complete lines only); empty when none reads there."""
        try:
            with self.path.open("rb") as file:
                end = file.seek(0, os.SEEK_END)
                file.seek(max(0, end - size))
                data = file.read()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")[1:-1] if end > size else data.split(b"\n")[:-1]
        heads = []
        for line in lines:
            try:
                record = json.loads(line)
                heads.append(Head(int(record["seq"]), bytes.fromhex(record["hash"]), record.get("key")))
            except (ValueError, KeyError, TypeError):
                return []  # let the full read say which line is unreadable
        return heads

    def _append(self, head: Head) -> None:
        line = json.dumps(
            {"seq": head.seq, "hash": head.entry_hash.hex(), "key": head.key_id, "at": utc_now().isoformat()},
            separators=(",", ":"),
        )
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            self._sync_directory()

    def _sync_directory(self) -> None:
        """Make the new file's name as durable as its first line."""
        descriptor = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _read(self) -> list[Head] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        lines = text.split("\n")
        # A crash can tear only the last write, which then has no newline: it was never a head.
        complete = lines[:-1]
        heads = []
        for number, line in enumerate(complete, start=1):
            try:
                record = json.loads(line)
                heads.append(Head(int(record["seq"]), bytes.fromhex(record["hash"]), record.get("key")))
            except (ValueError, KeyError, TypeError):
                raise WitnessUnreadable(number) from None
        return heads
