"""What kind of information a question asks for, and whether an explanation can give it.

A question that asks for an amount of money ("lệ phí bao nhiêu"), a count ("bao nhiêu xã"),
a date ("ban hành ngày nào"), a duration ("mất bao lâu"), a day of the week ("làm việc thứ 7
không"), what is needed ("cần giấy tờ gì"), a sanction ("có bị kỷ luật không"), an appointment
("có cần hẹn trước không"), a phone number, a reason ("vì sao phải …"), the parts of a whole
("gồm những … nào"), a person's name ("chủ tịch phường tên là gì") or an address ("đặt ở đường
nào") is not answered by an explanation that states no such thing, however many
of its other words match: the search then judges the hit as covering 20% as much. Each kind is
checked by what the text plainly contains (a number with the counted noun, a date, a duration,
a weekday, a list of what is needed, a sanction named, an appointment, a phone number, a
purpose or cause, a list of parts, a person named, a street or house number), never by its topic.
"""

from __future__ import annotations

import re
import unicodedata

from nlu.text import normalize

# The kinds of information a question asks for, and the nouns it asks a count of.
Asks = tuple[frozenset[str], tuple[str, ...]]

# Folded, abbreviations expanded. "gia" alone is also "gia hạn", "gia đình": only with its noun.
_ASKS_AMOUNT = re.compile(
    r"\b(le phi|hoc phi|phi|muc dong|dong bao nhieu|bao nhieu tien|may tien|het bao nhieu|"
    r"gia (?:vang|dien|dat|nha|xang|ve|nuoc|thue)|tien (?:phat|hoc|dien|nuoc|ho tro|thue)|"
    r"luong|thue|phat bao nhieu|muc phat bao nhieu|fee|fees|price|cost|how much)\b"
)
_STATES_AMOUNT = re.compile(
    r"\d[\d.,]*\s*(?:dong|d|vnd|nghin|ngan|trieu|ty)\b|\b(?:le phi|mien phi|phi)\b"
)

_NUMBER = r"(?:\d[\d.,]*|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)"
_WEEKDAY = r"\bthu (?:[2-7]|hai|ba|tu|nam|sau|bay)\b|\bchu nhat\b|\bcuoi tuan\b"
_DATE = r"\bngay \d{1,2}\b|\b\d{1,2}/\d{1,2}\b|\bthang \d{1,2}\b|\bnam \d{4}\b"

