"""When did a post file first appear? Bounds how far back `sync` looks for a copy of a post on the server.

From git when the history is whole (`git log --diff-filter=A`): a shallow clone, as CI makes by default,
shows every file as added in its one commit, so it is not asked. Without git, or for a file renamed
since it was added (git reports a rename, not an addition), the configured window."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

GIT_TIMEOUT = 20.0  # seconds; a history too large to read in that time gets the window instead

Git = Callable[[list[str]], str | None]  # arguments after `git -C root`; None when git cannot answer


def run_git(root: Path) -> Git:
    def git(arguments: list[str]) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *arguments],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    return git


class FileHistory:
    """first_seen(source): the earliest moment a post file can have been published from."""

    def __init__(self, root: Path, now: datetime, look_back: timedelta, git: Git | None = None):
        self.root = root
        self.now = now
        self.window_start = now - look_back
        self._git = git or run_git(root)
        self._added: dict[str, datetime] | None = None

    def first_seen(self, source: str) -> datetime:
        added = self._history()
        if added is None:  # no usable history: the configured window
            return self.window_start
        # Not added under this name (renamed since, or not committed yet): the window.
        return min(added.get(source, self.window_start), self.now)

    def _history(self) -> dict[str, datetime] | None:
        if self._added is None and self._whole_history():
            self._added = _added_times(self._git(_ADDED_LOG))
        return self._added

    def _whole_history(self) -> bool:
        answer = self._git(["rev-parse", "--is-shallow-repository"])
        if answer is None or answer.strip() != "false":
            log.debug("no whole git history in %s: looking back %s", self.root, self.now - self.window_start)
            return False
        return True


# Paths relative to the folder of publish.toml, each under the time of the commit that added it.
_ADDED_LOG = ["log", "--diff-filter=A", "--relative", "--name-only", "--format=%x00%ct"]


def _added_times(output: str | None) -> dict[str, datetime] | None:
    if output is None:
        return None
    added: dict[str, datetime] = {}
    for entry in output.split("\0")[1:]:
        stamp, _, names = entry.partition("\n")
        try:
            moment = datetime.fromtimestamp(int(stamp.strip()), UTC)
        except (ValueError, OverflowError):
            continue
        for name in filter(None, (line.strip() for line in names.splitlines())):
            added[name] = min(added.get(name, moment), moment)
    return added
