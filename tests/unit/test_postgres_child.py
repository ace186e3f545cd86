"""The embedded PostgreSQL `lantern up` runs as its own child reads the postmaster's lock file while
the postmaster is still writing it (a restart under the fault suite failed on exactly that)."""

from __future__ import annotations

import os
from pathlib import Path

from lantern.postgres_child import _postmaster_info

LOCK_LINES = [str(os.getpid()), "/data", "1764547200", "5432", "/sock", "", "  0  1", "ready"]


def test_a_lock_file_still_being_written_reads_as_no_postmaster_yet(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text("\n".join(LOCK_LINES[:7]) + "\n")
    assert _postmaster_info(tmp_path) is None


def test_a_complete_lock_file_names_the_postmaster_and_its_status(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text("\n".join(LOCK_LINES) + "\n")
    info = _postmaster_info(tmp_path)
    assert info is not None and info.pid == os.getpid() and info.status == "ready"
