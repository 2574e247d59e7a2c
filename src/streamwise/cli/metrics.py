"""``streamwise metrics`` and ``streamwise portfolio``: the figures in a terminal."""

import csv
import io
import json
from typing import Literal

import typer
from rich.table import Table

from streamwise.cli.context import console, state
from streamwise.metrics.report import Headline, to_jsonable

OutputFormat = Literal["table", "json", "csv"]


def humane(value: float | None, unit: str) -> str:
    """Durations as days/hours, ratios as percentages: numbers people read at a glance."""
    if value is None:
        return "-"
    if unit == "seconds":
        hours = value / 3600
        if hours >= 48:
            return f"{hours / 24:.1f} d"
        if hours >= 1:
            return f"{hours:.1f} h"
        return f"{value / 60:.0f} min"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "per_week":
        return f"{value:.2f} /week"
    return f"{value:,.1f}" if value % 1 else f"{value:,.0f}"


def _score(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _change(headline: Headline) -> str:
    if headline.change is None:
        return "-"
    improved = (headline.change > 0) == (headline.better == "higher")
    colour = "green" if improved else "red"
    if headline.change == 0:
        colour = "white"
    return f"[{colour}]{headline.change * 100:+.0f} %[/]"


def _headline_csv(headlines: tuple[Headline, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["key", "label", "unit", "current", "previous", "change"])
    for h in headlines:
        writer.writerow([h.key, h.label, h.unit, h.current, h.previous, h.change])
    return buffer.getvalue()


def metrics_command(
    value_stream: str | None = typer.Option(
        None, "--stream", "-s", help="Value stream key (default: all streams together)."
    ),
    start: str | None = typer.Option(None, "--from", help="First day, e.g. 2025-01-01."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: today)."),
    team: str | None = typer.Option(None, "--team", help="Team key."),
    flow_item_type: str | None = typer.Option(
        None, "--type", help="feature, defect, risk or debt."
    ),
    service: str | None = typer.Option(None, "--service", help="Service (deployments)."),
    environment: str | None = typer.Option(None, "--environment", help="Deployment environment."),
    grain: str = typer.Option("week", "--grain", help="Buckets: day, week or month."),
    output: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """DORA, flow and value stream map figures for a period, against the period before.

    Without --from/--to the period is the twelve weeks up to today. JSON holds every metric
    and chart series; CSV and the table hold the headline figures.

    Example: streamwise metrics --stream payments --from 2025-01-01 --to 2025-03-31
    """
    if grain not in ("day", "week", "month"):
        raise typer.BadParameter("must be day, week or month", param_hint="--grain")
    if output not in ("table", "json", "csv"):
        raise typer.BadParameter("must be table, json or csv", param_hint="--format")
    from streamwise.client import Streamwise

    client = Streamwise(database=state.database())
    report = client.report(
        value_stream,
        start,
        end,
        team=team,
        flow_item_type=flow_item_type,
        service=service,
        environment=environment,
        grain=grain,  # type: ignore[arg-type]
    )
    if output == "json":
        typer.echo(json.dumps(to_jsonable(report), indent=2))
        return
    if output == "csv":
        typer.echo(_headline_csv(report.headlines), nl=False)
        return
    period, previous = report.period, report.previous_period
    table = Table(
        title=f"{value_stream or 'All value streams'}: {period.start} to {period.end} "
        f"(vs {previous.start} to {previous.end}, {period.timezone})"
    )
    for column in ("figure", "now", "before", "change"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for h in report.headlines:
        table.add_row(h.label, humane(h.current, h.unit), humane(h.previous, h.unit), _change(h))
    console.print(table)
    dora = report.dora
    console.print(
        f"DORA levels ({dora.change_lead_time.level_table}): lead time "
        f"{dora.change_lead_time.level or '-'}, deployment frequency "
        f"{dora.deployment_frequency.level or '-'}, change fail rate "
        f"{dora.change_fail_rate.level or '-'}, recovery {dora.recovery_time.level or '-'}. "
        f"Quick Check: throughput {_score(dora.throughput_score)}/10, "
        f"instability {_score(dora.instability_score)}/10."
    )
    vsm = report.value_stream_map
    if vsm.stages:
        stages = Table(title="Value stream map (items done in the period; means)")
        for column in ("stage", "process", "wait", "lead", "%C&A (proxy)", "WIP now", "per week"):
            stages.add_column(column, justify="left" if column == "stage" else "right")
        for stage in vsm.stages:
            marker = " ◀ bottleneck" if stage.stage_id == vsm.bottleneck_stage_id else ""
            stages.add_row(
                stage.name + marker,
                humane(stage.process_time_s, "seconds"),
                humane(stage.wait_time_s, "seconds"),
                humane(stage.lead_time_s, "seconds"),
                humane(stage.pca_proxy, "ratio"),
                f"{stage.wip_at_end}",
                f"{stage.throughput_per_week:.1f}",
            )
        console.print(stages)
        console.print(
            f"Total lead time {humane(vsm.total_lead_time_s, 'seconds')}, total process time "
            f"{humane(vsm.total_process_time_s, 'seconds')}, activity ratio "
            f"{humane(vsm.activity_ratio, 'ratio')}, rolled %C&A "
            f"{humane(vsm.rolled_pca_proxy, 'ratio')}."
        )


def portfolio_command(
    start: str | None = typer.Option(None, "--from", help="First day, e.g. 2025-01-01."),
    end: str | None = typer.Option(None, "--to", help="Last day (default: today)."),
    output: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Every value stream at a glance: headline figures, DORA levels and bottleneck.

    Example: streamwise portfolio --from 2025-01-01 --to 2025-06-30
    """
    from streamwise.client import Streamwise

    client = Streamwise(database=state.database())
    portfolio = client.portfolio(start, end)
    if output == "json":
        typer.echo(json.dumps(to_jsonable(portfolio), indent=2))
        return
    keys = (
        "deployment_frequency",
        "change_lead_time",
        "flow_velocity",
        "flow_time",
        "flow_efficiency",
    )
    table = Table(title=f"Portfolio {portfolio.period.start} to {portfolio.period.end}")
    table.add_column("value stream")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    table.add_column("bottleneck")
    for stream in portfolio.streams:
        by_key = {h.key: h for h in stream.headlines}
        table.add_row(
            stream.name,
            *(humane(by_key[k].current, by_key[k].unit) if k in by_key else "-" for k in keys),
            stream.bottleneck_stage or "-",
        )
    console.print(table)
