"""The workbench's pages: server-rendered, one form per action, every act through a service's API.

Each request finds its session from the HttpOnly cookie; each form carries the CSRF token derived
from the session. The pages show what the services answer for the signed-in person: a refusal by a
service (403) is shown as such, never worked around.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from services.common.auth import Role, find_staff
from services.workbench.adapters import sessions as store
from services.workbench.adapters.services import Answer, Services, ServiceUnavailable
from services.workbench.domain import sessions
from services.workbench.domain.throttle import SignInLimits
from services.workbench.i18n import LANGUAGES, language_of, translate

COOKIE = "lantern_session"
# Login CSRF: the sign-in form carries the value of a cookie only this origin's pages can have set
# and read back (HttpOnly, SameSite=Strict), so no other site can sign a browser into an account.
SIGNIN_COOKIE = "lantern_signin"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
PURPOSES = (
    "assess_risk",
    "plan_response",
    "call_back",
    "review_disclosure",
    "prepare_referral",
    "quality_review",
)
PARTS = ("narrative", "contact", "named_persons", "handover_notes")
OVERRIDE_REASONS = (
    "new_information",
    "caller_clarified",
    "specialist_assessment",
    "classifier_error",
    "duplicate",
    "other",
)
DECLINE_REASONS = (
    "insufficient_information",
    "no_basis_established",
    "caller_safety",
    "referred_to_services",
    "duplicate",
    "other",
)
APPROVAL_REASONS = (
    "consent_confirmed",
    "mandatory_ground_confirmed",
    "legal_obligation",
    "reviewed_after_forward",
    "changes_sent_on",
)
REFERRAL_DECLINE_REASONS = ("no_capacity", "not_eligible", "out_of_area", "caller_declined", "other")
REOPEN_REASONS = ("new_information", "decision_error", "caller_request", "other")
REISSUE_REASONS = ("basis_still_stands", "agency_still_needs_it", "other")
SET_ASIDE_REASONS = ("reached_another_way", "agency_has_it", "no_basis_now", "caller_safety", "other")


@dataclass(frozen=True, slots=True)
class Session:
    hash: bytes
    secret: str
    person_id: uuid.UUID
    role: Role
    display_name: str
    token: str
    language: str

    @property
    def csrf(self) -> str:
        return sessions.csrf_token(self.secret)

    @property
    def supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def partnerships(self) -> bool:
        """A partnership specialist keeps the referral directory and reads no tip."""
        return self.role is Role.PARTNERSHIPS

    @property
    def home(self) -> str:
        return "/partnerships" if self.partnerships else "/queue"


class Workbench:
    """What the pages need: the sessions' pool, the services, the lifetimes, the cookie's flags."""

    def __init__(
        self, pool: Any, services: Services, lifetimes: sessions.Lifetimes, secure_cookie: bool,
        limits: SignInLimits | None = None,
    ) -> None:  # fmt: skip
        self.pool = pool
        self.services = services
        self.lifetimes = lifetimes
        self.secure_cookie = secure_cookie
        self.limits = limits or SignInLimits.of(10, 20, 900)


def _bench(request: Request) -> Workbench:
    bench: Workbench = request.app.state.workbench
    return bench


async def current_session(request: Request) -> Session | None:
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 100:
        return None
    bench, digest = _bench(request), sessions.session_hash(secret)
    row = await store.find(bench.pool, digest)
    if row is None:
        return None
    if not sessions.alive(row["now"], row["last_seen_at"], row["expires_at"], bench.lifetimes):
        await store.end(bench.pool, digest)
        return None
    await store.touch(bench.pool, digest)
    token = sessions.open_token(secret, row["sealed_token"])
    return Session(
        digest, secret, row["person_id"], Role(row["role"]), row["display_name"], token, row["language"]
    )


def render(
    request: Request, template: str, session: Session | None, language: str, status: int = 200, **context: Any
) -> HTMLResponse:
    def t(key: str) -> str:
        return translate(key, language)

    notice = request.query_params.get("notice")
    return TEMPLATES.TemplateResponse(
        request, template,
        {"t": t, "lang": language, "session": session, "notice": notice if notice in NOTICES else None,
         "now": datetime.now(UTC), **context},
        status_code=status,
    )  # fmt: skip


NOTICES = frozenset({"done", "handed_over", "error.forbidden", "error.refused", "error.conflict",
                     "error.unavailable", "error.csrf", "error.invalid", "signin.expired",
                     "partners.declined_restricted"})  # fmt: skip


def redirect(path: str, notice: str | None = None) -> RedirectResponse:
    return RedirectResponse(path + (f"?notice={notice}" if notice else ""), status_code=303)


def notice_of(answer: Answer) -> str:
    return {
        200: "done",
        202: "done",
        403: "error.forbidden",
        409: "error.conflict",
        422: "error.invalid",
    }.get(answer.status, "error.refused")


async def checked_form(request: Request, session: Session) -> FormData | None:
    """The form, if its CSRF token is this session's; None otherwise."""
    form = await request.form()
    offered = form.get("csrf")
    return (
        form if sessions.csrf_matches(session.secret, offered if isinstance(offered, str) else None) else None
    )


