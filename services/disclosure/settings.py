"""Disclosure's settings: the runtime's, and the largest package it may send."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings
from services.disclosure.domain.packages import MAX_PACKAGE_BYTES


class DisclosureSettings(ServiceSettings):
    package_max_bytes: int = Field(
        default=MAX_PACKAGE_BYTES,
        gt=0,
        le=1_000_000,
        alias="LANTERN_PACKAGE_MAX_BYTES",
        description="A package larger than this (as staged for the broker) is held for a supervisor.",
    )
