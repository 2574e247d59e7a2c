"""Reading a git repository on this machine with the machine's ``git`` binary.

The source's URL is the repository's path (or a ``file://`` URL): its top directory, or the
repository directory itself for a bare clone. Everything is read through git's
machine-readable output (``git log -z`` with NUL-separated fields, ``git for-each-ref``), so
any message, name or path reads back exactly.

- commits: every commit reachable from the main branch, oldest first (parents before their
  children), ``PAGE_SIZE`` to a page. The cursor is the last commit stored; the next sync
  reads ``cursor..tip``. Every commit before the cursor in that order that is not one of its
  ancestors is read again, and stored again only if it changed, so an interrupted sync
  resumes without loss. When the cursor is no longer an ancestor of the branch (history was
  rewritten) the whole history is read again, and a warning says so.
- tags: all tags are listed every time (one cheap command); a tag is turned into payloads
  again only when it, or the deployment tag before it, changed since it was stored. The
  cursor records what each stored tag was.

Merges are kept as commits, not made into pull requests: a merge has no number, no creation
time, no reviews, and a repository also synced from GitHub or GitLab would count its pull
requests twice. Instead every commit a main-line merge brought in carries the merged branch's
name, read from the merge's message, for key linking.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.git.records import SHA, parse_payload
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.errors import SourceError

log = logging.getLogger(__name__)

PAGE_SIZE = 500
CURSOR_FORMAT = 1
"""Bumped when payloads change shape, so a stored cursor of the old shape reads everything."""
DEFAULT_RELEASE_TAG_PATTERN = r"^v?(?P<version>\d+\.\d+(?:\.\d+)?)$"
DEFAULT_ENVIRONMENT = "production"
OPTIONS = frozenset(
    {
        "branch",
        "repository",
        "service",
        "release_tag_pattern",
        "deployment_tag_pattern",
        "environment",
        "value_stream",
    }
)
LOCATING_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)
"""Variables a calling git hook may have set; they would make git read another repository."""
COMMIT_FORMAT = ("%H", "%P", "%aN", "%aE", "%aI", "%cN", "%cE", "%cI", "%B")
"""Author and committer through the repository's .mailmap (``%aN``), dates strict ISO 8601."""
GRAPH_FORMAT = ("%H", "%P", "%s")
TAG_FORMAT = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objecttype)",
    "%(*objectname)",
    "%(taggerdate:iso-strict)",
    "%(taggername)",
    "%(taggeremail)",
    "%(committerdate:iso-strict)",
    "%(*committerdate:iso-strict)",
    "%(contents:subject)",
)

# How tools word a merge commit's subject, and where the merged branch's name is in it.
MERGED_BRANCH = (
    re.compile(r"^Merge pull request #\d+ from [^/\s]+/(?P<branch>\S+)"),  # GitHub
    re.compile(r"^Merged in (?P<branch>\S+) \(pull request #\d+\)"),  # Bitbucket
    re.compile(r"^Merge remote-tracking branch '[^/']+/(?P<branch>[^']+)'"),  # git pull
    re.compile(r"^Merge branch '(?P<branch>[^']+)'"),  # git merge, GitLab
)
MERGED_BRANCHES = re.compile(r"^Merge (?P<remote>remote-tracking )?branches (?P<names>.+)")
"""An octopus merge: ``Merge branches 'a', 'b' and 'c'`` names parents 2, 3 and 4."""
QUOTED = re.compile(r"'([^']+)'")


def merged_branch_names(subject: str, merged_parents: int) -> list[str | None]:
    """The branch merged in through each parent after the first, from a merge's subject
    (None where the subject does not say)."""
    unknown: list[str | None] = [None] * merged_parents
    if merged_parents == 1:
        for pattern in MERGED_BRANCH:
            match = pattern.match(subject)
            if match:
                return [match.group("branch")]
        return unknown
    octopus = MERGED_BRANCHES.match(subject)
    if octopus is None:
        return unknown
    names = QUOTED.findall(octopus.group("names"))
    if octopus.group("remote"):
        names = [name.partition("/")[2] or name for name in names]
    if len(names) != merged_parents:
        return unknown
    return list(names)


@dataclass(frozen=True)
class GraphCommit:
    parents: tuple[str, ...]
    subject: str


