"""Idempotency keys of submissions: kept 24 hours, as HMACs under a key that is not in the database.

A plain digest of a submission lets anyone who reads the table test a guess ("did someone report
this address?"); an HMAC does not without the key, which comes from configuration.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RETENTION = timedelta(hours=24)
SECRET_BYTES = 32


def derived_secret(kek: bytes) -> bytes:
    """A fingerprint key of its own, derived from the KEK, when none is configured."""
    return HKDF(
        algorithm=hashes.SHA256(), length=SECRET_BYTES, salt=None, info=b"lantern intake idempotency v1"
    ).derive(kek)


@dataclass(frozen=True, slots=True)
class Fingerprints:
    secret: bytes

    def key(self, scope: str, idempotency_key: str) -> bytes:
        """The stored form of a caller's key: who may replay it (public, or a token) and the key."""
        return self._mac(b"key", f"{scope}\x00{idempotency_key}".encode())

    def submission(self, canonical: str) -> bytes:
        return self._mac(b"submission", canonical.encode())

    def _mac(self, purpose: bytes, message: bytes) -> bytes:
        return hmac.new(self.secret, purpose + b"\x00" + message, hashlib.sha256).digest()
