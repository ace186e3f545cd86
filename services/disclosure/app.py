"""Disclosure's composition root."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from schemas.topics import AUDIT_HEADS, agency_topic
from services.common.limits import limit_bodies
from services.common.runtime import Runtime, ServiceSpec, build_service_app
from services.common.sealing import Keystore
from services.common.settings import ServiceSettings
from services.disclosure import retention
from services.disclosure.adapters.audit import AuditChain
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.adapters.witness import FileWitness
from services.disclosure.domain.audit import ChainKey
from services.disclosure.domain.routing import load_routing
from services.disclosure.entrypoints import http, kafka
from services.disclosure.entrypoints.anchor import keep_anchored
from services.disclosure.ports import Witness
from services.disclosure.settings import AuditSettings, DisclosureSettings

DESCRIPTION = """The law-enforcement gate. A tip goes to police or child protection only on the caller's consent
or a mandatory ground (a minor, imminent danger, a legal obligation), carrying only the fields the
policy permits; who called only with consent to share their identity. Supervisors review web and
email tips and every non-urgent case before anything goes out; urgent mandatory cases go out at
once and are reviewed after. Every step is in a keyed, hash-chained audit whose heads are witnessed
outside the database.

La porte vers les forces de l'ordre : rien n'est transmis sans consentement ou motif obligatoire,
et l'identité de la personne qui appelle reste protégée sans son consentement.
"""


def agency_topics() -> tuple[str, ...]:
    return tuple(agency_topic(agency.agency_id) for agency in load_routing().agencies)


def own_topics() -> tuple[str, ...]:
    return (*agency_topics(), AUDIT_HEADS)


# A package the broker lost goes out again by itself only when nothing can have changed its basis:
# never once its tip was shredded, nor when the caller recorded a consent after the tip's own
# (version 1): a withdrawal may have taken away its basis or the caller's identity, and when a record
# was applied is not kept, so any later record withholds. Those are emptied and stay sent; the case
# keeps its record of the package for a supervisor to issue again if it still stands.
WITHHELD_ON_REPLAY = """
WITH withheld AS (
    UPDATE outbox o SET payload = ''::bytea
    FROM packages p
    WHERE o.event_id = p.package_id AND o.scrub_after_send AND length(o.payload) > 0
      AND p.acknowledged_at IS NULL
      AND (EXISTS (SELECT 1 FROM keys.data_keys k WHERE k.tip_id = p.tip_id AND k.shredded_at IS NOT NULL)
           OR EXISTS (SELECT 1 FROM consent_records r WHERE r.tip_id = p.tip_id AND r.version > 1))
    RETURNING p.package_id, p.tip_id,
        CASE WHEN EXISTS (SELECT 1 FROM keys.data_keys k WHERE k.tip_id = p.tip_id AND k.shredded_at IS NOT NULL)
             THEN 'tip_shredded' ELSE 'consent_changed' END AS reason
), marked AS (
    UPDATE packages p SET withheld_on_replay_at = now(), withheld_reason = w.reason, withheld_noted_at = NULL
    FROM withheld w WHERE p.package_id = w.package_id
    RETURNING p.tip_id
), flagged AS (
    UPDATE cases c SET replay_withheld_at = now() WHERE c.tip_id IN (SELECT tip_id FROM marked)
)
SELECT count(*) FROM withheld
"""
"""Empties the outbox rows of the packages a new broker must not receive again, marks each package
with why (a code) and flags its case (``cases.replay_withheld_at``) for a supervisor; the audit entry
and the metric follow (``handlers.note_withheld_packages``)."""

SPEC = ServiceSpec(
    name="disclosure",
    migrations=Path(__file__).parent / "migrations",
    own_topics=own_topics,
    unit_of_work=DisclosureUnitOfWork,
    retention=retention.STEPS,
    withheld_on_replay=WITHHELD_ON_REPLAY,
)


class AuditWiring:
    """The audit's key and witness, read from the settings when the service starts (as the KEK is), so
    building the app (for its OpenAPI document, say) needs neither."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.appended = asyncio.Event()
        self.chain: AuditChain | None = None

    def start(self) -> tuple[ChainKey, Witness]:
        key, witness = self.settings.chain_key(), FileWitness(self.settings.witness_path())
        self.chain = AuditChain(key, self.appended.set)
        return key, witness

    def unit_of_work(
        self, connection: asyncpg.Connection, keystore: Keystore | None = None
    ) -> DisclosureUnitOfWork:
        assert self.chain is not None, "the audit is wired when the service starts"
        return DisclosureUnitOfWork(connection, keystore, chain=self.chain)


def wire(runtime: Runtime, audit: AuditWiring) -> None:
    """Route disclosure's topics, start the review clock and the audit's anchor."""
    key, witness = audit.start()
    kafka.wire(runtime)
    runtime.background("audit-anchor", partial(keep_anchored, runtime.pool, key, witness, audit.appended))


def build_app(settings: ServiceSettings) -> FastAPI:
    disclosure = DisclosureSettings.of(settings)
    audit = AuditWiring(disclosure)
    spec = replace(SPEC, unit_of_work=audit.unit_of_work)
    app = build_service_app(
        spec, disclosure, partial(wire, audit=audit), http=http.routes, description=DESCRIPTION
    )
    limit_bodies(app, disclosure.max_body_bytes)
    return app
