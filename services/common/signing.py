"""Signed events: only the rightful service speaks on each topic.

Each service signs every message it publishes with its own Ed25519 key; every consumer checks the
signature, and that the signer may write the topic (``schemas.topics.PRODUCERS``), before it reads
anything else of the message. The broker is not trusted: Tansu enforces no ACLs, and even with ACLs
whoever holds a client credential could write any event.

What is signed is the exact bytes on the wire, not a re-serialisation: a consumer verifies what it
received, so there is no canonical form to disagree on. The bytes are bound to the topic (a real
event copied to another topic does not verify), the record key (which orders a tip's events in the
inbox) and the signer's name (a header that could otherwise be swapped), each length-prefixed so
that no two inputs share an encoding. The envelope (event id, producer, tip) is inside the payload,
so it is covered too; the consumer also refuses an event whose ``producer`` is not its signer.

Signatures are made where the outbox row is written (``messaging.write_outbox``), in the process
that holds the key; the relay sends the stored headers as they are. So the outbox is not a signing
oracle: a row slipped into the table by someone who can write the database, but not read the
service's key, leaves unsigned and is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.topics import SIGNED_BY_AGENCY, producers_of

SIGNER_HEADER = "lantern-signer"
SIGNATURE_HEADER = "lantern-signature"
SIGNATURE_CONTEXT = b"lantern/event-signature/v1"
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
MAX_SIGNER_LENGTH = 40
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class SigningKeyError(Exception):
    """The signing keys are not configured, or not readable as Ed25519 keys."""


class Unauthenticated(Exception):
    """A message that no allowed producer signed. Its text names a check, never a value."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}:{rule}")
        self.field = field
        self.rule = rule


def signing_input(topic: str, key: bytes | None, signer: str, payload: bytes) -> bytes:
    """The bytes a signature covers: context, topic, record key, signer and payload, each with its length."""
    parts = (SIGNATURE_CONTEXT, topic.encode(), key or b"", signer.encode(), payload)
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict base64url: the lenient decoder would skip stray characters and accept the rest."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))


class EventSigner:
    """Signs what one service publishes, with that service's private key."""

    def __init__(self, service: str, private_key: Ed25519PrivateKey) -> None:
        self.service = service
        self._private_key = private_key

    def public_key(self) -> Ed25519PublicKey:
        return self._private_key.public_key()

    def headers(self, topic: str, key: bytes | None, payload: bytes) -> dict[str, str]:
        """The headers that make ``payload`` on ``topic`` under ``key`` this service's word."""
        signature = self._private_key.sign(signing_input(topic, key, self.service, payload))
        return {SIGNER_HEADER: self.service, SIGNATURE_HEADER: _b64(signature)}


@dataclass(frozen=True, slots=True)
class Verified:
    """Who signed a message; None for a topic whose messages services do not sign (agency topics)."""

    signer: str | None


def _single(headers: Sequence[tuple[str, bytes]], name: str) -> bytes | None:
    values = [value for header, value in headers if header == name]
    if len(values) > 1:
        raise Unauthenticated(f"<{name}>", "repeated")
    return values[0] if values else None


class EventVerifier:
    """Checks that a message was signed by a service that may write its topic."""

    def __init__(self, public_keys: Mapping[str, Sequence[Ed25519PublicKey]]) -> None:
        self.public_keys = {service: tuple(keys) for service, keys in public_keys.items()}

    def verify(
        self, topic: str, key: bytes | None, payload: bytes, headers: Iterable[tuple[str, bytes | None]]
    ) -> Verified:
        """The signer of a message that passes; raises ``Unauthenticated`` naming the check it fails."""
        allowed = producers_of(topic)
        if allowed == (SIGNED_BY_AGENCY,):
            # Liaison units sign with their agency's key, checked against the package's recipient by
            # the consumer of acknowledgements; services' keys say nothing about them.
            return Verified(None)
        present = [(name, value) for name, value in headers if value is not None]
        signer_raw = _single(present, SIGNER_HEADER)
        signature_raw = _single(present, SIGNATURE_HEADER)
        if signer_raw is None or signature_raw is None:
            raise Unauthenticated("<signature>", "missing")
        try:
            signer = signer_raw.decode("ascii")
            signature = _unb64(signature_raw.decode("ascii"))
        except (UnicodeDecodeError, binascii.Error, ValueError) as error:
            raise Unauthenticated("<signature>", "malformed") from error
        if len(signer) > MAX_SIGNER_LENGTH or len(signature) != SIGNATURE_BYTES:
            raise Unauthenticated("<signature>", "malformed")
        if signer not in allowed:
            raise Unauthenticated("<signer>", "not_a_producer_of_topic")
        message = signing_input(topic, key, signer, payload)
        for public_key in self.public_keys.get(signer, ()):
            try:
                public_key.verify(signature, message)
            except InvalidSignature:
                continue
            return Verified(signer)
        raise Unauthenticated("<signature>", "invalid")


