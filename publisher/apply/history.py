"""How far back `sync` looks for a copy of a post on the server: `look_back_days`, or further for a post file
that git first saw before that (a lost state of old posts).

Git is asked only when the history is whole (`git log --diff-filter=A`): a shallow clone, as CI makes by
default, shows every file as added in its one commit. A file renamed since it was added (git reports a rename,
not an addition) or not committed yet gets the window."""

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
        self._asked = False  # git is asked once per run, whatever it answers

    def first_seen(self, source: str) -> datetime:
        """The start of the window, or when git first saw the file if that is earlier. Git only widens the
        search: a post published by a local sync and committed later was on the server before git knew it."""
        added = (self._history() or {}).get(source)
        return self.window_start if added is None else min(added, self.window_start)

    def _history(self) -> dict[str, datetime] | None:
        if not self._asked:
            self._asked = True
            self._added = _added_times(self._git(_ADDED_LOG)) if self._whole_history() else None
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
