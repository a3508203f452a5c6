"""The labelled questions (tests/data/qa/questions.yaml) stay well-formed and true to the demo."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "data" / "qa" / "questions.yaml"
DEMO = ROOT / "bot" / "demo" / "demo_data.yaml"


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    """Each demo explanation's body by slug, as `giaitrinh demo load` publishes it."""
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return {item["slug"]: item["body"] for item in demo["explanations"]}


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    """The labelled questions as the evaluation reads them."""
    return list(yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"])


def test_the_set_is_large_enough_and_has_a_real_test_part(questions: list[dict[str, Any]]) -> None:
    splits = Counter(item["split"] for item in questions)
    assert len(questions) >= 300
    assert set(splits) == {"tune", "test"}
    assert splits["test"] >= 150


def test_every_label_is_a_demo_slug_or_none(
    questions: list[dict[str, Any]], bodies: dict[str, str]
) -> None:
    wrong = [item["q"] for item in questions if item["a"] != "none" and item["a"] not in bodies]
    assert wrong == []
    assert sum(item["a"] == "none" for item in questions) >= 50


def test_every_answer_sentence_is_an_exact_part_of_its_body(
    questions: list[dict[str, Any]], bodies: dict[str, str]
) -> None:
    for item in questions:
        if item["a"] == "none":
            assert "s" not in item, item["q"]
            continue
        answer = item["s"]
        assert 20 <= len(answer) <= 120, item["q"]
        assert answer in bodies[item["a"]], item["q"]


def test_no_question_is_asked_twice(questions: list[dict[str, Any]]) -> None:
    counts = Counter(item["q"].strip().lower() for item in questions)
    assert [text for text, count in counts.items() if count > 1] == []


def test_both_parts_cover_every_explanation_and_unanswerable_questions(
    questions: list[dict[str, Any]], bodies: dict[str, str]
) -> None:
    for split in ("tune", "test"):
        labels = {item["a"] for item in questions if item["split"] == split}
        assert labels == set(bodies) | {"none"}, split


HOLDOUT = ROOT / "tests" / "data" / "qa" / "holdout.yaml"
SECOND_DEV = ROOT / "tests" / "data" / "qa" / "second_dev.yaml"


def _new_and_true(
    items: list[dict[str, Any]], bodies: dict[str, str], older: list[dict[str, Any]]
) -> None:
    """Each answer sentence is an exact part of its body, no question twice, and none asked in
    an older set."""
    for item in items:
        if item["a"] == "none":
            assert "s" not in item, item["q"]
        else:
            assert 20 <= len(item["s"]) <= 120 and item["s"] in bodies[item["a"]], item["q"]
    texts = [item["q"].strip().lower() for item in items]
    assert len(set(texts)) == len(texts)
    assert set(texts) & {item["q"].strip().lower() for item in older} == set()


def _read(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["questions"])


def test_the_holdout_set_is_well_formed_and_true_to_the_demo(bodies: dict[str, str]) -> None:
    """The later, independently written set: both halves cover every explanation and
    unanswerable questions, each answer sentence is in its body, no question twice, and none
    is also in the tune or test set."""
    items = _read(HOLDOUT)
    assert len(items) >= 190
    for split in ("dev", "final"):
        labels = {item["a"] for item in items if item["split"] == split}
        assert labels == set(bodies) | {"none"}, split
    _new_and_true(items, bodies, _read(QUESTIONS))


def test_the_second_set_is_well_formed_true_to_the_demo_and_new(bodies: dict[str, str]) -> None:
    """The second independently written set covers every explanation and unanswerable
    questions, each answer sentence is in its body, and no question is in an older set."""
    items = _read(SECOND_DEV)
    assert len(items) >= 190
    assert {item["a"] for item in items} == set(bodies) | {"none"}
    assert sum(item["a"] == "none" for item in items) >= 40
    _new_and_true(items, bodies, _read(QUESTIONS) + _read(HOLDOUT))


THIRD = ROOT / "tests" / "data" / "qa" / "third.yaml"


def test_the_third_set_is_well_formed_true_to_the_demo_and_new(bodies: dict[str, str]) -> None:
    """The final holdout, a third independently written set: it covers every explanation and
    unanswerable questions, each answer sentence is in its body, and no question is in an older
    set (those were dropped: they are not unseen)."""
    items = _read(THIRD)
    assert len(items) >= 160
    assert {item["a"] for item in items} == set(bodies) | {"none"}
    assert sum(item["a"] == "none" for item in items) >= 35
    older = (
        _read(QUESTIONS)
        + _read(HOLDOUT)
        + _read(SECOND_DEV)
        + _read(ROOT / "tests" / "data" / "qa_eval.yaml")
    )
    _new_and_true(items, bodies, older)
