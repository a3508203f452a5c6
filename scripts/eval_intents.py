"""Intent quality of a trained model on labelled citizens' messages it was not trained on.

Run with the engine's Python (.venv-rasa): loads the model once with Rasa's Agent, parses
every message of tests/data/nlu/messages.yaml (split tune / test) and of
tests/data/nlu/holdout.yaml (written later by someone who read neither the training data nor
the first set; split dev / final) and of tests/data/nlu/third.yaml (a third such set, split
third, only ever measured) and prints, per split, accuracy and macro-F1 for long
messages (>= 15 words), short ones and all. Only the confusions of the parts that may be
studied (tune, dev) are printed: test, final and third are for the figure alone, so no example is
ever fitted to them. The intent scored is the one the dialogue acts on (a low-confidence
guess counts as "nlu_fallback", which is wrong for every label).

    .venv-rasa/bin/python scripts/eval_intents.py --model "$(bash scripts/train.sh)"
    .venv-rasa/bin/python scripts/eval_intents.py --model models/x.tar.gz "some text" ...
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

LONG_WORDS = 15
TOP_CONFUSIONS = 15
STUDIED = ("tune", "dev")  # the parts whose confusions and errors may be shown
DATA = (
    "tests/data/nlu/messages.yaml",
    "tests/data/nlu/holdout.yaml",
    "tests/data/nlu/third.yaml",
)


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-F1 over the intents that occur as labels (each intent weighs the same)."""
    labels = sorted({gold for gold, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(1 for gold, got in pairs if gold == label and got == label)
        fp = sum(1 for gold, got in pairs if gold != label and got == label)
        fn = sum(1 for gold, got in pairs if gold == label and got != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def is_long(text: str) -> bool:
    """Long messages are the realistic, detailed ones the issue is about."""
    return len(text.split()) >= LONG_WORDS


def load_messages(path: Path) -> list[dict[str, Any]]:
    """The labelled messages: a list, or a mapping with a `messages` list."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["messages"] if isinstance(data, dict) else data)


async def parse_all(model: str, texts: list[str]) -> list[tuple[str, float]]:
    """(intent, confidence) of every text, model loaded once."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse (with its text) at debug level unless told otherwise: keep it
    # quiet, so the test part's messages are never shown.
    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        out.append((str(intent.get("name")), float(intent.get("confidence") or 0.0)))
    return out


def line(name: str, pairs: list[tuple[str, str]]) -> str:
    """One row of the figures table."""
    if not pairs:
        return f"| {name} | 0 | – | – |"
    accuracy = sum(1 for gold, got in pairs if gold == got) / len(pairs)
    return f"| {name} | {len(pairs)} | {accuracy:.3f} | {macro_f1(pairs):.3f} |"


def report(messages: list[dict[str, Any]], predicted: list[str], show_errors: bool) -> None:
    """Figures per split and length; confusions (and, on request, errors) of the tune part only."""
    for split in ("tune", "test", "dev", "final", "third"):
        rows = [
            (m, got) for m, got in zip(messages, predicted, strict=True) if m.get("split") == split
        ]
        if not rows:
            continue
        pairs = [(str(m["intent"]), got) for m, got in rows]
        long_pairs = [(str(m["intent"]), got) for m, got in rows if is_long(str(m["text"]))]
        short_pairs = [(str(m["intent"]), got) for m, got in rows if not is_long(str(m["text"]))]
        print(f"\n## {split}\n")
        print("| messages | n | accuracy | macro-F1 |")
        print("|---|---:|---:|---:|")
        print(line(f"long (>= {LONG_WORDS} words)", long_pairs))
        print(line("short", short_pairs))
        print(line("all", pairs))
        if split not in STUDIED:
            continue
        confusions = Counter((gold, got) for gold, got in pairs if gold != got)
        if confusions:
            print(f"\nTop confusions ({split}): label → predicted, count\n")
            for (gold, got), count in confusions.most_common(TOP_CONFUSIONS):
                print(f"- {gold} → {got}: {count}")
        if show_errors:
            print(f"\nErrors ({split}):\n")
            for m, got in rows:
                if str(m["intent"]) != got:
                    print(f"- {m['intent']} → {got}: {m['text']}")


def main() -> None:
    """Parse the arguments; evaluate the data set, or show the intents of the given texts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", nargs="+", default=list(DATA))
    parser.add_argument(
        "--tune-errors", action="store_true", help="also list tune and dev's wrong messages"
    )
    parser.add_argument("texts", nargs="*", help="parse these instead (a debugging aid)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.texts:
        for text, (intent, confidence) in zip(
            args.texts, asyncio.run(parse_all(args.model, args.texts)), strict=True
        ):
            print(f"{intent:20} {confidence:.2f}  {text}")
        return
    paths = [Path(p) for p in args.data]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"not found: {', '.join(missing)}")
    messages = [m for path in paths for m in load_messages(path)]
    parsed = asyncio.run(parse_all(args.model, [str(m["text"]) for m in messages]))
    names = ", ".join(str(p) for p in paths)
    print(f"# Intents on {names} ({len(messages)} messages), model {Path(args.model).name}")
    report(messages, [intent for intent, _ in parsed], args.tune_errors)


if __name__ == "__main__":
    main()
