"""The fixed shape of the demo organisation: value streams, teams, workflows, services.

Everything random lives in the simulation modules; this module only says what exists, so the
YAML, the simulation and the docs describe the same organisation.
"""

from dataclasses import dataclass

ORGANISATION_NAME = "Acme Retail (demo)"
TIMEZONE = "Europe/Berlin"
JIRA_URL = "https://acme.atlassian.net/browse/"
GITHUB_URL = "https://github.com/"
CI_URL = "https://ci.acme.example/"
PAGERDUTY_URL = "https://acme.pagerduty.com/incidents/"

SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("jira", ("work_items", "transitions", "releases")),
    ("github", ("commits", "pull_requests", "reviews")),
    ("ci", ("pipeline_runs", "deployments")),
    ("pagerduty", ("incidents",)),
)

FEATURE, DEFECT, RISK, DEBT = "feature", "defect", "risk", "debt"
FLOW_TYPES = (FEATURE, DEFECT, RISK, DEBT)
SECURITY_LABEL = "security"


@dataclass(frozen=True)
class Workflow:
    """A Jira workflow by role of each status, so streams can name their statuses differently."""

    todo: str
    develop: str
    ready_for_review: str
    review: str
    ready_for_test: str
    test: str
    done: str
    canceled: str
    reopened: str
    develop_stage: str = "Development"
    review_stage: str = "Code Review"
    test_stage: str = "Testing"


STANDARD_WORKFLOW = Workflow(
    todo="To Do",
    develop="In Progress",
    ready_for_review="Ready for Review",
    review="In Review",
    ready_for_test="Ready for Test",
    test="In Test",
    done="Done",
    canceled="Won't Do",
    reopened="Reopened",
)
MOBILE_WORKFLOW = Workflow(
    todo="Open",
    develop="In Development",
    ready_for_review="Ready for Review",
    review="Code Review",
    ready_for_test="Ready for QA",
    test="In QA",
    done="Done",
    canceled="Won't Do",
    reopened="Reopened",
    review_stage="Review",
    test_stage="QA",
)


@dataclass(frozen=True)
class Phase:
    """A lognormal duration in working hours: its median and the spread of its logarithm."""

    median_hours: float
    sigma: float


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    project: str
    items: int  # work items (epics excluded) created over the two years at scale 1.0
    repositories: tuple[str, ...]  # where the team's code goes, the first most often
    developers: int
    testers: int


@dataclass(frozen=True)
class ServiceSpec:
    """A deployable service built from one repository; production deploys per week in the
    first and the second year of history (a change between them is planted truth d)."""

    name: str
    repository: str
    deploys_per_week: tuple[float, float]
    incident_topics: tuple[str, ...]


@dataclass(frozen=True)
class StreamSpec:
    key: str
    name: str
    description: str
    kind: str
    workflow: Workflow
    maps_waiting: bool  # False: every in-progress status is mapped active (planted truth b)
    teams: tuple[TeamSpec, ...]
    services: tuple[ServiceSpec, ...]
    extra_repositories: tuple[str, ...]  # repositories without a deployable service
    type_mix: tuple[float, float, float, float]  # feature, defect, risk, debt shares
    phases: dict[str, Phase]
    labels: tuple[str, ...]  # component labels sprinkled on items
    blocked_share: float = 0.18  # share of development passes that get flagged blocked
    sent_back_share: float = 0.15  # share of test passes sent back to development
    skip_test_share: float = 0.03  # share of items that go from review straight to done
    release_name: str = ""

    @property
    def projects(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(team.project for team in self.teams))

    @property
    def repositories(self) -> tuple[str, ...]:
        named = [service.repository for service in self.services]
        return tuple(dict.fromkeys([*named, *self.extra_repositories]))


BASE_PHASES: dict[str, Phase] = {
    "backlog": Phase(24.0, 1.2),
    "develop": Phase(10.0, 0.9),
    "ready_for_review": Phase(18.0, 1.0),
    "review": Phase(2.5, 0.9),
    "ready_for_test": Phase(20.0, 1.0),
    "test": Phase(4.0, 0.8),
    "blocked": Phase(20.0, 1.0),
    "reopen_after": Phase(40.0, 1.0),
    "reopened_wait": Phase(8.0, 1.0),
    "deprioritised": Phase(500.0, 1.0),
}


def phases(**changes: Phase) -> dict[str, Phase]:
    """The base durations with a stream's own differences."""
    return {**BASE_PHASES, **changes}


SHOP = StreamSpec(
    key="shop",
    name="Online Shop",
    description="Storefront, catalogue and checkout of the web shop.",
    kind="core",
    workflow=STANDARD_WORKFLOW,
    maps_waiting=True,
    teams=(
        TeamSpec(
            "storefront",
            "Storefront",
            "SHOP",
            3000,
            ("acme/storefront-web", "acme/catalog-service"),
            6,
            1,
        ),
        TeamSpec("checkout", "Checkout", "CART", 2800, ("acme/cart-service",), 5, 0),
    ),
    services=(
        ServiceSpec(
            "storefront-web",
            "acme/storefront-web",
            (3.0, 3.2),
            (
                "product pages slow to load",
                "images missing on category pages",
                "500 errors on the home page",
            ),
        ),
        ServiceSpec(
            "catalog-service",
            "acme/catalog-service",
            (1.5, 1.6),
            ("search returns no results", "prices out of date", "catalogue sync stuck"),
        ),
        ServiceSpec(
            "cart-service",
            "acme/cart-service",
            (2.0, 2.2),
            ("checkout errors", "basket loses items", "promo codes rejected"),
        ),
    ),
    extra_repositories=(),
    type_mix=(0.55, 0.27, 0.06, 0.12),
    # One tester serves both shop teams: work queues in Ready for Test (planted truth a).
    phases=phases(
        develop=Phase(14.0, 0.9),
        ready_for_review=Phase(10.0, 1.0),
        ready_for_test=Phase(95.0, 0.7),
    ),
    labels=("frontend", "search", "catalogue", "checkout-flow", "promotions", "seo"),
    sent_back_share=0.2,
    release_name="Shop",
)

