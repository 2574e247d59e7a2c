"""Chart data for plotly.js, built on the server from the metrics' results.

The pages embed these specs as JSON (escaped by Jinja's ``tojson``) and a small script hands
them to the plotly.js bundled with the ``plotly`` package, so nothing is fetched from a CDN.
Colours are the Okabe-Ito palette, which colour-blind readers can tell apart.
"""

from datetime import UTC, datetime
from typing import Any

from streamwise.metrics.report import StreamReport

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
DAY = 86400.0

Chart = dict[str, Any]


def _layout(title: str, y_title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 16}},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "font": {"family": "system-ui, sans-serif", "size": 13},
    }


def throughput(report: StreamReport) -> Chart:
    run = report.throughput
    return {
        "id": "throughput",
        "data": [
            {
                "type": "bar",
                "x": [day.isoformat() for day in run.bucket_starts],
                "y": list(run.counts),
                "name": "Items done",
                "marker": {"color": PALETTE[0]},
            }
        ],
        "layout": _layout(f"Throughput per {run.grain}", "items done"),
    }


def cumulative_flow(report: StreamReport) -> Chart:
    cfd = report.cumulative_flow
    days = [day.isoformat() for day in cfd.days]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "stackgroup": "cfd",
            "x": days,
            "y": list(band.counts),
            "name": band.name,
            "line": {"width": 0.5, "color": PALETTE[index % len(PALETTE)]},
        }
        for index, band in enumerate(reversed(cfd.bands))
    ]
    return {"id": "cfd", "data": data, "layout": _layout("Cumulative flow", "items")}


def cycle_times(report: StreamReport) -> Chart:
    scatter = report.cycle_times
    when = [datetime.fromtimestamp(t, UTC).isoformat() for t in scatter.done_at]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "x": when,
            "y": [s / DAY for s in scatter.flow_time_s],
            "name": "Items done",
            "marker": {"color": PALETTE[0], "size": 7, "opacity": 0.7},
        }
    ]
    for (label, value), dash in zip(
        (("p50", scatter.p50_s), ("p85", scatter.p85_s), ("p95", scatter.p95_s)),
        ("dot", "dash", "solid"),
        strict=True,
    ):
        if value is not None and when:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [when[0], when[-1]],
                    "y": [value / DAY, value / DAY],
                    "name": f"{label} {value / DAY:.1f} d",
                    "line": {"color": PALETTE[3], "dash": dash, "width": 1.5},
                }
            )
    return {
        "id": "cycle-times",
        "data": data,
        "layout": _layout("Cycle time of items done", "days"),
    }


def stream_charts(report: StreamReport) -> list[Chart]:
    return [throughput(report), cumulative_flow(report), cycle_times(report)]


def sparkline(values: tuple[int, ...] | list[int], width: int = 120, height: int = 28) -> str:
    """Points of an SVG polyline for a small trend line, scaled to the box."""
    if not values:
        return ""
    top = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
