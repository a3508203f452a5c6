"""The passage of an explanation that answers a question, cut where the text allows.

An explanation's body is read as paragraphs of sentences and lists of items under a lead line
("Yêu cầu cần có:"). The sentences and items that share most with the question are chosen
(words rare in the explanation count more), those stating the kind of information asked
(bot/search/asks.py: a date, a duration, what is needed…) first; a list item is shown whole,
with its lead line, a lead line never without an item, and the passage never ends on a colon.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from bot.search.asks import asked, unmet
from bot.search.tokens import tokens, weighted_question_tokens
from nlu.text import normalize

_ITEM = re.compile(r"^(?:[-•*–]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\s])")
LIMIT = 450
LEAD = 0.5  # weight of a question word found only in a list item's lead line
STATES = 0.5  # bonus, as a share of the best unit's score, for a unit stating what is asked


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence of a paragraph or a whole list item, with its list's lead line."""

    text: str
    lead: str  # the line ending with ":" that introduces the item's list ("" if none)
    block: int  # paragraph or list number: following units of one block read on
    position: int


def units(body: str) -> list[Unit]:
    """The body's sentences and list items, in order. A line that introduces items (ending
    with ":", or any line right before an item) is their lead, across a blank line; a line
    that is neither item nor lead ends the list."""
    lines = [raw.strip() for raw in body.splitlines() if raw.strip()]
    out: list[Unit] = []
    lead = ""
    block = 0
    for i, line in enumerate(lines):
        if _ITEM.match(line):
            out.append(Unit(line, lead, block, len(out)))
        elif line.endswith(":") or (i + 1 < len(lines) and _ITEM.match(lines[i + 1])):
            lead = line
            block += 1
        else:
            lead = ""
            block += 1
            for sentence in _SENTENCE_END.split(line):
                out.append(Unit(sentence.strip(), "", block, len(out)))
            block += 1  # a list or paragraph after this one is another block
    return out


def _matches(question: str, found: list[Unit]) -> list[dict[str, float]]:
    """For each unit, the question words it carries with their weight: rarity among the units
    (squared, so one rare word beats many common ones) times whether it was typed or added by
    a synonym; a word found only in the unit's lead line counts `LEAD`."""
    wanted = weighted_question_tokens(question)
    own = [set(tokens(u.text)) & wanted.keys() for u in found]
    led = [set(tokens(u.lead)) & wanted.keys() - o for u, o in zip(found, own, strict=True)]
    df = Counter(t for o, d in zip(own, led, strict=True) for t in o | d)
    n = len(found)

    def weight(t: str) -> float:
        return wanted[t] * math.log((n - df[t] + 0.5) / (df[t] + 0.5) + 1) ** 2

    return [
        {t: weight(t) for t in o} | {t: LEAD * weight(t) for t in d}
        for o, d in zip(own, led, strict=True)
    ]


def _scores(question: str, found: list[Unit]) -> list[float]:
    """How much of the question each unit carries."""
    return [sum(m.values()) for m in _matches(question, found)]


def _shown(unit: Unit, with_lead: bool) -> str:
    return f"{unit.lead}\n{unit.text}" if with_lead and unit.lead else unit.text


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut between words, never ending on a colon."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _cost(units_: list[Unit], chosen: set[int]) -> int:
    """Characters the chosen units take, each lead line counted once."""
    leads = {units_[i].lead for i in chosen if units_[i].lead}
    return sum(len(units_[i].text) + 1 for i in chosen) + sum(len(x) + 1 for x in leads)


def excerpt(body: str, question: str, summary: str = "", limit: int = LIMIT) -> str:
    """The sentences and list items that answer `question`, in the body's order: the best one
    with its context (its whole list when that fits, else its lead line; the next sentence of
    its paragraph), then the next best ones while they fit."""
    found = units(body)
    if not found:
        return _cut(summary, limit)
    scores = _scores(question, found)
    asks = asked(question)
    if asks[0] or asks[1]:  # the units that state what is asked ("Yêu cầu cần có: …") first
        top = max(scores)
        for i, u in enumerate(found):
            if not unmet(asks, normalize(f"{u.lead} {u.text}")):
                scores[i] += STATES * top
    ranked = sorted(range(len(found)), key=lambda i: (-scores[i], i))
    best = ranked[0]
    if scores[best] <= 0:
        best, ranked = 0, []  # nothing specific: the explanation's opening
    chosen = {best}
    unit = found[best]
    same = [u.position for u in found if u.block == unit.block]
    if unit.lead and _cost(found, set(same)) <= limit:
        chosen.update(same)  # a short list reads best whole
    elif not unit.lead and best + 1 < len(found) and found[best + 1].block == unit.block:
        if _cost(found, chosen | {best + 1}) <= limit:
            chosen.add(best + 1)
    for index in ranked[1:]:
        if scores[index] < 0.25 * scores[best] or _cost(found, chosen) >= limit * 0.8:
            break
        if _cost(found, chosen | {index}) <= limit:
            chosen.add(index)
    return _join([found[i] for i in sorted(chosen)], limit)


def _join(picked: list[Unit], limit: int) -> str:
    """The chosen units as lines: each list's lead line once, above its first shown item."""
    lines: list[str] = []
    previous: Unit | None = None
    for unit in picked:
        with_lead = bool(unit.lead) and (previous is None or previous.lead != unit.lead)
        same_paragraph = (
            previous is not None
            and previous.block == unit.block
            and not _ITEM.match(unit.text)
            and lines
        )
        if same_paragraph:
            lines[-1] = f"{lines[-1]} {unit.text}"
        else:
            lines.append(_shown(unit, with_lead))
        previous = unit
    text = "\n".join(lines)
    if len(text) > limit + 120:
        text = _cut(text, limit + 120)
    while text.endswith(":"):
        text = text.rsplit("\n", 1)[0] if "\n" in text else text.rstrip(":")
    return text
