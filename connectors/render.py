"""Rendering helpers shared by connectors: cutting long text at the channel's limit, and
request bodies as compact UTF-8 JSON."""

from __future__ import annotations

import json
from typing import Any


def json_bytes(value: Any) -> bytes:
    """UTF-8 JSON as is: Vietnamese text needs no \\u escapes (and escaping costs time)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at paragraph, sentence or word ends."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 2:
            cut = max(
                window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n")
            )
            cut = cut + 1 if cut >= limit // 2 else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit  # one very long word: cut it
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces
