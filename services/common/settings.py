"""Settings every service reads from its environment; a service adds its own in a subclass."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from services.common.client_address import TrustedProxies

SECRETS_DIR = "LANTERN_SECRETS_DIR"


class SecretsDirSettings(BaseSettings):
    """Settings that may also be files named as the setting in ``LANTERN_SECRETS_DIR`` (mounted
    secrets: a DATABASE_URL with its password, a webhook's key), the environment winning."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        directory = os.environ.get(SECRETS_DIR)
        if directory:
            file_secret_settings = SecretsSettingsSource(settings_cls, secrets_dir=directory)
        return init_settings, env_settings, dotenv_settings, file_secret_settings


def secret_setting(name: str) -> str | None:
    """One setting as the services read it: the environment's, else its file in ``LANTERN_SECRETS_DIR``."""
    if value := os.environ.get(name):
        return value
    directory = os.environ.get(SECRETS_DIR)
    path = Path(directory) / name if directory else None
    return path.read_text().strip() if path is not None and path.is_file() else None


def database_patience() -> float:
    """The field of every settings that opens a pool: how long a process starting waits for a
    PostgreSQL that cannot be reached yet (down, restarting, recovering) before it gives up."""
    default: float = Field(
        default=120.0,
        ge=0,
        alias="LANTERN_DATABASE_PATIENCE_SECONDS",
        description="How long a starting process waits for a database it cannot reach yet; 0: not at all.",
    )
    return default


class KafkaClientSettings(SecretsDirSettings):
    """How a Kafka client proves who it is: nothing locally (Tansu), SASL_SSL with SCRAM in production.

    The password is read from a file (a mounted secret), never from the environment.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", alias="LANTERN_KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", alias="LANTERN_KAFKA_SASL_MECHANISM"
    )
    kafka_username: str | None = Field(
        default=None, alias="LANTERN_KAFKA_USERNAME", description="The SASL principal, e.g. lantern-intake."
    )
    kafka_password_file: Path | None = Field(default=None, alias="LANTERN_KAFKA_PASSWORD_FILE")
    kafka_ca_file: Path | None = Field(
        default=None,
        alias="LANTERN_KAFKA_CA_FILE",
        description="PEM bundle the brokers' certificates are checked against; the system's when not set.",
    )
    kafka_settling_seconds: float = Field(
        default=0.0,
        ge=0,
        alias="LANTERN_KAFKA_SETTLING_SECONDS",
        description="How long no write goes to a topic the broker has just shown: 0 for Apache Kafka,"
        " 1.0 for Tansu (`lantern up` sets it), which resets a new topic's offsets after naming it.",
    )

    @model_validator(mode="after")
    def _sasl_names_its_principal(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL_") and (
            not self.kafka_username or self.kafka_password_file is None
        ):
            raise ValueError(
                "LANTERN_KAFKA_USERNAME and LANTERN_KAFKA_PASSWORD_FILE: both are needed with"
                f" LANTERN_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}"
            )
        return self


class ServiceSettings(KafkaClientSettings):
    """Connection and tuning settings; each service's composition root reads one of these."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(alias="DATABASE_URL", description="The service's own role, never the owner.")
    service_database_urls: dict[str, str] = Field(
        default_factory=dict,
        alias="LANTERN_SERVICE_DATABASE_URLS",
        description="For one process that runs several services (the tests): each one's own role;"
        " a service not named uses DATABASE_URL.",
    )
    kafka_bootstrap_servers: str = Field(alias="KAFKA_BOOTSTRAP_SERVERS")
    http_host: str = Field(default="127.0.0.1", alias="LANTERN_HTTP_HOST")
    http_port: int = Field(default=0, alias="LANTERN_HTTP_PORT")
    operations_host: str = Field(
        default="127.0.0.1",
        alias="LANTERN_OPERATIONS_HOST",
        description="The private operations listener (metrics, detailed health): never a public address.",
    )
    operations_port: int = Field(default=0, ge=0, alias="LANTERN_OPERATIONS_PORT")
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
    consumer_batch_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        alias="LANTERN_CONSUMER_BATCH_TIMEOUT_SECONDS",
        description="Longest one batch's transaction may take; past it, it is abandoned and tried again.",
    )
    consumer_stalled_seconds: float = Field(
        default=120.0,
        gt=0,
        alias="LANTERN_CONSUMER_STALLED_SECONDS",
        description="A consumer with work that finishes no round for this long makes /health 503.",
    )
    kafka_linger_ms: int = Field(default=0, ge=0, alias="LANTERN_KAFKA_LINGER_MS")
    kafka_enable_idempotence: bool = Field(default=False, alias="LANTERN_KAFKA_ENABLE_IDEMPOTENCE")
    db_pool_max_size: int = Field(default=10, ge=2, alias="LANTERN_DB_POOL_MAX_SIZE")
    database_patience_seconds: float = database_patience()
    outbox_batch_size: int = Field(default=200, ge=1, alias="LANTERN_OUTBOX_BATCH_SIZE")
    outbox_poll_seconds: float = Field(default=1.0, gt=0, alias="LANTERN_OUTBOX_POLL_SECONDS")
    outbox_max_attempts: int = Field(
        default=5,
        ge=1,
        alias="LANTERN_OUTBOX_MAX_ATTEMPTS",
        description="Failed sends of one row, while the broker takes others, before it is quarantined.",
    )
    outbox_stalled_seconds: float = Field(
        default=60.0,
        gt=0,
        alias="LANTERN_OUTBOX_STALLED_SECONDS",
        description="A row the relay could send and has not for this long makes /health 503.",
    )
    retention_days: str | None = Field(
        default=None,
        alias="LANTERN_RETENTION_DAYS",
        description='Limits that differ from the retention defaults, as JSON: {"identifying": 365}.',
    )
    retention_every_seconds: float = Field(
        default=3600.0, gt=0, alias="LANTERN_RETENTION_EVERY_SECONDS", description="How often retention runs."
    )
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
    signing_key_file: Path | None = Field(
        default=None,
        alias="LANTERN_SIGNING_KEY_FILE",
        description="This service's Ed25519 private key (PEM); `{service}` is replaced by its name.",
    )
    signing_public_keys_file: Path | None = Field(
        default=None,
        alias="LANTERN_SIGNING_PUBLIC_KEYS_FILE",
        description="JSON: each service's Ed25519 public keys, base64url.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        alias="LANTERN_OTLP_ENDPOINT",
        description="OTLP/HTTP collector base URL; none: no export.",
    )

    def database_url_of(self, service: str) -> str:
        """The DSN ``service`` connects with: its own role's."""
        return self.service_database_urls.get(service, self.database_url)

    @model_validator(mode="after")
    def _operations_apart_from_the_public_port(self) -> Self:
        if self.operations_port and self.operations_port == self.http_port:
            raise ValueError(
                "LANTERN_OPERATIONS_PORT: must differ from LANTERN_HTTP_PORT (metrics stay private)"
            )
        return self

    @classmethod
    def of(cls, settings: ServiceSettings) -> Self:
        """``settings`` as this service's own; what they do not say is read from the environment."""
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump(by_alias=True))


class PublicEdgeSettings(ServiceSettings):
    """A service with routes the public reaches without a token: which proxies' ``X-Forwarded-For`` its
    rate limits believe about who the client is."""

    forwarded_allow_ips: str = Field(
        default="",
        alias="FORWARDED_ALLOW_IPS",
        description="Comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "is believed; none by default.",
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_are_named(cls, value: str) -> str:
        TrustedProxies.parse(value)  # refuses a wildcard or a value that is not an address
        return value

    @property
    def trusted_proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.forwarded_allow_ips)
