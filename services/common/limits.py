"""Request body limits, enforced before FastAPI parses anything.

FastAPI reads and validates a body before a route's dependencies check the caller's token, so an
anonymous caller could make any service parse a body of any size. ``BodyLimit`` reads the body
itself, counting the bytes as they stream in (a chunked body declares no length, and a declared
length can lie), and answers 413 at the first byte over the limit, without calling the app.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import errors

TOO_LARGE = {
    "en": "The request is too large: at most {limit} bytes are accepted.",
    "fr": "La requête est trop volumineuse : au plus {limit} octets sont acceptés.",
}
BAD_LENGTH = {
    "en": "The Content-Length header is not a number of bytes.",
    "fr": "L'en-tête Content-Length n'est pas un nombre d'octets.",
}


def limit_bodies(app: FastAPI, limit: int, advice: Mapping[str, str] | None = None) -> None:
    """Refuse request bodies over ``limit`` bytes; ``advice`` (per language) is added to the refusal."""
    app.add_middleware(BodyLimit, limit=limit, advice=dict(advice or {}))


class BodyLimit:
    """Buffer a request's body up to ``limit`` bytes, then hand it to the app; refuse it past that."""

    def __init__(self, app: ASGIApp, limit: int, advice: dict[str, str] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.advice = advice or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        language = errors.preferred_language(headers.get(b"accept-language", b"").decode("latin-1"))
        declared = headers.get(b"content-length")
        if declared is not None and not declared.isdigit():
            await refuse(send, 400, BAD_LENGTH[language], language)
            return
        if declared is not None and int(declared) > self.limit:
            await refuse(send, 413, self._too_large(language), language)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await refuse(send, 413, self._too_large(language), language)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    def _too_large(self, language: str) -> str:
        text = TOO_LARGE[language].format(limit=self.limit)
        advice = self.advice.get(language)
        return f"{text} {advice}" if advice else text


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def refuse(send: Send, status: int, detail: str, language: str) -> None:
    """A JSON refusal sent straight to the client, in the caller's language."""
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"content-language", language.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