async def signed_in(request: Request) -> Session | Response:
    """The request's session, or the way back to the sign-in page."""
    session = await current_session(request)
    if session is None:
        response = redirect("/signin", "signin.expired" if request.cookies.get(COOKIE) else None)
        response.delete_cookie(COOKIE, path="/")
        return response
    return session


async def ask(
    request: Request, session: Session, service: str, method: str, path: str, body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:  # fmt: skip
    """A service's answer to the signed-in person's own request."""
    # The services answer refusals in the person's language.
    asked = {"accept-language": session.language, **(headers or {})}
    return await _bench(request).services.call(session.token, service, method, path, body, asked)


def unavailable(request: Request, session: Session) -> Response:
    return render(request, "error.html", session, session.language, status=503, error="error.unavailable")


async def page(request: Request, build: Callable[[Session], Awaitable[Response]]) -> Response:
    """A page for a signed-in person: back to sign-in without a session, a 503 page when a service
    does not answer; ``build`` makes the page from the services' answers.
    """
    session = await signed_in(request)
    if not isinstance(session, Session):
        return session
    try:
        return await build(session)
    except ServiceUnavailable:
        return unavailable(request, session)


def legal_reference(form: FormData) -> dict[str, str] | None:
    """The legal reference the supervisor typed (statute, section, docket), parts left empty left out."""
    parts = {key: str(form.get(key) or "").strip() for key in ("statute", "section", "docket")}
    return {key: value for key, value in parts.items() if value} if parts["statute"] else None


async def optional(answer: Awaitable[Answer]) -> Answer | None:
    """A service's answer, or None when it did not answer."""
    try:
        return await answer
    except ServiceUnavailable:
        return None


async def form_of(request: Request) -> tuple[Session, FormData] | Response:
    """The session and its form when the form's CSRF token is the session's."""
    session = await signed_in(request)
    if not isinstance(session, Session):
        return session
    form = await checked_form(request, session)
    if form is None:
        return redirect("/queue", "error.csrf")
    return session, form


async def act(request: Request, service: str, method: str, path: str, body: Any, back: str) -> Response:
    """Do one thing through a service and go back to ``back`` with what the service said."""
    session = await signed_in(request)
    if not isinstance(session, Session):
        return session
    try:
        answer = await ask(request, session, service, method, path, body)
    except ServiceUnavailable:
        return redirect(back, "error.unavailable")
    return redirect(back, notice_of(answer))


def routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        session = await current_session(request)
        return redirect(session.home if session else "/queue")

    def signin_form(
        request: Request, language: str, status: int = 200, error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        """The sign-in page with a fresh login-CSRF value, in the form and in its cookie."""
        value = sessions.new_secret()
        response = render(
            request, "signin.html", None, language, status=status, error=error, signin_csrf=value
        )
        response.headers.update(headers or {})
        response.set_cookie(
            SIGNIN_COOKIE, value, httponly=True, secure=_bench(request).secure_cookie, samesite="strict",
            path="/signin", max_age=3600,
        )  # fmt: skip
        return response

    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    async def signin_page(request: Request) -> Response:
        language = request.query_params.get("lang") or language_of(request.headers.get("accept-language"))
        return signin_form(request, language if language in LANGUAGES else "en")

    @app.post("/signin", include_in_schema=False)
    async def signin(request: Request) -> Response:
        bench = _bench(request)
        form = await request.form()
        language = str(form.get("lang") or "en")
        language = language if language in LANGUAGES else "en"
        offered, expected = str(form.get("signin_csrf") or ""), request.cookies.get(SIGNIN_COOKIE) or ""
        if not expected or not hmac.compare_digest(offered.encode(), expected.encode()):
            return signin_form(request, language, status=400, error="error.csrf")
        address = request.client.host if request.client else "unknown"
        limits = bench.limits
        if (wait := limits.failures_per_address.wait(address)) is not None:
            return signin_form(
                request,
                language,
                status=429,
                error="signin.too_many",
                headers={"Retry-After": str(int(wait))},
            )
        token = str(form.get("token") or "").strip()
        staff = await find_staff(bench.pool, token) if token and len(token) < 200 else None
        if staff is None or staff.role not in (Role.SPECIALIST, Role.SUPERVISOR, Role.PARTNERSHIPS):
            limits.failures_per_address.count(address)
            error = "signin.refused" if staff is None else "signin.not_staff"
            return signin_form(request, language, status=401, error=error)
        person = str(staff.person_id)
        if (wait := limits.sessions_per_person.wait(person)) is not None:
            return signin_form(
                request,
                language,
                status=429,
                error="signin.too_many",
                headers={"Retry-After": str(int(wait))},
            )
        limits.sessions_per_person.count(person)
        secret = sessions.new_secret()
        await store.create(
            bench.pool, sessions.session_hash(secret), staff.person_id, staff.role.value, staff.display_name,
            sessions.seal_token(secret, token), language, datetime.now(UTC) + bench.lifetimes.absolute,
        )  # fmt: skip
        response = redirect("/partnerships" if staff.role is Role.PARTNERSHIPS else "/queue")
        response.set_cookie(
            COOKIE, secret, httponly=True, secure=bench.secure_cookie, samesite="strict", path="/",
            max_age=int(bench.lifetimes.absolute.total_seconds()),
        )  # fmt: skip
        response.delete_cookie(SIGNIN_COOKIE, path="/signin")
        return response

    @app.post("/signout", include_in_schema=False)
    async def signout(request: Request) -> Response:
        session = await current_session(request)
        if session is not None and await checked_form(request, session) is not None:
            form = await request.form()
            if form.get("everywhere"):
                await store.end_all(_bench(request).pool, session.person_id)
            else:
                await store.end(_bench(request).pool, session.hash)
        response = redirect("/signin")
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.post("/language", include_in_schema=False)
    async def switch_language(request: Request) -> Response:
        session = await signed_in(request)
        if not isinstance(session, Session):
            return session
        form = await checked_form(request, session)
        if form is None:
            return redirect("/queue", "error.csrf")
        language = str(form.get("language"))
        if language in LANGUAGES:
            await store.set_language(_bench(request).pool, session.hash, language)
        back = str(form.get("back") or "/queue")
        return redirect(back if back.startswith("/") and not back.startswith("//") else "/queue")

    @app.get("/queue", response_class=HTMLResponse, include_in_schema=False)
    async def queue(request: Request) -> Response:
        async def build(session: Session) -> Response:
            if session.partnerships:
                return redirect(session.home)  # reads no tip
            plans = await ask(request, session, "triage", "GET", "/v1/plans?limit=500")
            held = await ask(request, session, "intake", "GET", "/v1/casework/assignments")
            workers = (
                await ask(request, session, "intake", "GET", "/v1/casework/caseworkers")
                if session.supervisor
                else None
            )
            holders = (
                {entry["tip_id"]: entry for entry in held.body.get("assignments", [])} if held.ok else {}
            )
            mine: list[dict[str, Any]] = []
            unassigned: list[dict[str, Any]] = []
            others: list[dict[str, Any]] = []
            for plan in plans.body.get("plans", []) if plans.ok else []:
                holder = holders.get(plan["tip_id"])
                row = {**plan, "holder": holder}
                (mine if holder and holder["is_you"] else unassigned if holder is None else others).append(
                    row
                )
            order = {"urgent": 0, "non_urgent": 1, "insufficient_information": 2}
            for rows in (mine, unassigned, others):
                rows.sort(key=lambda row: (order.get(row["urgency"], 3), row["next_deadline"] or "9999"))
            return render(
                request, "queue.html", session, session.language, mine=mine, unassigned=unassigned,
                others=others if session.supervisor else [],
                caseworkers=workers.body.get("caseworkers", []) if workers and workers.ok else [],
            )  # fmt: skip

        return await page(request, build)

    @app.post("/cases/{tip_id}/take", include_in_schema=False)
    async def take(request: Request, tip_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        _, form = checked
        person = form.get("person_id")
        body = {"person_id": str(person)} if person else {}
        back = "/queue" if person else f"/cases/{tip_id}"
        return await act(request, "intake", "PUT", f"/v1/casework/tips/{tip_id}/assignment", body, back)

    @app.post("/cases/{tip_id}/release", include_in_schema=False)
    async def release(request: Request, tip_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        _, form = checked
        body = {"note": str(form.get("note") or "") or None}
        return await act(request, "intake", "POST", f"/v1/casework/tips/{tip_id}/release", body, "/queue")

    @app.post("/handover", include_in_schema=False)
    async def handover(request: Request) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        try:
            answer = await ask(
                request, session, "intake", "POST", "/v1/casework/handover",
                {"note": str(form.get("note") or "") or None},
            )  # fmt: skip
        except ServiceUnavailable:
            return redirect("/queue", "error.unavailable")
        return redirect("/queue", "handed_over" if answer.ok else notice_of(answer))

    async def case_page(
        request: Request, session: Session, tip_id: uuid.UUID, opened: dict[str, Any] | None = None,
        address: dict[str, Any] | None = None,
    ) -> Response:  # fmt: skip
        case = await ask(request, session, "intake", "GET", f"/v1/casework/tips/{tip_id}")
        if case.status in (403, 404):
            error = "case.held_by_other" if case.status == 403 else "case.not_found"
            return render(request, "error.html", session, session.language, status=case.status, error=error)
        if not case.ok:
            return render(request, "error.html", session, session.language, status=502, error="error.refused")
        # The case file is intake's; what triage and monitoring add is shown when they answer.
        triage = await optional(ask(request, session, "triage", "GET", f"/v1/tips/{tip_id}/triage"))
        journey = await optional(
            ask(request, session, "monitoring", "GET", f"/v1/console/journey/{case.body['reference']}")
        )
        referrals = await optional(ask(request, session, "referral", "GET", f"/v1/tips/{tip_id}/referrals"))
        return render(
            request, "case.html", session, session.language, case=case.body,
            triage=triage.body if triage and triage.ok else None,
            journey=journey.body if journey and journey.ok else None,
            referrals=referrals.body if referrals and referrals.ok else None, address=address,
            referrals_refused=bool(referrals and referrals.status == 403),
            referral_decline_reasons=REFERRAL_DECLINE_REASONS,
            opened=opened, purposes=PURPOSES, parts=PARTS, override_reasons=OVERRIDE_REASONS,
        )  # fmt: skip

    @app.get("/cases/{tip_id}", response_class=HTMLResponse, include_in_schema=False)
    async def show_case(request: Request, tip_id: uuid.UUID) -> Response:
        return await page(request, lambda session: case_page(request, session, tip_id))

    @app.post("/cases/{tip_id}/open", response_class=HTMLResponse, include_in_schema=False)
    async def open_case(request: Request, tip_id: uuid.UUID) -> Response:
        """Opened values are rendered in this answer only (no-store), never kept by the workbench."""
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        body = {"purpose": form.get("purpose"), "parts": form.getlist("parts")}
        try:
            answer = await ask(
                request, session, "intake", "POST", f"/v1/casework/tips/{tip_id}/openings", body
            )
            if not answer.ok:
                return redirect(f"/cases/{tip_id}", notice_of(answer))
            return await case_page(request, session, tip_id, opened=answer.body)
        except ServiceUnavailable:
            return redirect(f"/cases/{tip_id}", "error.unavailable")

    @app.post("/cases/{tip_id}/referrals/{referral_id}/{action}", include_in_schema=False)
    async def referral_action(
        request: Request, tip_id: uuid.UUID, referral_id: uuid.UUID, action: str
    ) -> Response:
        """Accept (with who confirmed it), confirm, decline or complete a referral through referral's
        API; a confidential address it gives is shown in this answer only (no-store).
        """
        back = f"/cases/{tip_id}"
        if action not in ("accept", "confirm", "decline", "complete"):
            return redirect(back, "error.invalid")
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        body: dict[str, Any] | None = None
        if action == "accept":
            body = {"warm_transfer": form.get("warm_transfer") == "yes"}
            if form.get("confirmed_by") in ("provider", "supervisor"):
                body["confirmed_by"] = form.get("confirmed_by")
        elif action == "decline":
            body = {"reason": form.get("reason")}
        try:
            answer = await ask(
                request, session, "referral", "POST", f"/v1/referrals/{referral_id}/{action}", body
            )
            if not answer.ok or not answer.body.get("confirmed"):
                return redirect(back, notice_of(answer))
            return await case_page(request, session, tip_id, address=answer.body)
        except ServiceUnavailable:
            return redirect(back, "error.unavailable")

    @app.post("/cases/{tip_id}/urgency", include_in_schema=False)
    async def override(request: Request, tip_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        _, form = checked
        body = {key: form.get(key) for key in ("urgency", "reason", "note")}
        return await act(request, "triage", "PUT", f"/v1/tips/{tip_id}/urgency", body, f"/cases/{tip_id}")

    @app.post("/cases/{tip_id}/plans/{plan_id}/acknowledge", include_in_schema=False)
    async def acknowledge(request: Request, tip_id: uuid.UUID, plan_id: uuid.UUID) -> Response:
        if isinstance(checked := await form_of(request), Response):
            return checked
        return await act(
            request, "triage", "POST", f"/v1/plans/{plan_id}/acknowledge", None, f"/cases/{tip_id}"
        )

    @app.post("/cases/{tip_id}/plans/{plan_id}/steps/{step}", include_in_schema=False)
    async def complete_step(request: Request, tip_id: uuid.UUID, plan_id: uuid.UUID, step: str) -> Response:
        if isinstance(checked := await form_of(request), Response):
            return checked
        body = {"outcome": checked[1].get("outcome")}
        path = f"/v1/plans/{plan_id}/steps/{step}/complete"
        return await act(request, "triage", "POST", path, body, f"/cases/{tip_id}")

    @app.get("/reviews", response_class=HTMLResponse, include_in_schema=False)
    async def reviews(request: Request) -> Response:
        async def build(session: Session) -> Response:
            answer = await ask(request, session, "disclosure", "GET", "/v1/reviews?limit=500")
            if not answer.ok:
                return render(
                    request, "error.html", session, session.language, status=answer.status,
                    error="error.forbidden",
                )  # fmt: skip
            rows = sorted(
                answer.body["reviews"],
                key=lambda row: (row.get("queue") != "expedited", row.get("review_due_at") or "9999"),
            )
            return render(request, "reviews.html", session, session.language, reviews=rows)

        return await page(request, build)

    async def review_page(
        request: Request,
        session: Session,
        tip_id: uuid.UUID,
        preview: dict[str, Any] | None = None,
        reissued: dict[str, Any] | None = None,
    ) -> Response:
        answer = await ask(request, session, "disclosure", "GET", f"/v1/cases/{tip_id}")
        if not answer.ok:
            error = "error.forbidden" if answer.status == 403 else "case.not_found"
            return render(request, "error.html", session, session.language, status=answer.status, error=error)
        for entry in answer.body.get("audit", []):
            if isinstance(entry, dict) and isinstance(entry.get("detail"), str):
                entry["detail"] = json.loads(entry["detail"])
        return render(
            request, "review.html", session, session.language, case=answer.body, preview=preview,
            purposes=PURPOSES, approval_reasons=APPROVAL_REASONS, decline_reasons=DECLINE_REASONS,
            reopen_reasons=REOPEN_REASONS, reissue_reasons=REISSUE_REASONS, set_aside_reasons=SET_ASIDE_REASONS,
            reissued=reissued,
        )  # fmt: skip

    @app.get("/reviews/{tip_id}", response_class=HTMLResponse, include_in_schema=False)
    async def review(request: Request, tip_id: uuid.UUID) -> Response:
        return await page(request, lambda session: review_page(request, session, tip_id))

    @app.post("/reviews/{tip_id}/preview", response_class=HTMLResponse, include_in_schema=False)
    async def preview(request: Request, tip_id: uuid.UUID) -> Response:
        """The package as it would go out, values included: shown in this answer only (no-store)."""
        if isinstance(checked := await form_of(request), Response):
            return checked
        session, form = checked
        body: dict[str, Any] = {"reason": form.get("reason") or "consent_confirmed"}
        if form.get("ground"):
            body["ground"] = form.get("ground")
        if reference := legal_reference(form):
            body["legal_reference"] = reference
        try:
            answer = await ask(request, session, "disclosure", "POST", f"/v1/cases/{tip_id}/preview", body)
            if not answer.ok and answer.status != 409:
                return redirect(f"/reviews/{tip_id}", notice_of(answer))
            return await review_page(
                request, session, tip_id, preview={"status": answer.status, **answer.body}
            )
        except ServiceUnavailable:
            return redirect(f"/reviews/{tip_id}", "error.unavailable")

    @app.post(
        "/reviews/{tip_id}/packages/{package_id}/{decision}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    async def decide_withheld(
        request: Request, tip_id: uuid.UUID, package_id: uuid.UUID, decision: str
    ) -> Response:
        """A package withheld on replay: issue it again (the answer says what the policy allows now, or
        why not) or set it aside."""
        if decision not in ("reissue", "set-aside"):
            return redirect(f"/reviews/{tip_id}", "error.invalid")
        if isinstance(checked := await form_of(request), Response):
            return checked
        session, form = checked
        path = f"/v1/cases/{tip_id}/packages/{package_id}/{decision}"
        if decision == "set-aside":
            return await act(
                request, "disclosure", "POST", path, {"reason": form.get("reason")}, f"/reviews/{tip_id}"
            )
        try:
            answer = await ask(request, session, "disclosure", "POST", path, {"reason": form.get("reason")})
        except ServiceUnavailable:
            return redirect(f"/reviews/{tip_id}", "error.unavailable")
        if not answer.ok and not (answer.status == 409 and "reasons" in answer.body):
            return redirect(f"/reviews/{tip_id}", notice_of(answer))
        return await review_page(request, session, tip_id, reissued={"status": answer.status, **answer.body})

    @app.post("/reviews/{tip_id}/{decision}", include_in_schema=False)
    async def decide(request: Request, tip_id: uuid.UUID, decision: str) -> Response:
        if decision not in ("approve", "decline", "reopen"):
            return redirect(f"/reviews/{tip_id}", "error.invalid")
        if isinstance(checked := await form_of(request), Response):
            return checked
        form = checked[1]
        body: dict[str, Any] = {"reason": form.get("reason")}
        if decision == "approve":
            if form.get("ground"):
                body["ground"] = form.get("ground")
            if reference := legal_reference(form):
                body["legal_reference"] = reference
        return await act(
            request, "disclosure", "POST", f"/v1/cases/{tip_id}/{decision}", body, f"/reviews/{tip_id}"
        )

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    async def alerts(request: Request) -> Response:
        async def build(session: Session) -> Response:
            answer = await ask(request, session, "monitoring", "GET", "/v1/alerts")
            found = answer.body.get("alerts", []) if answer.ok else []
            return render(request, "alerts.html", session, session.language, alerts=found)

        return await page(request, build)
