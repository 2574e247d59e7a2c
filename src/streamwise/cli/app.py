"""``streamwise``: the command line entry point and its global options."""

import sys
from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from streamwise import __version__
from streamwise.cli import config_cmd, data, db, demo, metrics, serve, sources
from streamwise.cli.context import errors, state
from streamwise.config import Settings
from streamwise.errors import StreamwiseError
from streamwise.store.engine import driver_message

app = typer.Typer(
    name="streamwise",
    help="Streamwise: value stream management from your delivery tools' data.\n\n"
    "Example: streamwise demo && streamwise serve",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(db.app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(sources.app, name="source")
app.command("sync")(sources.sync_command)
app.command("init")(config_cmd.init)
app.command("import")(data.import_command)
app.command("renormalize")(data.renormalize_command)
app.command("summary")(data.summary_command)
app.command("derive")(data.derive_command)
app.command("metrics")(metrics.metrics_command)
app.command("portfolio")(metrics.portfolio_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"streamwise {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    database: str | None = typer.Option(
        None,
        "--database",
        envvar="STREAMWISE_DATABASE_URL",
        help="Database URL, e.g. sqlite:///streamwise.db or postgresql://user@host/db.",
        show_default="sqlite:///streamwise.db",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        envvar="STREAMWISE_CONFIG",
        help="The organisation file.",
        show_default="streamwise.yaml",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Global options apply to every command."""
    settings = Settings()
    if database:
        settings.database_url = database
    if config:
        settings.config = config
    state.settings = settings
    state.reset()


def main() -> None:
    """Run the CLI; user mistakes become one clear line and a non-zero exit, never a trace."""
    try:
        app()
    except StreamwiseError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        sys.exit(error.exit_code)
    except OperationalError as error:
        errors.print(
            f"[bold red]error:[/] the database failed: {driver_message(error)}. Check "
            "STREAMWISE_DATABASE_URL and that the server is running; nothing was written.",
            highlight=False,
        )
        sys.exit(4)
    except SQLAlchemyError as error:
        errors.print(
            f"[bold red]error:[/] database error: {type(error).__name__}: {error}. "
            "Nothing was written; if the schema is old, run `streamwise db upgrade`.",
            highlight=False,
        )
        sys.exit(4)
    except KeyboardInterrupt:
        errors.print("interrupted; the current step was rolled back.")
        sys.exit(130)
