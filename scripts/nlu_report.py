"""Summarise `rasa test nlu --cross-validation` output as Markdown (intent table + confusions)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path


def main(results: Path, folds: str) -> None:
    """Print the report; exit non-zero below the macro-F1 goal of 0.90."""
    report = json.loads((results / "intent_report.json").read_text())
    errors_file = results / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    macro = report["macro avg"]
    print("# NLU report: cross-validated intent classification")
    print()
    print(f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make nlu-report` "
          f"({folds}-fold cross-validation over nlu/nlu, pipeline in config.yml).")
    print()
    print(f"**Intent macro-F1: {macro['f1-score']:.3f}** "
          f"(precision {macro['precision']:.3f}, recall {macro['recall']:.3f}); "
          f"accuracy {report.get('accuracy', 0):.3f}; goal ≥ 0.90.")
    print()
    print("| intent | precision | recall | F1 | examples |")
    print("|---|---:|---:|---:|---:|")
    for name, row in sorted(report.items()):
        if not isinstance(row, dict) or name in {"macro avg", "weighted avg", "micro avg"}:
            continue
        print(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | "
              f"{row['f1-score']:.3f} | {row['support']} |")
    print()
    pairs = Counter(
        (e["intent"], (e.get("intent_prediction") or {}).get("name", "?")) for e in errors
    )
    print("## Confusions (true → predicted, count)")
    print()
    if not pairs:
        print("None.")
    else:
        print("| true intent | predicted | count |")
        print("|---|---|---:|")
        for (true, predicted), count in pairs.most_common(25):
            print(f"| {true} | {predicted} | {count} |")
    if macro["f1-score"] < 0.90:
        sys.exit(f"macro-F1 {macro['f1-score']:.3f} is below the 0.90 goal")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
