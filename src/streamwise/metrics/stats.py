"""The few statistics every metric shares, defined once.

Percentiles interpolate linearly between the closest ranks (NumPy's default, the same as
Excel's PERCENTILE.INC): the median of 1, 2, 3, 10 is 2.5 and its p85 is 6.85. NaN values
(no measurement) are left out; an empty input has no percentile (None), never 0.
"""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def finite(values: FloatArray) -> FloatArray:
    return values[np.isfinite(values)]


def percentile(values: FloatArray, q: float) -> float | None:
    """The q-th percentile (0 to 100) of the finite values, or None when there are none."""
    kept = finite(np.asarray(values, dtype=np.float64))
    if kept.size == 0:
        return None
    return float(np.percentile(kept, q))


def median(values: FloatArray) -> float | None:
    return percentile(values, 50.0)


def mean(values: FloatArray) -> float | None:
    kept = finite(np.asarray(values, dtype=np.float64))
    return float(kept.mean()) if kept.size else None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change from ``previous`` to ``current`` (0.25 = +25 %); None if undefined."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)
