"""Train triage's statistical safety net, offline, on the parts the rules may be tuned on only.

    python -m tests.triage_corpus.train_safety_net [--check]

Three logistic regressions (urgent, minor, danger) over sublinear tf-idf of the character n-grams of
each word (`services.triage.domain.safety_net.analyse`), written to `safety_net.v1.json`. The
threshold is the lowest one at which, in 5-fold cross-validation repeated with two shuffles, the
net raises at most 3% of the tips that the rules do not call urgent: the training tips' rules were
tuned on them, so cross-validation can price the net's false alarms there, not its catches (those
are measured on the sealed part and on held-out sets, which it never sees). Since v2 development4
is among the training parts (it has been tuned on since); the sealed part is never read here. `--check` only verifies that the pure-Python scorer agrees with
scikit-learn on every training tip. scikit-learn is a development dependency, never a run-time one.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from services.triage.domain import safety_net
from services.triage.domain.classification import classify
from tests.triage_corpus.evaluate import PARTS, RECEIVED_ON, facts_of, load_corpus

TRAINING_PARTS = ("regression", "development", "development4")
TARGETS = ("urgent", "minor", "danger")
REGULARISATION = 16.0  # chosen by cross-validated AUC among 1, 4, 16
VOCABULARY = 20000
FALSE_RAISE_BUDGET = 0.03
THRESHOLDS = tuple(round(0.3 + 0.025 * step, 3) for step in range(27))
SHUFFLES = (0, 1)
VERSION = "safety-net-2026.12.2"


def target_of(tip: dict[str, Any], target: str) -> bool:
    labels = tip["labels"]
    return bool(labels["urgency"] == "urgent") if target == "urgent" else bool(labels[target])


def pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer=safety_net.analyse, sublinear_tf=True, min_df=2, max_features=VOCABULARY
                ),
            ),
            ("model", LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)),
        ]
    )


def choose_threshold(narratives: list[str], tips: list[dict[str, Any]]) -> tuple[float, float]:
    """The lowest threshold whose cross-validated false raises stay within the budget, and that rate."""
    urgent = np.array([target_of(tip, "urgent") for tip in tips])
    by_rules = np.array(
        [
            classify(
                facts_of(tip), tip["narrative"], second_reading=False, received_on=RECEIVED_ON
            ).urgency.value
            == "urgent"
            for tip in tips
        ]
    )
    folds = []
    for seed in SHUFFLES:
        out_of_fold = {
            target: cross_val_predict(
                pipeline(), narratives, np.array([target_of(tip, target) for tip in tips]),
                cv=StratifiedKFold(5, shuffle=True, random_state=seed), method="predict_proba",
            )[:, 1]
            for target in TARGETS
        }  # fmt: skip
        agreeing = np.maximum(out_of_fold["minor"], out_of_fold["danger"]) >= safety_net.AGREEMENT
        folds.append(np.where(agreeing, out_of_fold["urgent"], 0.0))
    candidates = ~by_rules & ~urgent
    for threshold in THRESHOLDS:
        rate = float(np.mean([np.mean(probability[candidates] >= threshold) for probability in folds]))
        if rate <= FALSE_RAISE_BUDGET:
            return threshold, rate
    raise SystemExit("no threshold keeps the false raises within the budget")


def train() -> dict[str, Any]:
    tips = [tip for part in TRAINING_PARTS for tip in load_corpus(PARTS[part])]
    narratives = [tip["narrative"] for tip in tips]
    threshold, rate = choose_threshold(narratives, tips)
    vectorizer = TfidfVectorizer(
        analyzer=safety_net.analyse, sublinear_tf=True, min_df=2, max_features=VOCABULARY
    )
    features = vectorizer.fit_transform(narratives)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    weights, intercepts = {}, {}
    for target in TARGETS:
        model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
        model.fit(features, np.array([target_of(tip, target) for tip in tips]))
        weights[target] = [round(float(weight), 6) for weight in model.coef_[0]]
        intercepts[target] = float(model.intercept_[0])
    print(
        f"{len(tips)} tips, {len(vocabulary)} n-grams, threshold {threshold} (cross-validated false raises {rate:.1%})"
    )
    return {
        "version": VERSION,
        "trained_on": [path.name for part in TRAINING_PARTS for path in PARTS[part]],
        "threshold": threshold,
        "cross_validated_false_raises": round(rate, 4),
        "vocabulary": vocabulary,
        "idf": [round(float(value), 6) for value in vectorizer.idf_],
        "weights": weights,
        "intercepts": intercepts,
    }


def check() -> float:
    """The largest gap between the pure-Python scorer and scikit-learn's, on the training tips."""
    tips = [tip for part in TRAINING_PARTS for tip in load_corpus(PARTS[part])]
    narratives = [tip["narrative"] for tip in tips]
    fitted = pipeline().fit(narratives, np.array([target_of(tip, "urgent") for tip in tips]))
    reference = fitted.predict_proba(narratives)[:, 1]
    safety_net.load_model.cache_clear()
    ours = [safety_net.probabilities(narrative)["urgent"] for narrative in narratives]
    return float(np.max(np.abs(np.array(ours) - reference)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    options = parser.parse_args()
    if not options.check:
        safety_net.MODEL_FILE.write_text(json.dumps(train(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"largest gap to scikit-learn: {check():.2e}")


if __name__ == "__main__":
    main()
