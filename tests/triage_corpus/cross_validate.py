"""What triage's statistical readings do on files they were not trained on: leave one file out.

    python -m tests.triage_corpus.cross_validate [file.jsonl ...]

For each file of the regression and development parts (never the sealed part), the second reading is
trained on the other files exactly as `train_safety_net` trains it (its thresholds chosen on folds
held out inside them), and that file is classified with it. Printed per file and in total: urgency
agreement and urgent tips called urgent, for the rules alone and for the rules with the fold's
reading, and how many tips the reading moved (raised to urgent; kept from insufficient). The net's
threshold is also tried at the false-raise budgets of `BUDGETS` (each chosen on the same inner folds
as training's own), to compare recall against agreement on held-out files.

The rules and lexicon were tuned on every one of these files, so the rules-alone figures are
training scores; what this measures fairly is what the statistical readings add or cost.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from services.triage.domain import safety_net
from services.triage.domain.classification import classify
from tests.triage_corpus import train_safety_net
from tests.triage_corpus.evaluate import PARTS, RECEIVED_ON, facts_of, load_corpus

FILES = tuple(path for part in train_safety_net.TRAINING_PARTS for path in PARTS[part])
# False-raise budgets besides training's own: what a policy that raises more would do on unseen files.
BUDGETS = (0.03, 0.04, 0.06, 0.08)


def _line(name: str, tips: list[dict[str, Any]], calls: list[str]) -> str:
    agreed = sum(call == tip["labels"]["urgency"] for tip, call in zip(tips, calls, strict=True))
    urgent = [call for tip, call in zip(tips, calls, strict=True) if tip["labels"]["urgency"] == "urgent"]
    return (
        f"{name}: {agreed}/{len(tips)} ({agreed / len(tips):.1%}), urgent called urgent "
        f"{sum(call == 'urgent' for call in urgent)}/{len(urgent)}"
    )


def main() -> None:
    # Named files are held out in turn (to share the work between processes); by default every file.
    chosen = set(sys.argv[1:])
    totals: dict[str, list[Any]] = {"tips": [], "rules": [], "net": [], "with": []}
    totals.update({f"budget {budget:.0%}": [] for budget in BUDGETS})
    for held_out in (path for path in FILES if not chosen or path.name in chosen):
        kept = [path for path in FILES if path != held_out]
        training = [tip for path in kept for tip in load_corpus((path,))]
        files = [position for position, path in enumerate(kept) for _ in load_corpus((path,))]
        tips = load_corpus((held_out,))
        # One shuffle of the inner folds (training's two would double the cost for little).
        data = train_safety_net.fit(
            training, files, [path.name for path in kept], shuffles=(0,), other_budgets=BUDGETS
        )
        model = safety_net.compile_model(data)
        net_only = replace(model, actionable_threshold=float("inf"))
        by_budget = {
            f"budget {budget:.0%}": replace(model, threshold=threshold)
            for budget, threshold in data["thresholds_by_budget"].items()
        }
        budget_calls: dict[str, list[str]] = {name: [] for name in by_budget}
        rules, net, both = [], [], []
        for tip in tips:
            facts = facts_of(tip)
            rules.append(
                classify(facts, tip["narrative"], second_reading=False, received_on=RECEIVED_ON).urgency.value
            )
            net.append(classify(facts, tip["narrative"], received_on=RECEIVED_ON, net=net_only).urgency.value)
            both.append(classify(facts, tip["narrative"], received_on=RECEIVED_ON, net=model).urgency.value)
            for name, budget_model in by_budget.items():
                budget_calls[name].append(
                    classify(facts, tip["narrative"], received_on=RECEIVED_ON, net=budget_model).urgency.value
                )
        raised = sum(a != "urgent" and b == "urgent" for a, b in zip(rules, both, strict=True))
        unstuck = sum(
            a == "insufficient_information" and b == "non_urgent" for a, b in zip(rules, both, strict=True)
        )
        print(
            f"{held_out.name} (thresholds {data['threshold']}, {data['actionable_threshold']}):\n"
            f"  {_line('rules alone', tips, rules)}\n  {_line('with the net only', tips, net)}\n"
            f"  {_line('with the net and the actionable reading', tips, both)}"
            f"; raised {raised}, kept from insufficient {unstuck}",
            flush=True,
        )
        for name, calls in budget_calls.items():
            threshold = by_budget[name].threshold
            print(
                f"  {_line(f'net and actionable, {name} (threshold {threshold})', tips, calls)}", flush=True
            )
            totals[name] += calls
        totals["tips"] += tips
        totals["rules"] += rules
        totals["net"] += net
        totals["with"] += both
    print(_line("all files, rules alone", totals["tips"], totals["rules"]))
    print(_line("all files, with the held-out net only", totals["tips"], totals["net"]))
    print(_line("all files, with the held-out net and actionable reading", totals["tips"], totals["with"]))
    for budget in BUDGETS:
        name = f"budget {budget:.0%}"
        print(_line(f"all files, net and actionable at the {name}", totals["tips"], totals[name]))


if __name__ == "__main__":
    main()
