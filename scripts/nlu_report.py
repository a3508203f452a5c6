"""Summarise repeated `rasa test nlu --cross-validation` runs as Markdown.

Rasa shuffles the folds at random on every run, so one run's macro-F1 moves by about ±0.01;
the report gives each run's figure and their mean (the goal applies to the mean), the
per-intent scores averaged over the runs, and the confusions summed over them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean

SKIP = {"macro avg", "weighted avg", "micro avg", "accuracy"}


def main(folds: str, runs: list[Path]) -> None:
    """Print the report; exit non-zero when the mean macro-F1 is below the 0.90 goal."""
    reports = [json.loads((run / "intent_report.json").read_text()) for run in runs]
    errors = [
        e
        for run in runs
        if (run / "intent_errors.json").exists()
        for e in json.loads((run / "intent_errors.json").read_text())
    ]
    macros = [r["macro avg"] for r in reports]
    f1 = mean(m["f1-score"] for m in macros)
    print("# NLU report: cross-validated intent classification")
    print()
    print(
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make nlu-report`: "
        f"{len(runs)} runs of {folds}-fold cross-validation over nlu/nlu (folds shuffled anew "
        "each run), pipeline in config.yml."
    )
    print()
    print(
        f"**Intent macro-F1: {f1:.3f}** (mean of {len(runs)} runs: "
        + ", ".join(f"{m['f1-score']:.3f}" for m in macros)
        + f"; precision {mean(m['precision'] for m in macros):.3f}, "
        f"recall {mean(m['recall'] for m in macros):.3f}); "
        f"accuracy {mean(r.get('accuracy', 0) for r in reports):.3f}; goal ≥ 0.90."
    )
    print()
    print("| intent | precision | recall | F1 | examples |")
    print("|---|---:|---:|---:|---:|")
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    for report in reports:
        for name, row in report.items():
            if isinstance(row, dict) and name not in SKIP:
                rows[name].append(row)
    for name, values in sorted(rows.items()):
        print(
            f"| {name} | {mean(v['precision'] for v in values):.3f} | "
            f"{mean(v['recall'] for v in values):.3f} | "
            f"{mean(v['f1-score'] for v in values):.3f} | {int(values[0]['support'])} |"
        )
    print()
    pairs = Counter(
        (e["intent"], (e.get("intent_prediction") or {}).get("name", "?")) for e in errors
    )
    print(f"## Confusions (true → predicted, count summed over the {len(runs)} runs)")
    print()
    if not pairs:
        print("None.")
    else:
        print("| true intent | predicted | count |")
        print("|---|---|---:|")
        for (true, predicted), count in pairs.most_common(25):
            print(f"| {true} | {predicted} | {count} |")
    if f1 < 0.90:
        sys.exit(f"mean macro-F1 {f1:.3f} is below the 0.90 goal")


if __name__ == "__main__":
    main(sys.argv[1], [Path(p) for p in sys.argv[2:]])
