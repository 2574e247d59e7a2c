"""Working time: the simulation counts in working minutes and maps them to real instants.

People move tickets, commit and deploy on weekdays in office hours of the organisation's zone,
so durations are drawn in working time and only then laid onto the calendar. Nights, weekends
and holidays then fall inside whatever state an item is in, as they do in real data.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DAY_START = time(8, 0)
MINUTES_PER_DAY = 600  # 08:00 to 18:00
FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 3)}


def is_working_day(day: date) -> bool:
    """Weekdays, except a few public holidays and the quiet days between Christmas and New Year."""
    if day.weekday() >= 5 or (day.month, day.day) in FIXED_HOLIDAYS:
        return False
    return not (day.month == 12 and day.day >= 24)


@dataclass(frozen=True)
class WorkingClock:
    """Working days from the start of history on, with each day's opening instant in UTC."""

    days: tuple[date, ...]
    day_starts: FloatArray  # epoch seconds at 08:00 local of each working day
    day_start_list: tuple[float, ...]  # the same as plain floats, for fast scalar look-ups
    horizon_minute: float  # working minutes that lie before the end of history
    start_seconds: float  # epoch seconds of the start of history (inclusive)
    horizon_seconds: float  # epoch seconds of the end of history (exclusive)

    @property
    def history_days(self) -> int:
        """Working days inside the history."""
        return int(self.horizon_minute // MINUTES_PER_DAY)

    def to_epoch(self, minutes: npt.ArrayLike) -> FloatArray:
        """Working minutes since the start of history → epoch seconds (UTC)."""
        values = np.asarray(minutes, dtype=np.float64)
        index = np.clip(values // MINUTES_PER_DAY, 0, len(self.day_starts) - 1).astype(np.int64)
        offset = values - index * MINUTES_PER_DAY
        result: FloatArray = self.day_starts[index] + offset * 60.0
        return result

    def epoch(self, minute: float) -> float:
        """One working minute → epoch seconds; cheaper than the array form for single values."""
        index = min(max(int(minute // MINUTES_PER_DAY), 0), len(self.day_start_list) - 1)
        return self.day_start_list[index] + (minute - index * MINUTES_PER_DAY) * 60.0

    def day_index(self, day: date) -> int:
        """Index of the first working day on or after ``day``."""
        return int(np.searchsorted(np.array([d.toordinal() for d in self.days]), day.toordinal()))


def build_clock(first_day: date, last_day: date, zone: ZoneInfo) -> WorkingClock:
    """A clock over the history plus three spare years, so simulated work can run past the end
    of history (and be cut there, leaving work in flight)."""
    spare_until = last_day + timedelta(days=3 * 366)
    days: list[date] = []
    day = first_day
    while day <= spare_until:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    starts = np.array(
        [datetime.combine(d, DAY_START, tzinfo=zone).timestamp() for d in days], dtype=np.float64
    )
    in_history = sum(1 for d in days if d <= last_day)
    return WorkingClock(
        days=tuple(days),
        day_starts=starts,
        day_start_list=tuple(starts.tolist()),
        horizon_minute=float(in_history * MINUTES_PER_DAY),
        start_seconds=datetime.combine(first_day, time(), tzinfo=zone).timestamp(),
        horizon_seconds=datetime.combine(
            last_day + timedelta(days=1), time(), tzinfo=zone
        ).timestamp(),
    )


def iso_utc(seconds: npt.ArrayLike) -> list[str]:
    """Epoch seconds → ``2025-03-04T09:15:07Z`` strings, whole seconds, vectorised."""
    stamps = np.floor(np.asarray(seconds, dtype=np.float64)).astype(np.int64)
    text = np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")
    return [value + "Z" for value in text.tolist()]
