"""One-time follow-up codes: 80 random bits, kept only as a salted scrypt hash."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from services.common.ids import ALPHABET

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
MAX_FAILURES = 5
LOCK_MINUTES = 15
# Compared against when the reference is unknown, so both failures cost one scrypt.
DECOY_SALT = b"lantern-decoy-salt"


def new_code() -> str:
    """Draw a code such as ``K7QM-3XD9-PA2C-W8RT`` (80 random bits)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(symbols[i : i + 4] for i in range(0, 16, 4))


def normalise(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")[:64]


def hash_code(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(normalise(code).encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


def new_salted_hash(code: str) -> tuple[bytes, bytes]:
    salt = os.urandom(SALT_BYTES)
    return salt, hash_code(code, salt)


def matches(code: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_code(code, salt), expected)


def reference_key(reference: str) -> bytes:
    """Key the attempt counter by reference without keeping the reference text."""
    return hashlib.sha256(b"lantern-follow-up:" + reference.strip().upper().encode()[:64]).digest()
