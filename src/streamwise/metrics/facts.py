"""What metric functions consume: derived facts as column arrays, plus the stages.

Loading (``metrics.load``) fills these from the store; tests build them from readable records
with ``from_records``. Times are epoch seconds (NaN = none), ids are int64 (-1 = none), and
strings stay Python objects. Nothing here does I/O.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from streamwise.metrics.period import to_epoch
from streamwise.model.base import FLOW_ITEM_TYPES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]


def _column(values: Sequence[Any], kind: str) -> Any:
    if kind == "float":
        return np.array([float("nan") if v is None else float(v) for v in values], np.float64)
    if kind == "time":
        return np.array(
            [v if isinstance(v, int | float) else to_epoch(v) for v in values], dtype=np.float64
        )
    if kind == "int":
        return np.array([-1 if v is None else int(v) for v in values], dtype=np.int64)
    if kind == "bool":
        return np.array([bool(v) for v in values], dtype=np.bool_)
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


class Columns:
    """Shared behaviour of fact tables: build from records, select rows, count them."""

    KINDS: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_records(cls, records: Sequence[Any]) -> Self:
        """Build from objects or dicts with attributes named like the columns; datetimes
        become epoch seconds and None becomes NaN / -1."""
        values: dict[str, Any] = {}
        for column in fields(cls):  # type: ignore[arg-type]
            kind = cls.KINDS[column.name]
            raw = [
                record[column.name] if isinstance(record, dict) else getattr(record, column.name)
                for record in records
            ]
            values[column.name] = _column(raw, kind)
        return cls(**values)

    @classmethod
    def empty(cls) -> Self:
        return cls.from_records([])

    def select(self, mask: BoolArray | IntArray) -> Self:
        """The rows where ``mask`` is true (or at the given positions)."""
        return type(self)(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})  # type: ignore[arg-type]

    def __len__(self) -> int:
        first = fields(self)[0]  # type: ignore[arg-type]
        return len(getattr(self, first.name))


@dataclass(frozen=True)
class ItemFacts(Columns):
    item_id: IntArray
    value_stream_id: IntArray
    team_id: IntArray
    flow_item_type: ObjectArray
    stage_id: IntArray
    flow_state: ObjectArray
    created_at: FloatArray
    work_started_at: FloatArray
    done_at: FloatArray
    canceled_at: FloatArray
    flow_time_s: FloatArray
    active_time_s: FloatArray
    waiting_time_s: FloatArray
    send_backs: IntArray
    first_seen_mid_flow: BoolArray

    KINDS: ClassVar[dict[str, str]] = {
        "item_id": "int",
        "value_stream_id": "int",
        "team_id": "int",
        "flow_item_type": "str",
        "stage_id": "int",
        "flow_state": "str",
        "created_at": "time",
        "work_started_at": "time",
        "done_at": "time",
        "canceled_at": "time",
        "flow_time_s": "float",
        "active_time_s": "float",
        "waiting_time_s": "float",
        "send_backs": "int",
        "first_seen_mid_flow": "bool",
    }

    @cached_property
    def flow_type_code(self) -> IntArray:
        """Position of each item's type in ``FLOW_ITEM_TYPES``, -1 for other types. Kept on
        the instance: nearly every metric asks, and comparing strings is the slow part."""
        lookup = {name: code for code, name in enumerate(FLOW_ITEM_TYPES)}.get
        return np.array([lookup(name, -1) for name in self.flow_item_type.tolist()], np.int64)


@dataclass(frozen=True)
class StageIntervals(Columns):
    item_id: IntArray
    value_stream_id: IntArray
    stage_id: IntArray
    flow_state: ObjectArray
    blocked: BoolArray
    entered_at: FloatArray
    left_at: FloatArray  # NaN: the item is still there

    KINDS: ClassVar[dict[str, str]] = {
        "item_id": "int",
        "value_stream_id": "int",
        "stage_id": "int",
        "flow_state": "str",
        "blocked": "bool",
        "entered_at": "time",
        "left_at": "time",
    }


@dataclass(frozen=True)
class StageTimes(Columns):
    item_id: IntArray
    value_stream_id: IntArray
    stage_id: IntArray
    active_s: FloatArray
    waiting_s: FloatArray
    entries: IntArray
    sent_back_into: IntArray

    KINDS: ClassVar[dict[str, str]] = {
        "item_id": "int",
        "value_stream_id": "int",
        "stage_id": "int",
        "active_s": "float",
        "waiting_s": "float",
        "entries": "int",
        "sent_back_into": "int",
    }


@dataclass(frozen=True)
class DeploymentFacts(Columns):
    deployment_id: IntArray
    value_stream_id: IntArray
    service: ObjectArray
    environment: ObjectArray
    is_production: BoolArray
    succeeded: BoolArray
    finished_at: FloatArray
    failed: BoolArray
    recovered_at: FloatArray
    recovery_s: FloatArray
    is_rework: BoolArray
    change_count: IntArray

    KINDS: ClassVar[dict[str, str]] = {
        "deployment_id": "int",
        "value_stream_id": "int",
        "service": "str",
        "environment": "str",
        "is_production": "bool",
        "succeeded": "bool",
        "finished_at": "time",
        "failed": "bool",
        "recovered_at": "time",
        "recovery_s": "float",
        "is_rework": "bool",
        "change_count": "int",
    }


@dataclass(frozen=True)
class ChangeFacts(Columns):
    deployment_id: IntArray
    value_stream_id: IntArray
    service: ObjectArray
    commit_id: IntArray
    pull_request_id: IntArray
    committed_at: FloatArray
    deployed_at: FloatArray
    lead_time_s: FloatArray
    coding_s: FloatArray
    pickup_s: FloatArray
    review_s: FloatArray
    deploy_s: FloatArray

    KINDS: ClassVar[dict[str, str]] = {
        "deployment_id": "int",
        "value_stream_id": "int",
        "service": "str",
        "commit_id": "int",
        "pull_request_id": "int",
        "committed_at": "time",
        "deployed_at": "time",
        "lead_time_s": "float",
        "coding_s": "float",
        "pickup_s": "float",
        "review_s": "float",
        "deploy_s": "float",
    }


@dataclass(frozen=True)
class StageInfo:
    """A stage of a value stream, in flow order."""

    id: int
    value_stream_id: int
    position: int
    name: str
    flow_state: str
    value_adding: bool = False


@dataclass(frozen=True)
class FactSet:
    """Everything the metrics of one selection need, already filtered by the loader."""

    items: ItemFacts
    intervals: StageIntervals
    stage_times: StageTimes
    deployments: DeploymentFacts
    changes: ChangeFacts
    stages: tuple[StageInfo, ...] = ()
