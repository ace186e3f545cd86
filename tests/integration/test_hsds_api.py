"""The HSDS API 3.0 read endpoints answer as Open Referral's published OpenAPI document and schemas say,
and only with the public directory."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from services.common.settings import ServiceSettings
from services.referral.adapters.directory import confirm_in, import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from tests.helpers import http_client, running

SPEC = Path(__file__).parents[1] / "data" / "hsds-3.0-schema"
EXAMPLE = Path(__file__).parents[1] / "data" / "hsds-3.0-example"
RAW = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
OPENAPI = json.loads((SPEC / "openapi.json").read_text(encoding="utf-8"))
ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SERVICE = "ac148810-d857-441c-9679-408f346de14b"
AT_LOCATION = "e94c9f38-1e8f-4564-91d4-d53501ab1765"


def registry() -> Registry:
    resources = [
        (f"{RAW}compiled/{p.name}", p)
        for p in SPEC.glob("*.json")
        if p.stem not in ("openapi", "taxonomy", "taxonomy_term")
    ]
    resources += [(f"{RAW}{name}.json", SPEC / f"{name}.json") for name in ("taxonomy", "taxonomy_term")]
    resources.append(("urn:openapi", SPEC / "openapi.json"))
    return Registry().with_resources(
        (uri, Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=_draft()))
        for uri, path in resources
    )  # fmt: skip


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def answer_schema(path: str) -> dict[str, Any]:
    schema = OPENAPI["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    # The document's own references ("#/components/...") are to the OpenAPI document.
    return json.loads(json.dumps(schema).replace('"#/components/', '"urn:openapi#/components/'))


def conforms(path: str, body: Any) -> list[str]:
    validator = Draft202012Validator(answer_schema(path), registry=registry())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]


@pytest.fixture
async def api(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_referral(settings)
    async with running(app), http_client(app) as client:
        assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
        example = await import_file(settings.database_url, EXAMPLE, timedelta(days=3650))
        assert example.errors == [] and example.unconfirmed == [ORGANIZATION]
        yield client


async def test_the_examples_records_stay_out_of_the_api_until_a_partnership_specialist_confirms(
    api: httpx.AsyncClient, settings: ServiceSettings
) -> None:
    assert (await api.get(f"/hsds/services/{SERVICE}")).status_code == 404
    assert (await api.get(f"/hsds/organizations/{ORGANIZATION}")).status_code == 404
    assert await confirm_in(settings.database_url, "organization", ORGANIZATION, True, "a specialist")
    service = (await api.get(f"/hsds/services/{SERVICE}")).json()
    [at] = service["service_at_locations"]
    assert at["location"]["address_confidential"] is True
    assert "addresses" not in json.dumps(at["location"]) or at["location"]["addresses"] == []
    assert "1-30 Main Street" not in json.dumps(service) and "latitude" not in at["location"]


async def test_every_hsds_endpoint_answers_as_open_referrals_openapi_and_schemas_say(
    api: httpx.AsyncClient, settings: ServiceSettings
) -> None:
    await confirm_in(settings.database_url, "organization", ORGANIZATION, True, "a specialist")
    taxonomy = (await api.get("/hsds/taxonomies")).json()["contents"][0]["id"]
    term = (await api.get("/hsds/taxonomy_terms", params={"per_page": 1})).json()["contents"][0]["id"]
    calls = [
        ("/", "/hsds/", {}),
        ("/services", "/hsds/services", {}),
        ("/services", "/hsds/services", {"full": "true", "per_page": 5, "page": 2}),
        ("/services", "/hsds/services", {"search": "shelter", "organization_id": ORGANIZATION}),
        ("/services/{id}", f"/hsds/services/{SERVICE}", {}),
        ("/services/{id}", "/hsds/services/a-new-day-ottawa", {}),
        ("/organizations", "/hsds/organizations", {"full": "true", "full_service": "true", "per_page": 3}),
        ("/organizations", "/hsds/organizations", {}),
        ("/organizations/{id}", f"/hsds/organizations/{ORGANIZATION}", {"full_service": "true"}),
        ("/service_at_locations", "/hsds/service_at_locations", {"full": "true", "taxonomy_id": taxonomy}),
        ("/service_at_locations", "/hsds/service_at_locations", {"modified_after": "2000-01-01T00:00:00Z"}),
        ("/taxonomies", "/hsds/taxonomies", {}),
        ("/taxonomies/{id}", f"/hsds/taxonomies/{taxonomy}", {}),
        ("/taxonomy_terms", "/hsds/taxonomy_terms", {"taxonomy_id": taxonomy, "top_only": "true"}),
        ("/taxonomy_terms/{id}", f"/hsds/taxonomy_terms/{term}", {}),
    ]
    for documented, url, params in calls:
        answer = await api.get(url, params=params)
        assert answer.status_code == 200, (url, answer.text)
        assert conforms(documented, answer.json()) == [], url
    # Open Referral's document gives /service_at_locations/{id} the service schema: ours answers with
    # the service_at_location one, which is what the endpoint's description says it returns.
    at = (await api.get(f"/hsds/service_at_locations/{AT_LOCATION}")).json()
    validator = Draft202012Validator({"$ref": f"{RAW}compiled/service_at_location.json"}, registry=registry())
    assert list(validator.iter_errors(at)) == []


async def test_the_hsds_api_never_shows_an_opted_out_provider_or_a_confidential_address(
    api: httpx.AsyncClient,
) -> None:
    everything = []
    for path in ("/hsds/services", "/hsds/organizations", "/hsds/service_at_locations"):
        answer = await api.get(path, params={"full": "true", "full_service": "true", "per_page": 500})
        everything.append(answer.text)
    text = "\n".join(everything)
    assert "deborahs-gate-shelter" not in text and "SAMPLE confidential address" not in text
    assert "a-new-day-ottawa" in text
    assert (await api.get("/hsds/services/deborahs-gate-shelter")).status_code == 404