def attribute_merges(
    graph: Mapping[str, GraphCommit], tip: str
) -> dict[str, tuple[str, str | None]]:
    """Commit → (the main-line merge that brought it in, the merged branch's name).

    Walks the first-parent line from ``tip`` back while it stays inside ``graph``, then, oldest
    merge first, claims every commit reachable from a merge's other parents that no earlier
    main-line commit reaches. ``graph`` may be just ``cursor..tip``: commits outside it are
    ancestors of the cursor, and the answer for the commits inside is the same as for the
    whole history.
    """
    line: list[str] = []
    sha: str | None = tip
    while sha is not None and sha in graph:
        line.append(sha)
        parents = graph[sha].parents
        sha = parents[0] if parents else None
    seen = set(line)
    merged: dict[str, tuple[str, str | None]] = {}
    for merge in reversed(line):
        others = graph[merge].parents[1:]
        names = merged_branch_names(graph[merge].subject, len(others)) if others else []
        for parent, name in zip(others, names, strict=True):
            stack = [parent]
            while stack:
                current = stack.pop()
                if current in seen or current not in graph:
                    continue
                seen.add(current)
                merged[current] = (merge, name)
                stack.extend(graph[current].parents)
    return merged


@dataclass(frozen=True)
class GitOptions:
    """The source's options, checked once when the connector is made."""

    branch: str | None = None
    repository: str | None = None
    service: str | None = None
    release_tags: re.Pattern[str] | None = None
    deployment_tags: re.Pattern[str] | None = None
    environment: str = DEFAULT_ENVIRONMENT
    value_stream: str | None = None

    @classmethod
    def of(cls, settings: SourceSettings) -> "GitOptions":
        options = settings.options
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise SourceError(
                f"source {settings.name!r}: unknown option {', '.join(map(repr, unknown))}; "
                f"a git source takes {', '.join(sorted(OPTIONS))}"
            )

        def name(key: str) -> str | None:
            value = options.get(key)
            if value is None or value == "":
                return None
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise SourceError(f"source {settings.name!r}: option {key} must be a name")
            return str(value).strip() or None

        def pattern(key: str, default: str | None) -> re.Pattern[str] | None:
            value = options.get(key, default)
            if value is None or value == "":
                return None  # given empty: these tags are not read
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise SourceError(
                    f"source {settings.name!r}: option {key} must be a regular expression, "
                    f"not {value!r}; quote it (-o \"{key}='^v[0-9]+$'\")"
                )
            try:
                return re.compile(str(value))
            except re.error as error:
                raise SourceError(
                    f"source {settings.name!r}: option {key} '{value}' is not a valid "
                    f"regular expression ({error})"
                ) from None

        branch = name("branch")
        if branch is not None and branch.startswith("-"):
            raise SourceError(f"source {settings.name!r}: option branch {branch!r} is not a name")
        return cls(
            branch=branch,
            repository=name("repository"),
            service=name("service"),
            release_tags=pattern("release_tag_pattern", DEFAULT_RELEASE_TAG_PATTERN),
            deployment_tags=pattern("deployment_tag_pattern", None),
            environment=name("environment") or DEFAULT_ENVIRONMENT,
            value_stream=name("value_stream"),
        )


def repository_path(settings: SourceSettings) -> Path:
    """The path in the source's URL: a plain path, ``~/…``, or a ``file://`` URL."""
    url = settings.base_url.strip()
    if url.lower().startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise SourceError(
                f"source {settings.name!r}: {url} names another host; a git source reads a "
                "repository on this machine (clone it here and give its path)"
            )
        return Path(unquote(parts.path))
    if "://" in url:
        raise SourceError(
            f"source {settings.name!r}: {url} is not a path; a git source reads a repository "
            "on this machine (clone it here and give its path)"
        )
    return Path(url).expanduser()


def _version(pattern: re.Pattern[str], match: re.Match[str], tag: str) -> str:
    """The ``version`` group of a tag pattern when it has one, else the whole tag."""
    if "version" in pattern.groupindex and match.group("version"):
        return match.group("version")
    return tag


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Tag:
    name: str
    object: str
    """What the tag points at: its tag object (annotated) or the commit (lightweight)."""
    annotated: bool
    sha: str
    """The tagged commit."""
    tagged_at: str | None
    tagger: str | None
    committed_at: str
    subject: str | None

    @property
    def order(self) -> tuple[datetime, str]:
        """Tags in the order they were made (an unreadable date sorts first)."""
        moment = _moment(self.tagged_at) or _moment(self.committed_at)
        return (moment or datetime.min.replace(tzinfo=UTC), self.name)


