"""A published pattern means the same to every reader.

The documents' readers (a client's JSON Schema validator, schemathesis) read patterns as ECMA-262 does;
the services validate with pydantic's Rust engine and trim with Python. Their `\\s` and `\\d` are three
different sets (ECMA-262's white space has U+FEFF and not U+0085; Python's also has U+001C-U+001F; a
Unicode `\\d` takes every script's digits), so a pattern that leans on them lets one side accept what the
other refuses: the conformance run's stateful phase once sent an email holding U+0085, valid by the
document, and was refused.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lantern.openapi import SERVICES_WITH_AN_API, path_of
from schemas.disclosure import REFERENCE_PATTERN, LegalReference
from schemas.generate import ASYNCAPI_DOCUMENT, JSONSCHEMA_DIR
from schemas.tip import EMAIL_PATTERN
from services.referral.entrypoints.providers import FORM_DOCUMENT, FormRequest

# Escapes whose set each regex engine defines for itself.
ENGINE_DEFINED = re.compile(r"(?<!\\)(?:\\\\)*\\[sSdDwWbB]")
# Every character that some reader calls white space, and the C0 separators Python's `str.strip` takes.
WHITE_SPACE_SOMEWHERE = sorted(
    {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    | set("\t\n\x0b\x0c\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff\x85\x1c\x1d\x1e\x1f")
    | {chr(code) for code in range(0x2000, 0x200B)}
)


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def _published_documents() -> list[Path]:
    return [*sorted(JSONSCHEMA_DIR.glob("*.json")), ASYNCAPI_DOCUMENT, *map(path_of, SERVICES_WITH_AN_API)]


@pytest.mark.parametrize("document", _published_documents(), ids=lambda path: path.name)
def test_no_published_pattern_leaves_white_space_or_digits_to_the_reader_s_engine(document: Path) -> None:
    leaning = [
        p for p in _patterns(json.loads(document.read_text(encoding="utf-8"))) if ENGINE_DEFINED.search(p)
    ]
    assert leaning == [], f"write the set out instead of \\s, \\d, \\w or \\b in {document.name}"


def test_the_providers_form_document_has_no_engine_defined_pattern() -> None:
    assert [p for p in _patterns(FORM_DOCUMENT) if ENGINE_DEFINED.search(p)] == []


@pytest.mark.parametrize("space", WHITE_SPACE_SOMEWHERE, ids=lambda c: f"U+{ord(c):04X}")
def test_an_email_holding_any_white_space_is_refused_exactly_when_the_document_refuses_it(space: str) -> None:
    email = f"someone{space}else@example.org"
    documented = re.fullmatch(EMAIL_PATTERN, email) is not None
    try:
        FormRequest.model_validate({"organization_name": "Maison Amie", "email": email})
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == documented


def _reference_is_taken(statute: str) -> bool:
    try:
        LegalReference(statute=statute, section="39", docket="500-41-000123-267")
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "statute",
    [
        "Loi sur la protection de la jeunesse",
        "Code de procédure pénale, art. 39",
        "Loi sur les services à l’enfance et à la famille",
        "ŒUVRES — Ç",
        "ᐃᓄᒃᑎᑐᑦ ᒪᓕᒐᖅ",
        "Child, Youth and Family Services Act, 2017",
        "法律",
        "Act ★",
        "Loi × 2",
        "_",
    ],
)
def test_a_legal_reference_is_taken_exactly_when_its_document_takes_it(statute: str) -> None:
    assert _reference_is_taken(statute) == (re.fullmatch(REFERENCE_PATTERN, statute) is not None)


def test_french_statutes_with_their_accents_are_valid_references() -> None:
    assert _reference_is_taken("Code de procédure pénale")
    assert _reference_is_taken("Loi sur la protection de la jeunesse, art. 39")
