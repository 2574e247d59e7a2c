"""A git repository on this machine, read with the machine's own ``git``: the main branch's
commits, and the tags that mark releases and deployments (no tool API, no token)."""
