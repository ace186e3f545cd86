"""How long triage takes to classify a tip, next to one broker hop measured in the same run.

    python -m bench.classification [--rounds 20]

Classifies every tip of the labelled corpus's regression and development parts (tests/triage_corpus;
the sealed part is never read here) `rounds` times, timing each call (tokenising, the one pass of
the lexicon's automaton, the urgency rules, the reasons), then measures the latency of one
produce-to-consume hop on a Tansu broker started for the purpose.
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


def classification_microseconds(rounds: int) -> list[float]:
    lexicon = load_lexicon()
    tips = [(facts_of(tip), tip["narrative"]) for part in TIMED_PARTS for tip in load_corpus(PARTS[part])]
    for facts, narrative in tips:
        classify(facts, narrative, lexicon=lexicon, received_on=RECEIVED_ON)
    samples = []
    for _ in range(rounds):
        for facts, narrative in tips:
            started = time.perf_counter()
            classify(facts, narrative, lexicon=lexicon, received_on=RECEIVED_ON)
            samples.append((time.perf_counter() - started) * 1e6)
    return samples


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
    samples = classification_microseconds(options.rounds)
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    hop_ms = asyncio.run(broker_hop_milliseconds(300))
    results = {
        "classifications": len(samples),
        "p50_us": cut[49],
        "p99_us": cut[98],
        "broker_hop_p50_ms": hop_ms,
        "ratio_p99_to_broker_hop": cut[98] / (hop_ms * 1000),
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"classification per tip: p50 {results['p50_us']:.0f} us, p99 {results['p99_us']:.0f} us "
          f"({len(samples)} classifications)")  # fmt: skip
    print(f"one broker hop (p50):   {hop_ms:.2f} ms")
    print(f"ratio p99 classification / broker hop: {results['ratio_p99_to_broker_hop']:.3f}")


if __name__ == "__main__":
    main()
