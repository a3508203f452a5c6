"""Column types of the project: timezone-aware UTC times and domain enums stored as strings."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import DateTime, String, TypeDecorator
from sqlalchemy.engine import Dialect

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes: they are bugs waiting for a server in another zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values read back from SQLite."""
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A domain enum stored as its plain string value (no database enum type, so adding a
    member needs no migration); rows come back as enum members, and a value outside the enum
    is refused before it reaches the database."""

    impl = String(20)
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """Accept members or their values; anything else is a bug."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """The member for a stored value."""
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[E]:
        """The enum class (for SQLAlchemy's introspection)."""
        return self.enum
