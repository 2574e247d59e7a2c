"""Jira fix versions: a fortnightly release train per stream, sometimes late.

A release lists the stream's items finished since the previous release; the one still open at
the end of history lists what is done and waiting to ship.
"""

from datetime import datetime, time, timedelta
from math import log
from zoneinfo import ZoneInfo

import numpy as np

from streamwise.demo.clock import WorkingClock
from streamwise.demo.organisation import STREAMS
from streamwise.demo.rows import DraftRow
from streamwise.demo.work import SimulatedItem

RELEASE_EVERY_DAYS = 14
LATE_SHARE = 0.3


def release_rows(
    items: list[SimulatedItem],
    done_at: dict[str, float],
    clock: WorkingClock,
    zone: ZoneInfo,
    rng: np.random.Generator,
) -> list[DraftRow]:
    first_day = datetime.fromtimestamp(clock.start_seconds, zone).date()
    first_thursday = first_day + timedelta(days=(3 - first_day.weekday()) % 7 + 7)
    rows: list[DraftRow] = []
    for stream in STREAMS:
        done = sorted(
            (done_at[item.key], item.key)
            for item in items
            if item.stream is stream and item.key in done_at
        )
        done_times = np.array([d[0] for d in done], dtype=np.float64)
        previous = clock.start_seconds
        day = first_thursday
        number = sequence = 0
        year = day.year
        while True:
            planned = datetime.combine(day, time(16, 0), tzinfo=zone)
            planned_at = planned.timestamp()
            if planned_at >= clock.horizon_seconds:
                break
            number = number + 1 if planned.year == year else 1
            year = planned.year
            late = rng.random() < LATE_SHARE
            delay = rng.lognormal(log(3 * 86400.0), 0.6) if late else rng.uniform(0.0, 7200.0)
            released_at: float | None = planned_at + float(delay)
            if released_at is not None and released_at >= clock.horizon_seconds:
                released_at = None  # the release still open at the end of history
            cut = released_at if released_at is not None else clock.horizon_seconds
            low = int(np.searchsorted(done_times, previous, side="right"))
            high = int(np.searchsorted(done_times, cut, side="right"))
            sequence += 1
            version = (
                f"{4 + sequence // 26}.{sequence % 26}.0"
                if stream.key == "mobile"
                else f"{planned.year}.{number}"
            )
            rows.append(
                {
                    "id": str(10_100 + len(rows)),
                    "name": f"{stream.release_name} {version}",
                    "version": version,
                    "value_stream": stream.key,
                    "planned_at": planned_at,
                    "released_at": released_at,
                    "work_items": [key for _at, key in done[low:high]],
                }
            )
            previous = cut
            if released_at is None:
                break
            day += timedelta(days=RELEASE_EVERY_DAYS)
    return rows
