"""Where the local stack keeps the disclosure audit's key and witness: files in its home folder, apart
from the database (``.lantern/pgdata``) whose rows they vouch for."""

from __future__ import annotations

import os
from pathlib import Path

from services.disclosure.settings import AuditSettings, generate_key_text

KEY_FILE = "audit.key"
WITNESS_FILE = "audit-witness.jsonl"


def local_audit_environment(home: Path) -> dict[str, str]:
    """The audit settings `lantern up` gives disclosure: what is configured, else a key file (made
    once, 0600) and a witness file in ``home``."""
    environment = {}
    if not (os.environ.get("LANTERN_AUDIT_KEY") or os.environ.get("LANTERN_AUDIT_KEY_FILE")):
        path = home / KEY_FILE
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(generate_key_text())
            print(
                f"lantern: generated the audit key {path}: without it the audit cannot be verified",
                flush=True,
            )
        environment["LANTERN_AUDIT_KEY_FILE"] = str(path)
    if not os.environ.get("LANTERN_AUDIT_WITNESS_FILE"):
        environment["LANTERN_AUDIT_WITNESS_FILE"] = str(home / WITNESS_FILE)
    return environment


def audit_settings(home: Path) -> AuditSettings:
    """The audit settings `lantern audit verify` reads: the environment's, else ``home``'s files."""
    configured = AuditSettings()
    updates: dict[str, Path] = {}
    if configured.audit_key is None and configured.audit_key_file is None and (home / KEY_FILE).exists():
        updates["audit_key_file"] = home / KEY_FILE
    if configured.audit_witness_file is None:
        updates["audit_witness_file"] = home / WITNESS_FILE
    return configured.model_copy(update=updates)
