"""A first status mapping for a Jira source, from the category Jira gives every status.

Jira sorts each workflow status into one of three categories — To Do (``new``), In Progress
(``indeterminate``) and Done (``done``) — which match the Flow Framework's states closely
enough to start from. Where the two disagree is waiting: Jira counts a queue ("Ready for
test", "Blocked") as in progress or to do, so statuses whose names suggest a queue are proposed
as ``waiting`` and marked for a person to check. The result is YAML text to check and paste,
never applied on its own: mapping decides every metric, so a person confirms it.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

CATEGORY_STAGES = {
    "new": ("To Do", "new"),
    "indeterminate": ("In Progress", "active"),
    "done": ("Done", "done"),
}
"""Jira status category key → (stage name, flow state), in the order work moves."""
NO_CATEGORY = ("No category", "active")

WAITING_HINT = re.compile(
    r"\b(ready|waiting|wait|awaiting|blocked|on hold|hold|pending|queued|paused|to review)\b"
    r"|挂起|阻塞|^待",  # on hold, blocked, "to be …" (awaiting) in Chinese workflows
    re.IGNORECASE,
)
"""Words in a status name that suggest work waits there rather than being worked on."""

PLAIN_SCALAR = re.compile(r"[^\s:#,\[\]{}&*!|>'\"%@`?-][^:#,\[\]{}&*!|>'\"%@`]*")


@dataclass(frozen=True)
class ProposedStatus:
    name: str
    category: str
    """Jira's status category key (``new``, ``indeterminate``, ``done``), or "" if none."""
    flow_state: str
    check: str | None = None
    """Why a person should look at this line (None: it follows its category plainly)."""
    mapped_to: str | None = None
    """Where the current configuration maps it already (None: not mapped yet)."""


def _category(status: Mapping[str, Any]) -> str:
    category = status.get("statusCategory")
    key = category.get("key") if isinstance(category, Mapping) else None
    return str(key) if key in CATEGORY_STAGES else ""


def propose_statuses(
    statuses: Iterable[Mapping[str, Any]], mapped: Mapping[str, str]
) -> list[ProposedStatus]:
    """One proposal per status name (Jira repeats names across team-managed projects).

    ``mapped`` is status name → where the configuration maps it. A name whose copies sit in
    different categories takes the category of the copy shared by all projects, if any.
    """
    categories: dict[str, list[tuple[bool, str]]] = {}
    for status in statuses:
        name = str(status.get("name") or "").strip()
        if name:
            shared = not status.get("scope")
            categories.setdefault(name, []).append((shared, _category(status)))
    proposals = []
    for name, found in categories.items():
        category = next((c for shared, c in found if shared), found[0][1])
        flow_state = CATEGORY_STAGES.get(category, NO_CATEGORY)[1]
        checks = []
        if not category:
            checks.append("Jira gives it no status category")
        if category != "done" and WAITING_HINT.search(name):
            flow_state = "waiting"
            checks.append("the name suggests waiting")
        others = sorted({c or "none" for _, c in found} - {category or "none"})
        if others:
            checks.append(f"in some projects its category is {', '.join(others)}")
        proposals.append(
            ProposedStatus(name, category, flow_state, "; ".join(checks) or None, mapped.get(name))
        )
    return proposals


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    if PLAIN_SCALAR.fullmatch(text) and text == text.strip() and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string too


def proposal_yaml(source: str, status_count: int, proposals: list[ProposedStatus]) -> str:
    """The proposal as a YAML fragment (a ``stages:`` list) with comments for the reader."""
    waiting = sum(1 for p in proposals if p.mapped_to is None and p.flow_state == "waiting")
    lines = [
        f"# Stages for source {source!r}, proposed from the categories Jira gives its",
        f"# {status_count} statuses ({len(proposals)} names): To Do -> new, "
        "In Progress -> active, Done -> done.",
        f"# {waiting} are proposed as waiting because of their names; lines marked 'check' "
        "need a look.",
        "# Rename the stages as your teams say, paste them under a value stream's `stages:`",
        "# in streamwise.yaml, and run `streamwise config apply`.",
    ]
    already = [p for p in proposals if p.mapped_to is not None]
    if already:
        lines.append("# Mapped in the current configuration already, so left out below:")
        lines.extend(f"#   {p.name}: {p.mapped_to}" for p in already)
    stages: dict[tuple[str, str], list[ProposedStatus]] = {
        stage: [] for stage in [*CATEGORY_STAGES.values(), NO_CATEGORY]
    }
    for proposal in proposals:
        if proposal.mapped_to is None:
            stages[CATEGORY_STAGES.get(proposal.category, NO_CATEGORY)].append(proposal)
    if not any(stages.values()):
        lines.append("# Every status is mapped already.")
        lines.append("stages: []")
        return "\n".join(lines) + "\n"
    lines.append("stages:")
    for (stage, stage_state), members in stages.items():
        if not members:
            continue
        lines += [f"  - name: {_scalar(stage)}", f"    flow_state: {stage_state}", "    statuses:"]
        for member in members:
            entry = _scalar(member.name)
            if member.flow_state != stage_state:
                entry = f"{{status: {entry}, flow_state: {member.flow_state}}}"
            comment = f"  # check: {member.check}" if member.check else ""
            lines.append(f"      - {entry}{comment}")
    return "\n".join(lines) + "\n"
