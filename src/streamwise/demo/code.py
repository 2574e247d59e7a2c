"""GitHub and CI data that follows the work: commits, pull requests, reviews, CI runs.

Every development pass of an item that needs code becomes a pull request: commits while the
item is in development, the PR opened as it moves to review, reviews and the merge while it is
in review. Dependabot adds a trickle of PRs that name no work item, as it does in real repos.
"""

from dataclasses import dataclass, field
from math import log

import numpy as np

from streamwise.demo.clock import MINUTES_PER_DAY, WorkingClock
from streamwise.demo.organisation import CI_URL, DEBT, DEFECT, GITHUB_URL, RISK, STREAMS
from streamwise.demo.people import TeamPeople
from streamwise.demo.rows import DraftRow, seconds_of
from streamwise.demo.vocabulary import COMMIT_PHRASES, LIBRARIES, UNKEYED_COMMIT_MESSAGES, slug
from streamwise.demo.work import SimulatedItem

BOT = "dependabot[bot]"
BRANCH_PREFIX = {DEFECT: "bugfix", RISK: "security", DEBT: "chore"}
FOLLOW_UP_PR_SHARE = 0.5  # rework passes that get their own pull request
CHANGES_REQUESTED_SHARE = 0.3
COMMENTED_SHARE = 0.25
BOT_PRS_PER_WEEK = 0.4


@dataclass(slots=True)
class Commit:
    repository: str
    author: str
    minute: float | None  # working minute, or None when ``at`` is already in epoch seconds
    message: str
    branch: str
    at: float = 0.0  # epoch seconds of committing
    sha: str = ""


@dataclass(slots=True)
class PullRequest:
    repository: str
    title: str
    body: str
    author: str
    head_branch: str
    created: float  # epoch seconds from here on
    commits: list[Commit] = field(default_factory=list)
    reviews: list[tuple[float, str, str]] = field(default_factory=list)  # at, reviewer, state
    approved: float | None = None
    merged: float | None = None
    closed: float | None = None
    merger: str = ""
    number: int = 0
    merge_commit: Commit | None = None


@dataclass
class CodeData:
    commits: list[DraftRow]
    pull_requests: list[DraftRow]
    reviews: list[DraftRow]
    pipeline_runs: list[DraftRow]
    merges_by_repository: dict[str, list[PullRequest]]  # merged PRs, by merge time


