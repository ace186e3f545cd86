"""The public web form on the real intake app, database and broker: a report in French, errors per
field in the reporter's language, the reference and code shown once, the follow-up, and the limits.
"""

import html
import re
from typing import Any

from fastapi import FastAPI

from schemas import topics
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from tests.helpers import events_of_tips, every_stored_text, fetch, http_client, running, staff_token

NARRATIVE = "Ma voisine Chantal Tremblay ne sort jamais seule et son patron garde son passeport."
FORM = {
    "lang": "fr",
    "narrative": NARRATIVE,
    "reporter_role": "community",
    "country": "CA",
    "province": "QC",
    "city": "Laval",
    "minor_involved": "unknown",
    "imminent_danger": "no",
    "trafficking_types": ["labour", "domestic_servitude"],
    "service_referral": "yes",
    "statistics": "no",
}


def intake_with(settings: ServiceSettings, **changes: Any) -> FastAPI:
    return build_app(IntakeSettings.of(settings).model_copy(update=changes))


def shown(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]+)<', page)
    assert found, f"no #{element_id} on the page"
    return found.group(1)


async def test_a_report_sent_in_french_is_accepted_and_shows_its_reference_and_code_once(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        blank = await client.get("/report?lang=fr")
        answer = await client.post("/report", data=FORM)
        again = await client.get("/report?lang=fr")
        reference = shown(answer.text, "reference")
        rows = await fetch(settings, "SELECT tip_id, reference FROM intake.tips")
        tip_id = str(rows[0]["tip_id"])
        events = await events_of_tips(settings.kafka_bootstrap_servers, (topics.TIPS_RECEIVED,), {tip_id})
    assert blank.status_code == 200 and 'lang="fr"' in blank.text
    assert "Racontez-nous ce qui s'est passé" in html.unescape(blank.text)
    assert answer.status_code == 200
    assert answer.headers["content-language"] == "fr"
    assert "Votre signalement a été reçu" in answer.text
    reference, code = shown(answer.text, "reference"), shown(answer.text, "follow-up-code")
    assert re.fullmatch(r"LT-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    for response in (blank, answer):
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "set-cookie" not in response.headers
    assert reference not in again.text and code not in again.text, "nothing shows the codes again"
    assert [row["reference"] for row in rows] == [reference]
    received = events[tip_id][topics.TIPS_RECEIVED][0]
    facts = received["facts"]
    assert facts["channel"] == "web" and facts["language"] == "fr"
    assert facts["location"] == {"country": "CA", "province": "QC", "city": "Laval"}
    assert facts["assessment"]["trafficking_types"] == ["labour", "domestic_servitude"]
    assert facts["consent"] == {
        "law_enforcement": False, "share_identity": False, "service_referral": True, "statistics": False,
    }  # fmt: skip
    assert NARRATIVE not in await every_stored_text(settings.database_url), "the narrative is sealed"


async def test_a_report_that_leaves_the_statistics_question_unanswered_is_recorded_as_not_asked(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        answer = await client.post("/report", data={**FORM, "statistics": ""})
    reference = shown(answer.text, "reference")
    rows = await fetch(
        settings,
        "SELECT c.statistics FROM intake.consents c JOIN intake.tips t USING (tip_id) WHERE t.reference = $1",
        reference,
    )
    assert [row["statistics"] for row in rows] == [None]


async def test_a_report_with_errors_names_each_field_in_french_and_keeps_what_was_typed(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    form = {**FORM, "narrative": "", "country": "FR", "province": "QC", "contact_phone": "pas un numéro"}
    async with running(app), http_client(app) as client:
        answer = await client.post("/report", data=form)
        count = await fetch(settings, "SELECT count(*) AS n FROM intake.tips")
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    assert "Le signalement n'a pas été envoyé" in text
    assert 'id="narrative-error"' in answer.text and "Ce champ est obligatoire." in answer.text
    assert 'id="province-error"' in answer.text and "seulement pour un lieu au Canada" in answer.text
    assert 'id="contact_phone-error"' in answer.text and "Le format n'est pas valide." in text
    assert 'aria-describedby="narrative-help narrative-error" aria-invalid="true"' in answer.text
    assert 'href="#field-narrative"' in answer.text, "the summary links to the field"
    assert 'value="pas un numéro"' in answer.text, "what was typed comes back, escaped"
    assert count[0]["n"] == 0


async def test_a_reporter_adds_information_with_the_reference_and_code_and_gets_a_new_code(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        received = await client.post("/report", data={**FORM, "lang": "en"})
        reference, code = shown(received.text, "reference"), shown(received.text, "follow-up-code")
        wrong = await client.post(
            "/report/follow-up", data={"lang": "en", "reference": reference, "code": "AAAA-BBBB-CCCC-DDDD",
                                       "narrative": "She was moved last night."},
        )  # fmt: skip
        added = await client.post(
            "/report/follow-up",
            data={"lang": "fr", "reference": reference.lower(), "code": code,
                  "narrative": "Elle a été déplacée hier soir.", "imminent_danger": "yes"},
        )  # fmt: skip
        reused = await client.post(
            "/report/follow-up",
            data={"lang": "en", "reference": reference, "code": code, "narrative": "More."},
        )
        rows = await fetch(settings, "SELECT tip_id FROM intake.tips WHERE reference = $1", reference)
        tip_id = str(rows[0]["tip_id"])
        events = await events_of_tips(settings.kafka_bootstrap_servers, (topics.TIPS_SUPPLEMENTED,), {tip_id})
    assert wrong.status_code == 403 and "is not valid, or follow-up is paused" in wrong.text
    assert added.status_code == 200 and "Votre information a été ajoutée" in added.text
    new_code = shown(added.text, "follow-up-code")
    assert new_code != code
    assert reused.status_code == 403, "the old code stops working"
    update = events[tip_id][topics.TIPS_SUPPLEMENTED][0]["update"]
    assert update["assessment"]["imminent_danger"] == "yes"


async def test_a_follow_up_without_anything_to_add_or_without_a_reference_is_refused_per_field(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        answer = await client.post("/report/follow-up", data={"lang": "fr", "reference": "", "code": "X"})
    assert answer.status_code == 422
    assert 'id="reference-error"' in answer.text and 'id="narrative-error"' in answer.text
    assert "Écrivez ce que vous aimeriez ajouter." in answer.text


async def test_the_form_shares_the_public_rate_limit_and_the_body_limit_of_the_json_api(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=1, max_body_bytes=4_096)
    async with running(app), http_client(app) as client:
        first = await client.post("/report", data=FORM)
        second = await client.post("/report", data=FORM)
        json_api = await client.post("/v1/tips", json={"narrative": "x", "location": {"country": "CA"}})
        large = await client.post("/report/follow-up", data={**FORM, "narrative": "x" * 5_000})
    assert first.status_code == 200
    assert second.status_code == 429 and "Trop d'envois depuis cette connexion" in html.unescape(second.text)
    assert "1-833-900-1010" in second.text and int(second.headers["retry-after"]) > 0
    assert json_api.status_code == 429, "one budget for the form and the API"
    assert large.status_code == 413


async def test_the_language_switch_and_every_asset_stay_on_this_origin(settings: ServiceSettings) -> None:
    app = intake_with(settings)
    async with running(app), http_client(app) as client:
        english = await client.get("/report", headers={"accept-language": "en"})
        css = await client.get("/report/static/form.css")
        script = await client.get("/report/static/exit.js")
    assert 'href="/report?lang=fr"' in english.text and ">Français<" in english.text
    sources = re.findall(r'(?:src|href|action)="([^"]+)"', english.text)
    outside = [source for source in sources if not source.startswith(("/", "#"))]
    assert outside == ["https://www.google.com/"], "only the quick exit leads elsewhere"
    assert 'rel="noreferrer noopener"' in english.text
    assert css.status_code == script.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text and "http" not in script.text


async def test_a_consent_recorded_again_without_the_statistics_question_keeps_the_callers_no(
    settings: ServiceSettings,
) -> None:
    app = intake_with(settings, public_rate_limit=100)
    async with running(app), http_client(app) as client:
        answer = await client.post("/report", data=FORM)
        reference = shown(answer.text, "reference")
        rows = await fetch(settings, "SELECT tip_id FROM intake.tips WHERE reference = $1", reference)
        token = await staff_token(settings.database_url, Role.SPECIALIST)
        again = await client.put(
            f"/v1/tips/{rows[0]['tip_id']}/consent",
            json={"consent": {"service_referral": True}, "channel": "web"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert again.status_code == 200
    stored = await fetch(
        settings, "SELECT version, statistics FROM intake.consents WHERE tip_id = $1 ORDER BY version",
        rows[0]["tip_id"],
    )  # fmt: skip
    assert [(row["version"], row["statistics"]) for row in stored] == [(1, False), (2, False)]