# Key material: a private key per service (PEM, PKCS#8, as `openssl genpkey -algorithm ed25519`
# writes it) and one JSON document of every service's public keys, a list per service so that a
# new key can be trusted before the service starts signing with it.


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64url: what the public keys document lists."""
    return _b64(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def write_private_key(path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write ``private_key`` to a new file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(private_key_pem(private_key))


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"the signing key file {path} is not readable as a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the signing key in {path} is not an Ed25519 key")
    return key


def public_keys_document(public_keys: Mapping[str, Sequence[Ed25519PublicKey]]) -> str:
    return json.dumps(
        {service: [public_key_text(key) for key in keys] for service, keys in sorted(public_keys.items())},
        indent=2,
    )


def parse_public_keys(text: str) -> dict[str, tuple[Ed25519PublicKey, ...]]:
    """Read ``{"service": ["<base64url raw key>", ...], ...}``; refuse anything else whole."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise SigningKeyError("the public keys document is not JSON") from error
    if not isinstance(document, dict):
        raise SigningKeyError("the public keys document must map each service to a list of keys")
    keys: dict[str, tuple[Ed25519PublicKey, ...]] = {}
    for service, listed in document.items():
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise SigningKeyError(f"the public keys of {service} must be a list of base64url texts")
        try:
            raw = [_unb64(item) for item in listed]
        except (binascii.Error, ValueError) as error:
            raise SigningKeyError(f"a public key of {service} is not base64url") from error
        if any(len(item) != PUBLIC_KEY_BYTES for item in raw):
            raise SigningKeyError(f"a public key of {service} is not 32 bytes")
        keys[service] = tuple(Ed25519PublicKey.from_public_bytes(item) for item in raw)
    return keys


def configured_signer(service: str, key_file: Path | None) -> EventSigner:
    """The service's signer from ``LANTERN_SIGNING_KEY_FILE``; refuse to run without one.

    A ``{service}`` in the path is replaced by the service's name, so one configuration can name
    each service's own file; each process still opens only its own.
    """
    if key_file is None:
        raise SigningKeyError("set LANTERN_SIGNING_KEY_FILE to the service's Ed25519 private key")
    return EventSigner(service, read_private_key(Path(str(key_file).replace("{service}", service))))


def configured_verifier(public_keys_file: Path | None) -> EventVerifier:
    """The verifier from ``LANTERN_SIGNING_PUBLIC_KEYS_FILE``; refuse to run without one."""
    if public_keys_file is None:
        raise SigningKeyError("set LANTERN_SIGNING_PUBLIC_KEYS_FILE to the services' public keys")
    try:
        text = public_keys_file.read_text(encoding="utf-8")
    except OSError as error:
        raise SigningKeyError(f"the public keys file {public_keys_file} is not readable") from error
    return EventVerifier(parse_public_keys(text))


def generate_key_files(directory: Path, services: Iterable[str]) -> Path:
    """Make a private key file for each of ``services`` that has none, and list each service's public
    key in the public keys document; return its path.

    Keys the document already lists stay listed: after a rotation (a key file moved aside, a new one
    made) events signed with the old key, still in an outbox, must verify when published again.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = directory / "public-keys.json"
    listed = parse_public_keys(document.read_text(encoding="utf-8")) if document.exists() else {}
    public: dict[str, list[Ed25519PublicKey]] = {service: list(keys) for service, keys in listed.items()}
    for service in services:
        path = directory / f"{service}.key"
        if not path.exists():
            write_private_key(path, generate_private_key())
        current = read_private_key(path).public_key()
        known = public.setdefault(service, [])
        if public_key_text(current) not in {public_key_text(key) for key in known}:
            known.append(current)
    document.write_text(public_keys_document(public) + "\n", encoding="utf-8")
    return document
