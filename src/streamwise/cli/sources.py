"""``streamwise source add|list`` and ``streamwise sync``: connected tools."""

from typing import Any

import typer
import yaml
from rich.table import Table
from sqlalchemy import select

from streamwise.cli.context import console, progress_bars, state
from streamwise.connectors.registry import SYNCABLE_KINDS
from streamwise.errors import ConfigError
from streamwise.model import Source
from streamwise.sync import source_statuses, sync_source

app = typer.Typer(help="Connected tools: add them, see how their syncs went.", no_args_is_help=True)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--option {pair!r}: write it as key=value, e.g. --option jql='project = PAY'"
            )
        options[key.strip()] = yaml.safe_load(value) if value else ""
    return options


@app.command("add")
def add(
    kind: str = typer.Argument(..., help=f"The tool: {', '.join(SYNCABLE_KINDS)}."),
    name: str = typer.Option(..., "--name", help="A name for this source, unique."),
    url: str = typer.Option(..., "--url", help="The tool's base URL."),
    token_env: str | None = typer.Option(
        None, "--token-env", help="Environment variable that holds the token (never stored)."
    ),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="Connector option as key=value (repeatable)."
    ),
) -> None:
    """Connect a tool. The token stays in the environment; only the variable's name is kept.

    Example: streamwise source add jira --name jira --url https://acme.atlassian.net
    --token-env JIRA_TOKEN -o email=me@acme.com -o "jql=project in (PAY, SHOP)"
    """
    if kind not in SYNCABLE_KINDS:
        raise ConfigError(
            f"unknown source kind {kind!r}; choose one of: {', '.join(SYNCABLE_KINDS)}"
        )
    options = _options(option)
    database = state.database()
    with database.transaction() as session:
        if session.scalar(select(Source.id).where(Source.name == name)) is not None:
            raise ConfigError(f"a source named {name!r} exists already; choose another --name")
        session.add(
            Source(name=name, kind=kind, base_url=url, token_env=token_env, options=options)
        )
    console.print(f"Added {kind} source {name!r}. Sync it with: streamwise sync --source {name}")


@app.command("list")
def list_sources() -> None:
    """Every source: when each entity last synced, what is stored, and errors.

    Example: streamwise source list
    """
    database = state.database()
    with database.sessions() as session:
        statuses = source_statuses(session)
    table = Table("source", "kind", "entity", "last sync (UTC)", "stored", "error")
    for status in statuses:
        stored = ", ".join(f"{n:,} {kind}" for kind, n in sorted(status.raw_counts.items()))
        if status.payload_errors:
            stored += f" ({status.payload_errors} not readable)"
        rows = status.entities or [("-", None, None)]
        for index, (entity, synced, error) in enumerate(rows):
            table.add_row(
                status.name if index == 0 else "",
                status.kind if index == 0 else "",
                entity,
                synced.strftime("%Y-%m-%d %H:%M") if synced else "never",
                stored if index == 0 else "",
                error or "",
            )
    console.print(table)


def sync_command(
    source: list[str] = typer.Option(
        [], "--source", "-s", help="Sync only this source (repeatable); default: all."
    ),
    full: bool = typer.Option(
        False, "--full", help="Read the whole history again instead of what changed."
    ),
) -> None:
    """Fetch what changed in connected tools, store it, and update the facts.

    Example: streamwise sync --source jira
    """
    database = state.database()
    with database.sessions() as session:
        names = source or [
            s.name
            for s in session.scalars(
                select(Source).where(Source.kind.in_(SYNCABLE_KINDS)).order_by(Source.name)
            )
        ]
    if not names:
        console.print("No sources to sync. Add one with `streamwise source add`.")
        return
    for name in names:
        with progress_bars() as progress:
            report = sync_source(database, name, full=full, progress=progress)
        stored = sum(report.stored.values())
        received = sum(report.received.values())
        console.print(
            f"{name}: {received:,} payloads read, {stored:,} new or changed, "
            f"facts derived for {report.items_derived:,} work items."
        )
        for error in report.errors[:10]:
            console.print(f"[red]not normalised:[/] {error}")
