"""What sealing costs per tip, in microseconds, next to the same work without it.

    python bench/sealing.py [--tips 5000]

Baseline: validate a submission and build and serialise its `tip.received` event with the
identifying fields left out. Sealed: the same, plus a fresh data key, its wrapping by the KEK, and
AES-256-GCM on the narrative, contact fields and named persons. Unseal: unwrap and open the
narrative, as triage does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from schemas.sealed import SealedIdentifiers
from schemas.tip import TipFacts, TipSubmission
from services.common.sealing import KeyEncryptionKey, new_data_key, unwrap_data_key, wrap_data_key
from services.intake.domain.identifiers import seal_identifiers

BODY = {
    "channel": "phone", "language": "fr", "reporter_role": "victim", "anonymous": False,
    "narrative": "On m'a promis un emploi dans un restaurant. " * 20,
    "location": {"country": "CA", "province": "QC", "city": "Laval"},
    "assessment": {"minor_involved": "no", "imminent_danger": "no", "trafficking_types": ["labour"]},
    "consent": {"law_enforcement": True, "service_referral": True},
    "contact": {"name": "Prénom Nom", "phone": "+1 450 555 0100", "email": "personne@example.org"},
    "named_persons": [{"name": "Patron Inventé", "relation": "suspect"}],
}  # fmt: skip
KEK = KeyEncryptionKey(os.urandom(32))


def event(tip_id: uuid.UUID, identifiers: SealedIdentifiers) -> bytes:
    submission = TipSubmission.model_validate(BODY)
    return TipReceivedV1(
        tip_id=tip_id, correlation_id=tip_id, producer="intake", reference="LT-0000-0000",
        received_at=utc_now(), facts=TipFacts.of(submission), identifiers=identifiers,
    ).model_dump_json().encode()  # fmt: skip


def unsealed(_: int) -> None:
    event(uuid.uuid4(), SealedIdentifiers(narrative=None))


def sealed(_: int) -> None:
    tip_id = uuid.uuid4()
    data_key = new_data_key(tip_id)
    wrap_data_key(KEK, data_key)
    submission = TipSubmission.model_validate(BODY)
    identifiers = seal_identifiers(
        data_key, submission.narrative, submission.contact, submission.named_persons
    )
    event(tip_id, identifiers)


def per_tip_microseconds(work: Callable[[int], None], count: int) -> float:
    for number in range(min(200, count)):
        work(number)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for number in range(count):
            work(number)
        rounds.append((time.perf_counter() - started) / count * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sealing.json"))
    options = parser.parse_args()
    data_key = new_data_key(uuid.uuid4())
    wrapped = wrap_data_key(KEK, data_key)
    narrative = data_key.seal("narrative", str(BODY["narrative"]))

    def unseal(_: int) -> None:
        unwrap_data_key(KEK, data_key.tip_id, wrapped).unseal("narrative", narrative)

    results = {
        "tips": options.tips,
        "unsealed_us_per_tip": per_tip_microseconds(unsealed, options.tips),
        "sealed_us_per_tip": per_tip_microseconds(sealed, options.tips),
        "unseal_narrative_us": per_tip_microseconds(unseal, options.tips),
    }
    results["sealing_cost_us_per_tip"] = results["sealed_us_per_tip"] - results["unsealed_us_per_tip"]
    results["ratio_sealed_to_unsealed"] = results["sealed_us_per_tip"] / results["unsealed_us_per_tip"]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"unsealed baseline: {results['unsealed_us_per_tip']:.1f} us per tip")
    print(f"sealed:            {results['sealed_us_per_tip']:.1f} us per tip "
          f"(sealing costs {results['sealing_cost_us_per_tip']:.1f} us, ratio {results['ratio_sealed_to_unsealed']:.2f})")  # fmt: skip
    print(f"unseal narrative:  {results['unseal_narrative_us']:.1f} us")


if __name__ == "__main__":
    main()
