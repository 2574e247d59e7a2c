"""The batch packers write, per owner, exactly the bytes of that owner's rows as one record
array in the fixed formats (model/packed.py), and unpack reads them back."""

from typing import Any

import numpy as np
import pytest

from streamwise.model.packed import (
    CHANGE,
    FLOW_STATES,
    INTERVAL,
    STAGE_TIME,
    pack_changes,
    pack_intervals,
    pack_stage_times,
    state_names,
    unpack,
)

NAN = float("nan")


def by_columns(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def one_array_per_owner(
    records: list[tuple[Any, ...]], sizes: list[int], dtype: np.dtype[Any]
) -> list[bytes]:
    """The reference: each owner's records as its own array."""
    blobs, start = [], 0
    for size in sizes:
        blobs.append(np.array(records[start : start + size], dtype=dtype).tobytes())
        start += size
    return blobs


INTERVALS = [
    (3, "new", False, 1_700_000_000.0, 1_700_000_600.5),
    (None, None, True, 1_700_000_600.5, 1_700_003_600.25),
    (4, "active", False, 1_700_003_600.25, None),
    (7, "done", False, 1_700_100_000.0, None),
    (5, "not a state", False, -0.5, 0.0),
]


def test_intervals_pack_per_item_as_single_arrays_would() -> None:
    sizes = [3, 0, 1, 1]
    blobs = pack_intervals(
        by_columns(INTERVALS, ("stage_id", "flow_state", "blocked", "entered_at", "left_at")),
        sizes,
    )
    expected = one_array_per_owner(
        [
            (
                -1 if stage is None else stage,
                FLOW_STATES.index(state) if state in FLOW_STATES else -1,
                int(blocked),
                entered,
                NAN if left is None else left,
            )
            for stage, state, blocked, entered, left in INTERVALS
        ],
        sizes,
        INTERVAL,
    )
    assert blobs == expected
    assert blobs[1] == b""
    records, owner = unpack(blobs, INTERVAL)
    assert owner.tolist() == [0, 0, 0, 2, 3]
    assert records["stage_id"].tolist() == [3, -1, 4, 7, 5]
    assert state_names(records["flow_state"]).tolist() == [
        "new",
        None,
        "active",
        "done",
        None,
    ]
    assert np.isnan(records["left_at"]).tolist() == [False, False, True, True, False]


def test_stage_times_and_changes_pack_per_owner() -> None:
    times = [(2, 3600.0, 0.5, 1, 0), (None, 0.0, 7200.0, 0, 0), (9, 1.0, 2.0, 3, 4)]
    blobs = pack_stage_times(
        by_columns(times, ("stage_id", "active_s", "waiting_s", "entries", "sent_back_into")),
        [2, 1],
    )
    assert blobs == one_array_per_owner(
        [(-1 if t[0] is None else t[0], *t[1:]) for t in times], [2, 1], STAGE_TIME
    )

    changes = [
        (11, 100, 1.7e9, 3600.0, 60.0, None, 30.0, None),
        (12, None, 1.7e9 + 0.25, 86_400.5, None, None, None, None),
    ]
    names = (
        "commit_id",
        "pull_request_id",
        "committed_at",
        "lead_time_s",
        "coding_s",
        "pickup_s",
        "review_s",
        "deploy_s",
    )
    blobs = pack_changes(by_columns(changes, names), [0, 2, 0])
    assert blobs == one_array_per_owner(
        [
            (c[0], -1 if c[1] is None else c[1], *(NAN if v is None else v for v in c[2:]))
            for c in changes
        ],
        [0, 2, 0],
        CHANGE,
    )


def test_nothing_to_pack_gives_empty_blobs() -> None:
    names = ("stage_id", "flow_state", "blocked", "entered_at", "left_at")
    assert pack_intervals({name: () for name in names}, [0, 0]) == [b"", b""]
    assert pack_intervals({name: () for name in names}, []) == []


def test_sizes_must_add_up() -> None:
    columns = by_columns(INTERVALS, ("stage_id", "flow_state", "blocked", "entered_at", "left_at"))
    with pytest.raises(ValueError):
        pack_intervals(columns, [2, 2])
