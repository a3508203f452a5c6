"""What a citizen's opening message is about, so a case form does not ask for it again.

"tôi muốn yêu cầu giải trình về việc thu phí vệ sinh môi trường 200 nghìn" already names what
to explain; "đường trước nhà tôi bị ngập" already says what is wrong; "tôi muốn gửi phản ánh"
says nothing yet. The filing words (greeting, "tôi muốn gửi … phản ánh/giải trình về việc")
are removed and the rest is kept in the citizen's own spelling when it has enough words to
stand alone. Works on text with or without diacritics: words are compared folded, but the
returned subject is cut from what was typed.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.cases import Kind
from nlu.text import fold

MIN_WORDS = 6  # "đường trước nhà tôi bị ngập"; "đường bị ngập" is too vague to stand alone

_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")

GREETING = frozenset(
    {"chao", "xin", "alo", "hi", "hello", "ad", "admin", "oi", "da", "a", "anh", "chi", "ban"}
)
# Who files and how they say it: "tôi muốn gửi đơn", "mình cần", "cho em", "nhờ ad".
LEAD = frozenset(
    {
        "toi", "minh", "mk", "em", "e", "chung", "ta", "gia", "dinh", "nha",
        "muon", "can", "xin", "duoc", "dang", "co", "the", "se", "gui", "lam", "nop", "viet",
        "don", "yeu", "cau", "yc", "de", "nghi", "dn", "cho", "giup", "nho", "ad", "admin",
        "mot", "chinh", "thuc", "len", "i", "want", "would", "like", "to", "please", "file",
        "submit", "make", "an", "a",
    }
)  # fmt: skip
# Who is asked to explain, between "yêu cầu" and "giải trình": "UBND phường Hoàn Kiếm".
ADDRESSEE = frozenset(
    {
        "co", "quan", "ubnd", "uy", "ban", "nhan", "dan", "phuong", "xa", "tinh", "thanh",
        "pho", "chu", "tich", "can", "bo", "so", "phong", "hdnd", "chinh", "quyen", "lanh",
        "dao", "truong", "cong", "an", "tra", "the", "agency", "ward", "commune",
    }
)  # fmt: skip
KEYWORDS: dict[Kind, tuple[tuple[str, ...], ...]] = {
    Kind.EXPLANATION: (
        ("giai", "trinh"),
        ("lam", "ro"),
        ("giai", "thich"),
        ("explanation",),
        ("explain",),
    ),
    Kind.PETITION: (
        ("phan", "anh"),
        ("kien", "nghi"),
        ("gop", "y"),
        ("bao", "cao"),
        ("bao",),
        ("pakn",),
        ("pa",),
        ("report",),
        ("complain",),
        ("complaint",),
        ("petition",),
    ),
}
# Between the filing words and the subject: "về việc", "là", "rằng", "cho tôi", "about".
CONNECTORS = frozenset(
    {"ve", "viec", "la", "rang", "vu", "chuyen", "cho", "toi", "minh", "mot", "sau", "day",
     "nhu", "lai", "voi", "ro", "about", "that", "of", "on", "regarding"}
)  # fmt: skip
POLITE_END = frozenset({"a", "nhe", "nha", "ad", "admin", "voi", "giup"})
# A subject starting with these names whom to send to, not what happened.
ADDRESSING = frozenset({"đến", "tới", "lên", "gửi", "den", "len", "gui", "to"})
# Only these open a greeting; "anh", "chị" may start the subject ("anh hàng xóm xây lấn…").
OPENERS = frozenset({"chao", "xin", "alo", "hi", "hello", "ad", "admin", "da"})


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(folded word without surrounding punctuation, start, end) of every token."""
    return [(_EDGE.sub("", fold(m.group(0))), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _keyword_at(words: list[str], i: int, kind: Kind) -> int:
    """Length of the filing keyword starting at words[i], or 0."""
    for keyword in KEYWORDS[kind]:
        if tuple(words[i : i + len(keyword)]) == keyword:
            return len(keyword)
    return 0


def subject_of(text: str, kind: Kind, maximum: int) -> str | None:
    """The subject an opening message carries, as typed, or None when it names none.

    `maximum` is the form's length limit: a longer message is left for the citizen to
    shorten when the form asks (the form explains the limit).
    """
    if text.startswith("/"):  # a button payload, not words
        return None
    flat = unicodedata.normalize("NFC", " ".join(text.split()))
    tokens = _tokens(flat)
    words = [word for word, _, _ in tokens]
    start = 0
    if words and words[0] in OPENERS:
        while start < len(words) and words[start] in GREETING:
            start += 1
    end = len(words)
    lead = _lead_end(flat, tokens, words, start, kind)
    if lead is not None:
        if (
            lead < len(words)
            and _EDGE.sub("", flat[tokens[lead][1] : tokens[lead][2]].lower()) in ADDRESSING
        ):
            return None
        start = lead
        while start < end and words[start] in CONNECTORS:
            start += 1
    else:
        end = _without_trailing_filing_clause(flat, tokens, start, end, kind)
    while end > start and words[end - 1] in POLITE_END:
        end -= 1
    content = [w for w in words[start:end] if any(ch.isalnum() for ch in w)]
    if len(content) < MIN_WORDS:
        return None
    subject = _EDGE.sub("", flat[tokens[start][1] : tokens[end - 1][2]])
    return subject if len(subject) <= maximum else None


def _lead_end(
    flat: str, tokens: list[tuple[str, int, int]], words: list[str], start: int, kind: Kind
) -> int | None:
    """Index just after "tôi muốn gửi yêu cầu … giải trình" at `start`, or None."""
    for i in range(start, len(words)):
        size = _keyword_at(words, i, kind)
        if size:
            return i + size
        if words[i] in LEAD:
            continue
        if kind is Kind.EXPLANATION and (words[i] in ADDRESSEE or flat[tokens[i][1]].isupper()):
            continue  # "UBND phường Hoàn Kiếm" in "yêu cầu UBND phường Hoàn Kiếm giải trình"
        return None
    return None


def _without_trailing_filing_clause(
    flat: str, tokens: list[tuple[str, int, int]], start: int, end: int, kind: Kind
) -> int:
    """Drop a last clause that only files ("…, tôi muốn phản ánh"): it is not the subject."""
    for i in range(end - 1, start, -1):
        if re.search(r"[,.;!]$", flat[tokens[i - 1][1] : tokens[i - 1][2]]):
            clause = [w for w, _, _ in tokens[i:end]]
            has_keyword = any(_keyword_at(clause, j, kind) for j in range(len(clause)))
            filing = LEAD | CONNECTORS | POLITE_END | ADDRESSEE | {"muon", "nay"}
            keyword_words = {w for k in KEYWORDS[kind] for w in k}
            if has_keyword and all(w in filing or w in keyword_words for w in clause if w):
                return i
            return end
    return end
