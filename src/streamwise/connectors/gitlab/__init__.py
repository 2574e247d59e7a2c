"""GitLab (gitlab.com and self-managed): issues with their state and label events, merge
requests with approvals, notes and commits, commits on the default branch, pipelines,
deployments with the commits they shipped, releases."""
