"""Events pushed by tools: check who sent them, store them raw, normalise and derive at once.

A delivery is one transaction, like a sync page: a redelivered event finds its payload
unchanged and stores nothing; a request with a bad signature or a malformed body stores
nothing and is answered with 401 or 400 (the API layer turns these errors into responses).
"""

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.cdevents.events import EventError, merged, read_request, timeline_key
from streamwise.connectors.gitlab.webhook import HookError, hook_payloads
from streamwise.connectors.registry import parser_for
from streamwise.derive.run import derive_changed
from streamwise.errors import AuthenticationError, NotFoundError, StreamwiseError
from streamwise.model import Source
from streamwise.model.base import utcnow
from streamwise.normalize.pipeline import Normaliser
from streamwise.store import Database
from streamwise.store.raw import latest_payloads, store_payloads

log = logging.getLogger("streamwise.webhooks")

CDEVENT_KINDS = {
    "ticket": EntityKind.WORK_ITEM,
    "pipelinerun": EntityKind.PIPELINE_RUN,
    "service": EntityKind.DEPLOYMENT,
    "incident": EntityKind.INCIDENT,
}


class BadDelivery(StreamwiseError):  # noqa: N818 — reads as what it is
    """The body cannot be read; the message names the problem (HTTP 400)."""


@dataclass
class Received:
    event: str
    stored: bool
    mapped: bool
    items_derived: int = 0
    errors: list[str] = field(default_factory=list)


def _source(session: Session, name: str, kind: str) -> Source:
    source = session.scalars(select(Source).where(Source.name == name)).first()
    if source is None or source.kind != kind:
        raise NotFoundError(f"no {kind} source named {name!r} to receive events")
    return source


def _secret(source: Source) -> str:
    """The shared secret deliveries are checked against: the variable named by the source's
    ``webhook_secret_env`` option — never the API token — or, for a CDEvents source (which
    has no API token), its ``token_env``."""
    variable = source.options.get("webhook_secret_env")
    if not variable and source.kind == "cdevents":
        variable = source.token_env
    secret = os.environ.get(str(variable or ""))
    if not secret:
        # Refuse rather than accept unauthenticated writes.
        raise AuthenticationError(
            f"source {source.name!r} has no webhook secret: set the option webhook_secret_env "
            "(token_env for cdevents sources) and export the secret in that variable on the "
            "server"
        )
    return secret


def _refuse(source: Source, why: str) -> AuthenticationError:
    log.warning("webhook for source %r refused: %s", source.name, why)
    return AuthenticationError(f"source {source.name!r}: {why}")


def check_bearer(source: Source, headers: Mapping[str, str]) -> None:
    """CDEvents: ``Authorization: Bearer <secret>``."""
    given = headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {_secret(source)}".encode()):
        raise _refuse(source, "missing or wrong bearer token")


def check_signature(source: Source, headers: Mapping[str, str], body: bytes, header: str) -> None:
    """GitHub-style ``sha256=<hex HMAC of the body>`` in ``header``."""
    expected = "sha256=" + hmac.new(_secret(source).encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get(header, "").encode(), expected.encode()):
        raise _refuse(source, f"missing or wrong {header} signature")


def _ingest(session: Session, source: Source, payloads: list[RawPayload]) -> Received:
    stored = store_payloads(session, source.id, payloads)
    received = Received(event="", stored=bool(stored.stored), mapped=True)
    if stored.stored:
        parser = parser_for(source.kind)
        assert parser is not None
        normalised = Normaliser(session, source, parser).run(dict(stored.changed))
        received.errors = normalised.errors
        derived = derive_changed(
            session,
            normalised.touched_items,
            normalised.touched_services,
            since=normalised.changed_since,
        )
        received.items_derived = derived.items
    return received


