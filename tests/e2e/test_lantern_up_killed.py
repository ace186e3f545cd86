"""`lantern up` killed with SIGKILL can stop nothing itself: every process it started, the embedded
PostgreSQL's postmaster and backends among them, dies with it (lantern/children.py)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from lantern.launcher import launch

pytestmark = [pytest.mark.e2e]


@pytest.mark.timeout(300)
def test_lantern_up_killed_with_sigkill_leaves_none_of_its_children_running(tmp_path: Path) -> None:
    # Embedded PostgreSQL and the broker as `lantern up` starts them by itself.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    environment.setdefault("LANTERN_KAFKA_SESSION_TIMEOUT_MS", "3000")
    stack = launch(tmp_path / ".lantern", environment)
    started: list[psutil.Process] = []
    try:
        started = psutil.Process(stack.process.pid).children(recursive=True)
        postmaster = psutil.Process(stack.postgres_pid())
        started += [postmaster, *postmaster.children(recursive=True)]
        commands = [" ".join(process.cmdline()) for process in started]
        assert any("tansu" in command for command in commands)
        assert sum("-m services." in command for command in commands) == 7
        assert len(postmaster.children()) > 1, "the postmaster's backends and workers"

        os.kill(stack.process.pid, signal.SIGKILL)
        stack.process.wait()
        _gone, alive = psutil.wait_procs(started, timeout=30)
        assert not alive, [f"{process.pid}: {process.name()}" for process in alive]
    finally:
        for process in started:
            if process.is_running():
                process.kill()
