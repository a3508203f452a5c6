"""Search tokens for Vietnamese: folded syllables, syllable bigrams, synonyms, no filler words.

Vietnamese words are often two syllables ("thủ tục", "giải trình"), so adjacent syllable
pairs are indexed as tokens too ("thu_tuc"); a question without diacritics matches text with
them because everything is folded. Abbreviations and synonyms (bot/data/synonyms.yaml) are
expanded on both sides, so "CCCD" finds "căn cước công dân". A question's conversational
frame ("… nghĩa là sao", "… thì làm thế nào", "cho em hỏi …") says what kind of answer is
wanted, not what about: it is dropped before tokens are made, and no bigram spans it. A
question written in English is put into the explanations' Vietnamese first (english.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from pathlib import Path

import yaml

from bot.search.english import to_vietnamese
from nlu.text import abbreviation, has_marks
from nlu.text import fold as _fold_text
from nlu.text import spelling as _spelling

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "synonyms.yaml"
_WORD = re.compile(r"[a-z0-9]+")
_TYPED = re.compile(r"[^\W_]+")
_PUNCTUATION = "[,;.!?…]"  # ends a clause when a space or the end follows
_CLAUSED = re.compile(rf"[^\W_]+|{_PUNCTUATION}(?=\s|$)")
_CLAUSE_END = re.compile(rf"{_PUNCTUATION}\s+")
_END = ("", "")  # where a clause ends: no pair spans it
SYNONYM_WEIGHT = 2.0  # how much of a typed word a synonym's replacement carries in coverage

# Question filler that says nothing about the topic (folded). Kept short on purpose:
# a missing stop word costs a little ranking, a wrong one loses meaning.
STOPWORDS = frozenset(
    """a ad ah ak alo anh ba ban bi biet cho chi chu co cua cung da dang day de den di do duoc
    em gi gium giup ha hay hoi khong la lam lai luon ma minh mk moi mot nao ne nha nhe nhi
    nhu nhung noi o oi ong roi sao se the thi toi tu va vay ve voi vui xin""".split()
)

# The stop words as typed with their marks: a word typed with other marks is a content word.
MARKED_STOPWORDS = frozenset(
    """à ạ anh bà bạn bị biết cho chị chú có của cũng đã đang đây để đến đi đó do được em gì
    giùm giúp hả hay hỏi không là làm lại luôn mà mình mọi một nào nè nha nhé nhỉ như những
    nói ở ơi ông rồi sao sẽ thế thì tôi từ và vậy về với vui xin ấy ừ nhờ chứ""".split()
)

# Words that address or point and carry no topic, but only as typed with their marks: folded,
# each is also a content word ("bác"/"Bắc", "cậu"/"câu hỏi", "tớ"/"tờ khai"/"tố cáo", "tao"/"tạo").
MARKED_ONLY_FILLERS = frozenset(
    "bác cháu cô cậu dì tớ tui tao bọn chúng nó này kia dạ vâng vừa rất lắm".split()
)

# Particles typed with their marks: they join no compound, so they form no bigram.
PARTICLES = frozenset(
    "thì là mà và của với à ạ nhé nhỉ hả ơi vậy nè ấy hay hoặc chứ có được bị đã sẽ đang".split()
)

# The frame of a question: how people ask, never what they ask about. Dropped whole, so
# "… nghĩa là sao" neither dilutes the coverage nor forms bigrams. Written with marks: a word
# typed without marks is one of them if it folds like it, a word typed with marks only if it
# is spelt so ("thẻ nào", which card, is no "thế nào"; "nộp muộn" is no "muốn"). No phrase here
# may fold like a content word typed without marks ("rơi", "Hà", "vay", "thời" are left out).
QUESTION_FRAME = tuple(
    tuple(p.split())
    for p in """có nghĩa là gì|có nghĩa là sao|nghĩa là gì|nghĩa là sao|nghĩa là thế nào|là sao|
    là gì|là thế nào|như thế nào|làm thế nào|làm sao|thế nào|ra sao|thì sao|ở đâu|chỗ nào|
    nơi nào|đến đâu|đi đâu|bao giờ|khi nào|lúc nào|được không|hay không|phải không|có phải|
    hay chưa|được chưa|cho hỏi|cho em hỏi|cho tôi hỏi|xin hỏi|hỏi chút|cần biết|muốn biết|
    muốn hỏi|admin|ad ơi|mọi người|xong|nên|phải|muốn|cảm ơn|bạn ơi|vậy ạ|vậy à|thế ạ|thế à|
    à|ạ|a|bao nhiêu|cái gì|dựa trên cái gì|bây giờ|bây h|hiện nay|hiện giờ|giờ|nhỉ|ak|ah|nữa|
    được ko|làm gì|để làm gì|ai|hỏi ai|gì|hôm nay|mấy hôm nay|mấy hôm|hôm qua|tuần này|
    cả tuần này|cả tuần|hết|nhau|vậy ta|thế nhỉ|nhé|chút|một chút|xíu|tí xíu|hỏi xíu|
    hỏi ngu|xin chào|chào|hi|hello|thắc mắc|làm ơn|vui lòng|tìm hiểu|e|cho biết|cho tôi biết|
    cho em biết|cho mình biết""".split("|")
)


# Folded words that, last before the end or the frame, make a yes/no question ("… không?").
TAILS = frozenset({"khong"})

Phrase = tuple[str, ...]


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """A word folded (cached: the same few thousand words are folded over and over)."""
    return _fold_text(word)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[tuple[Phrase, Phrase]]]:
    """Synonym pairs (typed words, folded replacement) by folded first syllable, longest first."""
    raw = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or {}
    table: dict[str, list[tuple[Phrase, Phrase]]] = {}
    for key, value in raw.items():
        typed = tuple(_TYPED.findall(unicodedata.normalize("NFC", str(key).lower())))
        if typed:
            replacement = tuple(_TYPED.findall(unicodedata.normalize("NFC", str(value).lower())))
            table.setdefault(fold(typed[0]), []).append((typed, replacement))
    for pairs in table.values():
        pairs.sort(key=lambda p: -len(p[0]))
    return table


def _same_word(key: str, word: str, folded: str) -> bool:
    """Whether a typed word (and its folding) is a key's word. Folding never merges words typed
    with their marks: a key's word without marks ("thi") is not one typed with them ("thì"),
    though an abbreviation may be typed with "đ" ("gpkđ"); a word typed with marks is only the
    same spelling ("uỷ" and "ủy" are one); one typed without marks is any it folds like."""
    if key == fold(key):
        return word.replace("đ", "d") == key
    if word == folded:
        return fold(key) == folded
    return spelling(word) == spelling(key)


def same_words(key: Phrase, typed: list[tuple[str, str]]) -> bool:
    """Whether the typed words are the key (`_same_word`: "cơ quan" is not "quận", "điểm thì"
    is not "điểm thi"); words typed without marks never match a one-word key with marks ("quan"
    alone could be quận, quán, cơ quan)."""
    if len(key) == 1 and typed and typed[0][0] == typed[0][1] != key[0]:
        return False
    return _same_phrase(key, typed)


@lru_cache(maxsize=1)
def _frames() -> dict[str, list[tuple[str, ...]]]:
    """The question frame phrases (as written, with marks) by first folded syllable, longest
    first."""
    table: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(QUESTION_FRAME, key=len, reverse=True):
        table.setdefault(fold(phrase[0]), []).append(phrase)
    return table


def _same_phrase(phrase: tuple[str, ...], words: list[tuple[str, str]]) -> bool:
    """Whether (typed, folded) words are the phrase, word by word as `_same_word` says (for a
    frame phrase, a one-word one too: "gi" typed without marks is "gì")."""
    return len(words) == len(phrase) and all(
        _same_word(p, w, f) for p, (w, f) in zip(phrase, words, strict=True)
    )


@lru_cache(maxsize=65536)
def _has_marks(word: str) -> bool:
    """`has_marks`, cached: the same few thousand words are checked over and over."""
    return has_marks(word)


@lru_cache(maxsize=65536)
def _abbreviation(word: str) -> str | None:
    """`abbreviation`, cached likewise."""
    return abbreviation(word)


def typed_words(text: str) -> list[tuple[str, str]]:
    """(typed, folded) words with chat abbreviations expanded (English put into Vietnamese); a
    clause's end (",", ".", "?"… before a space) is an empty word that no pair spans: in "nộp
    hôm thứ 6, 5 ngày làm việc" the 6 and the 5 are no compound."""
    words: list[tuple[str, str]] = []
    for typed in _CLAUSED.findall(unicodedata.normalize("NFC", to_vietnamese(text).lower())):
        if not typed[0].isalnum():
            if words and words[-1] != _END:
                words.append(_END)
            continue
        expanded = _abbreviation(typed)
        if expanded is None:
            words.append((typed, fold(typed)))
        else:
            words.extend((w, w) for w in expanded.split())
    return words


