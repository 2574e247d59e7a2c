"""``streamwise import``, ``renormalize`` and ``summary``: data in, and a look at it."""

import json
from pathlib import Path

import typer
from rich.table import Table

from streamwise.cli.context import console, progress_bars, state
from streamwise.derive.run import DeriveReport, derive_all, derive_missing
from streamwise.ingest import import_files, renormalize
from streamwise.normalize.pipeline import NormaliseReport
from streamwise.store.summary import organisation_summary


def print_normalise_report(report: NormaliseReport) -> None:
    if report.unassigned_items:
        console.print(
            f"[yellow]{report.unassigned_items} work items match no value stream's `select` "
            "rules[/] (see docs/configuration.md)."
        )
    if report.unmapped_statuses:
        top = ", ".join(f"{s!r} ({n})" for s, n in report.unmapped_statuses.most_common(5))
        console.print(f"[yellow]Unmapped statuses:[/] {top}. Map them under a stage's `statuses`.")
    if report.unmapped_types:
        top = ", ".join(f"{t!r} ({n})" for t, n in report.unmapped_types.most_common(5))
        console.print(f"[yellow]Unmapped types:[/] {top}. Add them to `type_mappings`.")
    for error in report.errors[:10]:
        console.print(f"[red]not normalised:[/] {error}")
    if len(report.errors) > 10:
        console.print(f"[red]… and {len(report.errors) - 10} more records not normalised[/]")


def print_derive_report(report: DeriveReport) -> None:
    console.print(
        f"Derived facts for {report.items:,} work items and {report.deployments:,} deployments."
    )


def import_command(
    paths: list[Path] = typer.Argument(
        ..., help="CSV or JSON files, or directories of them (see docs/import.md)."
    ),
    source: str = typer.Option(..., "--source", "-s", help="The source (kind: file) to fill."),
    kind: str | None = typer.Option(
        None, "--kind", help="What the files hold, if their names do not say (e.g. work_items)."
    ),
) -> None:
    """Import work items, transitions, commits, pull requests, deployments, incidents …

    The whole import is one transaction: a bad row stops it and nothing is written.
    Importing the same file twice changes nothing.

    Example: streamwise import exports/work_items.csv exports/transitions.csv --source files
    """
    database = state.database()
    with progress_bars() as progress, database.transaction() as session:
        ingested = import_files(session, paths, source, kind, progress)
    report = ingested.imported
    console.print(
        f"Imported {report.rows:,} rows into {source!r}: {report.stored:,} new or changed, "
        f"{report.unchanged:,} unchanged."
    )
    if report.normalised.counts:
        counts = ", ".join(f"{n:,} {k}" for k, n in report.normalised.counts.items())
        console.print(f"Normalised {counts}.")
    print_normalise_report(report.normalised)
    if ingested.derived.items or ingested.derived.deployments:
        print_derive_report(ingested.derived)


def renormalize_command(
    source: list[str] | None = typer.Option(
        None, "--source", "-s", help="Only these sources (default: all)."
    ),
) -> None:
    """Re-apply the current mappings to all stored raw records, without contacting any tool.

    Run it after changing stages, status or type mappings, or selection rules.

    Example: streamwise config apply && streamwise renormalize
    """
    database = state.database()
    with progress_bars() as progress, database.transaction() as session:
        reports, derived = renormalize(session, source, progress)
    for name, report in reports.items():
        counts = ", ".join(f"{n:,} {k}" for k, n in report.counts.items()) or "nothing"
        console.print(f"{name}: normalised {counts}.")
        print_normalise_report(report)
    print_derive_report(derived)


def summary_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show what is loaded: value streams, sources and counts.

    Example: streamwise summary --json
    """
    database = state.database()
    with database.sessions() as session:
        summary = organisation_summary(session)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"{summary['organisation']['name'] or 'Streamwise'}")
    for column in ("value stream", "kind", "stages", "work items", "done", "prod deploys"):
        table.add_column(column, justify="right" if column[0] in "wdp" else "left")
    for stream in summary["value_streams"]:
        table.add_row(
            stream["name"],
            stream["kind"],
            str(len(stream["stages"])),
            f"{stream['work_items']:,}",
            f"{stream['work_items_done']:,}",
            f"{stream['production_deployments']:,}",
        )
    console.print(table)
    console.print(", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in summary["totals"].items()))


def derive_command(
    everything: bool = typer.Option(
        False, "--all", help="Throw all facts away and derive them again from scratch."
    ),
) -> None:
    """Derive the facts metrics are computed from (imports do this for what they change).

    Without --all, only what has no facts yet is derived (data loaded by an older version,
    or after an interrupted run).

    Example: streamwise derive --all
    """
    database = state.database()
    with progress_bars() as progress, database.transaction() as session:
        report = derive_all(session, progress) if everything else derive_missing(session, progress)
    print_derive_report(report)
