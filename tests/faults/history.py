"""A history checker in the spirit of Jepsen's: every request and its answer are recorded while faults
are injected; afterwards every topic and table is read and the invariants are checked against them.

The invariants (issue 18):
- every 202 names exactly one tip, the same for every answer to one idempotency key, and that tip is
  stored once and published once (`tips.received.v1`, one event id);
- every accepted tip reached every service: a triage decision, a disclosure case, monitoring's row;
- one triage decision per revision (one `tip.triaged` event id per tip and revision);
- one disclosure decision per gate event (one `disclosure.decided` event id per tip and triage
  revision);
- one referral proposal per tip and one response plan per tip;
- every deadline flagged once (one `step_flagged` event id per plan, step and flag; one
  `review_flagged` per case, queue, flag and due time);
- nothing on a dead-letter topic (every request was valid);
- no package without a basis: every package on an agency topic is a stored package with a basis, and
  every package not yet acknowledged is on its agency topic (after a broker wipe it went out again).

Events on the broker may repeat (delivery is at least once); the same event id twice is no duplicate.
A duplicate is a second *event id* for one effect.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from lantern.observe import Published, TopicReader
from schemas import topics


@dataclass
class Attempt:
    """One HTTP request of a client and what came back (a status, or the error that stood for one)."""

    key: str
    sent_at: float
    answered_at: float
    status: int | None
    error: str | None = None
    tip_id: str | None = None


MIX = "random mix"


@dataclass
class Fault:
    """A fault the run injected: what, when it began and when the part it hit was back."""

    name: str
    injected_at: float
    released_at: float
    window: str = ""
    """The table row of tips sent while it was out: its own name alone, ``MIX`` in the random mix."""
    target: str | None = None

    @property
    def row(self) -> str:
        return self.window or self.name


@dataclass
class History:
    """Everything the clients saw, and the faults, on one monotonic clock."""

    attempts: list[Attempt] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    """Each idempotency key and the fault window it was first sent in ("none" outside any)."""
    failed_injections: list[str] = field(default_factory=list)
    skipped_draws: int = 0
    """Moments of the mix's schedule at which every fault's part was taken (its caps full)."""

    def mix_summary(self) -> dict[str, Any] | None:
        """The random mix as it ran: how many faults, how far apart, how many out at once at most."""
        faults = sorted((f for f in self.faults if f.window == MIX), key=lambda f: f.injected_at)
        if not faults:
            return None
        span = faults[-1].injected_at - faults[0].injected_at
        edges = sorted([(f.injected_at, 1) for f in faults] + [(f.released_at, -1) for f in faults])
        out = most_out = 0
        for _at, step in edges:
            out += step
            most_out = max(most_out, out)
        return {
            "faults": len(faults),
            "mean_gap_s": span / (len(faults) - 1) if len(faults) > 1 else None,
            "span_s": span,
            "most_out_at_once": most_out,
            "by_name": Counter(f.name for f in faults),
            "failed": list(self.failed_injections),
            "skipped_draws": self.skipped_draws,
        }

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    def accepted(self) -> dict[str, set[str]]:
        """Tip ids each idempotency key was answered with (202)."""
        answers: dict[str, set[str]] = defaultdict(set)
        for attempt in self.attempts:
            if attempt.status == 202 and attempt.tip_id:
                answers[attempt.key].add(attempt.tip_id)
        return answers

    def first_accepted_at(self, key: str) -> float | None:
        times = [a.answered_at for a in self.attempts if a.key == key and a.status == 202]
        return min(times) if times else None


@dataclass
class Observed:
    """What the system holds after the run: topics and tables, reduced to what the invariants need."""

    records: dict[str, list[Published]]
    stored_tips: Counter[str]
    triaged: dict[str, int]
    triaged_at: dict[str, float]
    cases: set[str]
    monitored: set[str]
    packages: dict[str, dict[str, Any]]
    plans: Counter[str]
    quarantined: int
    parked: int


@dataclass
class Verdict:
    """The checker's findings: violations by invariant, and the figures of each fault's table row."""

    violations: dict[str, list[str]]
    rows: list[dict[str, Any]]
    answers: Counter[str] = field(default_factory=Counter)
    """Every answer the clients got (a status, or the error that stood for one), counted."""
    mix: dict[str, Any] | None = None
    """``History.mix_summary`` of the run, if it had a random mix."""

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def table(self) -> str:
        header = ("fault", "tips sent", "accepted", "lost", "duplicated", "recovered in (s)")
        lines = [" | ".join(header), " | ".join("---" for _ in header)]
        for row in self.rows:
            recovered = row["recovered_s"]
            lines.append(
                " | ".join(
                    str(value)
                    for value in (
                        row["fault"], row["sent"], row["accepted"], row["lost"], row["duplicated"],
                        "-" if recovered is None else f"{recovered:.1f}",
                    )
                )
            )  # fmt: skip
        return "\n".join(f"| {line} |" for line in lines)

    def report(self) -> str:
        found = [
            f"{name}: {len(items)} ({', '.join(items[:5])})"
            for name, items in self.violations.items()
            if items
        ]
        answers = ", ".join(f"{answer}: {count}" for answer, count in sorted(self.answers.items()))
        violations = "\n\nviolations:\n  " + "\n  ".join(found) if found else "\n\nno violation"
        return f"{self.table()}{self.mix_line()}\n\nanswers: {answers}{violations}"

    def mix_line(self) -> str:
        if self.mix is None:
            return ""
        mix = self.mix
        gap = "-" if mix["mean_gap_s"] is None else f"{mix['mean_gap_s']:.1f} s"
        drawn = ", ".join(f"{name} {count}" for name, count in sorted(mix["by_name"].items()))
        failed = f"; failed to inject: {', '.join(mix['failed'])}" if mix["failed"] else ""
        return (
            f"\n\nrandom mix: {mix['faults']} faults in {mix['span_s']:.0f} s, mean gap {gap},"
            f" at most {mix['most_out_at_once']} out at once, {mix['skipped_draws']} draws with every cap"
            f" full ({drawn}){failed}"
        )


async def observe(bootstrap: str, database_url: str, timeout: float = 60) -> Observed:
    """Read every topic Lantern uses (dead letters and agency topics included) and the tables."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = tuple(
            sorted(
                name
                for name in await admin.list_topics()
                if name in topics.ALL_TOPICS or topics.agency_of(name) is not None
            )
        )
    finally:
        await admin.close()
    records: dict[str, list[Published]] = defaultdict(list)
    async with TopicReader(bootstrap, names) as reader:
        quiet_since = time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() - quiet_since < 2 and time.monotonic() < deadline:
            batch = await reader.read(timeout_ms=200)
            if batch:
                quiet_since = time.monotonic()
            for record in batch:
                records[record.topic].append(record)
    connection = await asyncpg.connect(database_url)
    try:
        stored = Counter(str(r["tip_id"]) for r in await connection.fetch("SELECT tip_id FROM intake.tips"))
        triage_rows = await connection.fetch(
            "SELECT tip_id, revision, EXTRACT(EPOCH FROM decided_at) AS at FROM triage.triage_decisions"
        )
        cases = {str(r["tip_id"]) for r in await connection.fetch("SELECT tip_id FROM disclosure.cases")}
        monitored = {str(r["tip_id"]) for r in await connection.fetch("SELECT tip_id FROM monitoring.tips")}
        packages = {
            str(r["package_id"]): dict(r)
            for r in await connection.fetch(
                "SELECT package_id, tip_id, agency_id, basis, acknowledged_at FROM disclosure.packages"
            )
        }
        plans = Counter(
            str(r["tip_id"]) for r in await connection.fetch("SELECT tip_id FROM triage.response_plans")
        )
        quarantined = parked = 0
        for service in ("intake", "triage", "disclosure", "referral", "monitoring"):
            quarantined += await connection.fetchval(
                f"SELECT count(*) FROM {service}.outbox WHERE quarantined_at IS NOT NULL AND discarded_at IS NULL"
                " AND sent_at IS NULL"
            )
            parked += await connection.fetchval(
                f"SELECT count(*) FROM {service}.inbox WHERE status = 'poisoned'"
            )
    finally:
        await connection.close()
    return Observed(
        records=dict(records),
        stored_tips=stored,
        triaged={str(r["tip_id"]): r["revision"] for r in triage_rows},
        triaged_at={str(r["tip_id"]): float(r["at"]) for r in triage_rows},
        cases=cases,
        monitored=monitored,
        packages=packages,
        plans=plans,
        quarantined=quarantined,
        parked=parked,
    )


