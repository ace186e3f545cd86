"""Lantern's metrics, for Prometheus and OpenTelemetry. Labels are codes with few values (service,
topic, channel, urgency, decision, basis, status, flag, reason); never an id, a person, or a tip's
language (which, counted in real time, could confirm that a tip in a rare language just arrived).
They are served only on each service's private operations listener.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import metrics

SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400)
_meter = metrics.get_meter("lantern")

tips_received = _meter.create_counter(
    "lantern_tips_received", description="Tips accepted by intake, by channel."
)
events_handled = _meter.create_counter("lantern_events_handled", description="Events consumed, by outcome.")
dead_letters = _meter.create_counter(
    "lantern_dead_letters", description="Messages sent to a dead-letter topic."
)
consumer_rewinds = _meter.create_counter(
    "lantern_consumer_rewinds",
    description="Consumer positions moved back: past their log's end, or on a cluster that changed.",
)
batches_timed_out = _meter.create_counter(
    "lantern_batches_timed_out", description="Batch transactions abandoned past their deadline."
)
unauthenticated_events = _meter.create_counter(
    "lantern_unauthenticated_events",
    description="Messages refused before reading: unsigned, badly signed, or signed by a service that may not write the topic.",
)
triage_decisions = _meter.create_counter(
    "lantern_triage_decisions", description="Triage decisions by urgency."
)
plan_flags = _meter.create_counter(
    "lantern_plan_flags", description="Response-plan steps flagged at risk or breached."
)
disclosure_decisions = _meter.create_counter("lantern_disclosure_decisions", description="Gate decisions.")
review_flags = _meter.create_counter(
    "lantern_review_flags",
    description="Cases waiting for a supervisor's review flagged at risk or breached, by queue.",
)
referral_matches = _meter.create_counter(
    "lantern_referral_matches", description="Referral matches by status."
)
time_to_triage = _meter.create_histogram(
    "lantern_time_to_triage_seconds", unit="s", description="From receipt to triage.",
    explicit_bucket_boundaries_advisory=SECONDS,
)  # fmt: skip
time_to_disclosure_decision = _meter.create_histogram(
    "lantern_time_to_disclosure_decision_seconds", unit="s", description="From receipt to the gate's decision.",
    explicit_bucket_boundaries_advisory=SECONDS,
)  # fmt: skip
time_to_forward = _meter.create_histogram(
    "lantern_time_to_forward_seconds", unit="s", description="From receipt to a package issued.",
    explicit_bucket_boundaries_advisory=SECONDS,
)  # fmt: skip
time_to_referral = _meter.create_histogram(
    "lantern_time_to_referral_seconds", unit="s", description="From receipt to referral proposals.",
    explicit_bucket_boundaries_advisory=SECONDS,
)  # fmt: skip
packages_withheld_on_replay = _meter.create_counter(
    "lantern_packages_withheld_on_replay",
    description="Packages a new broker was not sent again and a supervisor must decide, by reason code.",
)
outbox_quarantined = _meter.create_counter(
    "lantern_outbox_quarantined",
    description="Outbox rows the relay could not publish and quarantined, by service and reason code.",
)
# Rows quarantined now, per service; kept current by the runtime's outbox watcher.
outbox_quarantined_now: dict[str, int] = {}


def _observe_quarantined(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [
        metrics.Observation(count, {"service": service}) for service, count in outbox_quarantined_now.items()
    ]


_meter.create_observable_gauge(
    "lantern_outbox_quarantined_rows",
    callbacks=[_observe_quarantined],
    description="Outbox rows quarantined and waiting for a person (release or discard).",
)

audit_anchor_runs = _meter.create_counter(
    "lantern_audit_anchor_runs",
    description="Runs of disclosure's audit anchor by outcome: anchored, current (nothing new), refused"
    " (the links since the last witnessed head do not verify by key, or the table disagrees with the"
    " witness), failed (the check could not run).",
)
# 1 while the audit chain's last check passed (its links by key, its head against the witness), 0 once
# one was refused or could not run; kept current by disclosure's anchor.
audit_chain_verified: dict[str, int] = {}


def _observe_audit(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [
        metrics.Observation(verified, {"service": service})
        for service, verified in audit_chain_verified.items()
    ]


_meter.create_observable_gauge(
    "lantern_audit_chain_verified",
    callbacks=[_observe_audit],
    description="1 while the disclosure audit's last check passed; 0 when it was refused or failed.",
)

# Providers' requests to hide an address or leave the public directory within referral's burst window,
# and 1 while they are a burst (LANTERN_DIRECTORY_RESTRICTION_BURST); kept current by referral.
directory_restriction_requests: dict[str, int] = {}
directory_restriction_burst: dict[str, int] = {}


def _observe_restriction_requests(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [
        metrics.Observation(count, {"service": service})
        for service, count in directory_restriction_requests.items()
    ]


def _observe_restriction_burst(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    return [
        metrics.Observation(burst, {"service": service})
        for service, burst in directory_restriction_burst.items()
    ]


_meter.create_observable_gauge(
    "lantern_directory_restriction_requests",
    callbacks=[_observe_restriction_requests],
    description="Providers' requests to hide an address or leave the public directory within the burst window.",
)
_meter.create_observable_gauge(
    "lantern_directory_restriction_burst",
    callbacks=[_observe_restriction_burst],
    description="1 while hide or leave requests within the window reach the burst threshold, else 0.",
)
