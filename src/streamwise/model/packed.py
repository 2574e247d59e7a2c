"""Packed copies of an item's intervals and stage times, and of a deployment's changes.

The normalised fact tables (``stage_intervals``, ``item_stage_times``, ``change_facts``) are
the queryable form. Metrics, though, read a whole stream at once: hundreds of thousands of
rows, where the database driver's cost per row dominates. So derive also stores each item's
rows (and each deployment's changes) as one little-endian binary record array on the owning
fact row, written in the same transaction; a stream then loads as tens of thousands of rows
instead of half a million, and NumPy reads each blob without a Python object per value.

Formats are fixed here and versioned by the migration that introduced them; both writer
(``derive/``) and reader (``metrics/load.py``) use only these functions.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from streamwise.model.base import FlowState

FLOW_STATES = tuple(state.value for state in FlowState)
_STATE_CODES = {state: code for code, state in enumerate(FLOW_STATES)}

INTERVAL = np.dtype(
    [
        ("stage_id", "<i8"),  # -1: no stage
        ("flow_state", "<i1"),  # index in FLOW_STATES, -1: none
        ("blocked", "<i1"),
        ("entered_at", "<f8"),
        ("left_at", "<f8"),  # NaN: still there
    ]
)
STAGE_TIME = np.dtype(
    [
        ("stage_id", "<i8"),
        ("active_s", "<f8"),
        ("waiting_s", "<f8"),
        ("entries", "<i4"),
        ("sent_back_into", "<i4"),
    ]
)
CHANGE = np.dtype(
    [
        ("commit_id", "<i8"),
        ("pull_request_id", "<i8"),
        ("committed_at", "<f8"),
        ("lead_time_s", "<f8"),
        ("coding_s", "<f8"),
        ("pickup_s", "<f8"),
        ("review_s", "<f8"),
        ("deploy_s", "<f8"),
    ]
)


def _id(value: int | None) -> int:
    return -1 if value is None else int(value)


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def pack_intervals(rows: Sequence[dict[str, Any]]) -> bytes:
    """Rows shaped like ``stage_intervals`` (without the item) → bytes."""
    records = np.array(
        [
            (
                _id(row["stage_id"]),
                _STATE_CODES.get(row["flow_state"], -1),
                1 if row["blocked"] else 0,
                _float(row["entered_at"]),
                _float(row["left_at"]),
            )
            for row in rows
        ],
        dtype=INTERVAL,
    )
    return records.tobytes()


def pack_stage_times(rows: Sequence[dict[str, Any]]) -> bytes:
    """Rows shaped like ``item_stage_times`` (without the item) → bytes."""
    records = np.array(
        [
            (
                _id(row["stage_id"]),
                _float(row["active_s"]),
                _float(row["waiting_s"]),
                int(row["entries"]),
                int(row["sent_back_into"]),
            )
            for row in rows
        ],
        dtype=STAGE_TIME,
    )
    return records.tobytes()


def pack_changes(rows: Sequence[dict[str, Any]]) -> bytes:
    """Rows shaped like ``change_facts`` (without the deployment) → bytes."""
    records = np.array(
        [
            (
                _id(row["commit_id"]),
                _id(row["pull_request_id"]),
                _float(row["committed_at"]),
                _float(row["lead_time_s"]),
                _float(row["coding_s"]),
                _float(row["pickup_s"]),
                _float(row["review_s"]),
                _float(row["deploy_s"]),
            )
            for row in rows
        ],
        dtype=CHANGE,
    )
    return records.tobytes()


def unpack(blobs: Sequence[bytes | None], dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """Many blobs of one format → (record array of all rows, owner index per row).

    ``owner[i]`` is the position in ``blobs`` of the blob row ``i`` came from, so columns of
    the owning rows can be repeated alongside.
    """
    sizes = np.fromiter(
        (0 if blob is None else len(blob) for blob in blobs), dtype=np.int64, count=len(blobs)
    )
    if np.any(sizes % dtype.itemsize):
        raise ValueError("a packed fact column has a length that is not a whole record")
    records = np.frombuffer(b"".join(blob for blob in blobs if blob), dtype=dtype)
    owner = np.repeat(np.arange(len(blobs), dtype=np.int64), sizes // dtype.itemsize)
    return records, owner


def state_names(codes: Any) -> Any:
    """Flow state codes → an object array of names (None for -1)."""
    names = np.array([*FLOW_STATES, None], dtype=object)
    return names[np.where(codes < 0, len(FLOW_STATES), codes)]


# -- the portfolio's per-stream, per-day roll-ups (model/facts.py: StreamDay*) ----------------

DONE_ITEM = np.dtype(
    [("done_at", "<f8"), ("flow_time_s", "<f8"), ("active_s", "<f8"), ("waiting_s", "<f8")]
)
DONE_STAGE_WAITING = np.dtype([("done_at", "<f8"), ("stage_id", "<i8"), ("waiting_s", "<f8")])
STARTED_ITEM = np.dtype([("started_at", "<f8"), ("ended_at", "<f8")])  # NaN: not ended
PRODUCTION_DEPLOYMENT = np.dtype(
    [
        ("finished_at", "<f8"),
        ("succeeded", "<i1"),
        ("failed", "<i1"),
        ("is_rework", "<i1"),
        ("recovery_s", "<f8"),  # NaN: not failed or not recovered
    ]
)
LEAD_TIME = np.dtype([("deployed_at", "<f8"), ("lead_time_s", "<f8")])

SECONDS_PER_DAY = 86_400


def utc_day(moment: Any) -> Any:
    """The UTC day number (epoch seconds // 86400) roll-up rows are grouped by."""
    return np.floor_divide(moment, SECONDS_PER_DAY).astype(np.int64)
