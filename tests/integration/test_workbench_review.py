"""The supervisor's review in the workbench: the package previewed with its values, on a real
disclosure service, broker and database.
"""

import re

from schemas.intake import TipReceivedV1
from services.common.auth import Role
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.disclosure.app import WITHHELD_ON_REPLAY
from services.disclosure.app import build_app as build_disclosure
from services.workbench.app import build_app as build_workbench
from tests.factories import CONTACT, NARRATIVE, tip_received, tip_supplemented, tip_triaged
from tests.helpers import eventually, fetch, http_client, new_data_key, publish_events, running
from tests.integration.test_workbench import person_token, served, signed_in, signin_form, workbench_settings


async def test_a_supervisor_previews_the_package_with_its_values_and_a_specialist_cannot(
    settings: ServiceSettings,
) -> None:
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    specialist = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    key = await new_data_key(settings)
    tip = tip_received(key=key, channel="phone", consent={"law_enforcement": True, "share_identity": True})
    async with served(build_disclosure(settings)) as [disclosure_url]:
        await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "non_urgent"))
        assert await eventually(
            lambda: fetch(settings, "SELECT 1 FROM disclosure.cases WHERE tip_id = $1 AND state = 'pending_review'", tip.tip_id),
            timeout=60,
        )  # fmt: skip
        app = build_workbench(workbench_settings(settings, {"disclosure": disclosure_url}))
        async with running(app), http_client(app) as as_supervisor, http_client(app) as as_specialist:
            await signed_in(as_supervisor, supervisor)
            await signed_in(as_specialist, specialist)
            review = await as_supervisor.get(f"/reviews/{tip.tip_id}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', review.text).group(1)  # type: ignore[union-attr]
            shown = await as_supervisor.post(
                f"/reviews/{tip.tip_id}/preview", data={"csrf": csrf, "reason": "consent_confirmed"}
            )
            again = await as_supervisor.get(f"/reviews/{tip.tip_id}")
            refused = await as_specialist.get(f"/reviews/{tip.tip_id}")
    assert review.status_code == 200 and NARRATIVE not in review.text
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    preview = shown.text.split('id="preview-result"')[1]
    assert NARRATIVE.replace("'", "&#39;") in preview and CONTACT["name"] in preview
    assert NARRATIVE not in again.text and 'id="preview-result"' not in again.text
    assert refused.status_code == 403


async def test_a_legal_obligation_goes_out_only_on_a_second_supervisors_approval_of_the_same_reference(
    settings: ServiceSettings,
) -> None:
    first = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    second = await person_token(settings, "Rita Supervisor", Role.SUPERVISOR)
    tip = tip_received(consent={"law_enforcement": False, "share_identity": False})
    order = {"reason": "legal_obligation", "statute": "Youth Protection Act (Quebec)", "section": "39",
             "docket": "2026-0457", "ground": ""}  # fmt: skip
    async with served(build_disclosure(settings)) as [disclosure_url]:
        await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "non_urgent"))
        assert await eventually(
            lambda: fetch(settings, "SELECT 1 FROM disclosure.cases WHERE tip_id = $1 AND state IS NOT NULL", tip.tip_id),
            timeout=60,
        )  # fmt: skip
        app = build_workbench(workbench_settings(settings, {"disclosure": disclosure_url}))
        async with running(app), http_client(app) as as_first, http_client(app) as as_second:
            await signed_in(as_first, first)
            await signed_in(as_second, second)
            csrf = {}
            for name, client in (("first", as_first), ("second", as_second)):
                page = await client.get(f"/reviews/{tip.tip_id}")
                csrf[name] = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            shown = await as_first.post(
                f"/reviews/{tip.tip_id}/preview", data={**order, "csrf": csrf["first"]}
            )
            approved = await as_first.post(
                f"/reviews/{tip.tip_id}/approve", data={**order, "csrf": csrf["first"]}
            )
            again = await as_first.post(
                f"/reviews/{tip.tip_id}/approve", data={**order, "csrf": csrf["first"]}
            )
            waiting = await as_first.get(f"/reviews/{tip.tip_id}")
            sent = await as_second.post(
                f"/reviews/{tip.tip_id}/approve", data={**order, "csrf": csrf["second"]}
            )
            done = await as_second.get(f"/reviews/{tip.tip_id}")
    assert "legal_obligation" in shown.text.split('id="preview-result"')[1]
    assert approved.headers["location"].endswith("notice=done")
    assert again.headers["location"].endswith("notice=error.conflict")
    assert (
        'id="state">pending_review' in waiting.text and '<span class="approvals">1/2</span>' in waiting.text
    )
    assert sent.headers["location"].endswith("notice=done")
    assert 'id="state">forwarded' in done.text and '<span class="approvals">2/2</span>' in done.text


