"""How an explanation presents itself to citizens, wherever it is shown."""

from __future__ import annotations


def source_line(source_document: str, source_url: str) -> str | None:
    """The "Nguồn: …" line (document, link, or both), or None when neither is known."""
    source = source_document
    if source_url:
        source = f"{source} – {source_url}" if source else source_url
    return f"Nguồn: {source}" if source else None
