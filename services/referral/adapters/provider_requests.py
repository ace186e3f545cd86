"""Providers' requests and the confirmation cycle in PostgreSQL, each change audited in provider_audit."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.common.auth import Staff
from services.referral.adapters import datapackage
from services.referral.adapters.directory import changed, json_object, store_records, stored_directory
from services.referral.domain import hsds
from services.referral.domain import provider_requests as rules
from services.referral.domain.provider_requests import ProviderRequest, RequestKind, RequestStatus

CLOCK = "clock"
# A request to hide its address or leave the public directory: JSON true only, as ``_restrict`` reads
# it (a string "true" matched here but never applied would be selected, and publish, on every pass).
RESTRICTING = """(details @> '{"hide_address": true}' OR details @> '{"leave_public_directory": true}')"""


async def submit(connection: asyncpg.Connection, request: ProviderRequest, language: str) -> uuid.UUID:
    """Store a provider's request as pending; the database audits it as received (referral's migration
    0009), the public deployment's role holding no right on the audit."""
    request_id = uuid.uuid4()
    # Only the columns the public deployment's role may write (services/common/roles.py).
    await connection.execute(
        "INSERT INTO provider_requests (request_id, kind, organization_id, details, language)"
        " VALUES ($1, $2, $3, $4, $5)",
        request_id, request.kind.value, request.organization_id,
        request.details.model_dump(mode="json", exclude_none=True), language,
    )  # fmt: skip
    return request_id


async def listed(
    connection: asyncpg.Connection | asyncpg.Pool, status: RequestStatus
) -> list[dict[str, Any]]:
    """Requests of one status, the oldest first; a pending one with what approving it would change."""
    rows = await connection.fetch(
        "SELECT * FROM provider_requests WHERE status = $1 ORDER BY received_at, request_id", status.value
    )
    current = (
        (await stored_directory(connection, with_addresses=True))[0]
        if status is RequestStatus.PENDING
        else None
    )
    return [view(row, current) for row in rows]


async def one(connection: asyncpg.Connection | asyncpg.Pool, request_id: uuid.UUID) -> dict[str, Any] | None:
    row = await connection.fetchrow("SELECT * FROM provider_requests WHERE request_id = $1", request_id)
    if row is None:
        return None
    pending = row["status"] == RequestStatus.PENDING.value
    return view(row, (await stored_directory(connection, with_addresses=True))[0] if pending else None)


def view(row: asyncpg.Record, current: hsds.Tables | None = None) -> dict[str, Any]:
    details = json_object(row["details"])
    shown = {
        "request_id": str(row["request_id"]), "kind": row["kind"], "organization_id": row["organization_id"],
        "details": details, "language": row["language"],
        "status": row["status"], "held_by": str(row["held_by"]) if row["held_by"] else None,
        "received_at": row["received_at"].isoformat(),
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None, "reason": row["reason"],
        "restrictions_applied": row["restrictions_applied_at"] is not None,
    }  # fmt: skip
    if current is not None:
        try:
            change = _change(row, _details(details), current, date.today())
            shown["changes"] = rules.proposed_changes(current, change)
        except rules.RequestRefused as refused:
            shown["changes"], shown["refused"] = [], refused.rule
    return shown


def _details(stored: dict[str, Any]) -> rules.ProviderDetails:
    """A request's details as the form's rules read them, strictly: a flag is JSON true or false, as
    the restriction queries (``RESTRICTING``) read it, never "true" or 1. A row the form did not write
    (inserted by hand, or by a compromised public app) is refused, never an error that hides the
    whole queue."""
    try:
        return rules.ProviderDetails.model_validate_json(json.dumps(stored), strict=True)
    except ValidationError as error:
        problems = tuple(dict.fromkeys(_problem(problem) for problem in error.errors()))
        if len(problems) > MAX_PROBLEMS:
            problems = (*problems[:MAX_PROBLEMS], f"details: {len(problems) - MAX_PROBLEMS} more")
        raise rules.RequestRefused("invalid_details", problems) from None


# A row may hold any number of bad fields: the answer names a few.
MAX_PROBLEMS = 10


