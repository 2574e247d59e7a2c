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
from streamwise.model.facts import (
    ChangeFact,
    DeploymentFact,
    ItemFact,
    ItemStageTime,
    StageInterval,
    StreamDayDeployments,
    StreamDayItems,
)
from streamwise.model.releases import Release, ReleaseItem
from streamwise.model.sources import RawRecord, Source, SyncState
from streamwise.model.sprints import Sprint, SprintItem, SprintState
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
    "ChangeFact",
    "Commit",
    "CommitWorkItem",
    "Deployment",
    "DeploymentChange",
    "DeploymentFact",
    "FlowItemType",
    "FlowState",
    "Incident",
    "ItemFact",
    "ItemStageTime",
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
    "Sprint",
    "SprintItem",
    "SprintState",
    "Stage",
    "StageInterval",
    "StatusMapping",
    "StreamDayDeployments",
    "StreamDayItems",
    "SyncState",
    "Team",
    "Transition",
    "TransitionKind",
    "TypeMapping",
    "UTCDateTime",
    "ValueStream",
    "WorkItem",
]
