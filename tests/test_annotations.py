"""In a GitHub Actions job every problem is also a workflow command, shown on the pull request's diff."""

from __future__ import annotations

import pytest

from publisher.cli import app
from publisher.errors import Problem
from publisher.output.annotations import annotation
from tests.helpers import CliRunner, make_repo

BAD = {"bad.md": "---\nvisibility: everyone\n---\nHello", "fine.md": "A fine post."}


@pytest.mark.parametrize("command", [["check"], ["plan"], ["plan", "--markdown"], ["sync", "--dry-run"]])
def test_invalid_posts_are_annotated_in_github_actions(tmp_path, monkeypatch, command):
    config = make_repo(tmp_path / "repo", BAD)
    monkeypatch.chdir(tmp_path)  # the workspace: paths are relative to it, wherever publish.toml is
    result = CliRunner(env={"GITHUB_ACTIONS": "true"}).invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 2
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert line.startswith("::error file=repo/posts/bad.md,line=2,title=publish%3A visibility::visibility: ")
    assert "error: repo/posts/bad.md" not in result.stderr  # the plain line keeps its own form
    assert "error: posts/bad.md:2: visibility: " in result.stderr
    assert "::" not in result.stdout


def test_no_annotations_outside_github_actions(tmp_path):
    config = make_repo(tmp_path, BAD)
    result = CliRunner(env={"GITHUB_ACTIONS": None}).invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2 and "::error" not in result.stderr


def test_warnings_of_check_are_warning_annotations(tmp_path, monkeypatch):
    config = make_repo(tmp_path, {"long.md": "word " * 120})  # over Mastodon's default 500, nothing cached
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"GITHUB_ACTIONS": "true"}).invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0
    assert (
        "::warning file=posts/long.md,line=1,title=publish%3A text::text: 599/500 characters" in result.stderr
    )


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (Problem("publish.toml", None, "", "broken"), "::error file=publish.toml,title=publish::broken"),
        (
            Problem("posts/a,b:c.md", 3, "poll", "50% off\nnow", "a: b"),
            "::error file=posts/a%2Cb%3Ac.md,line=3,title=publish%3A poll"
            "::poll: 50%25 off%0Anow (hint: a: b)",
        ),
    ],
    ids=["no-line-no-field", "escaped"],
)
def test_annotation_escapes_what_github_would_misread(tmp_path, monkeypatch, problem, expected):
    monkeypatch.chdir(tmp_path)
    assert annotation("error", problem, tmp_path) == expected
