"""Column types shared by the models.

Every datetime we keep is an instant (server receive time, deadlines, retry times), so it is
stored and returned as timezone-aware UTC. A naive datetime is a bug at the call site (whose
local time was it?), so it is refused instead of guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, normalised to UTC on the way in and out.

    SQLite has no timezone type and hands back naive values; we store UTC there, so UTC is
    attached on load. PostgreSQL returns aware values in the session's zone; they are
    converted to UTC so callers always see the same thing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        utc: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text; a fixed UTC, offset-free format keeps string order == time order.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        loaded: datetime = value
        if loaded.tzinfo is None:
            return loaded.replace(tzinfo=UTC)
        return loaded.astimezone(UTC)