# Asked kind → (how a question asks it, how a text states it); both on folded text.
KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "amount": (_ASKS_AMOUNT, _STATES_AMOUNT),
    # a date, or a day of the week for something that recurs ("tiếp dân vào ngày nào")
    "date": (
        re.compile(
            r"\b(?:ngay nao|thang nao|nam nao|tu khi nao|tu bao gio|tu ngay nao|"
            r"what date|which year|since when)\b"
        ),
        re.compile(f"{_DATE}|{_WEEKDAY}"),
    ),
    # English "when …?" asks a time: a date, a weekday or a duration answers it
    "time": (
        re.compile(r"^when\b|\bwhen (?:can|do|does|is|are|will|should|must)\b"),
        re.compile(f"{_DATE}|{_WEEKDAY}|{_NUMBER} (?:ngay|thang|nam|tuan|gio|phut|buoi)\\b"),
    ),
    "duration": (
        re.compile(r"\b(?:bao lau|how long)\b"),
        re.compile(rf"{_NUMBER} (?:ngay|thang|nam|tuan|gio|phut|buoi)\b"),
    ),
    "weekday": (re.compile(_WEEKDAY), re.compile(_WEEKDAY)),
    # what to bring or write: answered by a list of what is needed ("Yêu cầu cần có:")
    "needs": (
        re.compile(
            r"\b(?:can (?:nhung )?(?:giay to|ho so|thong tin|gi)|(?:giay to|ho so|thu tuc) gi|"
            r"(?:ghi|mang|mang theo|chuan bi|can) nhung gi|(?:ghi|mang theo|chuan bi) gi|"
            r"what (?:documents|papers|information)|need to (?:bring|include|prepare))\b"
        ),
        re.compile(r"\b(?:can co|bao gom|gom co|can chuan bi|chuan bi|mang theo|nen mang)\b"),
    ),
    # a sanction ("bị kỷ luật không", "phạt ra sao"): answered only by a text that names one
    "sanction": (
        re.compile(r"\b(?:ky luat|bi phat|xu phat|phat bao nhieu|bi xu ly|che tai|truy cuu)\b"),
        re.compile(r"\b(?:ky luat|phat|bi xu ly|xu ly (?:ky luat|vi pham)|che tai|truy cuu)\b"),
    ),
    # a person's name ("chủ tịch phường tên là gì"): only a text that names someone answers it
    "name": (
        re.compile(
            r"\b(?:chu tich|pho chu tich|giam doc|truong phong|can bo|ong|ba|nguoi)\b.*"
            r"\bten (?:la )?gi\b|\bho ten (?:la )?gi\b|\bwhat is (?:the|his|her) name\b"
        ),
        re.compile(
            r"\b(?:ong|ba|dong chi) (?:nguyen|tran|le|pham|hoang|huynh|phan|vu|vo|dang|bui|do|"
            r"ho|ngo|duong|ly|dinh|truong|lam|mai|trinh|cao|ha|luong)\b"
        ),
    ),
    # an address ("đặt ở đường nào"): only a text that gives a street or a house number
    "address": (
        re.compile(
            r"\b(?:dia chi (?:o dau|la gi|cu the|nao)|(?:o|tai) duong nao|duong nao|"
            r"so nha nao|what is the address|which street)\b"
        ),
        re.compile(r"\bso \d+[a-z]?\b|\b\d+[a-z]? (?:duong|pho|ngo|ngach)\b"),
    ),
    # an appointment ("có cần hẹn trước không"): only a text that speaks of one answers it
    "booking": (
        re.compile(
            r"\b(?:hen truoc|dat lich|dat hen|lich hen|lay so thu tu|booking|appointment)\b"
        ),
        re.compile(r"\b(?:hen|dat lich|lay so)\b"),
    ),
    # a direct "why" ("vì sao phải sáp nhập tỉnh"): answered only by a text that gives a reason
    # or a purpose; "hỏi vì sao thì làm thế nào" asks how to ask, not why
    "reason": (
        re.compile(r"^(?:vi sao|tai sao|sao lai|why)\b|\b(?:vi ly do gi|ly do gi|muc dich gi)\b"),
        re.compile(r"\b(?:nham|muc dich|ly do|boi vi|vi vay|vi the|do do|la vi|la do|giup)\b"),
    ),
    # what something is made of ("phường mới gồm những phường cũ nào"): only a text that lists
    # its parts answers it ("gồm 28 tỉnh và 6 thành phố", "hợp nhất từ …")
    "parts": (
        re.compile(r"\bgom (?:nhung|co nhung|cac)\b|\bbao gom nhung\b|\b(?:consist|made up) of\b"),
        re.compile(
            r"\b(?:bao gom|gom(?: co)?(?: \d| cac| nhung|:))|\b(?:hop nhat|sap nhap) (?:tu|cac)\b"
        ),
    ),
    "phone": (
        re.compile(
            r"\b(?:so dien thoai|dien thoai|sdt)\b.*\b(?:bao nhieu|la gi|so nao|nao)\b|"
            r"\b(?:xin|goi|lien he|lien lac) (?:\w+ )?(?:so dien thoai|sdt)\b|"
            r"\b(?:hotline|duong day nong|goi so nao|phone number)\b"
        ),
        re.compile(r"\b0\d{8,10}\b|\b0\d{2,3} \d{3,4} ?\d{3,4}\b|\b1[89]00\b|\b11[345]\b"),
    ),
}

# Words after "bao nhiêu"/"mấy" that are no counted noun: a particle, money, or "mấy hôm nay".
_NOT_COUNTED = frozenset(
    "a ah ak vay the thi la nhi nhe roi ko khong tien dong lau hom bua nay nua luon".split()
)
_WORD = re.compile(r"[^\W_]+")
# Units of time are one family: "mấy buổi một tuần" is answered by "1 ngày trong mỗi tuần".
_TIME = "ngay buoi tuan thang nam gio phut lan".split()


def _counted(question: str) -> list[str]:
    """The nouns a question asks a count of: the word after "bao nhiêu" or "mấy" ("bao nhiêu
    tỉnh", "mấy buổi"); "máy" and "xe may" are no asking word."""
    typed = [unicodedata.normalize("NFC", w.lower()) for w in _WORD.findall(question)]
    folded = normalize(" ".join(typed)).split()
    if len(folded) != len(typed):  # an abbreviation expanded: read the folded words alone
        typed = folded
    out: list[str] = []
    for i, word in enumerate(folded[:-1]):
        if word == "nhieu" and i > 0 and folded[i - 1] == "bao":
            pass
        elif word == "may" and typed[i] in ("mấy", "may") and (i == 0 or folded[i - 1] != "xe"):
            pass
        else:
            continue
        noun = folded[i + 1]
        if noun not in _NOT_COUNTED:
            out.append(noun)
    return out


def asked(question: str) -> Asks:
    """The kinds of information the question asks for, and the nouns it asks a count of."""
    text = normalize(question)
    kinds = frozenset(kind for kind, (asks, _) in KINDS.items() if asks.search(text))
    return kinds, tuple(_counted(question))


def unmet(asks: Asks, text: str) -> bool:
    """Whether a folded explanation text lacks some kind of information the question asks."""
    kinds, nouns = asks
    if any(not KINDS[kind][1].search(text) for kind in kinds):
        return True
    for noun in nouns:
        family = "|".join(_TIME) if noun in _TIME else re.escape(noun)
        if not re.search(rf"\b{_NUMBER} (?:{family})\b", text):
            return True
    return False
