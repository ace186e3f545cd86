"""Intake's casework use cases: hold a tip, hand it over, and open its identifying data on purpose.

Every rule about who may do what to which tip is in ``domain/casework.py``; each use case loads the
tip's holder, asks the rule, and acts in one transaction, so the check and the act cannot drift.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from schemas.sealed import SealedIdentifiers
from services.common.auth import Staff
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.sealing import DataKey, Keystore
from services.intake.adapters import casework as store
from services.intake.domain.casework import (
    Purpose,
    Refused,
    SealedPart,
    check_assign,
    check_release,
    may_open,
    may_read,
)
from services.intake.domain.casework import Staff as Person

HANDOVER_NOTE_FIELD = "handover_note"


class NotFound(Exception):
    """No such tip (or person)."""


async def case_file(
    staff: Staff, tip_id: uuid.UUID, transactions: Transactions[PostgresUnitOfWork]
) -> dict[str, Any]:
    """What staff may read of a tip without opening anything: facts, consents, holder, history."""
    async with transactions.begin() as tx:
        connection = tx.connection
        tip = await store.tip_for_casework(connection, tip_id)
        if tip is None:
            raise NotFound
        if not may_read(_person(staff), tip["holder"]):
            raise Refused("held_by_another_person")
        identifiers = SealedIdentifiers.model_validate(tip["identifiers"])
        supplements = await store.supplements(connection, tip_id)
        holder = await store.caseworker(connection, tip["holder"]) if tip["holder"] else None
        call = await store.call(connection, tip_id)
        return {
            "tip_id": str(tip_id),
            "reference": tip["reference"],
            "channel": tip["channel"],
            "language": tip["language"],
            "received_at": tip["received_at"].isoformat(),
            "facts": tip["facts"],
            "sealed_parts": {
                "narrative": identifiers.narrative is not None
                or any(row["identifiers"].get("narrative") for row in supplements),
                "contact": identifiers.contact is not None,
                "named_persons": len(identifiers.named_persons),
            },
            "call": _call(call) if call else None,
            "holder": _holder(tip["holder"], holder["display_name"] if holder else None, staff),
            "assigned_at": tip["assigned_at"].isoformat() if tip["assigned_at"] else None,
            "consents": [
                {**dict(row), "recorded_at": row["recorded_at"].isoformat()}
                for row in await store.consents(connection, tip_id)
            ],
            "supplements": [
                {
                    "supplement_id": str(row["supplement_id"]),
                    "received_at": row["received_at"].isoformat(),
                    "update": row["update"],
                    "attached_by": row["attached_by"],
                    "attached_via": row["attached_via"],
                }
                for row in supplements
            ],
            "assignment_history": [
                {
                    "action": row["action"],
                    "person": row["person_name"],
                    "by": row["by_name"],
                    "by_role": row["by_role"],
                    "with_note": row["sealed_note"] is not None,
                    "at": row["at"].isoformat(),
                }
                for row in await store.history(connection, tip_id)
            ],
            "openings": [
                {
                    "person": row["display_name"],
                    "role": row["role"],
                    "purpose": row["purpose"],
                    "fields": list(row["fields"]),
                    "outcome": row["outcome"],
                    "at": row["opened_at"].isoformat(),
                }
                for row in await store.openings(connection, tip_id)
            ],
        }


def _call(row: Any) -> dict[str, Any]:
    return {
        **dict(row),
        "started_at": row["started_at"].isoformat(),
        "ended_at": row["ended_at"].isoformat(),
        "minutes": round((row["ended_at"] - row["started_at"]).total_seconds() / 60, 1),
    }


def _person(staff: Staff) -> Person:
    return Person(staff.role.value, staff.person_id)


def _holder(person_id: uuid.UUID | None, name: str | None, staff: Staff) -> dict[str, Any] | None:
    if person_id is None:
        return None
    return {"person_id": str(person_id), "display_name": name, "is_you": person_id == staff.person_id}


async def assign(
    staff: Staff, tip_id: uuid.UUID, target: uuid.UUID | None, transactions: Transactions[PostgresUnitOfWork]
) -> uuid.UUID:
    """Give the tip to ``target`` (the caller when None); returns who holds it."""
    person = target or staff.person_id
    async with transactions.begin() as tx:
        tip = await store.tip_for_casework(tx.connection, tip_id, lock=True)
        if tip is None:
            raise NotFound
        action = check_assign(_person(staff), tip["holder"], person)
        if await store.caseworker(tx.connection, person) is None:
            raise NotFound
        if tip["holder"] != person:
            await store.assign(tx.connection, tip_id, person, staff.person_id)
            await store.record(tx.connection, tip_id, action, person, staff.person_id, staff.role.value)
    return person


async def release(
    staff: Staff,
    tip_id: uuid.UUID,
    note: str | None,
    transactions: Transactions[PostgresUnitOfWork],
    keystore: Keystore,
) -> None:
    """Return the tip to the queue, with a handover note sealed under the tip's key."""
    async with transactions.begin() as tx:
        tip = await store.tip_for_casework(tx.connection, tip_id, lock=True)
        if tip is None:
            raise NotFound
        check_release(_person(staff), tip["holder"])
        await _release(tx.connection, keystore, staff, tip_id, tip["holder"], note, "released")


