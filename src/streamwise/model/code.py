"""Commits, pull requests, reviews, and the links between code and work items."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, SourceKeyed


class Commit(SourceKeyed, Base):
    __tablename__ = "commits"
    __table_args__ = (UniqueConstraint("source_id", "external_id"), Index("ix_commits_sha", "sha"))

    external_id: Mapped[str] = mapped_column(String(300))
    repository: Mapped[str] = mapped_column(String(300))
    sha: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    authored_at: Mapped[datetime]
    committed_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text, default="")
    branch: Mapped[str | None] = mapped_column(String(300))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )


class PullRequest(SourceKeyed, Base):
    """A pull or merge request. ``first_review_at`` and ``approved_at`` come from the payload
    or, when it has none, from the earliest reviews by someone other than the author."""

    __tablename__ = "pull_requests"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_pull_requests_repo_number", "repository", "number"),
    )

    external_id: Mapped[str] = mapped_column(String(300))
    repository: Mapped[str] = mapped_column(String(300))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | merged | closed
    created_at: Mapped[datetime]
    first_review_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    merged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64))
    base_branch: Mapped[str | None] = mapped_column(String(300))
    head_branch: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )


class Review(SourceKeyed, Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(300))
    pull_request_id: Mapped[int] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), index=True
    )
    reviewer: Mapped[str | None] = mapped_column(String(300))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(30))  # approved | changes_requested | commented
    submitted_at: Mapped[datetime]


class PullRequestCommit(Base):
    """A commit a pull request contains. Kept by sha so the commit may arrive later (or from
    another source); ``commit_id`` is filled in when it is known."""

    __tablename__ = "pull_request_commits"
    __table_args__ = (UniqueConstraint("pull_request_id", "commit_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    commit_sha: Mapped[str] = mapped_column(String(64), index=True)
    commit_id: Mapped[int | None] = mapped_column(
        ForeignKey("commits.id", ondelete="SET NULL"), index=True
    )


class CommitWorkItem(Base):
    """A commit ↔ work item link and how it was made (``method``: explicit, commit_message,
    branch_name), so a trace can explain it."""

    __tablename__ = "commit_work_items"
    __table_args__ = (UniqueConstraint("commit_id", "work_item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"))
    work_item_key: Mapped[str] = mapped_column(String(200), index=True)
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(50))


class PullRequestWorkItem(Base):
    """A pull request ↔ work item link (``method``: explicit, pr_title, pr_body, branch_name)."""

    __tablename__ = "pull_request_work_items"
    __table_args__ = (UniqueConstraint("pull_request_id", "work_item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    work_item_key: Mapped[str] = mapped_column(String(200), index=True)
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(50))
