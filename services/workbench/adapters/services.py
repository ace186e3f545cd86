"""Calls to the services' staff APIs, always with the signed-in person's own token.

The workbench has no credentials of its own: every read and every act is the person's, so each
service checks that person's role and their right to the tip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def rule(self) -> str | None:
        if not isinstance(self.body, dict):
            return None
        detail = self.body.get("detail")
        # A refusal's rule is at the top of its body (an older intake nested it under detail).
        rule = self.body.get("rule") or (detail.get("rule") if isinstance(detail, dict) else None)
        return rule if isinstance(rule, str) else None


class ServiceUnavailable(Exception):
    """A service did not answer."""


class Services:
    def __init__(self, urls: dict[str, str], client: httpx.AsyncClient) -> None:
        self.urls = urls
        self.client = client

    async def call(
        self, token: str, service: str, method: str, path: str, body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:  # fmt: skip
        if service not in self.urls:
            raise ServiceUnavailable(service)
        try:
            response = await self.client.request(
                method, self.urls[service] + path, json=body,
                headers={**(headers or {}), "authorization": f"Bearer {token}"},
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise ServiceUnavailable(service) from error
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return Answer(response.status_code, payload)