async def hand_over(
    staff: Staff, note: str | None, transactions: Transactions[PostgresUnitOfWork], keystore: Keystore
) -> list[uuid.UUID]:
    """The shift ends: every tip the caller holds returns to the queue with the same note."""
    async with transactions.begin() as tx:
        held = await store.held_by(tx.connection, staff.person_id)
        for tip_id in held:
            await _release(tx.connection, keystore, staff, tip_id, staff.person_id, note, "handed_over")
    return held


async def _release(
    connection: Any, keystore: Keystore, staff: Staff, tip_id: uuid.UUID, holder: uuid.UUID,
    note: str | None, action: str,
) -> None:  # fmt: skip
    sealed = None
    if note:
        # Sealing needs the data key; opening it to seal is audited like any other use of the key.
        key = await keystore.open(connection, tip_id, purpose="seal_handover_note", fields=["handover_note"])
        sealed = key.seal(HANDOVER_NOTE_FIELD, note) if key else None
    await store.unassign(connection, tip_id)
    await store.record(connection, tip_id, action, holder, staff.person_id, staff.role.value, sealed)


@dataclass(frozen=True, slots=True)
class Opened:
    values: dict[str, Any]
    erased: bool


async def open_parts(
    staff: Staff,
    tip_id: uuid.UUID,
    purpose: Purpose,
    parts: list[SealedPart],
    transactions: Transactions[PostgresUnitOfWork],
    keystore: Keystore,
) -> Opened:
    """Open the asked parts of a tip for a stated purpose: audited twice (openings, unseal audit)."""
    asked = sorted(set(parts), key=list(SealedPart).index)
    async with transactions.begin() as tx:
        connection = tx.connection
        tip = await store.tip_for_casework(connection, tip_id)
        if tip is None:
            raise NotFound
        if not may_open(_person(staff), tip["holder"]):
            raise Refused("held_by_another_person" if tip["holder"] else "take_the_tip_first")
        fields = [part.value for part in asked]
        key = await keystore.open(connection, tip_id, purpose=f"staff_open:{purpose.value}", fields=fields)
        await store.add_opening(
            connection, opening_id=uuid.uuid4(), tip_id=tip_id, person_id=staff.person_id,
            role=staff.role.value, token_id=staff.token_id, purpose=purpose.value, fields=fields,
            outcome="erased" if key is None else "unsealed",
        )  # fmt: skip
        if key is None:
            return Opened({}, erased=True)
        identifiers = SealedIdentifiers.model_validate(tip["identifiers"])
        supplements = await store.supplements(connection, tip_id)
        history = await store.history(connection, tip_id) if SealedPart.HANDOVER_NOTES in asked else []
    return Opened(_unsealed(key, asked, identifiers, supplements, history), erased=False)


def _unsealed(
    key: DataKey,
    asked: list[SealedPart],
    identifiers: SealedIdentifiers,
    supplements: list[Any],
    history: list[Any],
) -> dict[str, Any]:
    def opened(field: str, value: str | None) -> str | None:
        return key.unseal(field, value) if value else None

    values: dict[str, Any] = {}
    if SealedPart.NARRATIVE in asked:
        values["narrative"] = opened("narrative", identifiers.narrative)
        values["supplements"] = [
            {"received_at": row["received_at"].isoformat(),
             "narrative": opened(f"supplements.{row['supplement_id']}.narrative", row["identifiers"].get("narrative"))}
            for row in supplements
        ]  # fmt: skip
    if SealedPart.CONTACT in asked:
        contact = identifiers.contact
        values["contact"] = (
            {"name": opened("contact.name", contact.name), "phone": opened("contact.phone", contact.phone),
             "email": opened("contact.email", contact.email)}
            if contact else None
        )  # fmt: skip
    if SealedPart.NAMED_PERSONS in asked:
        values["named_persons"] = [
            {
                "name": key.unseal(f"named_persons.{number}.name", person.name),
                "relation": person.relation.value,
            }
            for number, person in enumerate(identifiers.named_persons)
        ]
    if SealedPart.HANDOVER_NOTES in asked:
        values["handover_notes"] = [
            {"at": row["at"].isoformat(), "by": row["by_name"], "note": _open_note(key, row["sealed_note"])}
            for row in history
            if row["sealed_note"]
        ]
    return values


def _open_note(key: DataKey, sealed: str) -> str:
    return key.unseal(HANDOVER_NOTE_FIELD, sealed)
