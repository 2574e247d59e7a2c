"""Jira Cloud and Data Center: issues with their full changelog, statuses, projects."""
