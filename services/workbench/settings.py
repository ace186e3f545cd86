"""The workbench's settings: its database role (sessions only), the services it calls, session lifetimes."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import SecretsDirSettings, database_patience


class WorkbenchSettings(SecretsDirSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(
        alias="DATABASE_URL", description="The workbench's own role; it stores sessions only."
    )
    http_host: str = Field(default="127.0.0.1", alias="LANTERN_HTTP_HOST")
    http_port: int = Field(default=0, alias="LANTERN_HTTP_PORT")
    operations_host: str = Field(default="127.0.0.1", alias="LANTERN_OPERATIONS_HOST")
    operations_port: int = Field(default=0, ge=0, alias="LANTERN_OPERATIONS_PORT")
    services: dict[str, str] = Field(
        alias="LANTERN_WORKBENCH_SERVICES",
        description="The public API of intake, triage, disclosure and monitoring (JSON name -> URL).",
    )
    secure_cookie: bool = Field(
        default=True,
        alias="LANTERN_WORKBENCH_SECURE_COOKIE",
        description="Mark the session cookie Secure (HTTPS only); `lantern up` serves plain HTTP on 127.0.0.1.",
    )
    idle_minutes: float = Field(default=30, gt=0, alias="LANTERN_WORKBENCH_IDLE_MINUTES")
    absolute_hours: float = Field(default=10, gt=0, alias="LANTERN_WORKBENCH_SESSION_HOURS")
    signin_failures_per_address: int = Field(
        default=10,
        ge=1,
        alias="LANTERN_WORKBENCH_SIGNIN_FAILURES",
        description="Refused sign-ins from one client address per window before it must wait.",
    )
    sessions_per_person: int = Field(
        default=20,
        ge=1,
        alias="LANTERN_WORKBENCH_SESSIONS_PER_PERSON",
        description="Sessions one person may open per window.",
    )
    signin_window_seconds: float = Field(default=900, gt=0, alias="LANTERN_WORKBENCH_SIGNIN_WINDOW_SECONDS")
    db_pool_max_size: int = Field(default=5, ge=2, alias="LANTERN_DB_POOL_MAX_SIZE")
    database_patience_seconds: float = database_patience()
    log_level: str = Field(default="info", alias="LANTERN_LOG_LEVEL")
