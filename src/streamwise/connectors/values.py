"""Loose values in tools' JSON: the small readers every connector needs, kept in one place so
that they agree (an empty string is no text; a timestamp without an offset is UTC)."""

from datetime import UTC, datetime
from typing import Any


def text_or_none(value: Any) -> str | None:
    """A non-empty string, or None for anything else (null, a number, "")."""
    return value if isinstance(value, str) and value else None


def api_moment(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from a tool's API (``2025-03-01T12:00:00Z``, with or without
    fractions) as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def latest_of(current: datetime | None, *candidates: datetime | None) -> datetime | None:
    """The latest of the moments given, ignoring None (a cursor moving forward)."""
    found = [moment for moment in (current, *candidates) if moment is not None]
    return max(found) if found else None


def api_time(moment: datetime) -> str:
    """A moment as the UTC ``YYYY-MM-DDTHH:MM:SSZ`` text tools' query parameters take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
