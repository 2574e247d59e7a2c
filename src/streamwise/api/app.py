"""The web application: health, a JSON summary of the organisation, the REST API
(``api/routes/``: value streams, work items and traces, sources, metrics) and a landing page.

Every error is a JSON problem document (``api/routes/problems.py``).
"""

from collections.abc import Iterator
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from streamwise import __version__, web
from streamwise.api.routes import items, metrics, sources, streams
from streamwise.api.routes.problems import install_problem_handlers
from streamwise.config import Settings, redact_url
from streamwise.store import Database, open_database
from streamwise.store.migrate import current_revision, head_revision
from streamwise.store.summary import organisation_summary
from streamwise.webhooks import (
    Received,
    receive_cdevent,
    receive_github,
    receive_gitlab,
    receive_jira,
)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    database = database or open_database(settings.database_url)
    app = FastAPI(
        title="Streamwise",
        version=__version__,
        description="Value stream management: flow, DORA and value stream maps from your tools.",
    )
    app.state.database = database

    def session() -> Iterator[Session]:
        with database.sessions() as db_session:
            yield db_session

    install_problem_handlers(app)
    for router in (streams.router, items.router, sources.router, metrics.router, web.router):
        app.include_router(router)

    @app.post("/webhooks/cdevents/{source}", status_code=202, tags=["webhooks"])
    async def cdevents_webhook(source: str, request: Request) -> dict[str, Any]:
        """Receive a CDEvent (CloudEvents 1.0, binary or structured mode) for a source of
        kind ``cdevents``; authenticate with ``Authorization: Bearer <secret>``."""
        body = await request.body()
        received = await run_in_threadpool(
            receive_cdevent, database, source, dict(request.headers), body
        )
        return accepted(received)

    @app.post("/webhooks/jira/{source}", status_code=202, tags=["webhooks"])
    async def jira_webhook(
        source: str, request: Request, secret: str | None = None
    ) -> dict[str, Any]:
        """Receive a Jira issue webhook for a source of kind ``jira``: signed with the
        webhook secret (Cloud, ``X-Hub-Signature``) or with ``?secret=`` (Data Center)."""
        body = await request.body()
        received = await run_in_threadpool(
            receive_jira, database, source, dict(request.headers), body, secret
        )
        answer = accepted(received)
        del answer["mapped"]  # a Jira issue event always maps to its work item
        return answer

    @app.post("/webhooks/github/{source}", status_code=202, tags=["webhooks"])
    async def github_webhook(source: str, request: Request) -> dict[str, Any]:
        """Receive a GitHub webhook delivery for a source of kind ``github``, signed with
        the webhook secret (``X-Hub-Signature-256``)."""
        body = await request.body()
        received = await run_in_threadpool(
            receive_github, database, source, dict(request.headers), body
        )
        return accepted(received)

    @app.post("/webhooks/gitlab/{source}", status_code=202, tags=["webhooks"])
    async def gitlab_webhook(source: str, request: Request) -> dict[str, Any]:
        """Receive a GitLab webhook delivery for a source of kind ``gitlab``, carrying the
        webhook's secret token in ``X-Gitlab-Token``."""
        body = await request.body()
        received = await run_in_threadpool(
            receive_gitlab, database, source, dict(request.headers), body
        )
        return accepted(received)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Is the server up, and is its database reachable and at the current schema?"""
        revision = current_revision(database)
        return {
            "status": "ok" if revision == head_revision() else "degraded",
            "version": __version__,
            "database": redact_url(database.url),
            "schema_revision": revision,
            "expected_revision": head_revision(),
        }

    @app.get("/api/summary", tags=["organisation"])
    def summary(db_session: Session = Depends(session)) -> dict[str, Any]:
        """Counts of what is loaded, per source and per value stream."""
        return organisation_summary(db_session)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(db_session: Session = Depends(session)) -> str:
        return render_index(organisation_summary(db_session))

    return app


def accepted(received: Received) -> dict[str, Any]:
    """A webhook's 202 answer: which event, whether it was new, mapped, and what it derived."""
    return {
        "event": received.event,
        "stored": received.stored,
        "mapped": received.mapped,
        "items_derived": received.items_derived,
    }


def render_index(summary: dict[str, Any]) -> str:
    """A plain, escaped HTML page: every string here may come from a tool."""
    org = summary["organisation"]
    rows = "".join(
        "<tr><td>{name}</td><td>{kind}</td><td>{stages}</td><td class=n>{items:,}</td>"
        "<td class=n>{done:,}</td><td class=n>{deploys:,}</td></tr>".format(
            name='<a href="/streams/{}">{}</a>'.format(
                quote(str(stream["key"]), safe=""), escape(stream["name"])
            ),
            kind=escape(stream["kind"]),
            stages=" → ".join(escape(stage["name"]) for stage in stream["stages"]),
            items=stream["work_items"],
            done=stream["work_items_done"],
            deploys=stream["production_deployments"],
        )
        for stream in summary["value_streams"]
    )
    if not rows:
        rows = (
            "<tr><td colspan=6>No value streams yet. Load the demo with <code>streamwise demo"
            "</code>, or describe yours in streamwise.yaml and run <code>streamwise config "
            "apply</code>.</td></tr>"
        )
    totals = "".join(
        f"<li>{escape(name.replace('_', ' '))}: {count:,}</li>"
        for name, count in summary["totals"].items()
    )
    title = escape(org["name"] or "Streamwise")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · Streamwise</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1b1f24; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
a {{ color: #0550ae; }}
</style></head>
<body>
<h1>{title}</h1>
<p><a href="/portfolio"><strong>Portfolio</strong></a>: every value stream at a glance; each
stream's name opens its value stream map.</p>
<p>Time zone: {escape(org["timezone"] or "not configured")}.
Machine-readable: <a href="/api/summary">/api/summary</a> ·
<a href="/health">/health</a> · <a href="/docs">API docs</a></p>
<h2>Value streams</h2>
<table><thead><tr><th>Stream</th><th>Kind</th><th>Stages</th><th>Work items</th>
<th>Done</th><th>Production deployments</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Loaded</h2><ul>{totals}</ul>
</body></html>"""
