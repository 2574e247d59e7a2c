"""Benchmark: how soon a webhook shows in the figures (target: within 5 s, issue: connectors).

Serves the web app with `streamwise serve` on the enterprise-scale data (bench/enterprise.py),
then posts CDEvents over real HTTP and times two things per event: the request (stored raw,
mapped and derived before the 202 returns) and the whole way to the figures — until the value
stream report computed afresh counts the new deployment.

    .venv/bin/python bench/bench_webhook.py --database sqlite:///bench-enterprise.db

Adds a `bench-events` source to the database (and the deployments it posts); harmless for the
other benchmarks, which read a two-year period that ends before them.
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from streamwise.client import Streamwise
from streamwise.model import Deployment, Source, ValueStream
from streamwise.store import open_database

SECRET = "bench-webhook-secret"
SECRET_ENV = "BENCH_WEBHOOK_SECRET"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str) -> tuple[str, str]:
    """Add the webhook source; return the largest stream and its busiest service."""
    database = open_database(url)
    with database.transaction() as session:
        if session.scalars(select(Source).where(Source.name == "bench-events")).first() is None:
            session.add(Source(name="bench-events", kind="cdevents", token_env=SECRET_ENV))
        stream_id, service = session.execute(
            select(Deployment.value_stream_id, Deployment.service)
            .where(Deployment.value_stream_id.is_not(None), Deployment.is_production.is_(True))
            .group_by(Deployment.value_stream_id, Deployment.service)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        stream = session.scalars(select(ValueStream.key).where(ValueStream.id == stream_id)).one()
    database.dispose()
    return stream, service


def deployment_event(service: str, at: datetime) -> dict[str, object]:
    event_id = f"bench-{uuid.uuid4().hex[:12]}"
    return {
        "context": {
            "version": "0.4.1",
            "id": event_id,
            "source": "/bench",
            "type": "dev.cdevents.service.deployed.0.2.0",
            "timestamp": at.isoformat().replace("+00:00", "Z"),
        },
        "subject": {
            "id": service,
            "source": "/bench",
            "content": {"environment": {"id": "production"}, "artifactId": f"pkg:oci/{service}"},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite:///bench-enterprise.db")
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args()
    stream, service = prepare(args.database)
    port = free_port()
    environment = {**os.environ, "STREAMWISE_DATABASE_URL": args.database, SECRET_ENV: SECRET}
    streamwise = Path(sys.executable).with_name("streamwise")
    server = subprocess.Popen([str(streamwise), "serve", "--port", str(port)], env=environment)
    base = f"http://127.0.0.1:{port}"
    requests, to_figures = [], []
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            for _ in range(300):
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            client = Streamwise(args.database)
            for index in range(args.events):
                at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=index)
                today = date.today()
                before = client.report(stream, today - timedelta(days=6), today, service=service)
                counted = before.dora.deployment_frequency.total
                event = deployment_event(service, at)
                began = time.perf_counter()
                response = http.post(
                    "/webhooks/cdevents/bench-events",
                    content=json.dumps(event),
                    headers={
                        "content-type": "application/json",
                        "ce-specversion": "1.0",
                        "ce-id": str(event["context"]["id"]),  # type: ignore[index]
                        "ce-source": "/bench",
                        "ce-type": str(event["context"]["type"]),  # type: ignore[index]
                        "authorization": f"Bearer {SECRET}",
                    },
                )
                requests.append(time.perf_counter() - began)
                response.raise_for_status()
                while True:
                    after = client.report(stream, today - timedelta(days=6), today, service=service)
                    if after.dora.deployment_frequency.total == counted + 1:
                        break
                    if time.perf_counter() - began > 60:
                        raise SystemExit("the deployment did not reach the figures within 60 s")
                to_figures.append(time.perf_counter() - began)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {args.database.split(':', 1)[0]}; stream {stream}, service {service}")
    print(
        f"webhook request (store, map, derive): median {statistics.median(requests):.2f} s, "
        f"max {max(requests):.2f} s"
    )
    print(
        f"webhook → figures (request + fresh stream report): median "
        f"{statistics.median(to_figures):.2f} s, max {max(to_figures):.2f} s (target < 5 s)"
    )


if __name__ == "__main__":
    main()
