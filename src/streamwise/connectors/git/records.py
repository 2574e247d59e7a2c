"""Git payloads → neutral records.

The reader (``reader.py``) stores everything a record needs in the payload, so parsing never
goes back to the repository (which may have moved on, or be gone):

- ``commit``: ``{"repository", "branch", "sha", "parents", "author": {"name", "email",
  "date"}, "committer": {…}, "message", "merged_into", "merged_branch"}`` — a commit
  reachable from the main branch. ``merged_branch`` names the branch a main-line merge brought
  it in from (read from the merge's message), so keys in branch names link work;
- ``release``: ``{"repository", "tag", "object", "annotated", "sha", "tagged_at", "tagger",
  "committed_at", "subject", "version", "value_stream"}`` — a tag matching the release
  pattern;
- ``deployment``: the same as a release plus ``{"service", "environment", "previous_tag",
  "previous_sha", "commits"}`` — a tag matching the deployment pattern, with the commits
  between the previous deployment tag and this one (``git rev-list previous..this``).

Dates are git's strict ISO 8601 (``%aI``, ``%cI``, ``taggerdate:iso-strict``), always with
their offset. Keys are ``repository@sha`` for commits and ``repository/tags/name`` for tags.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streamwise.connectors.base import (
    CommitRecord,
    DeploymentRecord,
    EntityKind,
    FieldError,
    ParseContext,
    Record,
    ReleaseRecord,
    parse_timestamp,
)
from streamwise.connectors.values import text_or_none

SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
"""A full object name: SHA-1 (40 hex digits) or SHA-256 (64)."""
UNREADABLE_DATES = frozenset({"%aI", "%cI"})
"""What ``git log`` prints instead of a date it cannot read from the commit object."""


def _required_text(payload: Mapping[str, Any], key: str) -> str:
    value = text_or_none(payload.get(key))
    if value is None:
        raise FieldError(key, f"{key} is missing")
    return value


def _sha(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not SHA.fullmatch(value):
        raise FieldError(key, f"{key} is {value!r}, not a full git object name")
    return value


def _time(value: Any, field_name: str, context: ParseContext) -> datetime:
    if value in (None, ""):
        raise FieldError(field_name, f"{field_name} is missing")
    if value in UNREADABLE_DATES:
        raise FieldError(field_name, "git cannot read this date from the commit object")
    return parse_timestamp(value, field_name, context)


def _person(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise FieldError(key, f"{key} is missing or not an object")
    return value


def parse_commit(payload: Mapping[str, Any], context: ParseContext) -> CommitRecord:
    """A main-branch commit; its branch is the one it was merged in from, when known."""
    author = _person(payload, "author")
    committer = _person(payload, "committer")
    return CommitRecord(
        repository=_required_text(payload, "repository"),
        sha=_sha(payload, "sha"),
        authored_at=_time(author.get("date"), "author.date", context),
        committed_at=_time(committer.get("date"), "committer.date", context),
        # The e-mail is git's stable identity (names get spelled many ways); map it to a
        # person under ``identities`` with the source's name.
        author=text_or_none(author.get("email")) or text_or_none(author.get("name")),
        message=str(payload.get("message") or ""),
        branch=text_or_none(payload.get("merged_branch")) or text_or_none(payload.get("branch")),
    )


def tag_time(payload: Mapping[str, Any], context: ParseContext) -> datetime:
    """When a tag was made: the tagger's date (annotated tags), else the tagged commit's."""
    if payload.get("tagged_at") not in (None, ""):
        return _time(payload["tagged_at"], "tagged_at", context)
    return _time(payload.get("committed_at"), "committed_at", context)


def _tag_id(payload: Mapping[str, Any]) -> str:
    return f"{_required_text(payload, 'repository')}/tags/{_required_text(payload, 'tag')}"


def parse_release(payload: Mapping[str, Any], context: ParseContext) -> ReleaseRecord:
    tag = _required_text(payload, "tag")
    _sha(payload, "sha")
    return ReleaseRecord(
        id=_tag_id(payload),
        name=tag,
        version=text_or_none(payload.get("version")) or tag,
        value_stream=text_or_none(payload.get("value_stream")),
        released_at=tag_time(payload, context),
    )


def parse_deployment(payload: Mapping[str, Any], context: ParseContext) -> DeploymentRecord:
    """A tag marks a finished, successful deployment made when the tag was."""
    commits = payload.get("commits")
    if not isinstance(commits, list):
        raise FieldError("commits", "commits is missing or not a list")
    for sha in commits:
        if not isinstance(sha, str) or not SHA.fullmatch(sha):
            raise FieldError("commits", f"commits holds {sha!r}, not a full git object name")
    at = tag_time(payload, context)
    tag = _required_text(payload, "tag")
    return DeploymentRecord(
        id=_tag_id(payload),
        service=_required_text(payload, "service"),
        environment=_required_text(payload, "environment"),
        status="success",
        started_at=at,
        finished_at=at,
        production=None,  # the organisation's production environments decide
        version=text_or_none(payload.get("version")) or tag,
        sha=_sha(payload, "sha"),
        commits=list(commits),
        commits_method="git_range",
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for git sources."""
    if entity_kind == EntityKind.COMMIT:
        return parse_commit(payload, context)
    if entity_kind == EntityKind.RELEASE:
        return parse_release(payload, context)
    if entity_kind == EntityKind.DEPLOYMENT:
        return parse_deployment(payload, context)
    raise KeyError(entity_kind)
