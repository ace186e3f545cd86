"""How long triage takes to classify a tip, next to one broker hop measured in the same run.

    python -m bench.classification [--rounds 20]

Classifies every tip of the labelled corpus's regression and development parts (tests/triage_corpus;
the sealed part is never read here) `rounds` times, timing each call (tokenising, the one pass of
the lexicon's automaton, the urgency rules, the reasons), then measures the latency of one
produce-to-consume hop on a Tansu broker started for the purpose. Each call is timed twice: by the
wall clock, and by the CPU time of the thread, which a shared machine's other work does not inflate
(on a loaded machine the wall clock's p99 is the scheduler's, not the classifier's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from bench.pipeline import raw_broker_run
from lantern.infra import TansuBroker
from services.common.kafka import ensure_topics
from services.triage.domain.classification import classify
from services.triage.domain.indicators import load_lexicon
from tests.triage_corpus.evaluate import PARTS, RECEIVED_ON, facts_of, load_corpus

TIMED_PARTS = ("regression", "development")


def classification_microseconds(rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and thread-CPU microseconds per classification."""
    lexicon = load_lexicon()
    tips = [(facts_of(tip), tip["narrative"]) for part in TIMED_PARTS for tip in load_corpus(PARTS[part])]
    for facts, narrative in tips:
        classify(facts, narrative, lexicon=lexicon, received_on=RECEIVED_ON)
    samples, cpu = [], []
    for _ in range(rounds):
        for facts, narrative in tips:
            started, cpu_started = time.perf_counter(), time.thread_time()
            classify(facts, narrative, lexicon=lexicon, received_on=RECEIVED_ON)
            cpu.append((time.thread_time() - cpu_started) * 1e6)
            samples.append((time.perf_counter() - started) * 1e6)
    return samples, cpu


async def broker_hop_milliseconds(messages: int) -> float:
    with TansuBroker() as broker:
        await ensure_topics(broker.bootstrap_servers, ("bench.warmup",))
        result = await raw_broker_run(broker.bootstrap_servers, messages, rate=100, size=1500)
    return float(result["p50_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench/results/classification.json"))
    options = parser.parse_args()
    samples, cpu = classification_microseconds(options.rounds)
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    cpu_cut = statistics.quantiles(cpu, n=100, method="inclusive")
    hop_ms = asyncio.run(broker_hop_milliseconds(300))
    results = {
        "classifications": len(samples),
        "p50_us": cut[49],
        "p99_us": cut[98],
        "cpu_p50_us": cpu_cut[49],
        "cpu_p99_us": cpu_cut[98],
        "broker_hop_p50_ms": hop_ms,
        "ratio_p99_to_broker_hop": cut[98] / (hop_ms * 1000),
        "ratio_cpu_p99_to_broker_hop": cpu_cut[98] / (hop_ms * 1000),
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"classification per tip: p50 {results['p50_us']:.0f} us, p99 {results['p99_us']:.0f} us "
          f"({len(samples)} classifications)")  # fmt: skip
    print(f"thread CPU per tip:     p50 {results['cpu_p50_us']:.0f} us, p99 {results['cpu_p99_us']:.0f} us")
    print(f"one broker hop (p50):   {hop_ms:.2f} ms")
    print(f"ratio p99 classification / broker hop: {results['ratio_p99_to_broker_hop']:.3f}"
          f" (thread CPU p99: {results['ratio_cpu_p99_to_broker_hop']:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