@lru_cache(maxsize=65536)
def spelling(word: str) -> str:
    """`nlu.text.spelling` ("hoà" and "hòa" are one spelling), cached."""
    return _spelling(word)


def spellings(text: str) -> frozenset[str]:
    """The spellings of a text's words (an explanation's, to check words typed with marks)."""
    return frozenset(spelling(w) for w in _TYPED.findall(unicodedata.normalize("NFC", text)))


def marked_words(text: str) -> dict[str, frozenset[str]]:
    """The question's words whose spelling is known: folded form → spellings. A message typed
    with marks (at least half its words carry them) is spelt as meant, unmarked words too
    ("cho con" is a child, not "còn"); otherwise only the words typed with marks are."""
    typed = [
        w
        for w in _TYPED.findall(unicodedata.normalize("NFC", to_vietnamese(text).lower()))
        if _abbreviation(w) is None
    ]
    marked = [w for w in typed if _has_marks(w)]
    exact = typed if len(marked) * 2 >= len(typed) else marked
    out: dict[str, set[str]] = {}
    for word in exact:
        out.setdefault(fold(word), set()).add(spelling(word))
    return {k: frozenset(v) for k, v in out.items()}


def is_filler(typed: str, folded: str) -> bool:
    """A filler word: its folding is a stop word and it was typed as one ("anh", "anh" for the
    pronoun, not "ánh" of "phản ánh"; "có", not "cơ" of "cơ quan"; "bác" as typed, not "bac")."""
    if typed in MARKED_ONLY_FILLERS:
        return True
    return folded in STOPWORDS and (typed == folded or typed in MARKED_STOPWORDS)


