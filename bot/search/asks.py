"""What kind of answer a question asks for, when the explanations plainly cannot give it.

A question that asks for an amount of money ("lệ phí bao nhiêu", "phạt bao nhiêu tiền",
"mức đóng", "giá …") is not answered by an explanation that states no amount, however many
of its other words match: the search then judges the hit as covering half as much.
"""

from __future__ import annotations

import re

from nlu.text import normalize

# Folded, abbreviations expanded. "gia" alone is also "gia hạn", "gia đình": only with its noun.
_ASKS_AMOUNT = re.compile(
    r"\b(le phi|hoc phi|phi|muc dong|dong bao nhieu|bao nhieu tien|may tien|het bao nhieu|"
    r"gia (?:vang|dien|dat|nha|xang|ve|nuoc|thue)|tien (?:phat|hoc|dien|nuoc|ho tro|thue)|"
    r"luong|thue|phat bao nhieu|muc phat bao nhieu|fee|fees|price|cost|how much)\b"
)
_STATES_AMOUNT = re.compile(
    r"\d[\d.,]*\s*(?:dong|d|vnd|nghin|ngan|trieu|ty)\b|\b(?:le phi|mien phi|phi)\b"
)


def asks_amount(question: str) -> bool:
    """The question asks how much something costs (a fee, a price, a fine, a contribution)."""
    return bool(_ASKS_AMOUNT.search(normalize(question)))


def states_amount(text: str) -> bool:
    """The text states an amount of money or a fee."""
    return bool(_STATES_AMOUNT.search(normalize(text)))