def _problem(problem: Any) -> str:
    """Which field and which rule, never a value; nor a key the form does not know (an unknown key's
    location is the key itself, a provider's text), nor anything under a field but list positions."""
    location = problem["loc"]
    if (
        problem["type"] == "extra_forbidden"
        or not location
        or location[0] not in rules.ProviderDetails.model_fields
    ):
        return f"details: {problem['type']}"
    shown = [str(location[0]), *(str(part) for part in location[1:] if isinstance(part, int))]
    return f"details.{'.'.join(shown)}: {problem['type']}"


def _change(
    row: asyncpg.Record, details: rules.ProviderDetails, current: hsds.Tables, today: date
) -> rules.ListingChange:
    if row["kind"] == RequestKind.REGISTRATION.value:
        organization = rules.organization_id_for(row["request_id"])
        # The request's id is chosen by whoever inserts it: one sharing a listing's id would replace
        # that listing on approval.
        if organization in current["organization"]:
            raise rules.RequestRefused("already_listed")
        return rules.listing_change(current, organization, details, today, f"{organization}-service")
    if row["organization_id"] not in current["organization"]:
        raise rules.RequestRefused("no_such_listing")
    return rules.listing_change(current, row["organization_id"], details, today)


async def take(connection: asyncpg.Connection, request_id: uuid.UUID, staff: Staff) -> bool:
    """Hold a request to decide it; False when there is no such request. Raises ``RequestRefused``."""
    async with connection.transaction():
        row = await _locked(connection, request_id)
        if row is None:
            return False
        rules.check_take(RequestStatus(row["status"]), row["held_by"], staff.person_id)
        await connection.execute(
            "UPDATE provider_requests SET held_by = $2 WHERE request_id = $1", request_id, staff.person_id
        )
        await _audit(connection, f"request:{request_id}", "taken", staff, staff.role.value)
    return True


