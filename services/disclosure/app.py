"""Disclosure's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from schemas.topics import agency_topic
from services.common.limits import limit_bodies
from services.common.runtime import ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.domain.routing import load_routing
from services.disclosure.entrypoints import http
from services.disclosure.entrypoints.kafka import wire

DESCRIPTION = """The law-enforcement gate. A tip goes to police or child protection only on the caller's consent
or a mandatory ground (a minor, imminent danger, a legal obligation), carrying only the fields the
policy permits; who called only with consent to share their identity. Supervisors review web and
email tips and every non-urgent case before anything goes out; urgent mandatory cases go out at
once and are reviewed after. Every step is in a hash-chained audit.

La porte vers les forces de l'ordre : rien n'est transmis sans consentement ou motif obligatoire,
et l'identité de la personne qui appelle reste protégée sans son consentement.
"""


def agency_topics() -> tuple[str, ...]:
    return tuple(agency_topic(agency.agency_id) for agency in load_routing().agencies)


SPEC = ServiceSpec(
    name="disclosure",
    migrations=Path(__file__).parent / "migrations",
    own_topics=agency_topics,
    unit_of_work=DisclosureUnitOfWork,
)


def build_app(settings: ServiceSettings) -> FastAPI:
    app = build_service_app(SPEC, settings, wire, http=http.routes, description=DESCRIPTION)
    limit_bodies(app, settings.max_body_bytes)
    return app
