"""Every field triage returns for every tip of the labelled corpus, to compare before and after a change
of how (not what) triage classifies.

    python -m bench.triage_decisions > before.txt   # on the old code
    python -m bench.triage_decisions > after.txt    # on the new code
    cmp before.txt after.txt                       # a speed change must leave it byte for byte

Reads the regression part and every development file (tests/triage_corpus; never the sealed part).
For each tip: the classification with the second reading, by the rules alone, and without a day of
receipt (every field: urgency, reasons in both languages, minor, danger, indicators, missing details,
version); what the rules read in the narrative (`detect`); and the second reading's probabilities,
written to the last bit. Prints no timing: it is the check that goes with `bench.classification`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from services.triage.domain import safety_net
from services.triage.domain.classification import classify
from services.triage.domain.indicators import detect, load_lexicon
from tests.triage_corpus.evaluate import HERE, RECEIVED_ON, facts_of, load_corpus

# (name, with the second reading, day of receipt)
MODES = (("full", True, RECEIVED_ON), ("rules", False, RECEIVED_ON), ("undated", True, None))


def corpus_files() -> list[Path]:
    files = [HERE / "corpus.jsonl", *sorted(HERE.glob("development*.jsonl"))]
    return [path for path in files if "sealed" not in path.name]


def dump(out: TextIO) -> int:
    lexicon = load_lexicon()
    tips = 0
    for path in corpus_files():
        for tip in load_corpus((path,)):
            facts, narrative = facts_of(tip), tip["narrative"]
            for mode, second_reading, received_on in MODES:
                result = classify(
                    facts, narrative, lexicon=lexicon, second_reading=second_reading, received_on=received_on
                )
                record = {
                    "tip": tip.get("id"),
                    "file": path.name,
                    "mode": mode,
                    "urgency": result.urgency.value,
                    "reasons": [reason.model_dump() for reason in result.reasons],
                    "minor": result.minor_involved,
                    "danger": result.imminent_danger,
                    "indicators": [(finding.code, finding.strength.value) for finding in result.indicators],
                    "missing": [detail.value for detail in result.missing],
                    "version": result.ruleset_version,
                }
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            out.write(repr(detect(narrative, lexicon, RECEIVED_ON)) + "\n")
            location = facts.location
            has_place = bool(location.city or location.province)
            out.write(repr(safety_net.probabilities(narrative, has_place=has_place)) + "\n")
            tips += 1
    return tips


def main() -> None:
    tips = dump(sys.stdout)
    print(f"{tips} tips", file=sys.stderr)


if __name__ == "__main__":
    main()