async def decide(
    connection: asyncpg.Connection, request_id: uuid.UUID, staff: Staff, approve: bool,
    reason: str | None = None, public: bool | None = None, today: date | None = None,
    address_public: bool | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """Approve (the listing is written or changed) or reject a request the caller holds.

    An approval writes every field the request gives, validated as an import is. Nothing becomes more
    public without the specialist saying so field by field: the listing only with ``public``, a new
    street address only with ``address_public`` (confidential otherwise, whatever was public before).
    Neither may go against the provider's own answer: ``address_public`` needs the provider's
    ``address_public`` (and no ``hide_address``), ``public`` no ``leave_public_directory``.
    ``restrictions_applied`` in the answer: the request's hide_address or leave_public_directory took
    effect (at once or in this decision) and stays, whatever the decision.
    Raises ``RequestRefused``; None when there is no such request.
    """
    today = today or date.today()
    async with connection.transaction():
        row = await _locked(connection, request_id)
        if row is None:
            return None
        rules.check_decision(RequestStatus(row["status"]), row["held_by"], staff.person_id)
        status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        organization_id = row["organization_id"]
        if approve:
            details = _details(json_object(row["details"]))
            rules.check_consent(details, public=public, address_public=address_public)
        # The background pass skips a row locked here, and never looks at it once decided: a provider's
        # request to hide its address must not be lost because it was decided first.
        restricted, hidden = await _restrict(connection, None, row)
        if approve:
            current, _confirmations = await stored_directory(connection, with_addresses=True)
            change = _change(row, details, current, today)
            problems = datapackage.validate(change.records)
            if problems:
                raise rules.RequestRefused("invalid_listing", tuple(problems))
            organization_id = next(iter(change.records["organization"]))
            await _write(connection, change)
            if row["kind"] == RequestKind.UPDATE.value:
                await _confirmed_now(connection, str(organization_id), today)
            if public is not None:
                await _confirm(connection, "organization", str(organization_id), public, str(staff.person_id))
            for location in sorted(change.new_addresses):
                await _confirm(connection, "location", location, address_public is True, str(staff.person_id))
        if approve or hidden:
            await changed(connection)
        await connection.execute(
            "UPDATE provider_requests SET status = $2, decided_by = $3, decided_at = now(), reason = $4"
            " WHERE request_id = $1",
            request_id, status.value, staff.person_id, reason,
        )  # fmt: skip
        await _audit(connection, f"request:{request_id}", status.value, staff, staff.role.value, reason)
        # Declining does not undo a restriction already applied (it may have been the provider's own
        # wish): the answer says so, and the specialist restores the listing if it was not.
        applied = restricted or row["restrictions_applied_at"] is not None
        return {
            "request_id": str(request_id), "status": status.value, "organization_id": organization_id,
            "restrictions_applied": applied,
        }  # fmt: skip


async def _write(connection: asyncpg.Connection, change: rules.ListingChange) -> None:
    for table, records in change.records.items():
        await store_records(connection, table, records, rewrite_unchanged=True)
    for table, keys in change.removed.items():
        if table == "address":
            await connection.execute("DELETE FROM hsds_addresses WHERE id = ANY($1::text[])", sorted(keys))
        else:
            await connection.execute(
                "DELETE FROM hsds_records WHERE resource = $1 AND id = ANY($2::text[])", table, sorted(keys)
            )


async def _confirm(connection: asyncpg.Connection, resource: str, key: str, public: bool, by: str) -> None:
    await connection.execute(
        "INSERT INTO directory_confirmations (resource, id, public, confirmed_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (resource, id) DO UPDATE"
        " SET public = excluded.public, confirmed_by = excluded.confirmed_by, confirmed_at = now()",
        resource, key, public, by,
    )  # fmt: skip


async def apply_restrictions(connection: asyncpg.Connection) -> int:
    """Take out of the public directory, at once, what providers asked to hide: their address (every
    location of theirs) or their whole listing. Returns how many requests it applied."""
    async with connection.transaction():
        rows = await connection.fetch(
            "SELECT request_id, kind, organization_id, details, restrictions_applied_at FROM provider_requests"
            " WHERE restrictions_applied_at IS NULL AND status = 'pending' AND kind = 'update'"
            f" AND {RESTRICTING} ORDER BY received_at FOR UPDATE SKIP LOCKED"
        )
        if not rows:
            return 0
        tables, _confirmations = await stored_directory(connection, with_addresses=False)
        hidden = False
        for row in rows:
            hidden |= (await _restrict(connection, tables, row))[1]  # tables: read once for the whole pass
        # Publishing rewrites the whole public directory: only when something was taken out of it.
        if hidden:
            await changed(connection)
    return len(rows)


async def restriction_requests_since(
    connection: asyncpg.Connection, since: datetime
) -> list[tuple[datetime, str | None]]:
    """When each request to hide an address or leave the public directory came in since ``since``, and
    for which organization, whatever became of it: a rejected one was applied all the same."""
    rows = await connection.fetch(
        "SELECT received_at, organization_id FROM provider_requests WHERE received_at > $1 AND kind = 'update'"
        f" AND {RESTRICTING}",
        since,
    )
    return [(row["received_at"], row["organization_id"]) for row in rows]


async def _restrict(
    connection: asyncpg.Connection, tables: hsds.Tables | None, row: asyncpg.Record
) -> tuple[bool, bool]:
    """Apply an update request's restrictions, once. The caller locks the row.

    Returns whether it had any, and whether the directory changed (its listing exists).
    """
    details = json_object(row["details"])
    wanted = details.get("leave_public_directory") is True or details.get("hide_address") is True
    if row["restrictions_applied_at"] is not None or row["kind"] != RequestKind.UPDATE.value or not wanted:
        return False, False
    if tables is None:
        tables = (await stored_directory(connection, with_addresses=False))[0]
    organization = str(row["organization_id"])
    listed = organization in tables["organization"]
    if listed:
        if details.get("leave_public_directory") is True:
            await _confirm(connection, "organization", organization, False, "provider")
            await _audit(
                connection, f"organization:{organization}", "left_public_directory", None, "provider"
            )
        if details.get("hide_address") is True:
            for location in rules.locations_of(tables, organization):
                await _confirm(connection, "location", location, False, "provider")
            await _audit(connection, f"organization:{organization}", "address_hidden", None, "provider")
    await connection.execute(
        "UPDATE provider_requests SET restrictions_applied_at = now() WHERE request_id = $1",
        row["request_id"],
    )
    return True, listed


async def _confirmed_now(connection: asyncpg.Connection, organization_id: str, today: date) -> None:
    """The organization's details are confirmed today: its services' assured_date, and no open request."""
    await connection.execute(
        "UPDATE hsds_records SET record = jsonb_set(record, '{assured_date}', to_jsonb($2::text)), updated_at = now()"
        " WHERE resource = 'service' AND record ->> 'organization_id' = $1",
        organization_id, today.isoformat(),
    )  # fmt: skip
    await connection.execute(
        "DELETE FROM directory_reconfirmations WHERE organization_id = $1", organization_id
    )


async def reconfirmation_round(
    connection: asyncpg.Connection, max_age: timedelta, grace: timedelta, today: date | None = None
) -> int:
    """Ask stale organizations to confirm their details, and let lapse those past the grace period.

    Returns how many organizations were asked or lapsed.
    """
    today = today or date.today()
    async with connection.transaction():
        tables, _confirmations = await stored_directory(connection, with_addresses=False)
        stale = rules.stale_organizations(tables["organization"], tables["service"], today, max_age)
        asked = await connection.fetch(
            "INSERT INTO directory_reconfirmations (organization_id, due_at)"
            " SELECT id, now() + $2::interval FROM unnest($1::text[]) AS id"
            " ON CONFLICT (organization_id) DO NOTHING RETURNING organization_id",
            sorted(stale), grace,
        )  # fmt: skip
        lapsed = await connection.fetch(
            "UPDATE directory_reconfirmations SET lapsed_at = now()"
            " WHERE lapsed_at IS NULL AND due_at < now() RETURNING organization_id"
        )
        for row in asked:
            await _audit(connection, f"organization:{row[0]}", "confirmation_requested", None, CLOCK)
        for row in lapsed:
            await _audit(connection, f"organization:{row[0]}", "lapsed", None, CLOCK)
        if lapsed:
            await changed(connection)
    return len(asked) + len(lapsed)


async def reconfirmations(connection: asyncpg.Connection | asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await connection.fetch("SELECT * FROM directory_reconfirmations ORDER BY due_at, organization_id")
    return [
        {"organization_id": row["organization_id"], "requested_at": row["requested_at"].isoformat(),
         "due_at": row["due_at"].isoformat(), "lapsed": row["lapsed_at"] is not None}
        for row in rows
    ]  # fmt: skip


async def confirm_details(
    connection: asyncpg.Connection, organization_id: str, staff: Staff, today: date | None = None
) -> bool:
    """A partnership specialist confirmed the details with the provider: False when nothing was asked."""
    async with connection.transaction():
        lapsed = await connection.fetchval(
            "SELECT lapsed_at IS NOT NULL FROM directory_reconfirmations WHERE organization_id = $1 FOR UPDATE",
            organization_id,
        )
        if lapsed is None:
            return False
        await _confirmed_now(connection, organization_id, today or date.today())
        await changed(connection)
        await _audit(
            connection, f"organization:{organization_id}", "details_confirmed", staff, staff.role.value
        )
    return True


async def audit_of(connection: asyncpg.Connection | asyncpg.Pool, subject: str) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT action, person_id, role, reason, at FROM provider_audit WHERE subject = $1 ORDER BY entry_id",
        subject,
    )
    return [
        {"action": row["action"], "person_id": str(row["person_id"]) if row["person_id"] else None,
         "role": row["role"], "reason": row["reason"], "at": row["at"].isoformat()}
        for row in rows
    ]  # fmt: skip


async def _locked(connection: asyncpg.Connection, request_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT * FROM provider_requests WHERE request_id = $1 FOR UPDATE", request_id
    )


async def _audit(
    connection: asyncpg.Connection,
    subject: str,
    action: str,
    staff: Staff | None,
    role: str,
    reason: str | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO provider_audit (subject, action, person_id, role, reason) VALUES ($1, $2, $3, $4, $5)",
        subject, action, staff.person_id if staff else None, role, reason,
    )  # fmt: skip
