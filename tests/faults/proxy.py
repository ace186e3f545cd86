"""A TCP proxy that injects network faults between the services and PostgreSQL or the broker.

Each direction of each connection is pumped chunk by chunk; the proxy can delay every chunk, drop a
connection at random (loss on TCP is a reset connection, not a missing byte: the kernel retransmits),
or cut every connection and refuse new ones for a while (a partition).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    delay_seconds: float = 0.0
    reset_probability: float = 0.0
    """Per chunk: the chance that the connection carrying it is reset."""
    cut: bool = False


@dataclass
class Proxy:
    listen_port: int
    target_host: str
    target_port: int
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    _server: asyncio.Server | None = None
    _connections: set[asyncio.StreamWriter] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.reset_all()

    def reset_all(self) -> None:
        for writer in list(self._connections):
            writer.transport.abort()
        self._connections.clear()

    def cut(self) -> None:
        """Refuse new connections and reset every open one, until ``heal``."""
        self.faults.cut = True
        self.reset_all()

    def heal(self) -> None:
        self.faults = Faults()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.cut:
            writer.transport.abort()
            return
        try:
            if self.target_host.startswith("/"):  # a Unix socket's path (the embedded PostgreSQL's)
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.target_host)
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
        except OSError:
            writer.transport.abort()
            return
        self._connections.update((writer, upstream_writer))
        pumps = {
            asyncio.create_task(self._pump(reader, upstream_writer)),
            asyncio.create_task(self._pump(upstream_reader, writer)),
        }
        try:
            # Either side closing closes the other: a client waits for its server to hang up.
            _done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pending:
                pump.cancel()
        finally:
            for end in (writer, upstream_writer):
                self._connections.discard(end)
                end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                if self.faults.delay_seconds:
                    await asyncio.sleep(self.faults.delay_seconds)
                if self.faults.cut or self._random.random() < self.faults.reset_probability:
                    break
                writer.write(chunk)
                await writer.drain()


class ProxyThread:
    """A proxy on an event loop of its own thread, so that pumping every broker and database round
    trip never waits behind the clients that drive the load (and the reverse); controlled from any
    thread.
    """

    def __init__(self, listen_port: int, target_host: str, target_port: int, seed: int = 0) -> None:
        self.proxy = Proxy(listen_port, target_host, target_port, seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name=f"proxy-{listen_port}"
        )

    @property
    def listen_port(self) -> int:
        return self.proxy.listen_port

    def start(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def set_faults(self, faults: Faults) -> None:
        self._loop.call_soon_threadsafe(setattr, self.proxy, "faults", faults)

    def cut(self) -> None:
        self._loop.call_soon_threadsafe(self.proxy.cut)

    def heal(self) -> None:
        self._loop.call_soon_threadsafe(self.proxy.heal)
