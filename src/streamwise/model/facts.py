"""Derived facts: per-item and per-deployment figures computed once per change (``derive/``).

Metrics aggregate these instead of replaying transitions, so dashboards stay fast as history
grows. Durations are seconds; moments are **epoch seconds (UTC) as floats**, not timestamps:
these tables are read in bulk by metrics, and plain numbers load an order of magnitude faster
and compare the same on every database. Every table can be rebuilt from the domain rows.
"""

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base


class StageInterval(Base):
    """A stretch of time a work item spent in one stage and flow state.

    ``blocked`` marks time under a blocked/flagged flag; such time counts as waiting whatever
    the status said. ``left_at`` is NULL for the interval the item is in now.
    """

    __tablename__ = "stage_intervals"
    __table_args__ = (Index("ix_stage_intervals_item", "work_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE")
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    flow_state: Mapped[str | None] = mapped_column(String(20))
    blocked: Mapped[bool] = mapped_column(default=False)
    entered_at: Mapped[float]
    left_at: Mapped[float | None]


class ItemFact(Base):
    """One work item's flow figures. ``flow_time_s`` is set for done items only; active and
    waiting time cover [work started, done] (or up to the last change for items in flight)."""

    __tablename__ = "item_facts"
    __table_args__ = (
        Index("ix_item_facts_stream_done_day", "value_stream_id", "done_day"),
        Index("ix_item_facts_stream_started_day", "value_stream_id", "started_day"),
    )

    work_item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE")
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    flow_item_type: Mapped[str | None] = mapped_column(String(20))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    flow_state: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[float]
    work_started_at: Mapped[float | None]
    done_at: Mapped[float | None]
    canceled_at: Mapped[float | None]
    flow_time_s: Mapped[float | None]
    active_time_s: Mapped[float] = mapped_column(default=0.0)
    waiting_time_s: Mapped[float] = mapped_column(default=0.0)
    send_backs: Mapped[int] = mapped_column(default=0)
    first_seen_mid_flow: Mapped[bool] = mapped_column(default=False)
    # UTC day numbers (epoch seconds // 86400) of done_at and work_started_at: the keys of the
    # portfolio's daily roll-ups, indexed so a derive finds the other items of a day at once.
    done_day: Mapped[int | None]
    started_day: Mapped[int | None]
    # The item's stage_intervals and item_stage_times rows again, packed (model/packed.py).
    packed_intervals: Mapped[bytes | None] = mapped_column(LargeBinary)
    packed_stage_times: Mapped[bytes | None] = mapped_column(LargeBinary)


class ItemStageTime(Base):
    """Time one item spent in one stage within its flow time, and how often work was sent
    back into the stage from a later one (the %C&A proxy). ``stage_id`` NULL collects time in
    statuses that map to no stage."""

    __tablename__ = "item_stage_times"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE")
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    active_s: Mapped[float] = mapped_column(default=0.0)
    waiting_s: Mapped[float] = mapped_column(default=0.0)
    entries: Mapped[int] = mapped_column(default=0)
    sent_back_into: Mapped[int] = mapped_column(default=0)
    # Copied from the item so the portfolio can sum waiting per stage without a join.
    done_at: Mapped[float | None]
    flow_item_type: Mapped[str | None] = mapped_column(String(20))


class DeploymentFact(Base):
    """A deployment's DORA figures: failed or not (and why), when it recovered, rework."""

    __tablename__ = "deployment_facts"
    __table_args__ = (
        Index("ix_deployment_facts_stream_finished", "value_stream_id", "finished_at"),
    )

    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )
    service: Mapped[str] = mapped_column(String(300))
    environment: Mapped[str] = mapped_column(String(100))
    is_production: Mapped[bool]
    succeeded: Mapped[bool]
    finished_at: Mapped[float]
    failed: Mapped[bool] = mapped_column(default=False)
    failure_reason: Mapped[str | None] = mapped_column(String(50))
    recovered_at: Mapped[float | None]
    recovery_s: Mapped[float | None]
    is_rework: Mapped[bool] = mapped_column(default=False)
    change_count: Mapped[int] = mapped_column(default=0)
    # The deployment's change_facts rows again, packed (model/packed.py).
    packed_changes: Mapped[bytes | None] = mapped_column(LargeBinary)


class ChangeFact(Base):
    """One commit's way to production: lead time and, through its pull request, the parts."""

    __tablename__ = "change_facts"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )
    service: Mapped[str] = mapped_column(String(300))
    commit_id: Mapped[int | None] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"))
    pull_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="SET NULL")
    )
    committed_at: Mapped[float]
    deployed_at: Mapped[float]
    lead_time_s: Mapped[float]
    coding_s: Mapped[float | None]
    pickup_s: Mapped[float | None]
    review_s: Mapped[float | None]
    deploy_s: Mapped[float | None]


class StreamDayItems(Base):
    """Per value stream and UTC day (``day`` = epoch seconds // 86400), the flow items done
    and started that day, packed (model/packed.py).

    The portfolio reads every stream over four years at once; these rows let it read tens of
    thousands of rows instead of a row per item. Each packed record keeps its exact moment,
    so the reader still filters by the period's exact (local) edges; the UTC day only groups
    rows. Rebuilt by ``derive/rollups.py`` for every day a derive touches.
    """

    __tablename__ = "stream_day_items"

    value_stream_id: Mapped[int] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    done_items: Mapped[bytes] = mapped_column(LargeBinary)
    done_stage_waiting: Mapped[bytes] = mapped_column(LargeBinary)
    started_items: Mapped[bytes] = mapped_column(LargeBinary)


class StreamDayDeployments(Base):
    """Per value stream and UTC day, its production deployments finished that day and the
    lead times of the changes they shipped, packed; the delivery half of the portfolio's
    roll-ups (see :class:`StreamDayItems`)."""

    __tablename__ = "stream_day_deployments"

    value_stream_id: Mapped[int] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    deployments: Mapped[bytes] = mapped_column(LargeBinary)
    lead_times: Mapped[bytes] = mapped_column(LargeBinary)