def receive_cdevent(
    database: Database, source_name: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """One CloudEvent carrying a CDEvent, added to its subject's stored timeline."""
    with database.transaction() as session:
        source = _source(session, source_name, "cdevents")
        check_bearer(source, headers)
        try:
            event = read_request(headers, body)
        except EventError as error:
            log.warning("webhook for source %r rejected: %s", source.name, error)
            raise BadDelivery(f"not a readable CDEvent: {error}") from None
        kind = CDEVENT_KINDS.get(event.subject, "cdevent") if event.mapped else "cdevent"
        key = timeline_key(event)
        before = latest_payloads(session, source.id, {kind: {key}})
        stored_payload: dict[str, Any] | None = before[0][3] if before else None
        received = _ingest(session, source, [RawPayload(kind, key, merged(stored_payload, event))])
        received.event, received.mapped = event.id, event.mapped
        if received.errors:
            raise BadDelivery(f"event {event.id} cannot be mapped: {'; '.join(received.errors)}")
        return received


def check_jira_secret(
    source: Source, headers: Mapping[str, str], body: bytes, query_secret: str | None
) -> None:
    """Jira Cloud signs with the webhook's secret (``X-Hub-Signature: sha256=…``); Jira Data
    Center cannot sign, so there the secret travels in the URL (``?secret=…``)."""
    if "x-hub-signature" in headers:
        check_signature(source, headers, body, "x-hub-signature")
        return
    if query_secret is None or not hmac.compare_digest(
        query_secret.encode(), _secret(source).encode()
    ):
        raise _refuse(source, "no X-Hub-Signature and no matching ?secret=")


def jira_issue_with_change(
    stored: Mapping[str, Any] | None, delivery: Mapping[str, Any]
) -> dict[str, Any]:
    """The issue as the webhook sent it, with the changelog known so far plus this change.

    A webhook carries the issue's current fields and only the change that triggered it; the
    histories already stored (by a sync or earlier deliveries) are kept, so a renormalisation
    from raw still sees the whole history.
    """
    issue = dict(delivery["issue"])
    histories = list(((stored or {}).get("changelog") or {}).get("histories") or [])
    change = delivery.get("changelog")
    if isinstance(change, Mapping) and change.get("items"):
        known = {history.get("id") for history in histories}
        if change.get("id") not in known:
            stamp = delivery.get("timestamp")
            when = (
                datetime.fromtimestamp(stamp / 1000, UTC).isoformat()
                if isinstance(stamp, int | float)
                else (issue.get("fields") or {}).get("updated")
            )
            histories.append(
                {
                    "id": change.get("id"),
                    "created": when,
                    "author": delivery.get("user"),
                    "items": change["items"],
                }
            )
    issue["changelog"] = {"startAt": 0, "total": len(histories), "histories": histories}
    return issue


def receive_jira(
    database: Database,
    source_name: str,
    headers: Mapping[str, str],
    body: bytes,
    query_secret: str | None,
) -> Received:
    """A Jira ``jira:issue_*`` webhook, merged into the issue the source already holds."""
    with database.transaction() as session:
        source = _source(session, source_name, "jira")
        check_jira_secret(source, headers, body, query_secret)
        try:
            delivery = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise BadDelivery(f"the body is not JSON: {error}") from None
        issue = delivery.get("issue") if isinstance(delivery, dict) else None
        if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
            raise BadDelivery("not a Jira issue event: the body has no issue with a key")
        event = str(delivery.get("webhookEvent") or "")
        if event == "jira:issue_deleted":
            return Received(event=event, stored=False, mapped=False)
        key = issue["key"]
        before = latest_payloads(session, source.id, {EntityKind.WORK_ITEM: {key}})
        payload = jira_issue_with_change(before[0][3] if before else None, delivery)
        received = _ingest(session, source, [RawPayload(EntityKind.WORK_ITEM, key, payload)])
        received.event = event
        if received.errors:
            raise BadDelivery(f"issue {key} cannot be mapped: {'; '.join(received.errors)}")
        return received


def _github_payloads(
    session: Session, source: Source, event: str, delivery: Mapping[str, Any], delivery_id: str
) -> list[RawPayload]:
    """A GitHub delivery → raw payloads in the shapes the GitHub sync stores, merged with
    what the source holds (a PR keeps its reviews and commits, an issue its events)."""
    repository = (delivery.get("repository") or {}).get("full_name")
    if not isinstance(repository, str):
        raise BadDelivery(f"a {event} delivery without repository.full_name")

    payload: dict[str, Any]

    def stored(kind: str, key: str) -> dict[str, Any]:
        found = latest_payloads(session, source.id, {kind: {key}})
        return dict(found[0][3]) if found else {}

    if event in ("pull_request", "pull_request_review"):
        pull = delivery.get("pull_request")
        if not isinstance(pull, dict):
            raise BadDelivery(f"a {event} delivery without pull_request")
        key = f"{repository}#{pull.get('number')}"
        payload = {"repository": repository, "reviews": [], "commits": []}
        payload.update(stored(EntityKind.PULL_REQUEST, key))
        payload["pull_request"] = pull
        review = delivery.get("review")
        if isinstance(review, dict):
            others = [r for r in payload["reviews"] if r.get("id") != review.get("id")]
            payload["reviews"] = [*others, review]
        return [RawPayload(EntityKind.PULL_REQUEST, key, payload)]
    if event == "issues":
        issue = delivery.get("issue")
        if not isinstance(issue, dict):
            raise BadDelivery("an issues delivery without issue")
        key = f"{repository}#{issue.get('number')}"
        payload = {"repository": repository, "events": []}
        payload.update(stored(EntityKind.WORK_ITEM, key))
        payload["issue"] = issue
        action = delivery.get("action")
        if action in ("closed", "reopened"):
            moment = issue.get("closed_at") if action == "closed" else issue.get("updated_at")
            known = {e.get("id") for e in payload["events"]}
            if f"hook-{delivery_id}" not in known:
                payload["events"] = [
                    *payload["events"],
                    {
                        "id": f"hook-{delivery_id}",
                        "event": action,
                        "created_at": moment,
                        "actor": delivery.get("sender"),
                    },
                ]
        return [RawPayload(EntityKind.WORK_ITEM, key, payload)]
    if event == "workflow_run":
        run = delivery.get("workflow_run")
        if not isinstance(run, dict):
            raise BadDelivery("a workflow_run delivery without workflow_run")
        key = f"{repository}/actions/runs/{run.get('id')}"
        body = {"repository": repository, "workflow_run": run}
        return [RawPayload(EntityKind.PIPELINE_RUN, key, body)]
    if event == "deployment_status":
        deployment, status = delivery.get("deployment"), delivery.get("deployment_status")
        if not isinstance(deployment, dict) or not isinstance(status, dict):
            raise BadDelivery("a deployment_status delivery without deployment and status")
        key = f"{repository}/deployments/{deployment.get('id')}"
        payload = {"repository": repository, "statuses": []}
        payload.update(stored(EntityKind.DEPLOYMENT, key))
        payload["deployment"] = deployment
        others = [s for s in payload["statuses"] if s.get("id") != status.get("id")]
        payload["statuses"] = sorted(
            [*others, status], key=lambda s: str(s.get("created_at")), reverse=True
        )
        return [RawPayload(EntityKind.DEPLOYMENT, key, payload)]
    if event == "release":
        release = delivery.get("release")
        if not isinstance(release, dict):
            raise BadDelivery("a release delivery without release")
        if release.get("draft"):
            return []
        key = f"{repository}/releases/{release.get('id')}"
        return [RawPayload(EntityKind.RELEASE, key, {"repository": repository, "release": release})]
    return []  # ping and events we do not read


def receive_github(
    database: Database, source_name: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """A GitHub webhook delivery, checked against ``X-Hub-Signature-256``."""
    with database.transaction() as session:
        source = _source(session, source_name, "github")
        check_signature(source, headers, body, "x-hub-signature-256")
        try:
            delivery = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise BadDelivery(f"the body is not JSON: {error}") from None
        if not isinstance(delivery, dict):
            raise BadDelivery("the body must be a JSON object")
        event = headers.get("x-github-event", "")
        delivery_id = headers.get("x-github-delivery", "")
        payloads = _github_payloads(session, source, event, delivery, delivery_id)
        if not payloads:
            return Received(event=event, stored=False, mapped=False)
        received = _ingest(session, source, payloads)
        received.event = event
        if received.errors:
            raise BadDelivery(
                f"the {event} delivery cannot be mapped: {'; '.join(received.errors)}"
            )
        return received


def check_gitlab_token(source: Source, headers: Mapping[str, str]) -> None:
    """GitLab sends the webhook's secret token as it is in ``X-Gitlab-Token`` (no signature)."""
    given = headers.get("x-gitlab-token", "")
    if not hmac.compare_digest(given.encode(), _secret(source).encode()):
        raise _refuse(source, "missing or wrong X-Gitlab-Token")


def receive_gitlab(
    database: Database, source_name: str, headers: Mapping[str, str], body: bytes
) -> Received:
    """A GitLab webhook delivery (issue, merge request, pipeline, deployment or release
    event), merged into what the source holds and stored in the shapes a sync stores."""
    with database.transaction() as session:
        source = _source(session, source_name, "gitlab")
        check_gitlab_token(source, headers)
        try:
            delivery = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise BadDelivery(f"the body is not JSON: {error}") from None
        if not isinstance(delivery, dict):
            raise BadDelivery("the body must be a JSON object")
        event = headers.get("x-gitlab-event", "")

        def stored(kind: str, key: str) -> dict[str, Any] | None:
            found = latest_payloads(session, source.id, {kind: {key}})
            return dict(found[0][3]) if found else None

        try:
            payloads = hook_payloads(event, delivery, stored, source.options, utcnow())
        except HookError as error:
            log.warning("webhook for source %r rejected: %s", source.name, error)
            raise BadDelivery(str(error)) from None
        if not payloads:
            return Received(event=event, stored=False, mapped=False)
        received = _ingest(session, source, payloads)
        received.event = event
        if received.errors:
            raise BadDelivery(
                f"the {event} delivery cannot be mapped: {'; '.join(received.errors)}"
            )
        return received
