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

from collections.abc import Mapping, Sequence
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


def _ids(values: Sequence[int | None]) -> list[int]:
    return [-1 if value is None else value for value in values]


def _floats(values: Sequence[float | None]) -> Any:
    return np.array(values, dtype=np.float64)  # None → NaN


def _split(records: Any, sizes: Sequence[int]) -> list[bytes]:
    """One record array → consecutive blobs of ``sizes[i]`` records each."""
    data = records.tobytes()
    width = records.dtype.itemsize
    blobs: list[bytes] = []
    start = 0
    for size in sizes:
        end = start + size * width
        blobs.append(data[start:end])
        start = end
    if start != len(data):
        raise ValueError("the sizes do not add up to the number of rows")
    return blobs


# The packers take many owners' rows at once, as columns: derive packs hundreds of thousands
# of items per run, and one array per batch costs far less than one per item.


def pack_intervals(columns: Mapping[str, Sequence[Any]], sizes: Sequence[int]) -> list[bytes]:
    """Intervals of many items → one blob per item.

    ``columns`` holds ``stage_intervals`` columns (``stage_id``, ``flow_state``, ``blocked``,
    ``entered_at``, ``left_at``; None where the table has NULL), the items' rows one after
    another; ``sizes[i]`` is how many of them are item ``i``'s."""
    records = np.empty(len(columns["stage_id"]), dtype=INTERVAL)
    records["stage_id"] = _ids(columns["stage_id"])
    records["flow_state"] = [_STATE_CODES.get(state, -1) for state in columns["flow_state"]]
    records["blocked"] = np.array(columns["blocked"], dtype=np.bool_)
    records["entered_at"] = _floats(columns["entered_at"])
    records["left_at"] = _floats(columns["left_at"])
    return _split(records, sizes)


def pack_stage_times(columns: Mapping[str, Sequence[Any]], sizes: Sequence[int]) -> list[bytes]:
    """Stage times of many items → one blob per item; ``columns`` are ``item_stage_times``
    columns (``stage_id``, ``active_s``, ``waiting_s``, ``entries``, ``sent_back_into``), as
    for :func:`pack_intervals`."""
    records = np.empty(len(columns["stage_id"]), dtype=STAGE_TIME)
    records["stage_id"] = _ids(columns["stage_id"])
    records["active_s"] = _floats(columns["active_s"])
    records["waiting_s"] = _floats(columns["waiting_s"])
    records["entries"] = columns["entries"]
    records["sent_back_into"] = columns["sent_back_into"]
    return _split(records, sizes)


def pack_changes(columns: Mapping[str, Sequence[Any]], sizes: Sequence[int]) -> list[bytes]:
    """Changes of many deployments → one blob per deployment; ``columns`` are ``change_facts``
    columns (``commit_id``, ``pull_request_id``, ``committed_at``, ``lead_time_s``,
    ``coding_s``, ``pickup_s``, ``review_s``, ``deploy_s``), as for :func:`pack_intervals`."""
    records = np.empty(len(columns["commit_id"]), dtype=CHANGE)
    records["commit_id"] = _ids(columns["commit_id"])
    records["pull_request_id"] = _ids(columns["pull_request_id"])
    for name in ("committed_at", "lead_time_s", "coding_s", "pickup_s", "review_s", "deploy_s"):
        records[name] = _floats(columns[name])
    return _split(records, sizes)


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