def _events(observed: Observed, topic: str) -> list[dict[str, Any]]:
    events = []
    for record in observed.records.get(topic, []):
        try:
            events.append(record.json())
        except ValueError:
            continue
    return events


def _distinct_per(
    events: list[dict[str, Any]], event_type: str, *fields: str
) -> dict[tuple[Any, ...], set[str]]:
    """Event ids of one type grouped by ``fields``: more than one id in a group is a duplicated effect."""
    grouped: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for event in events:
        if event.get("event_type") == event_type:
            grouped[tuple(str(event.get(name)) for name in fields)].add(str(event["event_id"]))
    return grouped


def check(history: History, observed: Observed, wall_offset: float) -> Verdict:
    """Check the invariants; ``wall_offset`` turns the history's monotonic times into epoch seconds."""
    violations: dict[str, list[str]] = defaultdict(list)
    accepted = history.accepted()
    for key, tips in accepted.items():
        if len(tips) != 1:
            violations["one tip per idempotency key"].append(key)
    accepted_tips = {tip for tips in accepted.values() for tip in tips}
    for key in history.keys:
        if key not in accepted:
            violations["every tip sent is accepted (retried with its key)"].append(key[-8:])

    received = _distinct_per(_events(observed, topics.TIPS_RECEIVED), "tip.received", "tip_id")
    lost: set[str] = set()
    for tip in sorted(accepted_tips):
        missing = [
            where
            for where, present in (
                ("intake", observed.stored_tips[tip] == 1),
                ("tips.received", bool(received.get((tip,)))),
                ("triage", tip in observed.triaged),
                ("disclosure", tip in observed.cases),
                ("monitoring", tip in observed.monitored),
            )
            if not present
        ]
        if missing:
            lost.add(tip)
            violations["every accepted tip reaches every service"].append(f"{tip[:8]}:{'+'.join(missing)}")
    extra_tips = set(observed.stored_tips) - accepted_tips
    duplicated: set[str] = set()
    for (tip,), ids in received.items():
        if len(ids) > 1:
            duplicated.add(tip)
            violations["one tip.received per tip"].append(tip[:8])
    for name, grouped in (
        ("one triage decision per revision", _distinct_per(_events(observed, topics.TIPS_TRIAGED), "tip.triaged", "tip_id", "revision")),
        ("one disclosure decision per gate event", _distinct_per(_events(observed, topics.DISCLOSURES), "disclosure.decided", "tip_id", "triage_revision")),
        ("one referral proposal per tip", _distinct_per(_events(observed, topics.REFERRALS), "referral.proposed", "tip_id")),
        ("one plan per tip", _distinct_per(_events(observed, topics.RESPONSE_PLANS), "response_plan.started", "tip_id")),
        ("deadlines flagged once", _distinct_per(_events(observed, topics.RESPONSE_PLANS), "response_plan.step_flagged", "plan_id", "step", "flag")),
        ("reviews flagged once", _distinct_per(_events(observed, topics.DISCLOSURES), "disclosure.review_flagged", "tip_id", "queue", "flag", "due_at")),
        ("one forward per package", _distinct_per(_events(observed, topics.DISCLOSURES), "disclosure.forwarded", "package_id")),
    ):  # fmt: skip
        for group, ids in grouped.items():
            if len(ids) > 1:
                duplicated.add(str(group[0]))
                violations[name].append(":".join(str(part)[:8] for part in group))
    for tip, count in observed.plans.items():
        if count > 1:
            violations["one plan per tip"].append(tip[:8])
    for topic, records in observed.records.items():
        if topic.endswith(".DLT") and records:
            violations["nothing valid on a dead-letter topic"].append(f"{topic}:{len(records)}")
    on_agency_topics: set[str] = set()
    for topic, records in observed.records.items():
        if topics.agency_of(topic) is None:
            continue
        for record in records:
            package_id = str(record.json().get("package_id"))
            on_agency_topics.add(package_id)
            stored = observed.packages.get(package_id)
            if stored is None or stored["basis"] in (None, "none"):
                violations["no package without a basis"].append(package_id[:8])
    for forwarded in _events(observed, topics.DISCLOSURES):
        if forwarded.get("event_type") == "disclosure.forwarded" and forwarded.get("basis") in (None, "none"):
            violations["no package without a basis"].append(str(forwarded["package_id"])[:8])
    for package_id, stored in observed.packages.items():
        if stored["acknowledged_at"] is None and package_id not in on_agency_topics:
            violations["every unacknowledged package is on its agency topic"].append(package_id[:8])
    if observed.quarantined:
        violations["no outbox row quarantined"].append(str(observed.quarantined))
    if observed.parked:
        violations["no event poisoned"].append(str(observed.parked))
    answers = Counter(str(a.status) if a.status is not None else str(a.error) for a in history.attempts)
    rows = _rows(history, observed, accepted, lost, duplicated | extra_tips, wall_offset)
    return Verdict(dict(violations), rows, answers, history.mix_summary())


