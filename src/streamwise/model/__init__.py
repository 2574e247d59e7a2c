"""The common data model: every connector maps into these tables, nothing reads raw fields."""

from streamwise.model.base import Base, FlowItemType, FlowState, UTCDateTime
from streamwise.model.code import (
    Commit,
    CommitWorkItem,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    Review,
)
from streamwise.model.delivery import Deployment, DeploymentChange, Incident, PipelineRun
from streamwise.model.releases import Release, ReleaseItem
from streamwise.model.sources import RawRecord, Source, SyncState
from streamwise.model.streams import (
    Organisation,
    Person,
    PersonIdentity,
    Stage,
    StatusMapping,
    Team,
    TypeMapping,
    ValueStream,
)
from streamwise.model.work import Transition, TransitionKind, WorkItem

__all__ = [
    "Base",
    "Commit",
    "CommitWorkItem",
    "Deployment",
    "DeploymentChange",
    "FlowItemType",
    "FlowState",
    "Incident",
    "Organisation",
    "Person",
    "PersonIdentity",
    "PipelineRun",
    "PullRequest",
    "PullRequestCommit",
    "PullRequestWorkItem",
    "RawRecord",
    "Release",
    "ReleaseItem",
    "Review",
    "Source",
    "Stage",
    "StatusMapping",
    "SyncState",
    "Team",
    "Transition",
    "TransitionKind",
    "TypeMapping",
    "UTCDateTime",
    "ValueStream",
    "WorkItem",
]
