"""Words for titles, so items read like a real backlog instead of ``Item 123``."""

import re

import numpy as np

from streamwise.demo.organisation import DEBT, DEFECT, FEATURE, RISK

SUBJECTS: dict[str, tuple[str, ...]] = {
    "shop": (
        "product page", "search results", "basket", "checkout", "promo codes", "wishlist",
        "product filters", "delivery options", "order confirmation", "category page",
        "gift cards", "size guide", "returns form", "store locator",
    ),
    "payments": (
        "card payments", "refunds", "settlement report", "payouts", "3-D Secure",
        "invoice PDF", "ledger export", "chargebacks", "PayPal checkout", "SEPA direct debit",
        "currency conversion", "reconciliation job", "payment retries", "VAT calculation",
    ),
    "mobile": (
        "home feed", "login", "push notifications", "product details", "basket screen",
        "onboarding", "dark mode", "order tracking", "deep links", "wishlist",
        "app rating prompt", "offline mode", "biometric login", "image gallery",
    ),
    "platform": (
        "Kubernetes cluster", "Terraform modules", "API gateway", "auth tokens", "CI runners",
        "log pipeline", "alerting rules", "secrets store", "service mesh", "database backups",
        "cost dashboards", "base images", "rate limiter", "SSO integration",
    ),
}  # fmt: skip

FEATURE_TEMPLATES = (
    "Add {thing} to {subject}",
    "Support {thing} in {subject}",
    "Improve {subject} for returning customers",
    "Show {thing} on {subject}",
    "Redesign {subject}",
    "Let customers save {thing} in {subject}",
)
FEATURE_THINGS = (
    "sorting", "filters", "saved preferences", "A/B test", "tracking events", "localisation",
    "bulk actions", "CSV export", "recommendations", "tooltips", "inline validation",
)  # fmt: skip
DEFECT_TEMPLATES = ("{subject}: {symptom}", "Fix {symptom} in {subject}")
SYMPTOMS = (
    "wrong total shown", "crash on empty state", "timeout under load", "rounding error",
    "duplicate entries", "missing translation", "layout broken on small screens",
    "stale cache after update", "500 error for some users", "slow first load",
    "double submission", "wrong time zone",
)  # fmt: skip
VULNERABILITY_TEMPLATES = ("{cve} in {library}", "Upgrade {library} ({cve})")
SECURITY_TASK_TEMPLATES = (
    "Rotate credentials used by {subject}",
    "Security review of {subject}",
    "Enforce MFA for {subject} admin access",
    "Pen test finding: {subject} leaks internal IDs",
    "Add audit log for {subject}",
)
DEBT_TEMPLATES = (
    "Refactor {subject}",
    "Remove legacy {subject} code",
    "Increase test coverage of {subject}",
    "Upgrade {library} used by {subject}",
    "Split {subject} module",
)
LIBRARIES = (
    "jackson-databind", "log4j", "lodash", "openssl", "spring-boot", "urllib3", "axios",
    "netty", "protobuf", "okhttp", "react", "nginx",
)  # fmt: skip
EPIC_TEMPLATES = ("{subject} revamp", "{subject} reliability", "New {subject}", "{subject} v2")
COMMIT_PHRASES = (
    "implement {subject} change", "add tests", "address review comments", "handle edge case",
    "update copy", "clean up", "fix failing test", "add metrics", "wire up feature flag",
)  # fmt: skip
NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
UNKEYED_COMMIT_MESSAGES = ("wip", "fix typo", "lint", "rename variable", "format code")


def pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> list[str]:
    """``size`` choices from ``options`` (uniform), as plain strings."""
    return [options[i] for i in rng.integers(0, len(options), size=size).tolist()]


def item_titles(
    rng: np.random.Generator, stream_key: str, flow_types: list[str], security_task: list[bool]
) -> list[str]:
    """One title per item, by flow item type."""
    size = len(flow_types)
    subjects = pick(rng, SUBJECTS[stream_key], size)
    things = pick(rng, FEATURE_THINGS, size)
    symptoms = pick(rng, SYMPTOMS, size)
    libraries = pick(rng, LIBRARIES, size)
    years = rng.integers(2021, 2026, size=size).tolist()
    numbers = rng.integers(1000, 49999, size=size).tolist()
    template_pick = rng.random(size).tolist()
    titles: list[str] = []
    for i, flow_type in enumerate(flow_types):
        templates: tuple[str, ...]
        if flow_type == FEATURE:
            templates = FEATURE_TEMPLATES
        elif flow_type == DEFECT:
            templates = DEFECT_TEMPLATES
        elif flow_type == RISK:
            templates = SECURITY_TASK_TEMPLATES if security_task[i] else VULNERABILITY_TEMPLATES
        elif flow_type == DEBT:
            templates = DEBT_TEMPLATES
        else:
            templates = EPIC_TEMPLATES
        template = templates[int(template_pick[i] * len(templates))]
        title = template.format(
            subject=subjects[i],
            thing=things[i],
            symptom=symptoms[i],
            library=libraries[i],
            cve=f"CVE-{years[i]}-{numbers[i]}",
        )
        titles.append(title[0].upper() + title[1:])
    return titles


def slug(title: str, words: int = 4) -> str:
    """A branch-name fragment from a title: ``fix-rounding-error-in``."""
    return "-".join(NOT_ALPHANUMERIC.sub(" ", title.lower()).split()[:words])
