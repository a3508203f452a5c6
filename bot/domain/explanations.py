"""How an explanation presents itself to citizens, wherever it is shown, and the typical
questions its officer says it answers (searched with it, never shown as its answer)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from bot.errors import InvalidInput

MAX_QUESTIONS = 30
MAX_QUESTION_LENGTH = 300


def source_line(source_document: str, source_url: str) -> str | None:
    """The "Nguồn: …" line (document, link, or both), or None when neither is known."""
    source = source_document
    if source_url:
        source = f"{source} – {source_url}" if source else source_url
    return f"Nguồn: {source}" if source else None


def example_questions(values: Sequence[str]) -> tuple[str, ...]:
    """The questions as stored (stripped, each once, in order); 400 `invalid_questions`
    naming the first problem: more than MAX_QUESTIONS, an empty or too long one, or one
    with control characters (a line break, a tab: one question is one line)."""
    if len(values) > MAX_QUESTIONS:
        raise InvalidInput(
            f"'questions': at most {MAX_QUESTIONS} questions (got {len(values)}).",
            code="invalid_questions",
        )
    out: list[str] = []
    for number, value in enumerate(values, 1):
        question = value.strip()
        if not 1 <= len(question) <= MAX_QUESTION_LENGTH:
            raise InvalidInput(
                f"'questions' #{number}: each question needs 1 to {MAX_QUESTION_LENGTH} "
                f"characters (got {len(question)}).",
                code="invalid_questions",
            )
        if any(unicodedata.category(ch) == "Cc" for ch in question):
            raise InvalidInput(
                f"'questions' #{number}: a question is one line, without control characters.",
                code="invalid_questions",
            )
        out.append(question)
    return tuple(dict.fromkeys(out))
