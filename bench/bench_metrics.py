"""Benchmark: derive facts and compute metrics at enterprise scale, with DuckDB as reference.

    python bench/enterprise.py --database sqlite:///bench-enterprise.db      # once, minutes
    python bench/bench_metrics.py --database sqlite:///bench-enterprise.db

Targets (issue: metrics engine): derive everything < 60 s; derive 1,000 changed items < 2 s;
the whole metric set of one stream over two years < 1 s; the portfolio < 1 s; peak memory
< 1.5 GB. The DuckDB figures are computed from the same facts written to Parquet, as a
reference for what this machine can do; DuckDB is a bench-only dependency.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from streamwise.client import Streamwise
from streamwise.derive.run import derive_all, derive_changed
from streamwise.metrics.facts import FactSet
from streamwise.metrics.load import Filters
from streamwise.metrics.report import stream_report
from streamwise.model import ValueStream, WorkItem
from streamwise.store import open_database


def largest_stream(url: str) -> str:
    database = open_database(url)
    with database.sessions() as session:
        key = (
            session.execute(
                select(ValueStream.key)
                .join(WorkItem, WorkItem.value_stream_id == ValueStream.id)
                .group_by(ValueStream.key)
                .order_by(func.count().desc())
            )
            .scalars()
            .first()
        )
    database.dispose()
    assert key is not None, "no value stream has work items: generate the data first"
    return key


def peak_memory_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the process image, while
    ru_maxrss survives exec: a child started after the big derive would report its parent's
    peak (earlier figures of 1.3 GB were that)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_derive(url: str) -> dict[str, float]:
    database = open_database(url)
    figures: dict[str, float] = {}
    with database.transaction() as session:
        started = time.perf_counter()
        report = derive_all(session)
        figures["derive_all_s"] = time.perf_counter() - started
        figures["derived_items"] = report.items
        figures["derived_deployments"] = report.deployments
    with database.transaction() as session:
        ids = list(session.scalars(select(WorkItem.id).order_by(WorkItem.id)))
        rng = np.random.default_rng(7)
        changed = {int(i) for i in rng.choice(ids, size=min(1000, len(ids)), replace=False)}
        started = time.perf_counter()
        derive_changed(session, changed, set())
        figures["derive_1000_items_s"] = time.perf_counter() - started
    database.dispose()
    return figures


def bench_metrics(url: str, stream: str, end: date) -> dict[str, float]:
    """Runs in its own process so its peak memory is the metrics' alone."""
    start = end - timedelta(days=729)
    figures: dict[str, float] = {}
    client = Streamwise(url)
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        client.report(stream, start, end)
        timings.append(time.perf_counter() - began)
    figures["stream_report_first_s"] = timings[0]
    figures["stream_report_median_s"] = float(np.median(timings))
    period = client.period(start, end)
    began = time.perf_counter()
    facts = client.facts(Filters(stream), period)
    figures["stream_load_s"] = time.perf_counter() - began
    began = time.perf_counter()
    stream_report(facts, period)
    figures["stream_compute_s"] = time.perf_counter() - began
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        client.portfolio(start, end)
        timings.append(time.perf_counter() - began)
    figures["portfolio_first_s"] = timings[0]
    figures["portfolio_median_s"] = float(np.median(timings))
    figures["items_in_stream"] = len(facts.items)
    figures["intervals_in_stream"] = len(facts.intervals)
    figures["peak_memory_mb"] = peak_memory_mb()
    return figures


