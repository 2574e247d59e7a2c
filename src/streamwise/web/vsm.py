"""Lay out the value stream map (VALUE_STREAM_MAP.md) from the metrics' figures.

Python computes positions and labels; the template only draws them, so every string from a
tool passes through Jinja's autoescaping. Boxes keep a fixed, legible size: long streams make
the map wider (the page scrolls it horizontally) rather than the text smaller.
"""

from dataclasses import dataclass

from streamwise.metrics.stages import StageFigures, ValueStreamMapFigures
from streamwise.web import format as fmt

BOX_W = 190
BOX_H = 170
GAP = 100  # room for the inventory triangle and the push arrow between boxes
MARGIN = 20
TOP = 90  # boxes start below the customer / request line and rework arcs
LADDER_TOP = TOP + BOX_H + 70
LADDER_HIGH = LADDER_TOP + 20  # waiting: the raised segment
LADDER_LOW = LADDER_TOP + 60  # processing: the low segment
SUMMARY_W = 270
NAME_CHARS = 22


@dataclass(frozen=True)
class Box:
    """One process step and the queue in front of it."""

    x: int
    name: str
    short_name: str
    lines: tuple[str, ...]
    bottleneck: bool
    queue_x: int  # centre of the inventory triangle before the box
    wait: str
    wait_hint: str
    rework: str | None  # label of the arc for items sent back into this step
    rework_width: float


@dataclass(frozen=True)
class Map:
    width: int
    height: int
    top: int
    box_w: int
    boxes: tuple[Box, ...]
    ladder_points: str
    ladder_waits: tuple[tuple[int, str], ...]
    ladder_processes: tuple[tuple[int, str], ...]
    summary_x: int
    summary: tuple[tuple[str, str], ...]
    exit_x: int
    caption: str


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _box_lines(stage: StageFigures) -> tuple[str, ...]:
    return (
        f"PT {fmt.duration(stage.process_time_s)}",
        f"LT {fmt.duration(stage.lead_time_s)}",
        f"%C&A {fmt.percent(stage.pca_proxy)}",
        f"WIP {fmt.count(stage.wip_at_end)}",
        fmt.per_week(stage.throughput_per_week),
    )


def layout(figures: ValueStreamMapFigures, median_flow_time_s: float | None, caption: str) -> Map:
    """Positions and labels of every part of the map, left to right in flow order."""
    boxes: list[Box] = []
    waits: list[tuple[int, str]] = []
    processes: list[tuple[int, str]] = []
    points: list[str] = []
    for index, stage in enumerate(figures.stages):
        gap_x = MARGIN + index * (GAP + BOX_W)
        box_x = gap_x + GAP
        share = stage.items_sent_back / stage.items_entered if stage.items_entered else 0.0
        boxes.append(
            Box(
                x=box_x,
                name=stage.name,
                short_name=_short(stage.name),
                lines=_box_lines(stage),
                bottleneck=stage.stage_id == figures.bottleneck_stage_id,
                queue_x=gap_x + GAP // 2,
                wait=fmt.duration(stage.wait_time_s),
                wait_hint=(
                    f"{stage.name}: mean wait {fmt.duration(stage.wait_time_s)}, "
                    f"median {fmt.duration(stage.wait_time_median_s)}, "
                    f"{fmt.count(stage.items_entered)} items entered"
                ),
                rework=(
                    f"↺ {fmt.percent(share)} sent back ({stage.items_sent_back})"
                    if stage.items_sent_back
                    else None
                ),
                rework_width=1.5 + 8 * share,
            )
        )
        points += [f"{gap_x},{LADDER_HIGH}", f"{box_x},{LADDER_HIGH}"]
        points += [f"{box_x},{LADDER_LOW}", f"{box_x + BOX_W},{LADDER_LOW}"]
        waits.append((gap_x + GAP // 2, fmt.duration(stage.wait_time_s)))
        processes.append((box_x + BOX_W // 2, fmt.duration(stage.process_time_s)))
    exit_x = MARGIN + len(boxes) * (GAP + BOX_W)
    summary = (
        ("Total lead time (sum of the ladder)", fmt.duration(figures.total_lead_time_s)),
        ("Median flow time of items done", fmt.duration(median_flow_time_s)),
        ("Total process time", fmt.duration(figures.total_process_time_s)),
        ("Activity ratio", fmt.percent(figures.activity_ratio)),
        ("Rolled %C&A (proxy)", fmt.percent(figures.rolled_pca_proxy)),
        ("Items done", fmt.count(figures.items_done)),
    )
    summary_x = exit_x + 50
    return Map(
        width=summary_x + SUMMARY_W + MARGIN,
        height=LADDER_LOW + 60,
        top=TOP,
        box_w=BOX_W,
        boxes=tuple(boxes),
        ladder_points=" ".join(points),
        ladder_waits=tuple(waits),
        ladder_processes=tuple(processes),
        summary_x=summary_x,
        summary=summary,
        exit_x=exit_x,
        caption=caption,
    )
