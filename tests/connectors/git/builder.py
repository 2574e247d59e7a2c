"""Real git repositories for the tests, built with the machine's git and fixed dates."""

import os
import subprocess
from pathlib import Path

ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Builder", "bob@example.com")


class Repository:
    """A repository under construction: every commit and tag gets the date it is given."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.files = 0
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str, at: str | None = None, who: tuple[str, str] = ADA) -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        environment.update(
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME=who[0],
            GIT_AUTHOR_EMAIL=who[1],
            GIT_COMMITTER_NAME=who[0],
            GIT_COMMITTER_EMAIL=who[1],
        )
        if at is not None:
            environment.update(GIT_AUTHOR_DATE=at, GIT_COMMITTER_DATE=at)
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def commit(self, message: str, at: str, who: tuple[str, str] = ADA) -> str:
        """A commit that adds one file (so merges are real merges of different changes)."""
        self.files += 1
        (self.path / f"file{self.files}.txt").write_text(f"{message}\n")
        self.git("add", f"file{self.files}.txt")
        self.git("commit", "-q", "-m", message, at=at, who=who)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def switch(self, branch: str, create: bool = False) -> None:
        self.git("checkout", "-q", *(["-b"] if create else []), branch)

    def merge(self, branch: str, message: str, at: str) -> str:
        self.git("merge", "-q", "--no-ff", "-m", message, branch, at=at)
        return self.head()

    def tag(self, name: str, target: str = "HEAD", at: str | None = None, note: str = "") -> None:
        """A lightweight tag, or an annotated one made at ``at`` when a note is given."""
        if note:
            self.git("tag", "-a", name, "-m", note, target, at=at)
        else:
            self.git("tag", name, target)

    def commit_with_bad_date(self, message: str) -> str:
        """A commit object whose author date git cannot read (as a broken import leaves),
        written directly and put on top of the current branch."""
        parent = self.head()
        tree = self.git("rev-parse", "HEAD^{tree}")
        body = (
            f"tree {tree}\nparent {parent}\n"
            "author Ada Lovelace <ada@example.com> not-a-date +0000\n"
            "committer Ada Lovelace <ada@example.com> 1741248000 +0100\n\n"
            f"{message}\n"
        )
        (self.path.parent / "object.txt").write_text(body)
        sha = self.git(
            "hash-object", "-t", "commit", "-w", "--literally", str(self.path.parent / "object.txt")
        )
        branch = self.git("symbolic-ref", "HEAD")
        self.git("update-ref", branch, sha)
        return sha