def bench_duckdb(url: str, stream: str, end: date) -> dict[str, Any]:
    """The same headline figures by DuckDB over the same facts exported to Parquet."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = end - timedelta(days=729)
    client = Streamwise(url)
    period = client.period(start, end)
    facts: FactSet = client.facts(Filters(stream), period)
    began = time.perf_counter()
    ours = stream_report(facts, period)
    ours_s = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as directory:
        tables = {
            "items": facts.items,
            "intervals": facts.intervals,
            "deployments": facts.deployments,
            "changes": facts.changes,
        }
        for name, columns in tables.items():
            data = {}
            for field in type(columns).KINDS:
                values = getattr(columns, field)
                if values.dtype == object:
                    values = values.astype(str)
                data[field] = pa.array(values, from_pandas=True)  # NaN becomes NULL
            pq.write_table(pa.table(data), f"{directory}/{name}.parquet")
        lo, hi, zone = period.start_at, period.end_at, period.timezone
        connection = duckdb.connect()
        queries = {
            "velocity_per_week": f"""
                WITH done AS (
                    SELECT done_at, flow_item_type FROM '{directory}/items.parquet'
                    WHERE done_at IS NOT NULL AND done_at >= {lo} AND done_at < {hi}
                      AND flow_item_type IN ('feature', 'defect', 'risk', 'debt'))
                SELECT date_trunc('week', to_timestamp(done_at) AT TIME ZONE '{zone}') AS week,
                       flow_item_type, count(*) FROM done GROUP BY ALL""",
            "flow_time": f"""
                SELECT quantile_cont(flow_time_s, 0.5), quantile_cont(flow_time_s, 0.85),
                       quantile_cont(flow_time_s, 0.95),
                       sum(active_time_s) / sum(active_time_s + waiting_time_s)
                FROM '{directory}/items.parquet'
                WHERE done_at >= {lo} AND done_at < {hi} AND flow_time_s > 0
                  AND flow_item_type IN ('feature', 'defect', 'risk', 'debt')""",
            "cfd": f"""
                WITH days AS (
                    SELECT epoch(d + INTERVAL 1 DAY) AS t
                    FROM range(DATE '{period.start}', DATE '{period.end}' + 1, INTERVAL 1 DAY) r(d))
                SELECT t, stage_id, count(*) FROM days
                JOIN '{directory}/intervals.parquet' i
                  ON i.entered_at <= t AND (i.left_at IS NULL OR t < i.left_at)
                GROUP BY ALL""",
            "dora": f"""
                SELECT count(*) FILTER (WHERE succeeded),
                       avg(failed::INT), quantile_cont(recovery_s, 0.5)
                FROM '{directory}/deployments.parquet'
                WHERE is_production AND finished_at >= {lo} AND finished_at < {hi}""",
            "lead_time": f"""
                SELECT quantile_cont(lead_time_s, 0.5), quantile_cont(lead_time_s, 0.85)
                FROM '{directory}/changes.parquet'
                WHERE deployed_at >= {lo} AND deployed_at < {hi}""",
        }
        results: dict[str, Any] = {}
        began = time.perf_counter()
        for name, query in queries.items():
            results[name] = connection.sql(query).fetchall()
        duckdb_s = time.perf_counter() - began
    median_ours = ours.flow.flow_time.overall.median_s
    median_duckdb = results["flow_time"][0][0]
    return {
        "ours_compute_s": ours_s,
        "duckdb_s": duckdb_s,
        "ratio_ours_to_duckdb": ours_s / duckdb_s if duckdb_s else None,
        "median_flow_time_agrees": bool(
            median_ours is not None and abs(median_ours - median_duckdb) < 1e-6
        ),
        "note": "DuckDB computes a subset (velocity, flow time, efficiency, CFD, DORA, lead time)"
        " from the same facts; the CFD here uses the UTC day edges of DuckDB's range, ours local",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=os.environ.get("STREAMWISE_DATABASE_URL", "sqlite:///bench-enterprise.db"),
    )
    parser.add_argument("--stream", default=None)
    parser.add_argument("--end", default="2026-11-01")
    parser.add_argument("--skip-derive", action="store_true")
    parser.add_argument("--only", choices=["metrics", "duckdb"], default=None)
    args = parser.parse_args()
    end = date.fromisoformat(args.end)
    stream = args.stream or largest_stream(args.database)
    if args.only == "metrics":
        print(json.dumps(bench_metrics(args.database, stream, end)))
        return
    if args.only == "duckdb":
        print(json.dumps(bench_duckdb(args.database, stream, end)))
        return
    figures: dict[str, Any] = {"database": args.database.split(":", 1)[0], "stream": stream}
    if not args.skip_derive:
        figures.update(bench_derive(args.database))
    for only in ("metrics", "duckdb"):
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--database",
                args.database,
                "--stream",
                stream,
                "--end",
                args.end,
                "--only",
                only,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures[only] = json.loads(output.strip().splitlines()[-1])
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
