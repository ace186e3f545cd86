"""A call as the specialist types it, in the order the hotline asks, turned into intake's tip body.

The questions' order is the form's order (``QUESTIONS``); every choice is a code the schemas know,
so intake validates the body exactly as it validates any staff submission. A field left empty is a
field not given: the schemas' defaults ("unknown", "not asked") stand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from schemas.tip import (
    MAX_CALL_SECONDS,
    Answer,
    GenderIdentity,
    HeardVia,
    Need,
    Province,
    ReporterRole,
    StatusInCanada,
    TraffickingType,
)

Form = Mapping[str, Sequence[str]]
CHANNELS = ("phone", "chat")
CONSENTS = ("law_enforcement", "share_identity", "service_referral", "statistics")
QUESTIONS = (
    "reporter_role",
    "anonymity",
    *(f"consent_{scope}" for scope in CONSENTS),
    "location",
    "narrative",
    "minors_and_danger",
    "needs",
    "victim_profile",
    "interpreter",
    "reaching_back",
    "heard_via",
)
CHOICES: dict[str, tuple[str, ...]] = {
    "reporter_role": tuple(role.value for role in ReporterRole),
    "answer": tuple(answer.value for answer in Answer),
    "trafficking_type": tuple(kind.value for kind in TraffickingType),
    "need": tuple(need.value for need in Need),
    "province": tuple(province.value for province in Province),
    "gender_identity": tuple(gender.value for gender in GenderIdentity),
    "status_in_canada": tuple(status.value for status in StatusInCanada),
    "heard_via": tuple(heard.value for heard in HeardVia),
}
# Form fields the page puts back when intake refuses the call, so nothing typed is lost.
KEPT = (
    "channel", "language", "reporter_role", "anonymous", "contact_name", "contact_phone", "contact_email",
    *(f"consent_{scope}" for scope in CONSENTS), "country", "province", "city", "narrative",
    "minor_involved", "imminent_danger", "victim_age", "trafficking_types", "needs", "profile_age",
    "gender_identity", "profile_languages", "indigenous", "status_in_canada", "interpreter_language",
    "safe_to_call_back", "safe_to_leave_message", "heard_via",
)  # fmt: skip


def first(form: Form, name: str) -> str | None:
    values = [value.strip() for value in form.get(name, ()) if value.strip()]
    return values[0] if values else None


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _number(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def tip_body(form: Form, started_at: datetime, ended_at: datetime) -> dict[str, Any]:
    """The body of ``POST /v1/tips`` for this call; intake decides whether it is valid."""
    channel = first(form, "channel")
    body: dict[str, Any] = {
        "channel": channel if channel in CHANNELS else "phone",
        "language": first(form, "language") or "en",
        "narrative": first(form, "narrative") or "",
        "location": {"country": (first(form, "country") or "CA").upper()},
        "assessment": {},
        "consent": {},
    }
    if role := first(form, "reporter_role"):
        body["reporter_role"] = role
    anonymous = _yes_no(first(form, "anonymous"))
    body["anonymous"] = anonymous is not False
    if not body["anonymous"]:
        contact = {key: first(form, f"contact_{key}") for key in ("name", "phone", "email")}
        if any(contact.values()):
            body["contact"] = {key: value for key, value in contact.items() if value}
    for scope in CONSENTS:
        answer = _yes_no(first(form, f"consent_{scope}"))
        if answer is not None:
            body["consent"][scope] = answer
    for key in ("province", "city"):
        if value := first(form, key):
            body["location"][key] = value
    for key in ("minor_involved", "imminent_danger"):
        if value := first(form, key):
            body["assessment"][key] = value
    if (age := _number(first(form, "victim_age"))) is not None:
        body["assessment"]["victim_age"] = age
    if kinds := [value for value in form.get("trafficking_types", ()) if value]:
        body["assessment"]["trafficking_types"] = list(kinds)
    if needs := [value for value in form.get("needs", ()) if value]:
        body["needs"] = list(needs)
    profile = _profile(form)
    if profile:
        body["victim_profile"] = profile
    interpreter = first(form, "interpreter_language")
    body["interpreter_used"] = interpreter is not None
    body["call"] = {
        "started_at": started_at.isoformat(),
        # A form left open past a day still records its tip: the call's length is capped, never refused.
        "duration_seconds": min(MAX_CALL_SECONDS, max(0, round((ended_at - started_at).total_seconds()))),
        "interpreter_language": interpreter.lower() if interpreter else None,
        "safe_to_call_back": _yes_no(first(form, "safe_to_call_back")),
        "safe_to_leave_message": _yes_no(first(form, "safe_to_leave_message")),
        "heard_via": first(form, "heard_via") or HeardVia.NOT_ASKED.value,
    }
    return body


def _profile(form: Form) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if (age := _number(first(form, "profile_age"))) is not None:
        profile["age"] = age
    for key in ("gender_identity", "status_in_canada"):
        if value := first(form, key):
            profile[key] = value
    if languages := first(form, "profile_languages"):
        profile["languages"] = [
            code.strip().lower() for code in languages.replace(";", ",").split(",") if code.strip()
        ]
    indigenous = _yes_no(first(form, "indigenous"))
    if indigenous is not None:
        profile["indigenous"] = indigenous
    return profile


def supplement_body(form: Form) -> dict[str, Any]:
    """The body of intake's ``POST /v1/casework/supplements`` for a returning caller."""
    channel = first(form, "channel")
    body: dict[str, Any] = {
        "reference": (first(form, "reference") or "").upper(),
        "code": first(form, "code") or "",
        "channel": channel if channel in CHANNELS else "phone",
    }
    if narrative := first(form, "narrative"):
        body["narrative"] = narrative
    assessment = {key: value for key in ("minor_involved", "imminent_danger") if (value := first(form, key))}
    if assessment:
        body["assessment"] = assessment
    if needs := [value for value in form.get("needs", ()) if value]:
        body["needs"] = list(needs)
    return body


def kept_values(form: Form) -> dict[str, list[str]]:
    """What the specialist typed, to put back on the form when intake refuses it."""
    return {name: [value for value in form.get(name, ()) if value] for name in KEPT}
