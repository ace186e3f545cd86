"""A per-client limit for the public channel that stores no address.

The client address is reduced at once to an HMAC under a secret drawn for the current window; at the
end of the window the secret and every count are dropped, so nothing links a client across windows
and nothing about a client outlives the window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from services.common.client_address import TrustedProxies


@dataclass
class WindowRateLimiter:
    limit: int
    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    _window: int = field(default=-1, init=False)
    _secret: bytes = field(default=b"", init=False)
    _counts: dict[bytes, int] = field(default_factory=dict, init=False)

    def admit(self, client: str) -> float | None:
        """Count one request; None to admit it, else the seconds to wait before retrying."""
        now = self.clock()
        window = int(now // self.window_seconds)
        if window != self._window:
            self._window, self._secret, self._counts = window, os.urandom(32), {}
        key = hmac.new(self._secret, client.encode(), hashlib.sha256).digest()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count <= self.limit:
            return None
        return max(1.0, math.ceil((window + 1) * self.window_seconds - now))

    @property
    def tracked_clients(self) -> int:
        return len(self._counts)


@dataclass(frozen=True)
class ClientLimit:
    """A rate limit per client of a public route, the client known by the proxies believed."""

    limiter: WindowRateLimiter
    proxies: TrustedProxies

    def wait_for(self, request: Request) -> float | None:
        """Admit one request from its client; None to admit it, else the seconds to wait."""
        peer = request.client.host if request.client else None
        return self.limiter.admit(self.proxies.client_of(peer, request.headers.get("x-forwarded-for")))
