"""Settings every service reads from its environment; a service adds its own in a subclass."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Connection and tuning settings; each service's composition root reads one of these."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(alias="DATABASE_URL")
    kafka_bootstrap_servers: str = Field(alias="KAFKA_BOOTSTRAP_SERVERS")
    http_host: str = Field(default="127.0.0.1", alias="LANTERN_HTTP_HOST")
    http_port: int = Field(default=0, alias="LANTERN_HTTP_PORT")
    kafka_fetch_max_wait_ms: int = Field(default=100, ge=1, alias="LANTERN_KAFKA_FETCH_MAX_WAIT_MS")
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        alias="LANTERN_KAFKA_SESSION_TIMEOUT_MS",
        description="Tansu holds a group's first join for about half of this.",
    )
    kafka_max_records: int = Field(default=500, ge=1, alias="LANTERN_KAFKA_MAX_RECORDS")
    kafka_batch_timeout_ms: int = Field(
        default=100,
        ge=1,
        alias="LANTERN_KAFKA_BATCH_TIMEOUT_MS",
        description="How long a poll waits when nothing is there; records already there come at once.",
    )
    inbox_sweep_seconds: float = Field(default=1.0, gt=0, alias="LANTERN_INBOX_SWEEP_SECONDS")
    kafka_linger_ms: int = Field(default=0, ge=0, alias="LANTERN_KAFKA_LINGER_MS")
    kafka_enable_idempotence: bool = Field(default=False, alias="LANTERN_KAFKA_ENABLE_IDEMPOTENCE")
    db_pool_max_size: int = Field(default=10, ge=2, alias="LANTERN_DB_POOL_MAX_SIZE")
    outbox_batch_size: int = Field(default=200, ge=1, alias="LANTERN_OUTBOX_BATCH_SIZE")
    outbox_poll_seconds: float = Field(default=1.0, gt=0, alias="LANTERN_OUTBOX_POLL_SECONDS")
    handler_max_attempts: int = Field(default=5, ge=1, alias="LANTERN_HANDLER_MAX_ATTEMPTS")
    retry_backoff_seconds: float = Field(default=0.5, ge=0, alias="LANTERN_RETRY_BACKOFF_SECONDS")
    max_body_bytes: int = Field(
        default=262_144,
        ge=1_024,
        alias="LANTERN_MAX_BODY_BYTES",
        description="Largest request body any route reads; a larger one is refused with 413 before parsing.",
    )
    log_level: str = Field(default="info", alias="LANTERN_LOG_LEVEL")
    kek: SecretStr | None = Field(default=None, alias="LANTERN_KEK", description="base64url, 32 bytes")
    kek_file: Path | None = Field(default=None, alias="LANTERN_KEK_FILE")
    otlp_endpoint: str | None = Field(
        default=None,
        alias="LANTERN_OTLP_ENDPOINT",
        description="OTLP/HTTP collector base URL; none: no export.",
    )

    @classmethod
    def of(cls, settings: ServiceSettings) -> Self:
        """``settings`` as this service's own; what they do not say is read from the environment."""
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump(by_alias=True))
