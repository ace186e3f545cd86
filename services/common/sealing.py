"""Sealing identifying data: the only code that encrypts or decrypts it.

Key hierarchy: a key-encryption key (KEK) from configuration wraps one random 256-bit data key per
tip; the data key encrypts each identifying field with AES-256-GCM, the associated data binding the
ciphertext to its tip and field, so a sealed value copied onto another tip or field fails to open.
Wrapped data keys live in the ``keys`` schema. Shredding a tip deletes its wrapped key: every copy
of its sealed fields, in any table or on the broker, can then never be opened again.

Every unseal is written to ``keys.unseal_audit`` in the caller's transaction, and counted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    import asyncpg

SEALED_PREFIX = "sealed.v1."
KEY_BYTES = 32
NONCE_BYTES = 12


class SealingError(Exception):
    """A sealed value could not be opened: wrong key, wrong tip or field, or tampered with."""


class KeyConfigurationError(Exception):
    """No usable key-encryption key is configured."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise KeyConfigurationError("the key-encryption key must be 32 bytes")

    @property
    def kek_id(self) -> str:
        """Name the key without revealing it, so a rotation can tell old wraps from new."""
        return hashlib.sha256(b"lantern-kek-id:" + self.key).hexdigest()[:16]

    @classmethod
    def from_text(cls, text: str) -> KeyEncryptionKey:
        try:
            return cls(base64.urlsafe_b64decode(text.strip().encode() + b"=="))
        except (binascii.Error, ValueError) as error:
            raise KeyConfigurationError("the key-encryption key is not base64url text") from error

    @classmethod
    def from_file(cls, path: Path) -> KeyEncryptionKey:
        return cls.from_text(path.read_text(encoding="ascii"))

    @staticmethod
    def generate_text() -> str:
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip("=")


def _dek_associated_data(tip_id: uuid.UUID) -> bytes:
    return f"lantern/dek/v1/{tip_id}".encode()


def _field_associated_data(tip_id: uuid.UUID, field: str) -> bytes:
    return f"lantern/field/v1/{tip_id}/{field}".encode()


@dataclass(frozen=True)
class DataKey:
    """A tip's data key, in memory only while a transaction needs it."""

    tip_id: uuid.UUID
    key: bytes

    def seal(self, field: str, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(
            nonce, plaintext.encode(), _field_associated_data(self.tip_id, field)
        )
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, field: str, sealed: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise SealingError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :].encode() + b"==")
            plaintext = AESGCM(self.key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _field_associated_data(self.tip_id, field)
            )
        except (InvalidTag, binascii.Error, ValueError) as error:
            raise SealingError("the sealed value does not open with this tip's key and field") from error
        return plaintext.decode()


def wrap_data_key(kek: KeyEncryptionKey, data_key: DataKey) -> bytes:
    """Encrypt a data key under the KEK, bound to its tip."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek.key).encrypt(nonce, data_key.key, _dek_associated_data(data_key.tip_id))


def unwrap_data_key(kek: KeyEncryptionKey, tip_id: uuid.UUID, wrapped: bytes) -> DataKey:
    try:
        key = AESGCM(kek.key).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _dek_associated_data(tip_id)
        )
    except InvalidTag as error:
        raise SealingError("the tip's data key does not unwrap") from error
    return DataKey(tip_id, key)


def new_data_key(tip_id: uuid.UUID) -> DataKey:
    return DataKey(tip_id, AESGCM.generate_key(bit_length=256))


# Reads a tip's wrapped key and audits the reading in one round trip, as two statements would: the
# audit row says what the read found (a key, or none: shredded) in the same snapshot.
OPEN_AND_AUDIT = """
WITH found AS (SELECT kek_id, wrapped_key FROM keys.data_keys WHERE tip_id = $1),
audited AS (
  INSERT INTO keys.unseal_audit (tip_id, service, purpose, fields, outcome)
  SELECT $1, $2, $3, $4,
         CASE WHEN (SELECT wrapped_key FROM found) IS NULL THEN 'erased' ELSE 'unsealed' END
)
SELECT kek_id, wrapped_key FROM found
"""


class Keystore:
    """Creates, opens and shreds data keys in the ``keys`` schema, on the caller's connection."""

    def __init__(self, kek: KeyEncryptionKey, service: str) -> None:
        self.kek = kek
        self.service = service
        self.unseals: Counter[str] = Counter()

    async def create(self, connection: asyncpg.Connection, tip_id: uuid.UUID) -> DataKey:
        data_key = new_data_key(tip_id)
        await connection.execute(
            "INSERT INTO keys.data_keys (tip_id, kek_id, wrapped_key) VALUES ($1, $2, $3)",
            tip_id,
            self.kek.kek_id,
            wrap_data_key(self.kek, data_key),
        )
        return data_key

    async def open(
        self, connection: asyncpg.Connection, tip_id: uuid.UUID, *, purpose: str, fields: list[str]
    ) -> DataKey | None:
        """Unwrap a tip's data key for ``purpose``; None when the tip was shredded (erased)."""
        row = await connection.fetchrow(OPEN_AND_AUDIT, tip_id, self.service, purpose, fields)
        erased = row is None or row["wrapped_key"] is None
        self.unseals["erased" if erased else "unsealed"] += 1
        if erased:
            return None
        assert row is not None
        if row["kek_id"] != self.kek.kek_id:
            raise SealingError("the tip's data key is wrapped by another key-encryption key")
        return unwrap_data_key(self.kek, tip_id, row["wrapped_key"])


class ShredReason(StrEnum):
    """Why a tip's key was shredded: codes only, so the record never names anyone."""

    REPORTER_REQUEST = "reporter_request"
    SAFETY = "safety"
    LEGAL_ORDER = "legal_order"
    RETENTION = "retention"
    ENTERED_IN_ERROR = "entered_in_error"


@dataclass(frozen=True, slots=True)
class Shredding:
    """Who shreds (the admin's token and, through it, their person, or the retention job) and why."""

    reason: ShredReason
    token_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    job: str | None = None
    """The job that shreds when no person does: only retention, when identifying data expires."""

    def __post_init__(self) -> None:
        if self.token_id is None and not (self.reason is ShredReason.RETENTION and self.job):
            raise ValueError("a shred names the admin's token, or is the retention job's")


async def shred(connection: asyncpg.Connection, tip_id: uuid.UUID, shredding: Shredding) -> bool:
    """Delete a tip's data key for good, recording who and why; False when none was left to delete."""
    status: str = await connection.execute(
        "UPDATE keys.data_keys SET wrapped_key = NULL, shredded_at = now(), shredded_by_person = $2,"
        " shredded_by_token = $3, shred_reason = $4, shredded_by_job = $5"
        " WHERE tip_id = $1 AND wrapped_key IS NOT NULL",
        tip_id,
        shredding.person_id,
        shredding.token_id,
        shredding.reason.value,
        shredding.job,
    )
    return status.endswith(" 1")


def configured_kek(text: str | None, path: Path | None) -> KeyEncryptionKey:
    """The KEK from ``LANTERN_KEK`` (base64url) or ``LANTERN_KEK_FILE``; refuse to run without one."""
    if text:
        return KeyEncryptionKey.from_text(text)
    if path is not None:
        return KeyEncryptionKey.from_file(path)
    raise KeyConfigurationError("set LANTERN_KEK or LANTERN_KEK_FILE to the key-encryption key")
