"""How an explanation presents itself to citizens, wherever it is shown, and the typical
questions its officer says it answers (searched with it, never shown as its answer)."""

from __future__ import annotations

import re
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


# Markdown an officer may type, read as plain text for chat (Telegram, Zalo and the web chat
# show text as is): the words stay, the marks go. Lists keep "- " and "1. ", which read well
# as text and which the excerpt finder (bot/search/excerpts.py) recognises as items.
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[*+]\s+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1), match.group(2)
    return url if text.strip() in ("", url) else f"{text} ({url})"


def chat_text(markdown: str) -> str:
    """An explanation's body as citizens read it in chat: Markdown's marks removed, its words
    (and a link's address, after its text) kept, list markers kept as "- "."""
    out: list[str] = []
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line) or _RULE.match(line):
            continue
        heading = _HEADING.match(line)
        if heading:
            line = heading.group(1)
        line = _QUOTE.sub("", line)
        line = _BULLET.sub(r"\1- ", line)
        line = _IMAGE.sub(_link, line)
        line = _LINK.sub(_link, line)
        line = _AUTOLINK.sub(r"\1", line)
        line = _CODE.sub(r"\1", line)
        line = _STRONG.sub(r"\2", line)
        line = _EMPHASIS.sub(r"\1", line)
        line = _ESCAPED.sub(r"\1", line)
        out.append(line.rstrip())
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
