"""Base class and clock of every model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from bot.store.types import UTCDateTime


def utcnow() -> datetime:
    """The current instant, timezone-aware, for defaults and comparisons."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's column types."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}