@dataclass(frozen=True, slots=True)
class Syllable:
    """A folded syllable; `weight` < 1 when a synonym added it (and then it is never part of a
    question's frame); `filler` when it carries no topic."""

    text: str
    weight: float = 1.0
    added: bool = False
    filler: bool = False
    marked_filler: bool = False  # a particle typed with its marks: never half of a bigram
    typed: str = ""  # as typed (lower case), for the question's frame


def _pairs(sylls: list[Syllable]) -> list[tuple[Syllable, Syllable]]:
    """Adjacent syllables that may form a bigram: not two fillers, and no particle typed with
    its marks ("hạn thì", "là gì" do not pair; "từ chối", "cơ quan" do)."""
    return [
        (a, b)
        for a, b in zip(sylls, sylls[1:], strict=False)
        if not (a.filler and b.filler) and not (a.marked_filler or b.marked_filler)
    ]


def _expand(words: list[tuple[str, str]]) -> list[Syllable]:
    """Folded syllables with the synonyms applied (longest typed phrase first), each with the
    share of a typed word it stands for: "sổ đỏ" typed once is one idea however long its
    replacement, so it does not outweigh the rest of the question."""
    out: list[Syllable] = []
    i = 0
    table = synonyms()
    spans = cache(partial(frame_spans, words))  # "cho hoi thoi han" is no stink, "hôi thối"
    while i < len(words):
        for typed, replacement in table.get(words[i][1], ()):
            window = words[i : i + len(typed)]
            if not same_words(typed, window) or crosses(typed, window, i, spans):
                continue
            weight = min(1.0, SYNONYM_WEIGHT * len(typed) / max(1, len(replacement)))
            out.extend(_syllable(r, fold(r), weight, True) for r in replacement)
            i += len(typed)
            break
        else:
            out.append(_syllable(*words[i]))
            i += 1
    return out


@lru_cache(maxsize=65536)
def _syllable(word: str, folded: str, weight: float = 1.0, added: bool = False) -> Syllable:
    """One syllable as the search sees it (cached: syllables are immutable and repeat)."""
    return Syllable(
        folded,
        weight,
        added,
        is_filler(word, folded),
        word in PARTICLES or word in MARKED_ONLY_FILLERS,
        word,
    )


