"""``streamwise db``: create and migrate the database schema."""

import typer

from streamwise.cli.context import console, progress_bars, state
from streamwise.cli.data import print_derive_report
from streamwise.config import redact_url
from streamwise.derive.run import derive_missing
from streamwise.store import migrate

app = typer.Typer(help="Create and migrate the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Create or migrate the schema to the newest version.

    Example: STREAMWISE_DATABASE_URL=postgresql://me@localhost/streamwise streamwise db upgrade
    """
    database = state.database(require_schema=False)
    migrate.upgrade(database, revision)
    current = migrate.current_revision(database)
    console.print(f"Database {redact_url(database.url)} is at revision {current}.")
    if current == migrate.head_revision():
        # Some migrations empty the derived fact tables; rebuild what is missing right away.
        with progress_bars() as progress, database.transaction() as session:
            report = derive_missing(session, progress)
        if report.items or report.deployments:
            print_derive_report(report)


@app.command("downgrade")
def downgrade(
    revision: str = typer.Argument(..., help="Target revision; 'base' removes every table."),
) -> None:
    """Migrate the schema back (``base`` drops all Streamwise tables and their data).

    Example: streamwise db downgrade base
    """
    database = state.database(require_schema=False)
    migrate.downgrade(database, revision)
    console.print(
        f"Database {redact_url(database.url)} is at revision "
        f"{migrate.current_revision(database) or 'base (empty)'}."
    )


@app.command("current")
def current() -> None:
    """Print the schema revision of the database and the newest one this version knows.

    Example: streamwise db current
    """
    database = state.database(require_schema=False)
    console.print(
        f"current: {migrate.current_revision(database) or 'none'}; "
        f"newest: {migrate.head_revision()}"
    )
