"""Numbers as people read them: durations with units, shares as percentages.

The pages and the browser tests both format through these functions, so a figure on the map
can be compared with the metric the Python API returns, character for character.
"""

import math

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
MISSING = "\N{EN DASH}"  # shown where there is no figure


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def duration(seconds: float | None) -> str:
    """A humane duration: seconds, minutes, hours or days, with one unit and its symbol."""
    if seconds is None or _missing(seconds):
        return MISSING
    value = abs(seconds)
    if value < MINUTE:
        text = f"{value:.0f} s"
    elif value < HOUR:
        text = f"{value / MINUTE:.0f} min"
    elif value < DAY:
        text = f"{value / HOUR:.1f} h"
    elif value < 10 * DAY:
        text = f"{value / DAY:.1f} d"
    else:
        text = f"{value / DAY:.0f} d"
    return f"-{text}" if seconds < 0 else text


def percent(share: float | None) -> str:
    """A share (0..1) as a whole percentage."""
    if share is None or _missing(share):
        return MISSING
    return f"{share * 100:.0f} %"


def count(value: float | None) -> str:
    """Whole numbers with thousands separators; fractions with one decimal."""
    if value is None or _missing(value):
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def per_week(value: float | None) -> str:
    if value is None or _missing(value):
        return MISSING
    return f"{value:.1f} / wk"


def by_unit(value: float | None, unit: str) -> str:
    """Format a headline value by the unit the metrics layer gives it."""
    if unit == "seconds":
        return duration(value)
    if unit == "ratio":
        return percent(value)
    if unit == "per_week":
        return per_week(value)
    return count(value)


def change(relative: float | None, better: str) -> tuple[str, str]:
    """The change against the previous period as text, and whether it is better or worse.

    The verdict is spelled out (not only coloured), so colour-blind readers get it too.
    """
    if relative is None or _missing(relative):
        return "no comparison", "neutral"
    if abs(relative) < 0.005:
        return "unchanged", "neutral"
    arrow = "▲" if relative > 0 else "▼"
    improved = (relative > 0) == (better == "higher")
    verdict = "better" if improved else "worse"
    return f"{arrow} {abs(relative) * 100:.0f} % {verdict}", verdict
