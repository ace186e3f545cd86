"""``lantern demo``: sample tips through a running stack, and the journey of each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from lantern.observe import TopicReader, by_tip
from schemas import topics

# Invented for the demo: no real person, place of work or number.
SAMPLE_TIPS: list[dict[str, Any]] = [
    {
        "channel": "web",
        "language": "en",
        "reporter_role": "family_friend",
        "anonymous": True,
        "narrative": "My niece is 15 and a man moves her between hotels in Ottawa. She says she owes him money.",
        "location": {"country": "CA", "province": "ON", "city": "Ottawa"},
        "assessment": {
            "minor_involved": "yes",
            "imminent_danger": "unknown",
            "victim_age": 15,
            "trafficking_types": ["sex"],
        },
        "consent": {"law_enforcement": False, "service_referral": True, "statistics": True},
        "needs": ["emergency_shelter", "victim_services"],
    },
    {
        "channel": "phone",
        "language": "fr",
        "reporter_role": "victim",
        "anonymous": True,
        "narrative": "On me retient mon passeport à la ferme et je travaille quinze heures par jour sans salaire.",
        "location": {"country": "CA", "province": "QC", "city": "Saint-Rémi"},
        "assessment": {"minor_involved": "no", "imminent_danger": "no", "trafficking_types": ["labour"]},
        "consent": {
            "law_enforcement": True,
            "share_identity": False,
            "service_referral": True,
            "statistics": True,
        },
        "victim_profile": {
            "age": 34,
            "gender_identity": "man",
            "languages": ["fr", "es"],
            "status_in_canada": "temporary_worker",
        },
        "needs": ["legal", "immigration"],
    },
    {
        "channel": "phone",
        "language": "en",
        "reporter_role": "victim",
        "anonymous": False,
        "narrative": "He is outside the door now and says he will hurt me if I leave the apartment.",
        "location": {"country": "CA", "province": "BC", "city": "Surrey"},
        "assessment": {"minor_involved": "no", "imminent_danger": "yes", "trafficking_types": ["sex"]},
        "consent": {"law_enforcement": False, "service_referral": True},
        "contact": {"name": "Demo Caller", "phone": "+1 555 010 0199"},
        "needs": ["emergency_shelter", "crisis_support"],
    },
    {
        "channel": "web",
        "language": "fr",
        "reporter_role": "community",
        "anonymous": True,
        "narrative": "Une voisine ne sort jamais seule et son employeur garde ses papiers.",
        "location": {"country": "CA", "province": "ON", "city": "Ottawa"},
        "assessment": {
            "minor_involved": "no",
            "imminent_danger": "no",
            "trafficking_types": ["domestic_servitude"],
        },
        "consent": {"law_enforcement": False, "service_referral": False, "statistics": True},
    },
    {
        "channel": "web",
        "language": "en",
        "reporter_role": "other",
        "anonymous": True,
        "narrative": "Something felt wrong.",
        "location": {"country": "CA"},
    },
]


def load_specialist_token(tokens_file: Path) -> str | None:
    if not tokens_file.exists():
        return None
    token = json.loads(tokens_file.read_text()).get("specialist")
    return str(token) if token else None


def load_endpoints(endpoints_file: Path) -> dict[str, Any] | None:
    if not endpoints_file.exists():
        print(f"{endpoints_file} not found: start the system with `lantern up` first")
        return None
    return dict(json.loads(endpoints_file.read_text()))


async def run_demo(endpoints: dict[str, Any], specialist_token: str | None) -> int:
    """Web tips go in as the public would send them; phone tips as a specialist records them."""
    accepted: list[tuple[dict[str, Any], dict[str, str]]] = []
    staff = {"authorization": f"Bearer {specialist_token}"} if specialist_token else {}
    async with httpx.AsyncClient(base_url=endpoints["intake_url"], timeout=10) as client:
        for tip in SAMPLE_TIPS:
            headers = staff if tip["channel"] != "web" else {}
            response = await client.post("/v1/tips", json=tip, headers=headers)
            response.raise_for_status()
            accepted.append((tip, response.json()))
    wanted = {answer["tip_id"] for _, answer in accepted}
    journey_topics = (topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)

    def complete(records: list[Any]) -> bool:
        grouped = by_tip(records)
        return all(all(grouped[tip_id][topic] for topic in journey_topics) for tip_id in wanted)

    async with TopicReader(
        endpoints["kafka_bootstrap_servers"], (topics.TIPS_RECEIVED, *journey_topics)
    ) as reader:
        grouped = by_tip(await reader.collect_until(complete, timeout=20))
    for tip, answer in accepted:
        print(_journey(tip, answer, grouped.get(answer["tip_id"], {})))
    return 0 if all(grouped.get(tip_id) for tip_id in wanted) else 1


def _journey(tip: dict[str, Any], answer: dict[str, str], events: dict[str, list[dict[str, Any]]]) -> str:
    language = "fr" if tip["language"] == "fr" else "en"
    lines = [f"{answer['reference']}  ({tip['channel']}, {tip['language']})"]
    for received in events.get(topics.TIPS_RECEIVED, [])[:1]:
        lines.append(f"  received    {received['received_at']}")
    for triaged in events.get(topics.TIPS_TRIAGED, [])[:1]:
        reasons = "; ".join(reason[language] for reason in triaged["reasons"])
        lines.append(f"  triaged     {triaged['urgency']}: {reasons}")
    for disclosed in events.get(topics.DISCLOSURES, [])[:1]:
        lines.append(f"  disclosure  {disclosed['decision']} (basis: {disclosed['basis']})")
    for referred in events.get(topics.REFERRALS, [])[:1]:
        names = ", ".join(proposal["provider_name"] for proposal in referred["proposals"]) or "-"
        lines.append(f"  referral    {referred['status']}: {names}")
    if len(lines) < 5:
        lines.append("  (journey incomplete after 20 s: check `lantern up`'s logs)")
    return "\n".join(lines)
