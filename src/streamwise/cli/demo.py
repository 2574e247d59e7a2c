"""``streamwise demo``: build the demo organisation through the normal import path."""

from pathlib import Path

import typer

from streamwise.cli.context import console, progress_bars, state
from streamwise.cli.data import print_normalise_report


def demo_command(
    seed: int = typer.Option(42, "--seed", help="Random seed; the same seed gives the same data."),
    scale: float = typer.Option(
        1.0, "--scale", min=0.01, max=5.0, help="Volume multiplier (1.0 ≈ 20,000 work items)."
    ),
    data_dir: Path = typer.Option(
        Path("demo-data"), "--data-dir", help="Where the generated files and config are written."
    ),
    reset: bool = typer.Option(
        False, "--reset", help="Empty the database first (drops every Streamwise table)."
    ),
) -> None:
    """Generate a realistic two-year software organisation and load it.

    The data is written as ordinary import files (plus its streamwise.yaml) into --data-dir,
    then loaded exactly as `streamwise import` would. Running it again changes nothing.

    Example: streamwise demo --seed 7 && streamwise serve
    """
    from streamwise.demo.loader import load_demo  # numpy and the generator only when needed

    database = state.database(require_schema=False)
    with progress_bars() as progress:
        result = load_demo(
            database, data_dir, seed=seed, scale=scale, reset=reset, progress=progress
        )
    for source, report in result.reports.items():
        counts = ", ".join(f"{n:,} {k}" for k, n in report.normalised.counts.items())
        console.print(f"{source}: {report.rows:,} rows ({report.stored:,} new). {counts}".rstrip())
        print_normalise_report(report.normalised)
    console.print(
        f"Demo organisation loaded in {result.seconds:.1f} s from {data_dir} "
        f"(its configuration: {data_dir / 'streamwise.yaml'})."
    )
    console.print("Next: `streamwise serve`, then open http://127.0.0.1:8000")
