"""Sign-in limits: failed sign-ins per client address, and sessions opened per person, per window.

Tokens have no user name to count failures against, so an account is protected by the address
limit (a guesser is stopped after a few wrong tokens) and by a cap on the sessions a person opens
(a stolen token cannot open sessions without end). Keys are reduced at once to an HMAC under a
secret drawn for the current window; the secret and every count are dropped when it ends.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WindowCounter:
    limit: int
    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    _window: int = field(default=-1, init=False)
    _secret: bytes = field(default=b"", init=False)
    _counts: dict[bytes, int] = field(default_factory=dict, init=False)

    def _key(self, name: str) -> bytes:
        window = int(self.clock() // self.window_seconds)
        if window != self._window:
            self._window, self._secret, self._counts = window, os.urandom(32), {}
        return hmac.new(self._secret, name.encode(), hashlib.sha256).digest()

    def wait(self, name: str) -> float | None:
        """None while ``name`` is under the limit, else the seconds until the window ends."""
        key = self._key(name)
        if self._counts.get(key, 0) < self.limit:
            return None
        return max(1.0, math.ceil((self._window + 1) * self.window_seconds - self.clock()))

    def count(self, name: str) -> None:
        key = self._key(name)
        self._counts[key] = self._counts.get(key, 0) + 1


@dataclass
class SignInLimits:
    failures_per_address: WindowCounter
    sessions_per_person: WindowCounter

    @classmethod
    def of(cls, failures: int, sessions: int, window_seconds: float) -> SignInLimits:
        return cls(WindowCounter(failures, window_seconds), WindowCounter(sessions, window_seconds))
