"""``streamwise init`` and ``streamwise config``: the organisation file and its loading."""

from importlib.resources import files

import typer
from rich.table import Table

from streamwise.cli.context import console, state
from streamwise.config import redact_url
from streamwise.normalize.config import OrgConfig, load_config
from streamwise.normalize.organisation import ApplyReport, apply_config
from streamwise.store import migrate

app = typer.Typer(help="Validate and load the organisation file.", no_args_is_help=True)


def starter_config() -> str:
    return files("streamwise").joinpath("templates/streamwise.yaml").read_text(encoding="utf-8")


def init(
    force: bool = typer.Option(False, "--force", help="Overwrite an existing streamwise.yaml."),
) -> None:
    """Create streamwise.yaml (if missing) and the database, then load the file into it.

    Example: streamwise init && streamwise import work_items.csv --source files
    """
    path = state.settings.config
    if path.exists() and not force:
        console.print(f"Keeping the existing {path}.")
    else:
        path.write_text(starter_config(), encoding="utf-8")
        console.print(f"Wrote a starter {path}; edit it to describe your value streams.")
    config = load_config(path)
    database = state.database(require_schema=False)
    migrate.upgrade(database)
    with database.transaction() as session:
        report = apply_config(session, config)
    console.print(f"Database {redact_url(database.url)} is ready.")
    _print_apply(report)


def _print_summary(config: OrgConfig) -> None:
    table = Table(title=f"{state.settings.config}: {config.organisation.name}")
    table.add_column("value stream")
    table.add_column("kind")
    table.add_column("stages")
    table.add_column("statuses mapped", justify="right")
    for stream in config.value_streams:
        table.add_row(
            stream.key,
            stream.kind,
            " → ".join(stage.name for stage in stream.stages),
            str(sum(len(stage.statuses) for stage in stream.stages)),
        )
    console.print(table)
    console.print(
        f"{len(config.sources)} sources, {len(config.teams)} teams, {len(config.people)} people, "
        f"{len(config.type_mappings)} type mappings; time zone {config.organisation.timezone}."
    )


def _print_apply(report: ApplyReport) -> None:
    def describe(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing"

    if not report.changed:
        console.print("The database already matches the configuration; nothing changed.")
        return
    console.print(
        f"Created {describe(report.created)}; updated {describe(report.updated)}; "
        f"removed {describe(report.removed)}."
    )
    if report.mappings_changed:
        console.print("Mappings changed: run `streamwise renormalize` so stored data uses them.")


@app.command("check")
def check() -> None:
    """Validate streamwise.yaml without touching the database.

    Example: streamwise --config streamwise.yaml config check
    """
    config = load_config(state.settings.config)
    _print_summary(config)
    console.print(f"[green]{state.settings.config} is valid.[/]")


@app.command("apply")
def apply() -> None:
    """Load streamwise.yaml into the database (idempotent: a second run changes nothing).

    Example: streamwise config apply && streamwise renormalize
    """
    config = load_config(state.settings.config)
    database = state.database()
    with database.transaction() as session:
        report = apply_config(session, config)
    _print_apply(report)
