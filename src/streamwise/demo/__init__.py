"""A deterministic, seeded demo organisation: four value streams with two years of Jira,
GitHub, CI and PagerDuty history, ready for the file import (see docs/demo.md)."""

from streamwise.demo.generator import DemoOrganisation, generate, write_demo

__all__ = ["DemoOrganisation", "generate", "write_demo"]