async def forward_then_withhold_on_replay(settings: ServiceSettings, tip: TipReceivedV1) -> None:
    """The urgent tip's package goes at once; the caller records a consent since, then the broker
    loses everything: the relay withholds the package instead of sending it again."""
    await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", danger=True))
    assert await eventually(
        lambda: fetch(settings, "SELECT 1 FROM disclosure.packages WHERE tip_id = $1", tip.tip_id),
        timeout=60,
    )
    await fetch(
        settings,
        "INSERT INTO disclosure.consent_records (tip_id, event_id, version, consent, recorded_by_role,"
        " recorded_at) VALUES ($1, gen_random_uuid(), 2, '{}'::jsonb, 'reporter', now())",
        tip.tip_id,
    )
    relay = await connect(settings.database_url, "disclosure")
    try:
        assert await relay.fetchval(WITHHELD_ON_REPLAY) >= 1
    finally:
        await relay.close()


async def test_a_follow_up_approved_while_a_package_is_withheld_shows_on_that_package_until_a_supervisor_decides_it(
    settings: ServiceSettings,
) -> None:
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    key = await new_data_key(settings)
    tip = tip_received(
        key=key, consent={"law_enforcement": True, "share_identity": True},
        channel="phone", assessment={"imminent_danger": "yes", "trafficking_types": ["labour"]},
    )  # fmt: skip
    follow_up = tip_supplemented(tip, key, narrative="Ils partent pour Montréal ce soir.")
    async with served(build_disclosure(settings)) as [disclosure_url]:
        await forward_then_withhold_on_replay(settings, tip)
        await publish_events(settings.kafka_bootstrap_servers, follow_up)
        assert await eventually(
            lambda: fetch(
                settings, "SELECT 1 FROM disclosure.cases WHERE tip_id = $1 AND $2 = ANY(pending_supplements)",
                tip.tip_id, follow_up.supplement_id,
            ),
            timeout=60,
        )  # fmt: skip
        app = build_workbench(workbench_settings(settings, {"disclosure": disclosure_url}))
        async with running(app), http_client(app) as as_supervisor:
            await signed_in(as_supervisor, supervisor)
            before = await as_supervisor.get(f"/reviews/{tip.tip_id}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', before.text).group(1)  # type: ignore[union-attr]
            sent_on = await as_supervisor.post(
                f"/reviews/{tip.tip_id}/approve", data={"csrf": csrf, "reason": "changes_sent_on"}
            )
            review = await as_supervisor.get(f"/reviews/{tip.tip_id}")
    assert 'class="owed"' not in before.text
    assert sent_on.headers["location"].endswith("notice=done"), sent_on.text
    assert review.status_code == 200 and 'id="replay-withheld"' in review.text
    [owed] = re.findall(r'<span class="owed"[^>]*>([^<]+)</span>', review.text)
    assert "follow-ups approved while it waited" in owed and owed.rstrip().endswith(" 1")


async def test_a_package_withheld_after_a_broker_wipe_flags_the_case_on_the_supervisors_review_page(
    settings: ServiceSettings,
) -> None:
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    # An urgent phone tip in imminent danger, with every consent: its package goes at once.
    tip = tip_received(
        key=await new_data_key(settings), consent={"law_enforcement": True, "share_identity": True},
        channel="phone", assessment={"imminent_danger": "yes", "trafficking_types": ["labour"]},
    )  # fmt: skip
    async with served(build_disclosure(settings)) as [disclosure_url]:
        await forward_then_withhold_on_replay(settings, tip)
        app = build_workbench(workbench_settings(settings, {"disclosure": disclosure_url}))
        francophone = await person_token(settings, "Sophie Superviseure", Role.SUPERVISOR)
        async with running(app), http_client(app) as as_supervisor, http_client(app) as en_francais:
            await signed_in(as_supervisor, supervisor)
            review = await as_supervisor.get(f"/reviews/{tip.tip_id}")
            form = await signin_form(en_francais)
            await en_francais.post("/signin", data={**form, "lang": "fr", "token": francophone})
            revue = await en_francais.get(f"/reviews/{tip.tip_id}")
            [package_id] = re.findall(r'action="/reviews/[^/]+/packages/([^/]+)/reissue"', review.text)
            csrf = re.search(r'name="csrf" value="([^"]+)"', review.text).group(1)  # type: ignore[union-attr]
            reissued = await as_supervisor.post(
                f"/reviews/{tip.tip_id}/packages/{package_id}/reissue",
                data={"csrf": csrf, "reason": "basis_still_stands"},
            )
            after = await as_supervisor.get(f"/reviews/{tip.tip_id}")
    assert review.status_code == 200, review.text
    assert 'id="replay-withheld"' in review.text
    assert "not sent again: consent changed" in review.text
    assert "Issue again" in review.text and "Set aside" in review.text
    assert revue.status_code == 200 and "Renvoyer" in revue.text and "Mettre de côté" in revue.text
    assert "non renvoyée : consentement modifié" in revue.text
    # The withdrawal took the caller's consent away; the danger on the call is still a ground.
    assert reissued.status_code == 200, reissued.text
    assert 'id="reissue-done"' in reissued.text and "a new package went to the agency" in reissued.text
    assert 'id="replay-withheld"' not in after.text and "issued again" in after.text
    assert f"/packages/{package_id}/reissue" not in after.text
