"""Administrative units of the two-level local government (from 1 July 2025).

34 provinces/cities and 3,321 communes, wards and special zones, from the
`vietnam-provinces` package (never typed by hand). Matching is diacritics-insensitive and
ignores the unit word, so "phuong hoan kiem", "P. Hoàn Kiếm" and "Hoàn Kiếm" all find
Phường Hoàn Kiếm.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Province, Ward

from bot.domain.replies import is_bare, typed_words
from nlu.text import fold

# The locality code of a whole-country subscription or explanation (others: "p:<province>",
# "w:<commune>").
COUNTRY = "country"

# Unit words people put before a name, folded. "quan"/"huyen" (districts, abolished in 2025)
# are dropped too: most wards kept their former district's name.
_UNIT_WORDS = re.compile(
    r"^(thanh pho|tinh|tp|phuong|xa|dac khu|p|x|q|tt|thi tran|thi xa|quan|huyen|ubnd|"
    r"uy ban nhan dan)\s+"
)


@dataclass(frozen=True, slots=True)
class Locality:
    """A province (level 1) or a commune/ward/special zone (level 2)."""

    code: str  # "p:<province code>" or "w:<ward code>"
    name: str  # official name with its unit word, e.g. "Phường Hoàn Kiếm"
    level: int
    province_code: int
    province_name: str

    @property
    def province_title(self) -> str:
        """The province with its unit word, as on official papers: "Tỉnh Nghệ An"."""
        name = self.province_name
        return name if name.startswith("Thành phố") else f"Tỉnh {name}"

    @property
    def label(self) -> str:
        """Name with its province, to tell apart communes of the same name."""
        return self.province_title if self.level == 1 else f"{self.name}, {self.province_title}"


def _key(text: str) -> str:
    key = re.sub(r"[^a-z0-9 ]+", " ", fold(text)).strip()
    key = re.sub(r"\s+", " ", key)
    previous = None
    while previous != key:
        previous = key
        key = _UNIT_WORDS.sub("", key)
    return key


@lru_cache(maxsize=1)
def all_localities() -> tuple[Locality, ...]:
    """Every province and commune, provinces first."""
    provinces = {int(p.code): p.name for p in Province.iter_all()}
    result = [
        Locality(f"p:{int(p.code)}", p.name, 1, int(p.code), p.name) for p in Province.iter_all()
    ]
    result += [
        Locality(
            f"w:{int(w.code)}",
            " ".join(w.name.split()),  # the data has a few double spaces
            2,
            int(w.province_code),
            provinces[int(w.province_code)],
        )
        for w in Ward.iter_all()
    ]
    return tuple(result)


@lru_cache(maxsize=1)
def _index() -> dict[str, list[Locality]]:
    index: dict[str, list[Locality]] = {}
    for loc in all_localities():
        index.setdefault(_key(loc.name), []).append(loc)
        index.setdefault(fold(loc.name), []).append(loc)
    return index


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Locality]:
    return {loc.code: loc for loc in all_localities()}


def by_code(code: str) -> Locality | None:
    """A locality from its stored code ("p:1", "w:70")."""
    return _by_code().get(code)


def codes_within(code: str) -> frozenset[str]:
    """The code itself and, for a province, the codes of its communes: where a question
    "from this place" may come from."""
    place = by_code(code)
    if place is None or place.level != 1:
        return frozenset({code})
    return frozenset(
        {code} | {loc.code for loc in all_localities() if loc.province_code == place.province_code}
    )


def find(text: str, limit: int = 5) -> tuple[list[Locality], list[Locality]]:
    """(exact matches, close suggestions) for what a citizen typed.

    Several exact matches are a choice to offer, never to pick from. A name typed with
    diacritics keeps only the places spelled so ("Tân An" is not "Tân Ân"); a unit word
    ("xã", "phường") keeps that unit; a province after a comma ("Tân An, Nghệ An") keeps
    that province.
    """
    head, _, tail = text.partition(",")
    key = _key(head)
    if not key:
        return [], []
    exact = list(dict.fromkeys(_index().get(key, []) + _index().get(fold(head.strip()), [])))
    if exact:
        exact = _as_typed(head, key, exact)
    if tail.strip() and exact:
        province_key = _key(tail)
        narrowed = [loc for loc in exact if _key(loc.province_name) == province_key]
        exact = narrowed or exact
    if exact:
        exact.sort(key=lambda loc: (loc.level, loc.province_code, loc.name))
        return exact, []
    close = difflib.get_close_matches(key, list(_index().keys()), n=limit, cutoff=0.75)
    suggestions: list[Locality] = []
    for name in close:
        for loc in _index()[name]:
            if loc not in suggestions:
                suggestions.append(loc)
    return [], suggestions[:limit]


def _as_typed(head: str, key: str, found: list[Locality]) -> list[Locality]:
    """The matches the typed spelling and unit word allow (all of them if none would be left)."""
    said = typed_words(head)
    size = len(key.split())
    name, unit = said[-size:], said[:-size]
    if not is_bare(name):
        spelled = [loc for loc in found if typed_words(loc.name)[-size:] == name]
        found = spelled or found
    if unit:
        kind = fold(unit[-1])  # "ubnd phường X": the last unit word names the unit
        units = [loc for loc in found if fold(loc.name).split()[0].startswith(kind)]
        found = units or found
    return found


def place_choice(typed: str, matches: list[Locality], limit: int) -> tuple[str, list[Locality]]:
    """The question when several places share a name: one button each (at most `limit`),
    or, when there are more, the list and a request to add the province."""
    name = " ".join(typed.split())
    example = matches[-1].province_name.removeprefix("Thành phố ")
    if len(matches) <= limit:
        return (
            f"“{name}” có thể là {len(matches)} nơi khác nhau. Anh/chị chọn đúng nơi giúp tôi "
            f"(hoặc gõ kèm tên tỉnh, ví dụ: “{name}, {example}”):",
            matches,
        )
    listing = "\n".join(f"• {loc.label}" for loc in matches)
    return (
        f"“{name}” có thể là {len(matches)} nơi khác nhau:\n{listing}\n"
        f"Anh/chị gõ kèm tên tỉnh/thành phố giúp tôi, ví dụ: “{name}, {example}”.",
        [],
    )


@lru_cache(maxsize=1)
def _keyed() -> tuple[tuple[tuple[str, ...], str, Locality], ...]:
    """Every place with its name's key words and its province's key, made once."""
    return tuple(
        (tuple(_key(loc.name).split()), _key(loc.province_name), loc) for loc in all_localities()
    )


def search(text: str, limit: int = 20) -> list[Locality]:
    """Places for a search box, best first: every place of exactly that name (all seven
    communes called Tân An, each with its province), then places whose name starts with what
    was typed, then close spellings; provinces before communes within each group. A province
    after a comma ("tân an, nghệ an") keeps to that province when any place there matches."""
    head, _, tail = text.partition(",")
    exact, close = find(text, limit)
    words = tuple(_key(head).split())
    found = list(exact)
    if words:
        province = _key(tail)
        starting = [
            (name, loc)
            for name, in_province, loc in _keyed()
            if loc not in found
            and _starts(name, words)
            and (not province or in_province == province)
        ]
        if province and not starting:  # no place of that name there: the province itself
            starting = [
                (name, loc)
                for name, _, loc in _keyed()
                if loc.level == 1 and loc not in found and _starts(name, words)
            ]
        starting.sort(key=lambda item: (item[1].level, item[0], item[1].province_code))
        found += [loc for _, loc in starting]
    found += [loc for loc in close if loc not in found]
    return found[:limit]


def _starts(name: tuple[str, ...], typed: tuple[str, ...]) -> bool:
    """The name's words begin with the typed words, the last one possibly cut short: "tân a"
    starts "Tân An" (folded, as a search box is typed)."""
    if len(typed) > len(name):
        return False
    head, last = typed[:-1], typed[-1]
    return name[: len(head)] == head and name[len(head)].startswith(last)


def named_place(text: str) -> Locality | None:
    """The one commune or province a text names among its comma-separated parts ("Đường Lê
    Lợi, phường Hoàn Kiếm" → Phường Hoàn Kiếm), a part with the next one first ("Tân An, Nghệ
    An"); None when it names none, or a name several places share (never a guess)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    for i, part in enumerate(parts):
        for candidate in ([f"{part}, {parts[i + 1]}"] if i + 1 < len(parts) else []) + [part]:
            exact, _ = find(candidate)
            if len(exact) == 1:
                return exact[0]
            if exact:  # several places of that name, and the next part does not say which
                break
    return None
