"""The test stack's signing keys: one per service, as `lantern up` makes them, once per test process.

Services started by the tests read them through their settings (``settings_fields``); a test that
puts an event on the broker itself signs it as the topic's own producer would (``signed_headers``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.topics import SIGNED_BY_AGENCY, producers_of
from services.common.signing import (
    EventSigner,
    EventVerifier,
    configured_verifier,
    generate_key_files,
    read_private_key,
)

# The services, and the probe service of the consumer tests.
SIGNERS = ("intake", "triage", "disclosure", "referral", "monitoring", "probe")


@dataclass(frozen=True)
class StackKeys:
    directory: Path
    public_keys_file: Path

    def signer(self, service: str) -> EventSigner:
        return EventSigner(service, read_private_key(self.directory / f"{service}.key"))

    def verifier(self) -> EventVerifier:
        return configured_verifier(self.public_keys_file)

    def settings_fields(self) -> dict[str, str]:
        """What makes each service open its own key (the path names it) and know everyone's."""
        return {
            "LANTERN_SIGNING_KEY_FILE": str(self.directory / "{service}.key"),
            "LANTERN_SIGNING_PUBLIC_KEYS_FILE": str(self.public_keys_file),
        }


@cache
def stack_keys() -> StackKeys:
    root = Path(tempfile.mkdtemp(prefix="lantern-keys-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    directory = root / "keys"
    return StackKeys(directory, generate_key_files(directory, SIGNERS))


def signed_headers(
    topic: str, key: bytes | None, payload: bytes, signer: str | None = None
) -> list[tuple[str, bytes]]:
    """Kafka headers signing ``payload`` as ``signer``, by default the topic's rightful producer; none on
    a topic an agency signs (its acknowledgement carries the agency's signature in its body)."""
    if signer is None and producers_of(topic) == (SIGNED_BY_AGENCY,):
        return []
    service = signer or producers_of(topic)[0]
    headers = stack_keys().signer(service).headers(topic, key, payload)
    return [(name, value.encode()) for name, value in headers.items()]
