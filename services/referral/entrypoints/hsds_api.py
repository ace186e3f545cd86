"""The HSDS API 3.0 read endpoints for the public directory, under ``/hsds`` (Open Referral's
``schema/openapi.json``, answers as its compiled schemas). No credentials; they read only the public
view, so an opted-out provider and a confidential address are never in an answer.

Spec parameters without a meaning here: ``format`` is documented as JSON only (``ndjson`` is refused
as any value outside the schema is, 422); ``postcode`` keeps locations whose public address has that
postcode; ``proximity`` needs a geocoder this service does not have: it is left out of the document
and refused (400) when sent, never silently ignored.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.referral.adapters import directory
from services.referral.domain import hsds

PREFIX = "/hsds"
TAG = "HSDS API 3.0 (public directory)"
Page = Annotated[int, Query(ge=1, le=100_000, description="Page number of paginated result.")]
PerPage = Annotated[int, Query(ge=1, le=500, description="Number of results requested in a single page.")]
Search = Annotated[str | None, Query(max_length=200, description="Full text search.")]
Flag = Annotated[bool, Query()]
Id = Annotated[str | None, Query(max_length=100)]
# RFC 3339, as the schema's date-time format says: pydantic alone would also take a number of seconds.
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc_3339(value: object) -> object:
    if isinstance(value, str) and not RFC_3339.match(value):
        raise PydanticCustomError("datetime_format", "Give a date and time as RFC 3339 says.")
    return value


ModifiedAfter = Annotated[datetime | None, BeforeValidator(_rfc_3339), Query()]
Format = Annotated[Literal["json"] | None, Query(description="Only json is served.")]


class _Cache:
    def __init__(self) -> None:
        self.version = -1
        self.tables: hsds.Tables = hsds.empty()
        self.nesting = hsds.Nesting(self.tables)


async def _public(request: Request) -> tuple[hsds.Tables, hsds.Nesting]:
    pool = runtime_of(request).pool
    cache: _Cache = request.app.state.hsds_cache
    stored = await directory.published_version(pool)
    if stored != cache.version:
        tables = await directory.public_tables(pool)
        cache.tables, cache.nesting, cache.version = tables, hsds.Nesting(tables), stored
    return cache.tables, cache.nesting


def _page(items: list[dict[str, Any]], page: int, per_page: int) -> dict[str, Any]:
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    contents = items[(page - 1) * per_page : page * per_page]
    return {
        "total_items": total, "total_pages": pages, "page_number": page, "size": len(contents),
        "first_page": page == 1, "last_page": page >= pages, "empty": not contents, "contents": contents,
    }  # fmt: skip


def _matches(record: dict[str, Any], search: str | None) -> bool:
    if not search:
        return True
    needle = search.casefold()
    return any(
        needle in str(record.get(key) or "").casefold() for key in ("name", "alternate_name", "description")
    )


def _by_id(tables: hsds.Tables, table: str, key: str) -> dict[str, Any]:
    record = tables[table].get(key)
    if record is None:
        raise HTTPException(status_code=404, detail=f"No such {table} in the public directory.")
    return record


def _service_ids_with_terms(tables: hsds.Tables, term: str | None, taxonomy: str | None) -> set[str] | None:
    if term is None and taxonomy is None:
        return None
    terms = tables["taxonomy_term"]
    return {
        str(attribute.get("link_id"))
        for attribute in tables["attribute"].values()
        if (term is None or attribute.get("taxonomy_term_id") == term)
        and (
            taxonomy is None
            or terms.get(str(attribute.get("taxonomy_term_id")), {}).get("taxonomy_id") == taxonomy
        )
    }


def _modified(record: dict[str, Any], after: datetime | None) -> bool:
    if after is None:
        return True
    try:
        stamp = datetime.fromisoformat(str(record.get("last_modified") or record.get("assured_date")))
    except ValueError:
        return False
    if stamp.tzinfo is None and after.tzinfo is not None:
        stamp = stamp.replace(tzinfo=after.tzinfo)
    elif stamp.tzinfo is not None and after.tzinfo is None:
        after = after.replace(tzinfo=stamp.tzinfo)
    return stamp >= after


def _services(
    tables: hsds.Tables, search: str | None, term: str | None, taxonomy: str | None,
    organization_id: str | None, modified_after: datetime | None,
) -> list[dict[str, Any]]:  # fmt: skip
    tagged = _service_ids_with_terms(tables, term, taxonomy)
    return sorted(
        (
            service for service in tables["service"].values()
            if _matches(service, search) and (tagged is None or service["id"] in tagged)
            and (organization_id is None or service.get("organization_id") == organization_id)
            and _modified(service, modified_after)
        ),
        key=lambda service: (str(service.get("name")), service["id"]),
    )  # fmt: skip


def _listed_service(tables: hsds.Tables, service: dict[str, Any]) -> dict[str, Any]:
    """One-to-one fields, with its organization and program (compiled service_list)."""
    out = dict(service)
    organization = tables["organization"].get(str(service.get("organization_id")))
    if organization is not None:
        out["organization"] = dict(organization)
    program = tables["program"].get(str(service.get("program_id")))
    if program is not None:
        out["program"] = dict(program)
    return out


def routes(app: FastAPI) -> None:
    app.state.hsds_cache = _Cache()

    @app.get(PREFIX + "/", tags=[TAG])
    async def about(request: Request) -> dict[str, Any]:
        """HSDS version and profile of this API."""
        base = str(request.base_url).rstrip("/")
        return {"version": hsds.HSDS_VERSION, "profile": hsds.PROFILE, "openapi_url": f"{base}/openapi.json"}

    @app.get(PREFIX + "/services", tags=[TAG])
    async def services(
        request: Request, search: Search = None, page: Page = 1, per_page: PerPage = 50, format: Format = None,
        taxonomy_term_id: Id = None, taxonomy_id: Id = None, organization_id: Id = None,
        modified_after: ModifiedAfter = None, minimal: Flag = False, full: Flag = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Public services, a page at a time."""
        tables, nesting = await _public(request)
        found = _services(tables, search, taxonomy_term_id, taxonomy_id, organization_id, modified_after)
        if minimal:
            items = [{"id": s["id"], "name": s.get("name"), "status": s.get("status")} for s in found]
        elif full:
            items = [nesting.full("service", s) for s in found]
        else:
            items = [_listed_service(tables, s) for s in found]
        return _page(items, page, per_page)

    @app.get(PREFIX + "/services/{id}", tags=[TAG], responses=refusals(404))
    async def service(request: Request, id: str) -> dict[str, Any]:
        """A public service with all its related data."""
        tables, nesting = await _public(request)
        return nesting.full("service", _by_id(tables, "service", id))

    @app.get(PREFIX + "/organizations", tags=[TAG])
    async def organizations(
        request: Request, search: Search = None, full_service: Flag = False, full: Flag = False,
        page: Page = 1, per_page: PerPage = 50, format: Format = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Publicly listed organizations, a page at a time."""
        tables, nesting = await _public(request)
        found = sorted((o for o in tables["organization"].values() if _matches(o, search)),
                       key=lambda o: (str(o.get("name")), o["id"]))  # fmt: skip
        items = [_organization(tables, nesting, o, full_service) if full else dict(o) for o in found]
        return _page(items, page, per_page)

    @app.get(PREFIX + "/organizations/{id}", tags=[TAG], responses=refusals(404))
    async def organization(request: Request, id: str, full_service: Flag = False) -> dict[str, Any]:
        """A publicly listed organization, nested; its services by id and name unless ``full_service``."""
        tables, nesting = await _public(request)
        return _organization(tables, nesting, _by_id(tables, "organization", id), full_service)

    @app.get(PREFIX + "/service_at_locations", tags=[TAG])
    async def service_at_locations(
        request: Request, search: Search = None, taxonomy_term_id: Id = None, taxonomy_id: Id = None,
        organization_id: Id = None, modified_after: ModifiedAfter = None, full: Flag = False,
        page: Page = 1, per_page: PerPage = 50, format: Format = None,
        postcode: Annotated[str | None, Query(max_length=20)] = None,
        proximity: Annotated[str | None, Query(max_length=20, include_in_schema=False)] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Public services at their locations, a page at a time."""
        if proximity is not None:
            raise HTTPException(status_code=400, detail="proximity: not served (no geocoder)")
        tables, nesting = await _public(request)
        services = {
            s["id"]
            for s in _services(tables, search, taxonomy_term_id, taxonomy_id, organization_id, modified_after)
        }
        wanted = _postcode_locations(tables, postcode)
        found = sorted(
            (link for link in tables["service_at_location"].values()
             if link.get("service_id") in services and (wanted is None or link.get("location_id") in wanted)),
            key=lambda link: link["id"],
        )  # fmt: skip
        items = [
            nesting.full("service_at_location", link) if full else _listed_link(tables, link)
            for link in found
        ]
        return _page(items, page, per_page)

    @app.get(PREFIX + "/service_at_locations/{id}", tags=[TAG], responses=refusals(404))
    async def service_at_location(request: Request, id: str) -> dict[str, Any]:
        """A public service at one location, with all related data."""
        tables, nesting = await _public(request)
        return nesting.full("service_at_location", _by_id(tables, "service_at_location", id))

    @app.get(PREFIX + "/taxonomies", tags=[TAG])
    async def taxonomies(
        request: Request,
        search: Search = None,
        page: Page = 1,
        per_page: PerPage = 50,
        format: Format = None,
    ) -> dict[str, Any]:
        """Taxonomies, the Canadian profile's among them."""
        tables, _ = await _public(request)
        found = sorted((t for t in tables["taxonomy"].values() if _matches(t, search)), key=lambda t: t["id"])
        return _page([dict(t) for t in found], page, per_page)

    @app.get(PREFIX + "/taxonomies/{id}", tags=[TAG], responses=refusals(404))
    async def taxonomy(request: Request, id: str) -> dict[str, Any]:
        tables, _ = await _public(request)
        return dict(_by_id(tables, "taxonomy", id))

    @app.get(PREFIX + "/taxonomy_terms", tags=[TAG])
    async def taxonomy_terms(
        request: Request, search: Search = None, page: Page = 1, per_page: PerPage = 50, format: Format = None,
        taxonomy_id: Id = None, top_only: Flag = False, parent_id: Id = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Taxonomy terms, the Canadian profile's among them."""
        tables, _ = await _public(request)
        found = sorted(
            (t for t in tables["taxonomy_term"].values()
             if _matches(t, search) and (taxonomy_id is None or t.get("taxonomy_id") == taxonomy_id)
             and (not top_only or not t.get("parent_id")) and (parent_id is None or t.get("parent_id") == parent_id)),
            key=lambda t: (str(t.get("code")), t["id"]),
        )  # fmt: skip
        return _page([dict(t) for t in found], page, per_page)

    @app.get(PREFIX + "/taxonomy_terms/{id}", tags=[TAG], responses=refusals(404))
    async def taxonomy_term(request: Request, id: str) -> dict[str, Any]:
        tables, _ = await _public(request)
        return dict(_by_id(tables, "taxonomy_term", id))


def _organization(
    tables: hsds.Tables, nesting: hsds.Nesting, organization: dict[str, Any], full_service: bool
) -> dict[str, Any]:
    nested = nesting.full("organization", organization)
    nested["services"] = [
        nesting.full("service", s, frozenset({"organization"})) if full_service else {"id": s["id"], "name": s.get("name"), "status": s.get("status")}
        for s in tables["service"].values()
        if s.get("organization_id") == organization["id"]
    ]  # fmt: skip
    return nested


def _listed_link(tables: hsds.Tables, link: dict[str, Any]) -> dict[str, Any]:
    out = dict(link)
    location = tables["location"].get(str(link.get("location_id")))
    if location is not None:
        out["location"] = dict(location)
    service = tables["service"].get(str(link.get("service_id")))
    if service is not None:
        out["service"] = _listed_service(tables, service)
    return out


def _postcode_locations(tables: hsds.Tables, postcode: str | None) -> set[str] | None:
    if postcode is None:
        return None
    wanted = postcode.replace(" ", "").casefold()
    return {
        str(address.get("location_id"))
        for address in tables["address"].values()
        if str(address.get("postal_code") or "").replace(" ", "").casefold() == wanted
    }
