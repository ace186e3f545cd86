"""Workbench sessions: what the browser holds, what the server keeps, and when a session ends.

The browser holds one random secret in an HttpOnly cookie. The server keeps the secret's SHA-256
and the person's staff token sealed under a key derived from the secret, so a copy of the sessions
table opens no token. The CSRF token is derived from the secret too: nothing more to store, and it
dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """A session ends after ``idle`` without a request, and after ``absolute`` whatever happens."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def session_hash(secret: str) -> bytes:
    return hashlib.sha256(b"lantern/workbench/session/v1:" + secret.encode()).digest()


def _key(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


def seal_token(secret: str, token: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(secret, b"lantern/workbench/token/v1")).encrypt(nonce, token.encode(), None)


def open_token(secret: str, sealed: bytes) -> str:
    aead = AESGCM(_key(secret, b"lantern/workbench/token/v1"))
    return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None).decode()


def csrf_token(secret: str) -> str:
    return hmac.new(_key(secret, b"lantern/workbench/csrf/v1"), b"csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(csrf_token(secret), offered)


def alive(now: datetime, last_seen_at: datetime, expires_at: datetime, lifetimes: Lifetimes) -> bool:
    return now < expires_at and now < last_seen_at + lifetimes.idle
