"""The supervisor's review in the workbench: the package previewed with its values, on a real
disclosure service, broker and database.
"""

import re

from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from services.workbench.app import build_app as build_workbench
from tests.factories import CONTACT, NARRATIVE, tip_received, tip_triaged
from tests.helpers import eventually, fetch, http_client, new_data_key, publish_events, running
from tests.integration.test_workbench import person_token, served, signed_in, workbench_settings


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
