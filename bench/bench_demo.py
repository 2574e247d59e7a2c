"""Benchmark: generate and load the demo organisation (target: under 60 s on a 2-core machine).

Run with `make bench`. Prints the figures to record in docs/performance.md.
"""

import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from streamwise.demo.generator import generate
from streamwise.demo.loader import load_demo
from streamwise.store import open_database


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        url = os.environ.get("STREAMWISE_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
        started = time.perf_counter()
        organisation = generate(seed=42, scale=scale, end=date(2026, 11, 1))
        generated = time.perf_counter() - started
        rows = sum(len(r) for files in organisation.files.values() for r in files.values())
        database = open_database(url)
        result = load_demo(
            database, workdir / "demo", seed=42, scale=scale, end=date(2026, 11, 1), reset=True
        )
        database.dispose()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {url.split(':', 1)[0]}")
    print(f"scale {scale}: {rows:,} generated rows")
    print(f"generate only: {generated:.1f} s")
    print(f"generate + write files + import + normalise (streamwise demo): {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
