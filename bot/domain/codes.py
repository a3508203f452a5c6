"""Case codes: short, unguessable, typable, case-insensitive, with a check character.

Shape: 8 random symbols + 1 check symbol from Crockford's base-32 alphabet (no I, L, O, U,
so nothing reads as 1/0 or spells a word), shown as XXXX-XXXXX (10 characters). 40 random
bits: guessing one of a million live codes takes ~10^6 tries on average, and status replies
to a stranger look exactly like an unknown code. The check symbol (Luhn mod 32) catches every
single typo and most swaps of neighbours before the database is asked.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Crockford's decoding of look-alikes, so a code read aloud or typed in a hurry still works.
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
RANDOM_LENGTH = 8


def check_symbol(body: str) -> str:
    """Luhn mod 32 check symbol over `body` (upper case, alphabet symbols only)."""
    factor = 2
    total = 0
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh random code in canonical form (9 symbols, no dash)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_symbol(body)


def display(code: str) -> str:
    """The form shown to people: XXXX-XXXXX."""
    return f"{code[:4]}-{code[4:]}"


def parse(text: str) -> str | None:
    """Canonical code from what someone typed (any case, dashes, spaces), or None if invalid."""
    candidate = _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)
    if len(candidate) != RANDOM_LENGTH + 1 or any(ch not in _VALUE for ch in candidate):
        return None
    body, check = candidate[:-1], candidate[-1]
    return candidate if check_symbol(body) == check else None