@dataclass
class GitRepository:
    """One repository on disk, and the git commands run in it."""

    source: str
    path: Path
    git: str
    git_dir: Path
    top: Path | None
    """The work tree's top directory; None for a bare repository."""
    running: set[subprocess.Popen[bytes]] = field(default_factory=set)

    @classmethod
    def open(cls, source: str, path: Path) -> "GitRepository":
        executable = shutil.which("git")
        if executable is None:
            raise SourceError(
                f"source {source!r}: the git program is not installed or not on PATH; "
                "install git (2.30 or newer) to read a local repository"
            )
        if not path.exists():
            raise SourceError(f"source {source!r}: {path} does not exist")
        if not path.is_dir():
            raise SourceError(f"source {source!r}: {path} is not a directory")
        resolved = path.resolve()
        probe = cls(source, resolved, executable, resolved, None)
        found = probe._run(["rev-parse", "--is-bare-repository", "--absolute-git-dir"], check=False)
        if found.returncode != 0:
            raise SourceError(
                f"source {source!r}: {path} is not a git repository "
                f"({_error_text(found.stderr) or 'git rev-parse failed'})"
            )
        bare, git_dir = found.stdout.decode("utf-8", "replace").splitlines()[:2]
        git_dir_path = Path(git_dir).resolve()
        top: Path | None = None
        if bare != "true" and git_dir_path != resolved:
            shown = probe._run(["rev-parse", "--show-toplevel"], check=False)
            if shown.returncode == 0 and shown.stdout.strip():
                top = Path(shown.stdout.decode("utf-8", "replace").strip()).resolve()
        if resolved not in (top, git_dir_path):
            root = top or git_dir_path
            raise SourceError(
                f"source {source!r}: {path} is inside the git repository {root}, not its top "
                f"directory; give {root} as the source's URL"
            )
        return cls(source, resolved, executable, git_dir_path, top)

    @property
    def default_name(self) -> str:
        """The directory name: ``shop`` for ``…/shop``, ``…/shop.git`` and ``…/shop/.git``."""
        if self.top is not None:
            return self.top.name
        if self.git_dir.name == ".git":
            return self.git_dir.parent.name
        return self.git_dir.name.removesuffix(".git") or self.git_dir.name

    # -- running git -------------------------------------------------------------------------
    def _command(self, args: Sequence[str]) -> list[str]:
        return [
            self.git,
            "-C",
            str(self.path),
            "-c",
            "log.showSignature=false",
            "-c",
            "color.ui=never",
            *args,
        ]

    def _environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k not in LOCATING_VARIABLES}
        environment["GIT_TERMINAL_PROMPT"] = "0"
        return environment

    def _failure(self, args: Sequence[str], stderr: bytes) -> SourceError:
        return SourceError(
            f"source {self.source!r}: `git {' '.join(args)}` failed in {self.path}: "
            f"{_error_text(stderr) or 'no message'}"
        )

    def _run(self, args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                self._command(args), capture_output=True, env=self._environment(), check=False
            )
        except OSError as error:
            raise SourceError(f"source {self.source!r}: cannot run {self.git}: {error}") from None
        if check and done.returncode != 0:
            raise self._failure(args, done.stderr)
        return done

    def text(self, *args: str) -> str:
        return self._run(args).stdout.decode("utf-8", "replace")

    def records(self, args: Sequence[str], fields: int) -> Iterator[list[str]]:
        """Records of ``fields`` NUL-terminated values each, read as git writes them (a long
        history is never held whole)."""
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(
                    self._command(args),
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    env=self._environment(),
                )
            except OSError as error:
                raise SourceError(
                    f"source {self.source!r}: cannot run {self.git}: {error}"
                ) from None
            self.running.add(process)
            try:
                assert process.stdout is not None
                pending = b""
                values: list[str] = []
                while chunk := process.stdout.read(1 << 16):
                    pieces = (pending + chunk).split(b"\x00")
                    pending = pieces.pop()
                    for piece in pieces:
                        values.append(piece.decode("utf-8", "replace"))
                        if len(values) == fields:
                            yield values
                            values = []
                if process.wait() != 0:
                    errors.seek(0)
                    raise self._failure(args, errors.read())
                if pending.strip() or values:
                    raise SourceError(
                        f"source {self.source!r}: `git {' '.join(args)}` in {self.path} "
                        "ended in the middle of a record"
                    )
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                self.running.discard(process)

    def stop(self) -> None:
        """End git processes still running (a sync stopped in the middle of a read)."""
        for process in list(self.running):
            if process.poll() is None:
                process.kill()
                process.wait()
        self.running.clear()

    # -- what is read ------------------------------------------------------------------------
    def main_branch(self, wanted: str | None) -> tuple[str, str | None]:
        """(the branch's name, its newest commit or None in a repository with no commits)."""
        if wanted is None:
            head = self._run(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
            if head.returncode != 0:
                raise SourceError(
                    f"source {self.source!r}: HEAD of {self.path} is not on a branch; name "
                    "the main branch with -o branch=main"
                )
            branch = head.stdout.decode("utf-8", "replace").strip()
            tip = self.commit_of(branch)
            if tip is None and self.has_commits():
                raise SourceError(
                    f"source {self.source!r}: HEAD of {self.path} is on {branch!r}, which has "
                    "no commits; name the main branch with -o branch=…"
                )
            return branch, tip
        tip = self.commit_of(wanted)
        if tip is None:
            raise SourceError(
                f"source {self.source!r}: option branch {wanted!r}: there is no such branch "
                f"in {self.path}"
            )
        return wanted, tip

    def has_commits(self) -> bool:
        """Whether any ref has a commit (an empty repository has nothing to read yet)."""
        return bool(self._run(["rev-list", "-n", "1", "--all"], check=False).stdout.strip())

    def commit_of(self, name: str) -> str | None:
        found = self._run(["rev-parse", "-q", "--verify", f"{name}^{{commit}}"], check=False)
        sha = found.stdout.decode("ascii", "replace").strip()
        return sha if found.returncode == 0 and SHA.fullmatch(sha) else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self._run(["merge-base", "--is-ancestor", older, newer], check=False).returncode == 0

    def graph(self, revisions: Sequence[str]) -> dict[str, GraphCommit]:
        """Parents and subject of every commit in ``revisions`` (for merge attribution)."""
        args = ["log", "-z", "--encoding=UTF-8", f"--format={'%x00'.join(GRAPH_FORMAT)}"]
        return {
            sha: GraphCommit(tuple(parents.split()), subject)
            for sha, parents, subject in self.records([*args, *revisions], len(GRAPH_FORMAT))
        }

    def commits(self, revisions: Sequence[str]) -> Iterator[list[str]]:
        """Every commit in ``revisions``, parents before children, as ``COMMIT_FORMAT``."""
        args = [
            "log",
            "-z",
            "--topo-order",
            "--reverse",
            "--encoding=UTF-8",
            f"--format={'%x00'.join(COMMIT_FORMAT)}",
        ]
        return self.records([*args, *revisions], len(COMMIT_FORMAT))

    def tags(self) -> list[Tag]:
        """Every tag of a commit (tags of trees or blobs are not releases of code)."""
        output = self._run(
            ["for-each-ref", f"--format={'%00'.join(TAG_FORMAT)}%00", "refs/tags"]
        ).stdout
        tags = []
        for line in output.split(b"\x00\n"):
            if not line.strip():
                continue
            values = [value.decode("utf-8", "replace") for value in line.split(b"\x00")]
            if values and values[-1] == "":
                values.pop()  # the terminator before the newline
            if len(values) != len(TAG_FORMAT):
                raise SourceError(
                    f"source {self.source!r}: `git for-each-ref` in {self.path} wrote a tag "
                    f"record of {len(values)} fields instead of {len(TAG_FORMAT)}"
                )
            tag = self._tag(values)
            if tag is not None:
                tags.append(tag)
        return tags

    def _tag(self, values: list[str]) -> Tag | None:
        (ref, kind, name, peeled_kind, peeled, tagged_at, tagger, email, committed, peeled_at,
         subject) = values  # fmt: skip
        tag_name = ref.removeprefix("refs/tags/")
        if kind == "commit":
            return Tag(tag_name, name, False, name, None, None, committed, None)
        if kind != "tag":
            return None
        sha, committed_at = peeled, peeled_at
        if peeled_kind == "tag":  # a tag of a tag: follow it to the commit, if any
            found = self.commit_of(f"refs/tags/{tag_name}")
            if found is None:
                return None
            sha = found
            committed_at = self.text("log", "-1", "--format=%cI", found).strip()
        elif peeled_kind != "commit":
            return None
        who = " ".join(part for part in (tagger, email.strip()) if part) or None
        return Tag(tag_name, name, True, sha, tagged_at or None, who, committed_at, subject or None)

    def range(self, previous: str, current: str) -> list[str]:
        """``git rev-list previous..current``: what ``current`` has that ``previous`` had not."""
        listed = self.text("rev-list", f"{previous}..{current}").split()
        return [sha for sha in listed if SHA.fullmatch(sha)]


def _error_text(stderr: bytes) -> str:
    return " ".join(stderr.decode("utf-8", "replace").split())


class GitConnector:
    """Syncs one local repository: the main branch's commits, then its tags."""

    kind = "git"
    entities = ("commits", "tags")
    parser = staticmethod(parse_payload)

    def __init__(self, settings: SourceSettings, page_size: int = PAGE_SIZE) -> None:
        self.settings = settings
        self.notes: list[str] = []
        """Told to the user after the sync (and logged)."""
        self.options = GitOptions.of(settings)
        self.path = repository_path(settings)
        self.page_size = page_size
        self._repository: GitRepository | None = None

    def close(self) -> None:
        if self._repository is not None:
            self._repository.stop()

    def _note(self, message: str) -> None:
        self.notes.append(message)
        log.warning("source %r: %s", self.settings.name, message)

    def repository(self) -> GitRepository:
        """The repository, opened on first use (so a missing one is recorded as the entity's
        sync error)."""
        if self._repository is None:
            self._repository = GitRepository.open(self.settings.name, self.path)
        return self._repository

    @property
    def repository_name(self) -> str:
        return self.options.repository or self.repository().default_name

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        if entity == "commits":
            yield from self._commits(cursor)
        elif entity == "tags":
            yield from self._tags(cursor)
        else:
            raise ValueError(entity)

    # -- commits -------------------------------------------------------------------------------
    def _commit_cursor(self, branch: str, sha: str) -> str:
        return json.dumps(
            {
                "format": CURSOR_FORMAT,
                "repository": self.repository_name,
                "branch": branch,
                "sha": sha,
            },
            sort_keys=True,
        )

    def _resume_point(self, cursor: str | None, branch: str, tip: str) -> str | None:
        """The commit to read after, or None to read the whole history (saying why)."""
        if cursor is None:
            return None
        stored = _json_object(cursor)
        sha = stored.get("sha")
        repository = self.repository()
        if (
            stored.get("format") != CURSOR_FORMAT
            or stored.get("repository") != self.repository_name
            or stored.get("branch") != branch
            or not isinstance(sha, str)
            or not SHA.fullmatch(sha)
        ):
            self._note(
                "the stored commit cursor is for another branch, repository name or format; "
                f"reading the whole history of {branch} again"
            )
            return None
        if sha != tip and not repository.is_ancestor(sha, tip):
            self._note(
                f"commit {sha}, where the last sync stopped, is no longer in the history of "
                f"{branch} (history was rewritten); reading the whole history again"
            )
            return None
        return sha

    def _commits(self, cursor: str | None) -> Iterator[Page]:
        repository = self.repository()
        branch, tip = repository.main_branch(self.options.branch)
        if tip is None:
            return  # no commits yet
        after = self._resume_point(cursor, branch, tip)
        if after == tip:
            yield Page("commits", [], cursor)
            return
        revisions = [tip] if after is None else [tip, f"^{after}"]
        merged = attribute_merges(repository.graph(revisions), tip)
        name = self.repository_name
        payloads: list[RawPayload] = []
        for values in repository.commits(revisions):
            payloads.append(_commit_payload(name, branch, values, merged))
            if len(payloads) == self.page_size:
                yield Page("commits", payloads, self._commit_cursor(branch, values[0]))
                payloads = []
        yield Page("commits", payloads, self._commit_cursor(branch, tip))

    # -- tags ----------------------------------------------------------------------------------
    def _tag_options(self) -> str:
        """What tag payloads depend on besides the tags: a change reads every tag again."""
        options = self.options
        described = {
            "format": CURSOR_FORMAT,
            "repository": self.repository_name,
            "service": options.service or self.repository_name,
            "environment": options.environment,
            "release": options.release_tags.pattern if options.release_tags else None,
            "deployment": options.deployment_tags.pattern if options.deployment_tags else None,
            "value_stream": options.value_stream,
        }
        text = json.dumps(described, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _tags(self, cursor: str | None) -> Iterator[Page]:
        repository = self.repository()
        options_digest = self._tag_options()
        stored = _json_object(cursor)
        done: dict[str, str] = {}
        if stored.get("options") == options_digest and isinstance(stored.get("tags"), dict):
            done = {str(k): str(v) for k, v in stored["tags"].items()}

        def dump() -> str:
            return json.dumps({"options": options_digest, "tags": done}, sort_keys=True)

        tags = sorted(repository.tags(), key=lambda tag: tag.order)
        previous: Tag | None = None
        payloads: list[RawPayload] = []
        tags_in_page = 0
        for tag in tags:
            release = self._release(tag)
            deployment_match = (
                self.options.deployment_tags.search(tag.name)
                if self.options.deployment_tags
                else None
            )
            if release is None and deployment_match is None:
                continue
            before = previous
            if deployment_match is not None:
                previous = tag
            fingerprint = " ".join(
                [tag.object, f"release={release is not None}"]
                + ([] if deployment_match is None else [f"after={before.object if before else ''}"])
            )
            if done.get(tag.name) == fingerprint:
                continue
            if release is not None:
                payloads.append(release)
            if deployment_match is not None:
                payloads.append(self._deployment(tag, deployment_match, before))
            done[tag.name] = fingerprint
            tags_in_page += 1
            if tags_in_page == self.page_size:
                yield Page("tags", payloads, dump())
                payloads, tags_in_page = [], 0
        names = {tag.name for tag in tags}
        done = {name: value for name, value in done.items() if name in names}
        yield Page("tags", payloads, dump())

    def _tag_payload(self, tag: Tag) -> dict[str, Any]:
        return {
            "repository": self.repository_name,
            "tag": tag.name,
            "object": tag.object,
            "annotated": tag.annotated,
            "sha": tag.sha,
            "tagged_at": tag.tagged_at,
            "tagger": tag.tagger,
            "committed_at": tag.committed_at,
            "subject": tag.subject,
        }

    def _release(self, tag: Tag) -> RawPayload | None:
        pattern = self.options.release_tags
        match = pattern.search(tag.name) if pattern else None
        if pattern is None or match is None:
            return None
        payload = self._tag_payload(tag)
        payload["version"] = _version(pattern, match, tag.name)
        payload["value_stream"] = self.options.value_stream
        return RawPayload(EntityKind.RELEASE, f"{self.repository_name}/tags/{tag.name}", payload)

    def _deployment(self, tag: Tag, match: re.Match[str], previous: Tag | None) -> RawPayload:
        """A deployment tag ships what it has that the previous deployment tag had not; the
        first has no previous one to compare with, so its changes are not known."""
        pattern = self.options.deployment_tags
        assert pattern is not None
        payload = self._tag_payload(tag)
        payload.update(
            version=_version(pattern, match, tag.name),
            service=self.options.service or self.repository_name,
            environment=self.options.environment,
            previous_tag=previous.name if previous else None,
            previous_sha=previous.sha if previous else None,
            commits=self.repository().range(previous.sha, tag.sha) if previous else [],
        )
        return RawPayload(EntityKind.DEPLOYMENT, f"{self.repository_name}/tags/{tag.name}", payload)


def _commit_payload(
    repository: str,
    branch: str,
    values: list[str],
    merged: Mapping[str, tuple[str, str | None]],
) -> RawPayload:
    sha, parents, author, author_email, authored, committer, committer_email, committed, body = (
        values
    )
    merge, merged_branch = merged.get(sha, (None, None))
    return RawPayload(
        EntityKind.COMMIT,
        f"{repository}@{sha}",
        {
            "repository": repository,
            "branch": branch,
            "sha": sha,
            "parents": parents.split(),
            "author": {"name": author, "email": author_email, "date": authored},
            "committer": {"name": committer, "email": committer_email, "date": committed},
            "message": body.rstrip("\n"),
            "merged_into": merge,
            "merged_branch": merged_branch,
        },
    )


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
