"""The NLU evaluation set stays usable for honest measurement: big enough, labelled with real
intents, and split into a tuning and a test part that look alike."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "tests" / "data" / "nlu" / "messages.yaml"
DOMAIN = ROOT / "nlu" / "domain.yml"
SPLITS = ("tune", "test")
LONG = 15

# Intents a citizen never types: reached by pressing a button.
NOT_TYPED = {"rate"}


def _messages(path: Path = MESSAGES) -> list[dict[str, Any]]:
    """The labelled messages, as written in the file."""
    with path.open(encoding="utf-8") as f:
        return list(yaml.safe_load(f)["messages"])


def _key(text: object) -> str:
    """A message as compared for duplicates: lower case, spaces collapsed."""
    return " ".join(str(text).lower().split())


def _typed_intents() -> set[str]:
    """Intent names the domain declares, minus the button-only ones."""
    with DOMAIN.open(encoding="utf-8") as f:
        declared = yaml.safe_load(f)["intents"]
    names = {next(iter(i)) if isinstance(i, dict) else str(i) for i in declared}
    return names - NOT_TYPED


@pytest.fixture(scope="module")
def messages() -> list[dict[str, Any]]:
    """Loaded once for every check below."""
    return _messages()


def test_every_message_has_text_intent_and_split(messages: list[dict[str, Any]]) -> None:
    """A malformed row would silently drop out of every figure."""
    fields = {"text", "intent", "split"}
    bad = [m for m in messages if set(m) != fields or not str(m["text"]).strip()]
    assert not bad, f"rows without exactly text/intent/split: {bad[:5]}"
    assert {m["split"] for m in messages} <= set(SPLITS), "split must be tune or test"


def test_set_is_large_enough_with_a_real_test_part(messages: list[dict[str, Any]]) -> None:
    """Macro-F1 over 17 intents needs a few hundred messages, half of them never tuned on."""
    test = [m for m in messages if m["split"] == "test"]
    assert len(messages) >= 400, f"{len(messages)} messages, expected at least 400"
    assert len(test) >= 200, f"{len(test)} test messages, expected at least 200"


def test_labels_are_intents_the_domain_declares(messages: list[dict[str, Any]]) -> None:
    """A label the model cannot predict would count as a certain miss."""
    unknown = {m["intent"] for m in messages} - _typed_intents()
    assert not unknown, f"labels not among nlu/domain.yml's typed intents: {sorted(unknown)}"


def test_every_typed_intent_is_in_both_splits(messages: list[dict[str, Any]]) -> None:
    """Each intent is tuned and measured, so no part of the macro-F1 is blind."""
    for split in SPLITS:
        present = {m["intent"] for m in messages if m["split"] == split}
        missing = _typed_intents() - present
        assert not missing, f"intents missing from {split}: {sorted(missing)}"


@pytest.mark.parametrize("split", SPLITS)
def test_at_least_half_of_each_split_is_long(messages: list[dict[str, Any]], split: str) -> None:
    """Long first messages are where the model slipped; they must weigh as much as short ones."""
    part = [m for m in messages if m["split"] == split]
    long = sum(len(str(m["text"]).split()) >= LONG for m in part)
    assert long * 2 >= len(part), f"{split}: {long} of {len(part)} messages have >= {LONG} words"


def test_no_message_is_written_twice(messages: list[dict[str, Any]]) -> None:
    """A duplicate would count twice, or sit in both parts and leak the test into tuning."""
    counts = Counter(_key(m["text"]) for m in messages)
    twice = [text for text, n in counts.items() if n > 1]
    assert not twice, f"duplicate messages: {twice}"


THIRD = ROOT / "tests" / "data" / "nlu" / "third.yaml"
OLDER = (MESSAGES, ROOT / "tests" / "data" / "nlu" / "holdout.yaml")


def test_the_third_set_is_well_formed_labelled_and_new() -> None:
    """The third blind set: every row text/intent/split third, labels the domain declares
    (all but greetings, whose every message was worded like a training example), long messages
    weighing as much as short ones, no message twice nor from an older set (those were
    dropped: they are not unseen)."""
    third = _messages(THIRD)
    assert len(third) >= 250
    assert all(set(m) == {"text", "intent", "split"} and m["split"] == "third" for m in third)
    assert {m["intent"] for m in third} == _typed_intents() - {"greet"}
    assert 2 * sum(len(str(m["text"]).split()) >= LONG for m in third) >= len(third)
    keys = [_key(m["text"]) for m in third]
    assert len(set(keys)) == len(keys)
    assert set(keys) & {_key(m["text"]) for path in OLDER for m in _messages(path)} == set()