class CodeGenerator:
    def __init__(
        self,
        items: list[SimulatedItem],
        people: dict[str, TeamPeople],
        clock: WorkingClock,
        rng: np.random.Generator,
        scale: float,
    ) -> None:
        self.items = items
        self.people = people
        self.clock = clock
        self.rng = rng
        self.scale = scale
        self.horizon = clock.horizon_seconds
        self.pull_requests: list[PullRequest] = []
        self.loose_commits: list[Commit] = []  # pushed to a branch, no PR yet

    def _epoch(self, minute: float) -> float:
        return self.clock.epoch(minute)

    def _item_pull_requests(self) -> None:
        rng = self.rng
        coded = [item for item in self.items if item.repository and item.cycles]
        draws = rng.random((len(coded), 8)).tolist()
        extra_commits = rng.poisson(0.3, len(coded) * 4).tolist()
        most = len(coded) * 4 * 5  # four passes of at most five commits each
        phrase_picks = rng.integers(0, len(COMMIT_PHRASES), most).tolist()
        unkeyed_picks = rng.random(most).tolist()
        offsets = rng.uniform(0.05, 0.9, most).tolist()
        cursor = 0  # next unused draw in the three lists above
        for n, item in enumerate(coded):
            assert item.repository is not None and item.assignee is not None
            author = item.assignee.github or item.assignee.jira
            reviewer = item.reviewer.github if item.reviewer and item.reviewer.github else author
            developers = self.people[item.team.key].developers
            commenter = developers[int(draws[n][0] * len(developers))].github or reviewer
            if commenter == author:  # a third colleague chimes in, never the author
                commenter = reviewer
            prefix = BRANCH_PREFIX.get(item.flow_type or "", "feature")
            base_branch = f"{prefix}/{item.key}-{slug(item.title)}"
            for j, cycle in enumerate(item.cycles[:4]):
                if j > 0 and draws[n][1 + j] >= FOLLOW_UP_PR_SHARE:
                    continue
                branch = base_branch if j == 0 else f"fix/{item.key}-follow-up-{j}"
                count = 1 + min(4, extra_commits[n * 4 + j])
                span = cycle.ready_at - cycle.develop_at
                commit_minutes = sorted(
                    cycle.develop_at + offsets[cursor + c] * span for c in range(count)
                )
                commits: list[Commit] = []
                for c, minute in enumerate(commit_minutes):
                    if c == 0:
                        message = f"{item.key} {item.title}"
                    elif unkeyed_picks[cursor + c] < 0.15:
                        message = UNKEYED_COMMIT_MESSAGES[
                            phrase_picks[cursor + c] % len(UNKEYED_COMMIT_MESSAGES)
                        ]
                    else:
                        phrase = COMMIT_PHRASES[phrase_picks[cursor + c]]
                        message = f"{item.key} {phrase.format(subject=item.title.lower())}"
                    commits.append(Commit(item.repository, author, minute, message, branch))
                cursor += count
                created_minute = cycle.develop_at + 0.95 * span
                title = item.title if j == 0 else "address findings from testing"
                pull = PullRequest(
                    repository=item.repository,
                    title=f"{item.key} {title}",
                    body=f"Closes {item.key}." if draws[n][5] < 0.7 else "",
                    author=author,
                    head_branch=branch,
                    created=self._epoch(created_minute),
                    commits=commits,
                    merger=reviewer,
                )
                length = cycle.reviewed_at - cycle.review_at
                start = cycle.review_at
                if draws[n][6] < COMMENTED_SHARE:
                    pull.reviews.append((self._epoch(start + 0.1 * length), commenter, "commented"))
                if draws[n][7] < CHANGES_REQUESTED_SHARE and j == 0:
                    at = start + 0.25 * length
                    pull.reviews.append((self._epoch(at), reviewer, "changes_requested"))
                    pull.commits.append(
                        Commit(
                            item.repository,
                            author,
                            start + 0.45 * length,
                            f"{item.key} address review comments",
                            branch,
                        )
                    )
                approved = self._epoch(start + 0.8 * length)
                pull.reviews.append((approved, reviewer, "approved"))
                pull.approved = approved
                pull.merged = self._epoch(start + 0.92 * length)
                pull.closed = pull.merged
                self.pull_requests.append(pull)

    def _bot_pull_requests(self) -> None:
        """Dependency bumps: opened early in the morning, reviewed and merged by the owners."""
        rng = self.rng
        weeks = self.clock.history_days / 5
        for stream in STREAMS:
            for repository in stream.repositories:
                team = next(t for t in stream.teams if repository in t.repositories)
                developers = self.people[team.key].developers
                count = int(rng.poisson(weeks * BOT_PRS_PER_WEEK * self.scale))
                days = rng.integers(0, self.clock.history_days, count).tolist()
                waits = rng.lognormal(log(8 * 60), 0.9, count).tolist()
                libraries = rng.integers(0, len(LIBRARIES), count).tolist()
                versions = rng.integers(1, 30, (count, 2)).tolist()
                closes = (rng.random(count) < 0.15).tolist()
                reviewers = rng.integers(0, len(developers), count).tolist()
                for k in range(count):
                    library = LIBRARIES[libraries[k]]
                    old, new = (
                        f"{versions[k][0]}.{versions[k][1]}.0",
                        f"{versions[k][0]}.{versions[k][1]}.1",
                    )
                    branch = f"dependabot/{library}-{new}"
                    opened = days[k] * MINUTES_PER_DAY + 5.0
                    reviewer = developers[reviewers[k]].github or BOT
                    pull = PullRequest(
                        repository=repository,
                        title=f"Bump {library} from {old} to {new}",
                        body="Bumps the dependency to its latest patch release.",
                        author=BOT,
                        head_branch=branch,
                        created=self._epoch(opened),
                        commits=[Commit(repository, BOT, opened - 2.0, f"Bump {library}", branch)],
                        merger=reviewer,
                    )
                    decided = self._epoch(opened + waits[k])
                    if closes[k]:
                        pull.closed = decided
                    else:
                        approved = max(pull.created, decided - 120.0)
                        pull.reviews.append((approved, reviewer, "approved"))
                        pull.approved = approved
                        pull.merged = decided
                        pull.closed = decided
                    self.pull_requests.append(pull)

    def _cut_at_horizon(self) -> None:
        """Keep what happened before the end of history: later commits vanish, later merges
        leave the PR open, PRs opened later leave their commits on the branch only."""
        horizon = self.horizon
        kept: list[PullRequest] = []
        for pull in self.pull_requests:
            for commit in pull.commits:
                if commit.minute is not None:
                    commit.at = self._epoch(commit.minute)
            pull.commits = [c for c in pull.commits if c.at < horizon]
            if pull.created >= horizon:
                self.loose_commits.extend(pull.commits)
                continue
            pull.reviews = [r for r in pull.reviews if r[0] < horizon]
            if pull.approved is not None and pull.approved >= horizon:
                pull.approved = None
            if pull.merged is not None and pull.merged >= horizon:
                pull.merged = None
            if pull.closed is not None and pull.closed >= horizon:
                pull.closed = None
            kept.append(pull)
        self.pull_requests = kept

    def _number_and_hash(self) -> None:
        """PR numbers per repository in order of opening (repositories predate the history),
        then shas for every commit and the merge commits."""
        by_repository: dict[str, list[PullRequest]] = {}
        for pull in self.pull_requests:
            by_repository.setdefault(pull.repository, []).append(pull)
        for repository in sorted(by_repository):
            pulls = sorted(by_repository[repository], key=lambda p: p.created)
            first = int(self.rng.integers(40, 900))
            for offset, pull in enumerate(pulls):
                pull.number = first + offset
                if pull.merged is not None:
                    pull.merge_commit = Commit(
                        repository,
                        pull.merger,
                        None,
                        f"Merge pull request #{pull.number} from acme/{pull.head_branch}",
                        "main",
                        at=pull.merged,
                    )
        commits = self.all_commits()
        raw = self.rng.bytes(20 * len(commits)).hex()
        for n, commit in enumerate(commits):
            commit.sha = raw[40 * n : 40 * n + 40]

    def all_commits(self) -> list[Commit]:
        commits = list(self.loose_commits)
        for pull in self.pull_requests:
            commits.extend(pull.commits)
            if pull.merge_commit is not None:
                commits.append(pull.merge_commit)
        return commits

    def generate(self) -> CodeData:
        self._item_pull_requests()
        self._bot_pull_requests()
        self._cut_at_horizon()
        self._number_and_hash()
        commits = sorted(self.all_commits(), key=lambda c: (c.repository, c.at, c.sha))
        return CodeData(
            commits=self._commit_rows(commits),
            pull_requests=self._pull_request_rows(),
            reviews=self._review_rows(),
            pipeline_runs=self._pipeline_runs(commits),
            merges_by_repository=self._merges(),
        )

    def _commit_rows(self, commits: list[Commit]) -> list[DraftRow]:
        amend = self.rng.random(len(commits)).tolist()
        delays = self.rng.uniform(60.0, 3600.0, len(commits)).tolist()
        rows: list[DraftRow] = []
        for n, commit in enumerate(commits):
            committed = commit.at
            authored = (
                committed - delays[n] if amend[n] < 0.2 and commit.branch != "main" else committed
            )
            rows.append(
                {
                    "repository": commit.repository,
                    "sha": commit.sha,
                    "author": commit.author,
                    "authored_at": max(authored, self.clock.start_seconds),
                    "committed_at": committed,
                    "message": commit.message,
                    "branch": commit.branch,
                }
            )
        return rows

    def _pull_request_rows(self) -> list[DraftRow]:
        rows: list[DraftRow] = []
        for pull in sorted(self.pull_requests, key=lambda p: (p.repository, p.number)):
            state = "merged" if pull.merged is not None else "closed" if pull.closed else "open"
            first_review = min((r[0] for r in pull.reviews), default=None)
            rows.append(
                {
                    "repository": pull.repository,
                    "number": pull.number,
                    "title": pull.title,
                    "body": pull.body,
                    "author": pull.author,
                    "state": state,
                    "created_at": pull.created,
                    "first_review_at": first_review,
                    "approved_at": pull.approved,
                    "merged_at": pull.merged,
                    "closed_at": pull.closed,
                    "merge_commit_sha": pull.merge_commit.sha if pull.merge_commit else None,
                    "base_branch": "main",
                    "head_branch": pull.head_branch,
                    "url": f"{GITHUB_URL}{pull.repository}/pull/{pull.number}",
                    "commits": [commit.sha for commit in pull.commits],
                }
            )
        return rows

    def _review_rows(self) -> list[DraftRow]:
        rows: list[DraftRow] = []
        for pull in sorted(self.pull_requests, key=lambda p: (p.repository, p.number)):
            for at, reviewer, state in sorted(pull.reviews):
                rows.append(
                    {
                        "repository": pull.repository,
                        "pull_request": pull.number,
                        "reviewer": reviewer,
                        "state": state,
                        "submitted_at": at,
                        "id": str(4_000_000 + len(rows)),
                    }
                )
        return rows

    def _pipeline_runs(self, commits: list[Commit]) -> list[DraftRow]:
        """One CI run per pushed commit; runs past the end of history are still running."""
        rng = self.rng
        count = len(commits)
        queued = rng.uniform(20.0, 180.0, count).tolist()
        durations = rng.lognormal(log(540.0), 0.45, count).tolist()
        outcome = rng.random(count).tolist()
        drafts: list[DraftRow] = []
        for n, commit in enumerate(commits):
            started = commit.at + queued[n]
            if started >= self.horizon:
                continue
            finished: float | None = started + durations[n]
            on_main = commit.branch == "main"
            failed_share = 0.05 if on_main else 0.12
            status = "failed" if outcome[n] < failed_share else "success"
            if not on_main and failed_share <= outcome[n] < failed_share + 0.02:
                status = "canceled"
            if finished is not None and finished >= self.horizon:
                status, finished = "running", None
            drafts.append(
                {
                    "name": "main-build" if on_main else "pull-request-checks",
                    "repository": commit.repository,
                    "sha": commit.sha,
                    "branch": commit.branch,
                    "status": status,
                    "started_at": started,
                    "finished_at": finished,
                }
            )
        drafts.sort(key=lambda row: (seconds_of(row, "started_at"), str(row["sha"])))
        for n, row in enumerate(drafts):
            run_id = str(8_000_000 + n)
            row["id"] = run_id
            row["url"] = f"{CI_URL}runs/{run_id}"
        return drafts

    def _merges(self) -> dict[str, list[PullRequest]]:
        merges: dict[str, list[PullRequest]] = {}
        for pull in self.pull_requests:
            if pull.merged is not None:
                merges.setdefault(pull.repository, []).append(pull)
        for pulls in merges.values():
            pulls.sort(key=lambda p: (p.merged or 0.0, p.number))
        return merges
