"""The embedded PostgreSQL as `lantern up`'s own child, started for real: it has its own session (a
Ctrl-C at the terminal reaches `lantern up`, not PostgreSQL), and a second start on the same data
directory while the first one's owner lives is refused rather than stopping the first one's server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lantern.infra import EmbeddedPostgres


def test_a_second_start_on_a_live_home_is_refused_and_the_first_server_keeps_running(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "pg", dies_with_this_process=True).start()
    try:
        assert first.running()
        pid = first.pid
        assert pid is not None and os.getsid(pid) == pid != os.getsid(0), (
            "the postmaster leads its own session"
        )
        with pytest.raises(RuntimeError, match="another running process"):
            EmbeddedPostgres(tmp_path / "pg", dies_with_this_process=True).start()
        assert first.running() and first.pid == pid
    finally:
        first.stop()
    assert not first.running()
