"""The public web form: the web channel as server-rendered pages that work without JavaScript.

It validates through the same models as ``POST /v1/tips`` and the follow-up, with the same rate
limit, body limit, follow-up caps and lock. Nothing leaves for another origin and nothing is kept in
the browser: no cookies, a strict Content-Security-Policy, ``no-store`` on every response (the pages
that show a reference and a code show them once, in the answer to the POST, and no cache keeps them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.common import errors, metrics
from services.common.runtime import runtime_of
from services.intake import handlers
from services.intake.entrypoints.http import PublicLimits
from services.intake.web import form
from services.intake.web.texts import LANGUAGES, choices, texts

BASE = "/report"
WEB = Path(__file__).resolve().parents[1] / "web"
REFERENCE_PATTERN = r"^[A-Za-z0-9-]{3,40}$"
# Nothing from elsewhere, no inline code or style, no framing, forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
STATIC = {"form.css": "text/css; charset=utf-8", "exit.js": "text/javascript; charset=utf-8"}


def routes(app: FastAPI, limits: PublicLimits, quick_exit_url: str) -> None:
    """Serve the form under ``/report``; ``limits`` are the JSON API's public limits."""
    pages = Environment(
        loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(default=True),
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    static = {name: (WEB / "static" / name).read_bytes() for name in STATIC}

    def language_of(request: Request, fields: form.Fields | None = None) -> str:
        asked = request.query_params.get("lang") or (form.first(fields, "lang") if fields else None)
        return (
            asked if asked in LANGUAGES else errors.preferred_language(request.headers.get("accept-language"))
        )

    def page(
        template: str, language: str, status: int = 200, switch: str | None = None, **context: Any
    ) -> HTMLResponse:
        words = texts(language)
        other = next(other for other in LANGUAGES if other != language)
        html = pages.get_template(template).render(
            t=words, lang=language, other_lang=other, base=BASE, exit_url=quick_exit_url,
            phone=limits.hotline_phone, switch_url=f"{switch}?lang={other}" if switch else None,
            choices=choices(language), countries=form.countries(language),
            labels=_labels(words), **{"errors": {}, "values": {}, **context},
        )  # fmt: skip
        headers = {**SECURITY_HEADERS, "Content-Language": language}
        return HTMLResponse(html, status_code=status, headers=headers)

    def too_many(request: Request, language: str) -> HTMLResponse | None:
        wait = limits.wait_for(request)
        if wait is None:
            return None
        response = page(
            "refused.html",
            language,
            429,
            message=texts(language)["too_many"].format(phone=limits.hotline_phone),
        )
        response.headers["Retry-After"] = str(int(wait))
        return response

    @app.get(BASE, response_class=HTMLResponse, include_in_schema=False)
    async def report_form(request: Request) -> HTMLResponse:
        return page("report.html", language_of(request), switch=BASE, values={"country": "CA"})

    @app.post(BASE, response_class=HTMLResponse, include_in_schema=False)
    async def report(request: Request) -> HTMLResponse:
        fields = form.parse(await request.body())
        language = language_of(request, fields)
        if (refused := too_many(request, language)) is not None:
            return refused
        submission, found = form.tip_submission(fields, language)
        if submission is None:
            return page(
                "report.html", language, 422, switch=BASE, errors=found.by_field, values=_values(fields)
            )
        runtime = runtime_of(request)
        accepted = await handlers.accept_tip(
            submission, runtime.transactions, runtime.keystore, handlers.PUBLIC
        )
        metrics.tips_received.add(1, {"channel": "web"})
        return page("received.html", language, reference=accepted.reference, code=accepted.follow_up_code)

    @app.get(f"{BASE}/follow-up", response_class=HTMLResponse, include_in_schema=False)
    async def follow_up_form(request: Request) -> HTMLResponse:
        return page("follow_up.html", language_of(request), switch=f"{BASE}/follow-up")

    @app.post(f"{BASE}/follow-up", response_class=HTMLResponse, include_in_schema=False)
    async def follow_up(request: Request) -> HTMLResponse:
        fields = form.parse(await request.body())
        language = language_of(request, fields)
        if (refused := too_many(request, language)) is not None:
            return refused
        words = texts(language)
        values = {name: v for name, v in _values(fields).items() if name != "code"}
        reference = (form.first(fields, "reference") or "").strip()
        supplement, found = form.supplement(fields, language)
        problems = dict(found.by_field)
        if not reference:
            problems = {"reference": errors.MESSAGES["missing"][language == "fr"], **problems}
        elif not _is_reference(reference):
            problems = {"reference": errors.MESSAGES["string_pattern_mismatch"][language == "fr"], **problems}
        if supplement is None or problems:
            return page(
                "follow_up.html", language, 422, switch=f"{BASE}/follow-up", errors=problems, values=values
            )
        runtime = runtime_of(request)
        outcome = await handlers.supplement_tip(
            reference, supplement, runtime.transactions, runtime.keystore, limits.caps
        )
        if outcome.over_cap is not None:
            message = words["tip_full"].format(phone=limits.hotline_phone)
            return page("follow_up.html", language, 429, refusal=message, values=values)
        if outcome.next_code is None:
            return page("follow_up.html", language, 403, refusal=words["refused"], values=values)
        return page("followed_up.html", language, reference=reference.upper(), code=outcome.next_code)

    for name, media_type in STATIC.items():
        _static_route(app, name, static[name], media_type)


def _static_route(app: FastAPI, name: str, body: bytes, media_type: str) -> None:
    @app.get(f"{BASE}/static/{name}", include_in_schema=False)
    async def asset() -> Response:
        return Response(body, media_type=media_type, headers=SECURITY_HEADERS)


def _is_reference(text: str) -> bool:
    return re.fullmatch(REFERENCE_PATTERN, text) is not None


def _values(fields: form.Fields) -> dict[str, Any]:
    """What the person typed, to fill the form again after an error (escaped when rendered)."""
    values: dict[str, Any] = {name: form.first(fields, name) or "" for name in fields}
    values["trafficking_types"] = list(fields.get("trafficking_types", ()))
    return values


def _labels(words: dict[str, str]) -> dict[str, str]:
    """Each field's label in the error summary."""
    return {
        "narrative": words["narrative"], "reporter_role": words["reporter_role"], "country": words["country"],
        "province": words["province"], "city": words["city"], "minor_involved": words["minor_involved"],
        "imminent_danger": words["imminent_danger"], "trafficking_types": words["trafficking_types"],
        "contact_name": words["name"], "contact_phone": words["phone"], "contact_email": words["email"],
        "law_enforcement": words["law_enforcement"], "service_referral": words["service_referral"],
        "share_identity": words["share_identity"], "statistics": words["statistics"],
        "reference": words["reference"], "code": words["follow_up_code"], "lang": words["other_language"],
    }  # fmt: skip
