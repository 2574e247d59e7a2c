"""``streamwise source add|list|propose-mappings`` and ``streamwise sync``: connected tools."""

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.cli.context import console, progress_bars, state
from streamwise.connectors.registry import SYNCABLE_KINDS
from streamwise.errors import ConfigError, NotFoundError, StreamwiseError
from streamwise.model import RawRecord, Source, Stage, StatusMapping, ValueStream
from streamwise.normalize.ingest import find_source
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


def _stored_statuses(session: Session, source: Source) -> list[dict[str, Any]]:
    """The newest stored payload of each status of the source, in the order Jira sent them."""
    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for raw_id, external_id, payload in session.execute(
        select(RawRecord.id, RawRecord.external_id, RawRecord.payload).where(
            RawRecord.source_id == source.id, RawRecord.entity_kind == "status"
        )
    ):
        if external_id not in newest or newest[external_id][0] < raw_id:
            newest[external_id] = (raw_id, payload)
    return [payload for _, payload in sorted(newest.values(), key=lambda row: row[0])]


def _mapped_statuses(session: Session, source: Source) -> dict[str, str]:
    """Status name → where the applied configuration maps it for this source."""
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(
            StatusMapping.raw_status,
            StatusMapping.project,
            StatusMapping.raw_type,
            StatusMapping.flow_state,
            ValueStream.key,
            Stage.name,
        )
        .join(ValueStream, ValueStream.id == StatusMapping.value_stream_id)
        .outerjoin(Stage, Stage.id == StatusMapping.stage_id)
        .where((StatusMapping.source_id == source.id) | StatusMapping.source_id.is_(None))
        .order_by(ValueStream.position, StatusMapping.id)
    )
    for status, project, raw_type, flow_state, stream, stage in rows:
        only = ", ".join(
            f"{what} {value}" for what, value in (("project", project), ("type", raw_type)) if value
        )
        place = f"value stream {stream}, stage {stage or '-'} ({flow_state})"
        found.setdefault(status, []).append(f"{place} for {only}" if only else place)
    return {status: "; ".join(places) for status, places in found.items()}


@app.command("propose-mappings")
def propose_mappings(
    name: str = typer.Argument(..., help="The source whose statuses to map."),
    output: Path | None = typer.Option(
        None, "--output", help="Write the YAML to this file instead of printing it."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the --output file."),
) -> None:
    """Propose stages for a source's statuses, from the categories the tool gives them.

    Prints YAML to check and paste into a value stream of streamwise.yaml; statuses the
    configuration maps already are listed, not proposed again.

    Example: streamwise source propose-mappings jira --output jira-stages.yaml
    """
    from streamwise.connectors.jira.proposal import proposal_yaml, propose_statuses

    if output is not None and output.exists() and not force:
        raise StreamwiseError(
            f"{output}: exists already; choose another --output, or add --force to overwrite it"
        )
    database = state.database()
    with database.sessions() as session:
        source = find_source(session, name)
        statuses = _stored_statuses(session, source)
        if not statuses:
            raise NotFoundError(
                f"source {name!r} ({source.kind}) has no statuses stored yet; run "
                f"`streamwise sync --source {name}` first (Jira sources store their statuses)"
            )
        proposals = propose_statuses(statuses, _mapped_statuses(session, source))
    text = proposal_yaml(name, len(statuses), proposals)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    mapped = sum(1 for proposal in proposals if proposal.mapped_to is not None)
    console.print(
        f"Wrote stages for {len(proposals) - mapped} statuses to {output} "
        f"({mapped} mapped already). Check them, then paste them into streamwise.yaml."
    )


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
        for note in report.notes:
            console.print(f"[yellow]note:[/] {note}")
        for error in report.errors[:10]:
            console.print(f"[red]not normalised:[/] {error}")
