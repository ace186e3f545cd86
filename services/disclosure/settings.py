"""Disclosure's settings: the runtime's, and the audit chain's key and witness."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import ServiceSettings
from services.disclosure.domain.audit import KEY_BYTES, ChainKey


class AuditConfigurationError(Exception):
    """The audit's key or witness is not configured, or not readable as one."""


class AuditSettings(BaseSettings):
    """Where the audit's key and witness are: never in the database the audit lives in."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    audit_key: SecretStr | None = Field(
        default=None, alias="LANTERN_AUDIT_KEY", description="base64url, 32 bytes"
    )
    audit_key_file: Path | None = Field(default=None, alias="LANTERN_AUDIT_KEY_FILE")
    audit_witness_file: Path | None = Field(
        default=None,
        alias="LANTERN_AUDIT_WITNESS_FILE",
        description="Append-only file of the chain's heads, outside the database.",
    )

    def chain_key(self) -> ChainKey:
        """The audit key from ``LANTERN_AUDIT_KEY`` or ``LANTERN_AUDIT_KEY_FILE``; refuse to run without one."""
        if self.audit_key is not None:
            return parse_key(self.audit_key.get_secret_value(), "LANTERN_AUDIT_KEY")
        if self.audit_key_file is not None:
            try:
                text = self.audit_key_file.read_text()
            except OSError:
                raise AuditConfigurationError("LANTERN_AUDIT_KEY_FILE cannot be read") from None
            return parse_key(text, "LANTERN_AUDIT_KEY_FILE")
        raise AuditConfigurationError("set LANTERN_AUDIT_KEY or LANTERN_AUDIT_KEY_FILE to the audit key")

    def witness_path(self) -> Path:
        if self.audit_witness_file is None:
            raise AuditConfigurationError(
                "set LANTERN_AUDIT_WITNESS_FILE to where the audit's heads are witnessed"
            )
        return self.audit_witness_file


class DisclosureSettings(ServiceSettings, AuditSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)


def parse_key(text: str, setting: str) -> ChainKey:
    try:
        return ChainKey(base64.urlsafe_b64decode(text.strip().encode() + b"=="))
    except (ValueError, binascii.Error):
        raise AuditConfigurationError(f"{setting} is not {KEY_BYTES} bytes in base64url") from None


def generate_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip("=")