def _rows(
    history: History,
    observed: Observed,
    accepted: dict[str, set[str]],
    lost: set[str],
    duplicated: set[str],
    wall_offset: float,
) -> list[dict[str, Any]]:
    """One row per fault kind (and one for the whole run): tips first sent during its windows."""
    by_fault: dict[str, list[str]] = defaultdict(list)
    for key, fault in history.keys.items():
        by_fault[fault].append(key)
    rows = []
    for fault in [*sorted(by_fault), "all"]:
        keys = list(history.keys) if fault == "all" else by_fault[fault]
        tips = {tip for key in keys for tip in accepted.get(key, ())}
        rows.append(
            {
                "fault": fault,
                "sent": len(keys),
                "accepted": sum(1 for key in keys if key in accepted),
                "lost": len(tips & lost) + sum(1 for key in keys if key not in accepted),
                "duplicated": len(tips & duplicated)
                + sum(1 for key in keys if len(accepted.get(key, ())) > 1),
                "recovered_s": _recovery(history, observed, accepted, fault, wall_offset),
            }
        )
    return rows


def _recovery(
    history: History, observed: Observed, accepted: dict[str, set[str]], fault: str, wall_offset: float
) -> float | None:
    """Worst, over the fault's injections, of the time from the injection until a tip sent after it was
    triaged: the whole path (intake, relay, broker, triage) works again.
    """
    injections = [f for f in history.faults if f.row == fault]
    if not injections:
        return None
    first_sent: dict[str, float] = {}
    for attempt in history.attempts:
        first_sent.setdefault(attempt.key, attempt.sent_at)
    worst = 0.0
    for injection in injections:
        after = [
            observed.triaged_at[tip] - wall_offset
            for key, sent in first_sent.items()
            if sent >= injection.injected_at
            for tip in accepted.get(key, ())
            if tip in observed.triaged_at
        ]
        if not after:
            return None
        worst = max(worst, min(after) - injection.injected_at)
    return worst


