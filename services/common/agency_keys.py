"""The keys of the agencies that receive packages, and what they protect.

Each agency's liaison unit holds two private keys: an X25519 key that its packages are sealed to
(HPKE, RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) and an Ed25519 key
that signs its acknowledgements. Lantern keeps only the public halves (disclosure's
``agency_keys``), so a reader of an agency's topic without its private key learns the routing fields
and nothing else, and an acknowledgement counts only when the package's agency signed it.

The seal is bound to the package's routing fields (HPKE ``info``), so a ciphertext moved under
another package's header does not open. The sealed text is padded to a multiple of ``PADDING``
bytes, so its length says little about what the package carries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import ValidationError

from schemas.disclosure import (
    PACKAGE_SUITE,
    LawEnforcementPackageV2,
    LawEnforcementPackageV3,
    LiaisonAcknowledgementV2,
)

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
PADDING = 1024
AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class AgencyKeyError(Exception):
    """A key file or a public key that cannot be used; the message names what, never a key."""


class PackageUnreadable(Exception):
    """A sealed package that does not open with this agency's key (another agency's, or altered)."""


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: object, what: str, length: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))
    except (ValueError, TypeError):
        raise AgencyKeyError(f"{what}: not base64url") from None
    if len(raw) != length:
        raise AgencyKeyError(f"{what}: must be {length} bytes")
    return raw


def _agency(value: object) -> str:
    if not isinstance(value, str) or not AGENCY_ID.match(value):
        raise AgencyKeyError("agency_id: not an agency id")
    return value


@dataclass(frozen=True, slots=True)
class AgencyPublicKeys:
    """What Lantern registers for an agency: the key its packages are sealed to and the key that
    verifies its acknowledgements."""

    agency_id: str
    encryption: bytes
    signing: bytes

    @property
    def key_id(self) -> str:
        """A fingerprint of both keys and the agency: what a package and an acknowledgement name."""
        digest = hashlib.sha256(
            b"lantern agency key\n" + self.agency_id.encode() + self.encryption + self.signing
        )
        return "ak1-" + _encode(digest.digest()[:16])

    def to_json(self) -> str:
        return json.dumps(
            {
                "agency_id": self.agency_id,
                "key_id": self.key_id,
                "suite": PACKAGE_SUITE,
                "encryption_public_key": _encode(self.encryption),
                "signing_public_key": _encode(self.signing),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> AgencyPublicKeys:
        data = _object(text, "public key")
        keys = cls(
            _agency(data.get("agency_id")),
            _decode(data.get("encryption_public_key"), "encryption_public_key", 32),
            _decode(data.get("signing_public_key"), "signing_public_key", 32),
        )
        if "key_id" in data and data["key_id"] != keys.key_id:
            raise AgencyKeyError("key_id: does not match the keys")
        return keys


@dataclass(frozen=True, slots=True)
class RegisteredAgencyKey:
    """An agency key as Lantern registered it: current until ``retired_at``, when the next one came."""

    keys: AgencyPublicKeys
    retired_at: datetime | None = None

    def counts_for(self, sealed_at: datetime) -> bool:
        """Whether an acknowledgement signed with this key counts for a package sealed at ``sealed_at``.

        A liaison unit may acknowledge after its agency rotated keys, with the key the package was
        sealed to; a retired key never counts for a package sealed after its retirement.
        """
        return self.retired_at is None or sealed_at < self.retired_at


@dataclass(frozen=True, slots=True)
class AgencyKeys:
    """An agency's private keys, as its liaison unit holds them."""

    agency_id: str
    encryption: X25519PrivateKey
    signing: Ed25519PrivateKey

    @classmethod
    def generate(cls, agency_id: str) -> AgencyKeys:
        return cls(_agency(agency_id), X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @property
    def public(self) -> AgencyPublicKeys:
        return AgencyPublicKeys(
            self.agency_id,
            self.encryption.public_key().public_bytes_raw(),
            self.signing.public_key().public_bytes_raw(),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "agency_id": self.agency_id,
                "key_id": self.public.key_id,
                "suite": PACKAGE_SUITE,
                "encryption_private_key": _encode(self.encryption.private_bytes_raw()),
                "signing_private_key": _encode(self.signing.private_bytes_raw()),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> AgencyKeys:
        data = _object(text, "key file")
        return cls(
            _agency(data.get("agency_id")),
            X25519PrivateKey.from_private_bytes(
                _decode(data.get("encryption_private_key"), "encryption_private_key", 32)
            ),
            Ed25519PrivateKey.from_private_bytes(
                _decode(data.get("signing_private_key"), "signing_private_key", 32)
            ),
        )

    def save(self, path: Path) -> None:
        """Write the key file, readable by its owner only; never over an existing one."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as key_file:
            key_file.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: Path) -> AgencyKeys:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AgencyKeyError(f"the key file cannot be read ({type(error).__name__})") from None
        return cls.from_json(text)


def _object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise AgencyKeyError(f"the {what} is not JSON") from None
    if not isinstance(data, dict):
        raise AgencyKeyError(f"the {what} is not a JSON object")
    return data


def seal_package(package: LawEnforcementPackageV2, to: AgencyPublicKeys) -> LawEnforcementPackageV3:
    """The package as it travels: routing fields in clear, everything else sealed to its agency."""
    if to.agency_id != package.agency_id:
        raise AgencyKeyError("agency_id: the key is another agency's")
    header = LawEnforcementPackageV3(
        package_id=package.package_id,
        case_reference=package.case_reference,
        agency_id=package.agency_id,
        key_id=to.key_id,
        sealed="-",
    )
    plaintext = package.model_dump_json().encode()
    plaintext += b" " * (-len(plaintext) % PADDING)
    ciphertext = SUITE.encrypt(
        plaintext, X25519PublicKey.from_public_bytes(to.encryption), info=header.sealed_info()
    )
    return header.model_copy(update={"sealed": _encode(ciphertext)})


def open_package(sealed: LawEnforcementPackageV3, keys: AgencyKeys) -> LawEnforcementPackageV2:
    """Open a package with the agency's private key; refuse one that is not whole or not its own."""
    if sealed.agency_id != keys.agency_id or sealed.key_id != keys.public.key_id:
        raise PackageUnreadable("sealed to another key")
    try:
        raw = base64.urlsafe_b64decode(sealed.sealed + "=" * (-len(sealed.sealed) % 4))
        plaintext = SUITE.decrypt(raw, keys.encryption, info=sealed.sealed_info())
        package = LawEnforcementPackageV2.model_validate_json(plaintext)
    except (ValueError, InvalidTag, ValidationError):
        raise PackageUnreadable("does not open") from None
    if (package.package_id, package.case_reference, package.agency_id) != (
        sealed.package_id, sealed.case_reference, sealed.agency_id,
    ):  # fmt: skip
        raise PackageUnreadable("its content names another package")
    return package


def sign_acknowledgement(
    acknowledgement: LiaisonAcknowledgementV2, keys: AgencyKeys
) -> LiaisonAcknowledgementV2:
    """The acknowledgement signed with the agency's key."""
    named = acknowledgement.model_copy(update={"key_id": keys.public.key_id, "signature": None})
    return named.model_copy(update={"signature": _encode(keys.signing.sign(named.signed_bytes()))})


def signed_by(acknowledgement: LiaisonAcknowledgementV2, agency: AgencyPublicKeys) -> bool:
    """Whether ``agency``'s key signed this acknowledgement, as it stands, in its own name."""
    if (
        acknowledgement.schema_version != 2
        or acknowledgement.signature is None
        or acknowledgement.agency_id != agency.agency_id
        or acknowledgement.key_id != agency.key_id
    ):
        return False
    try:
        signature = _decode(acknowledgement.signature, "signature", 64)
        Ed25519PublicKey.from_public_bytes(agency.signing).verify(signature, acknowledgement.signed_bytes())
    except (AgencyKeyError, InvalidSignature, ValueError):
        return False
    return True
