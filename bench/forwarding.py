"""Time from a tip's receipt to its package on the agency's topic, for urgent mandatory cases.

    python -m bench.forwarding [--tips 200] [--rate 20] [--endpoints .lantern/endpoints.json]

Each tip is urgent (a minor, no consent): the gate forwards it at once to the police and the
child-protection agency of its place. Two clocks: as disclosure records it (receipt to package
issued, `seconds_from_receipt`), and as a liaison unit would see it (intake's 202 to the package on
the agency's topic). The baseline is one produce-and-consume hop on the same broker, in the same run.

Where the time goes, per tip (medians and p99 of each leg), from the producers' record timestamps
(taken when a relay hands the record to its producer): intake (the request until its relay sends
`tip.received`), triage (that send until triage's relay sends `tip.triaged`: a broker hop, the batch,
the transaction, the relay's wake-up and claim), disclosure (likewise until the package is sent)
and the last broker hop to the agency's reader.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from bench.pipeline import CLIENT_LIMITS, paced, percentiles, post_tip, raw_broker_run, run_against_a_stack
from lantern.observe import TopicReader
from schemas import topics

POLICE = "police-laval"
LEGS = ("intake", "triage", "disclosure", "to_the_agency")
URGENT_MINOR = {
    "channel": "chat", "language": "fr", "reporter_role": "community", "anonymous": True,
    "narrative": "Une adolescente de 15 ans est amenée chaque soir dans un motel par un homme plus âgé.",
    "location": {"country": "CA", "province": "QC", "city": "Laval"},
    "assessment": {"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["sex"]},
    "consent": {"law_enforcement": False, "service_referral": False, "statistics": True},
}  # fmt: skip


async def forwarding_run(endpoints: dict[str, Any], count: int, rate: float) -> dict[str, Any]:
    accepted: dict[str, float] = {}
    requested: dict[str, float] = {}
    sent_at: dict[tuple[str, str], float] = {}  # (topic, tip or case) -> the record's timestamp
    recorded: dict[str, float] = {}
    case_of: dict[str, str] = {}
    arrived: dict[str, float] = {}
    agency = topics.agency_topic(POLICE)
    watched = (topics.TIPS_RECEIVED, topics.TIPS_TRIAGED, topics.DISCLOSURES, agency)
    async with (
        TopicReader(endpoints["kafka_bootstrap_servers"], watched) as reader,
        httpx.AsyncClient(
            base_url=endpoints["intake_url"], timeout=30, headers=endpoints["headers"], limits=CLIENT_LIMITS
        ) as client,
    ):

        async def submit(_number: int) -> None:
            before = time.time()
            tip_id = await post_tip(client, URGENT_MINOR)
            accepted[tip_id], requested[tip_id] = time.monotonic(), before

        def finished() -> bool:
            return len(accepted) == count and all(
                tip_id in case_of and case_of[tip_id] in arrived for tip_id in accepted
            )

        async def watch() -> None:
            while not finished():
                for record in await reader.read(timeout_ms=20):
                    now, wall, message = time.monotonic(), time.time(), record.json()
                    if record.topic in (topics.TIPS_RECEIVED, topics.TIPS_TRIAGED):
                        sent_at.setdefault((record.topic, message["tip_id"]), record.timestamp_ms / 1000)
                    elif record.topic == agency:
                        sent_at.setdefault((agency, message["case_reference"]), record.timestamp_ms / 1000)
                        sent_at.setdefault(("arrived", message["case_reference"]), wall)
                    if message.get("event_type") == "disclosure.forwarded" and message["agency_id"] == POLICE:
                        case_of[message["tip_id"]] = message["case_reference"]
                        recorded[message["tip_id"]] = message["seconds_from_receipt"]
                    elif message.get("message_type") == "le.package":
                        arrived.setdefault(message["case_reference"], now)

        started = time.monotonic()
        watcher = asyncio.create_task(watch())
        await paced(count, rate, submit)
        await asyncio.wait_for(watcher, timeout=180)
    seen = [arrived[case_of[tip_id]] - accepted[tip_id] for tip_id in accepted]

    def leg(tip_id: str, name: str) -> float:
        case = case_of[tip_id]
        received, triaged = sent_at[(topics.TIPS_RECEIVED, tip_id)], sent_at[(topics.TIPS_TRIAGED, tip_id)]
        package, reached = sent_at[(agency, case)], sent_at[("arrived", case)]
        return {
            "intake": received - requested[tip_id], "triage": triaged - received,
            "disclosure": package - triaged, "to_the_agency": reached - package,
        }[name]  # fmt: skip

    return {
        "tips": count, "rate_offered": rate, "seconds": time.monotonic() - started,
        "as_recorded": percentiles([recorded[tip_id] for tip_id in accepted]),
        "as_seen_by_the_agency": percentiles(seen),
        "legs": {name: percentiles([leg(tip_id, name) for tip_id in accepted])
                 for name in LEGS},
    }  # fmt: skip


async def measure(endpoints: dict[str, Any], count: int, rate: float) -> dict[str, Any]:
    await forwarding_run(endpoints, min(20, count), rate)  # warm-up
    results = {
        "forwarding": await forwarding_run(endpoints, count, rate),
        "raw_broker_hop": await raw_broker_run(endpoints["kafka_bootstrap_servers"], count, rate, size=1500),
    }
    hop = results["raw_broker_hop"]["p50_ms"]
    results["ratios"] = {
        "p50_forward_to_raw_hop": results["forwarding"]["as_seen_by_the_agency"]["p50_ms"] / hop,
        "p99_forward_to_raw_hop": results["forwarding"]["as_seen_by_the_agency"]["p99_ms"] / hop,
    }
    return results


def report(results: dict[str, Any]) -> str:
    recorded = results["forwarding"]["as_recorded"]
    seen = results["forwarding"]["as_seen_by_the_agency"]
    hop = results["raw_broker_hop"]
    legs = results["forwarding"]["legs"]
    return "\n".join([
        f"receipt to package issued (disclosure's record): p50 {recorded['p50_ms']:.1f} ms, p99 {recorded['p99_ms']:.1f} ms",
        f"intake's 202 to package on the agency topic: p50 {seen['p50_ms']:.1f} ms, p99 {seen['p99_ms']:.1f} ms",
        f"raw broker hop at the same rate: p50 {hop['p50_ms']:.1f} ms, p99 {hop['p99_ms']:.1f} ms",
        "legs: " + ", ".join(
            f"{name} p50 {legs[name]['p50_ms']:.1f} / p99 {legs[name]['p99_ms']:.1f} ms" for name in LEGS
        ),
        f"ratio, p50 forward (3 hops + 3 transactions + unseal)/raw hop: {results['ratios']['p50_forward_to_raw_hop']:.1f}",
    ])  # fmt: skip


def main() -> None:
    run_against_a_stack(__doc__ or "", measure, report, 200, 20.0, Path("bench/results/forwarding.json"))


if __name__ == "__main__":
    main()