def syllables(text: str) -> list[str]:
    """Folded syllables with chat abbreviations expanded and synonyms applied."""
    return [s.text for s in _expand(typed_words(text)) if s.text]


def _clauses(sylls: list[Syllable]) -> list[list[Syllable]]:
    """The syllables clause by clause: no pair and no frame phrase spans a clause's end."""
    clauses: list[list[Syllable]] = [[]]
    for syllable in sylls:
        if syllable.text:
            clauses[-1].append(syllable)
        else:
            clauses.append([])
    return [clause for clause in clauses if clause]


def _segments(sylls: list[Syllable]) -> list[list[Syllable]]:
    """The question's runs of syllables between frame phrases and clause ends (the frame
    itself dropped)."""
    return [_untailed(run) for clause in _clauses(sylls) for run in _unframed(clause)]


def _unframed(clause: list[Syllable]) -> list[list[Syllable]]:
    """A clause's runs of syllables between frame phrases."""
    table = _frames()
    runs: list[list[Syllable]] = [[]]
    i = 0
    while i < len(clause):
        for phrase in () if clause[i].added else table.get(clause[i].text, ()):
            window = clause[i : i + len(phrase)]
            if not any(s.added for s in window) and _same_phrase(
                phrase, [(s.typed, s.text) for s in window]
            ):
                runs.append([])
                i += len(phrase)
                break
        else:
            runs[-1].append(clause[i])
            i += 1
    return [run for run in runs if run]


def _untailed(run: list[Syllable]) -> list[Syllable]:
    """A run without its yes/no tail ("… đổi không ạ?"): the "không" after its last content
    word, and the fillers after it, pair with nothing."""
    end = len(run)
    while end and run[end - 1].filler and run[end - 1].text not in TAILS:
        end -= 1
    return run[: end - 1] if end and run[end - 1].filler else run


def _tokens_of(sylls: list[Syllable]) -> list[str]:
    """Unigrams without filler words, plus bigrams of adjacent syllables."""
    unigrams = [s.text for s in sylls if not s.filler]
    return unigrams + [f"{a.text}_{b.text}" for a, b in _pairs(sylls)]


def tokens(text: str) -> list[str]:
    """Tokens of an explanation's text: unigrams without filler words, plus bigrams (clause by
    clause)."""
    return [t for clause in _clauses(_expand(typed_words(text))) for t in _tokens_of(clause)]


def weighted_question_tokens(text: str) -> dict[str, float]:
    """A question's tokens (as `tokens`, without the question's frame) with their weight: 1 for
    what was typed, less for the words a synonym added."""
    out: dict[str, float] = {}
    for run in _segments(_expand(typed_words(text))):
        for s in run:
            if not s.filler:
                out[s.text] = max(out.get(s.text, 0.0), s.weight)
        for a, b in _pairs(run):
            key = f"{a.text}_{b.text}"
            out[key] = max(out.get(key, 0.0), min(a.weight, b.weight))
    return out


def frame_spans(words: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Where question frame phrases of several words ("bao nhiêu", "ở đâu", "được không")
    stand in a run of (typed, folded) words, as (start, end) positions."""
    table = _frames()
    return [
        (i, i + len(p))
        for i, (_, folded) in enumerate(words)
        for p in table.get(folded, ())
        if len(p) > 1 and _same_phrase(p, words[i : i + len(p)])
    ]


def crosses(
    key: Phrase,
    window: list[tuple[str, str]],
    start: int,
    spans: Callable[[], list[tuple[int, int]]],
) -> bool:
    """Whether a phrase read from words typed without marks crosses a frame phrase's edge
    (`spans`, read only then: `frame_spans`), holding it only in part: "con bao nhieu" is "còn
    bao nhiêu", not "cơn bão"."""
    unmarked = any(typed == folded != k for k, (typed, folded) in zip(key, window, strict=True))
    end = start + len(key)
    return unmarked and any(a < start < b or a < end < b for a, b in spans())


def clauses(text: str) -> list[str]:
    """A text's clauses (split at ",", ".", "?"… before a space)."""
    return [c for c in _CLAUSE_END.split(unicodedata.normalize("NFC", text)) if c.strip()]


def question_tokens(text: str) -> list[str]:
    """Tokens of a question: as `tokens`, without the question's frame."""
    out: list[str] = []
    for run in _segments(_expand(typed_words(text))):
        out.extend(_tokens_of(run))
    return out