async def settle(
    database_url: str, accepted_tips: set[str], stalled_after: float = 120, timeout: float = 1800
) -> float:
    """Wait until every accepted tip is triaged, decided and monitored and every outbox is drained, or
    until nothing has moved for ``stalled_after`` seconds (a backlog is no loss: a stall is).
    """
    started = last_move = time.monotonic()
    last: tuple[int, int] | None = None
    connection = await asyncpg.connect(database_url)
    try:
        while time.monotonic() - last_move < stalled_after and time.monotonic() - started < timeout:
            done = await connection.fetchval(
                "SELECT count(*) FROM unnest($1::uuid[]) AS t(tip_id)"
                " WHERE EXISTS (SELECT 1 FROM triage.triage_decisions d WHERE d.tip_id = t.tip_id)"
                " AND EXISTS (SELECT 1 FROM disclosure.cases c WHERE c.tip_id = t.tip_id)"
                " AND EXISTS (SELECT 1 FROM monitoring.tips m WHERE m.tip_id = t.tip_id)",
                sorted(accepted_tips),
            )
            unsent = 0
            for service in ("intake", "triage", "disclosure", "referral", "monitoring"):
                unsent += await connection.fetchval(
                    f"SELECT count(*) FROM {service}.outbox WHERE sent_at IS NULL AND quarantined_at IS NULL"
                )
            if done == len(accepted_tips) and unsent == 0:
                return time.monotonic() - started
            if (done, unsent) != last:
                last, last_move = (done, unsent), time.monotonic()
            await asyncio.sleep(1)
    finally:
        await connection.close()
    return time.monotonic() - started
