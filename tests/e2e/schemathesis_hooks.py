"""Schemathesis hooks for the conformance runs (loaded through SCHEMATHESIS_HOOKS).

A valid Idempotency-Key sent again with another body is rightly refused (422, as the IETF
Idempotency-Key draft says); generated keys repeat, so each valid one is made fresh. An invalid
key is left as generated, for the negative cases.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

# Read as the generator reads the schema's pattern (Python's $ lets a trailing newline through).
VALID_KEY = re.compile(r"^[\x21-\x7e]{8,200}$")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # The generated headers are the case's; the call's own keyword arguments carry none of them.
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = f"conformance-{uuid.uuid4().hex}"