PAYMENTS = StreamSpec(
    key="payments",
    name="Payments",
    description="Payment gateway, settlement and the ledger behind every order.",
    kind="core",
    workflow=STANDARD_WORKFLOW,
    maps_waiting=True,
    teams=(
        TeamSpec("pay-gateway", "Payment Gateway", "PAY", 2700, ("acme/payments-api",), 6, 1),
        TeamSpec(
            "pay-ledger",
            "Ledger & Billing",
            "PAY",
            2500,
            ("acme/ledger-service", "acme/payments-api"),
            5,
            1,
        ),
    ),
    services=(
        ServiceSpec(
            "payments-api",
            "acme/payments-api",
            (1.5, 1.5),
            ("card payments declined", "3-D Secure timeouts", "refunds failing"),
        ),
        ServiceSpec(
            "ledger-service",
            "acme/ledger-service",
            (1.0, 1.0),
            ("settlement job failed", "ledger out of balance", "invoice generation delayed"),
        ),
    ),
    extra_repositories=(),
    type_mix=(0.45, 0.28, 0.12, 0.15),
    phases=phases(),
    labels=("pci", "settlement", "psp", "refunds", "invoicing", "reconciliation"),
    release_name="Payments",
)

MOBILE = StreamSpec(
    key="mobile",
    name="Mobile App",
    description="The iOS and Android shopping apps and their backend-for-frontend.",
    kind="core",
    workflow=MOBILE_WORKFLOW,
    # The mobile board maps every status between Open and Done as active (planted truth b).
    maps_waiting=False,
    teams=(
        TeamSpec("mobile-ios", "iOS", "MOB", 2600, ("acme/mobile-app", "acme/mobile-bff"), 4, 1),
        TeamSpec(
            "mobile-android", "Android", "MOB", 2600, ("acme/mobile-app", "acme/mobile-bff"), 4, 1
        ),
    ),
    services=(
        ServiceSpec(
            "mobile-bff",
            "acme/mobile-bff",
            (2.0, 2.0),
            ("home feed errors", "login fails in the app", "slow product details"),
        ),
        ServiceSpec(
            "mobile-app",
            "acme/mobile-app",
            (0.5, 0.5),
            (
                "app crashes on start",
                "push notifications not delivered",
                "checkout button unresponsive",
            ),
        ),
    ),
    extra_repositories=(),
    type_mix=(0.55, 0.30, 0.04, 0.11),
    phases=phases(ready_for_test=Phase(22.0, 1.0)),
    labels=("onboarding", "wishlist", "push-notifications", "accessibility", "offline"),
    blocked_share=0.0,  # the mobile teams do not use Jira's flag
    sent_back_share=0.18,
    release_name="Mobile",
)

PLATFORM = StreamSpec(
    key="platform",
    name="Platform",
    description="Shared infrastructure, the API gateway and authentication for all products.",
    kind="supporting",
    workflow=STANDARD_WORKFLOW,
    maps_waiting=True,
    teams=(
        TeamSpec(
            "platform-infra",
            "Infrastructure",
            "PLAT",
            2600,
            ("acme/infrastructure", "acme/api-gateway"),
            5,
            0,
        ),
        TeamSpec(
            "platform-devex",
            "Developer Experience",
            "PLAT",
            2700,
            ("acme/auth-service", "acme/api-gateway"),
            5,
            0,
        ),
    ),
    # The platform moved to continuous delivery half-way through (planted truth d).
    services=(
        ServiceSpec(
            "api-gateway",
            "acme/api-gateway",
            (1.0, 5.0),
            ("gateway 5xx errors", "rate limiter blocks partners", "TLS certificate expired"),
        ),
        ServiceSpec(
            "auth-service",
            "acme/auth-service",
            (1.0, 5.0),
            ("token refresh failing", "SSO login loop", "password reset emails delayed"),
        ),
    ),
    extra_repositories=("acme/infrastructure",),
    type_mix=(0.35, 0.15, 0.20, 0.30),
    phases=phases(ready_for_review=Phase(26.0, 1.0), ready_for_test=Phase(14.0, 1.0)),
    labels=("kubernetes", "terraform", "observability", "ci", "cost"),
    sent_back_share=0.08,
    skip_test_share=0.5,
    release_name="Platform",
)

STREAMS: tuple[StreamSpec, ...] = (SHOP, PAYMENTS, MOBILE, PLATFORM)

# Raw Jira issue types per flow item type; risks are also Tasks labelled "security".
RAW_TYPES = {FEATURE: "Story", DEFECT: "Bug", RISK: "Vulnerability", DEBT: "Tech Debt"}
EPIC_TYPE = "Epic"
SECURITY_TASK_TYPE = "Task"
