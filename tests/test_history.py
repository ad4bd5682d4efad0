"""When a post file first appeared: from a whole git history, else the configured window."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from publisher.apply.history import FileHistory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def git(root, *args, when="2026-11-01T10:00:00Z"):
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    env |= {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("A.")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "a")
    (tmp_path / "posts" / "b.md").write_text("B.")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "b", when="2026-11-20T08:00:00Z")
    return tmp_path


def test_a_file_git_saw_before_the_window_widens_it(repo):
    history = FileHistory(repo, NOW, timedelta(days=7))
    assert history.first_seen("posts/a.md") == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_a_file_committed_within_the_window_gets_the_window(repo):
    """A local sync may have published it before the commit: git never narrows the search."""
    history = FileHistory(repo, NOW, timedelta(days=7))
    assert history.first_seen("posts/b.md") == NOW - timedelta(days=7)


def test_a_renamed_or_uncommitted_file_gets_the_window(repo):
    git(repo, "mv", "posts/a.md", "posts/moved.md")
    git(repo, "commit", "-q", "-m", "mv", when="2026-11-22T08:00:00Z")
    (repo / "posts" / "new.md").write_text("New.")
    history = FileHistory(repo, NOW, WINDOW)
    assert history.first_seen("posts/moved.md") == NOW - WINDOW
    assert history.first_seen("posts/new.md") == NOW - WINDOW


def test_a_shallow_clone_or_no_git_gets_the_window(repo, tmp_path_factory):
    clone = tmp_path_factory.mktemp("clone")
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    assert FileHistory(clone, NOW, WINDOW).first_seen("posts/a.md") == NOW - WINDOW
    assert FileHistory(tmp_path_factory.mktemp("plain"), NOW, WINDOW).first_seen("posts/a.md") == NOW - WINDOW


def test_a_git_that_cannot_answer_gets_the_window(repo):
    history = FileHistory(repo, NOW, WINDOW, git=lambda arguments: None)
    assert history.first_seen("posts/a.md") == NOW - WINDOW


def test_git_is_asked_once_whatever_it_answers(repo):
    asked = []
    history = FileHistory(repo, NOW, WINDOW, git=lambda arguments: asked.append(arguments))
    for _ in range(3):
        history.first_seen("posts/a.md")
    assert len(asked) == 1
