"""Periods and calendar buckets in the organisation's time zone.

Timestamps inside metrics are float epoch seconds (UTC). A period is a range of whole local
days; buckets (day, ISO week from Monday, calendar month) are cut at local midnights, so a
DST change makes a day 23 or 25 hours long instead of moving events to the wrong day.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Grain = Literal["day", "week", "month"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def to_epoch(moment: datetime | None) -> float:
    """Aware datetime → epoch seconds; None → NaN (the 'no value' of fact arrays)."""
    if moment is None:
        return float("nan")
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}; metrics need aware timestamps")
    return moment.timestamp()


def local_midnight(day: date, zone: ZoneInfo) -> float:
    return datetime.combine(day, time(), zone).timestamp()


@dataclass(frozen=True)
class Period:
    """Whole local days ``start`` … ``end`` (both inclusive) in ``timezone``."""

    start: date
    end: date
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> float:
        return local_midnight(self.start, self.zone)

    @property
    def end_at(self) -> float:
        """The first instant after the period (local midnight after ``end``)."""
        return local_midnight(self.end + timedelta(days=1), self.zone)

    def previous(self) -> "Period":
        """The period of equal length just before this one (for comparisons)."""
        length = timedelta(days=self.days)
        return Period(self.start - length, self.end - length, self.timezone)

    def contains(self, moments: FloatArray) -> npt.NDArray[np.bool_]:
        return (moments >= self.start_at) & (moments < self.end_at)

    def as_datetimes(self) -> tuple[datetime, datetime]:
        return (
            datetime.fromtimestamp(self.start_at, UTC),
            datetime.fromtimestamp(self.end_at, UTC),
        )


@dataclass(frozen=True)
class Buckets:
    """Calendar buckets covering a period: label (first local day), edges, partial or not."""

    grain: Grain
    starts: list[date]
    edges: FloatArray  # len(starts) + 1 epoch boundaries
    partial: list[bool]

    def index(self, moments: FloatArray) -> IntArray:
        """Bucket number of each moment; -1 outside the period (NaN too)."""
        positions = np.searchsorted(self.edges, moments, side="right") - 1
        outside = (positions < 0) | (positions >= len(self.starts)) | np.isnan(moments)
        return np.where(outside, -1, positions).astype(np.int64)

    def count(self, moments: FloatArray) -> IntArray:
        """How many moments fall in each bucket (zero buckets included)."""
        index = self.index(moments)
        return np.bincount(index[index >= 0], minlength=len(self.starts)).astype(np.int64)


def _bucket_start(day: date, grain: Grain) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_start(start: date, grain: Grain) -> date:
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(period: Period, grain: Grain) -> Buckets:
    """Buckets of ``grain`` over ``period``; the first and last may be partial (clipped)."""
    zone = period.zone
    starts: list[date] = []
    partial: list[bool] = []
    edges: list[float] = []
    current = _bucket_start(period.start, grain)
    while current <= period.end:
        following = _next_start(current, grain)
        clipped_start = max(current, period.start)
        clipped_end = min(following, period.end + timedelta(days=1))
        starts.append(current)
        partial.append(clipped_start != current or clipped_end != following)
        edges.append(local_midnight(clipped_start, zone))
        current = following
    edges.append(period.end_at)
    return Buckets(grain, starts, np.array(edges, dtype=np.float64), partial)


def day_index(period: Period, moments: FloatArray) -> IntArray:
    """Local day number (0 = ``period.start``) of each moment; -1 outside."""
    return buckets(period, "day").index(moments)
