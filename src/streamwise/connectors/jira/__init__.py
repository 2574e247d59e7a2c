"""Jira Cloud and Data Center: issues with their full changelog, statuses, projects, fix
versions (as releases) and, from Jira Software, sprints."""
