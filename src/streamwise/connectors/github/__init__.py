"""GitHub (github.com and Enterprise Server): pull requests with reviews and commits, commits
on the default branch, issues with their events, Actions runs, deployments, releases."""
