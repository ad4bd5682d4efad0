"""Every `--json` document, on success and on failure: versioned, on stdout, with the command's exit code,
and shaped as the README's table says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main

from publisher.cli import Collaborators, app, main
from publisher.errors import AuthError, MissingToken, PublishError
from publisher.output.failure import error_dict
from tests.helpers import REPO, CliRunner
from tests.sync_support import ENV, TOKEN, example_repo

# How to run each command that takes --json: its arguments, and whether it needs a token.
INVOCATIONS = {
    "check": ["check"],
    "plan": ["plan", "--offline"],
    "sync": ["sync"],
    "sync --dry-run": ["sync", "--dry-run", "--offline"],
    "whoami": ["whoami"],
    "status": ["status"],
    "state": ["state"],
    "import": ["import", "--dry-run"],
    "limits": ["limits"],
}
ASKS_THE_SERVER = ("sync", "whoami", "import")
ERROR_FIELDS = {"type", "message", "hint", "http_status", "exit_code"}
PROBLEM_FIELDS = {"path", "line", "field", "message", "hint"}


def commands_with_json(command=None, path: tuple[str, ...] = ()) -> list[str]:
    """Every command and group of the CLI that has a --json option, as typed after `publish`."""
    command = command or typer.main.get_command(app)
    found = [" ".join(path)] if path and any("--json" in param.opts for param in command.params) else []
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += commands_with_json(sub, (*path, name))
    return found


def run(name: str, config: Path, env: dict[str, str] | None = None):
    arguments = [*INVOCATIONS[name], "--json", "--config", str(config)]
    return CliRunner(env=ENV if env is None else env).invoke(app, arguments)


def readme_table() -> dict[str, set[str]]:
    """The README's table of JSON documents: each command (`sync --dry-run`, …, and `failure`) → its
    top-level fields (what the parentheses say of nested ones left out)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = {}
    for commands, fields in re.findall(
        r"^\| (`publish .+? --json`|any .+?) \| (.+) \|$", readme, re.MULTILINE
    ):
        top_level = set(re.findall(r"`(\w+)`", re.sub(r"\([^()]*\)", "", fields)))
        for name in re.findall(r"`publish (.+?) --json`", commands) or ["failure"]:
            table[name] = top_level
    return table


@pytest.fixture
def repo(tmp_path, fake_server) -> Path:
    return example_repo(tmp_path, fake_server.url)


def break_config(config: Path) -> Path:
    config.write_text(config.read_text().replace("[defaults]", "[defaults]\nvisibilty = 'public'"))
    return config


def test_the_table_below_covers_every_command_with_json():
    assert sorted(INVOCATIONS) == sorted({*commands_with_json(), "sync --dry-run"})


@pytest.mark.parametrize("name", commands_with_json() + ["sync --dry-run"])
def test_a_successful_document_is_versioned_and_shaped_as_the_readme_says(name, repo):
    result = run(name, repo)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == 1
    assert set(document) == readme_table()[name]


@pytest.mark.parametrize("name", commands_with_json() + ["sync --dry-run"])
def test_invalid_config_prints_its_problems_as_json_and_exits_2(name, repo):
    result = run(name, break_config(repo))
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert set(document) == readme_table()["failure"] and document["version"] == 1
    assert set(document["error"]) == ERROR_FIELDS and document["error"]["exit_code"] == 2
    assert document["error"]["type"] == "InvalidInput"
    (problem,) = document["problems"]
    assert set(problem) == PROBLEM_FIELDS
    assert problem["path"] == "publish.toml" and problem["field"] == "defaults.visibilty"
    assert "visibility" in problem["hint"]
    assert "error: publish.toml" in result.stderr  # people still read it on stderr


@pytest.mark.parametrize("name", ["check", "plan", "sync", "sync --dry-run"])
def test_an_invalid_post_is_a_problem_with_its_file_line_and_field(name, repo):
    post = repo.parent / "posts" / "bad.md"
    post.write_text("---\nvisibility: loud\n---\nHello\n")
    result = run(name, repo)
    assert result.exit_code == 2, result.output
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["path"], problem["line"], problem["field"]) == ("posts/bad.md", 2, "visibility")


@pytest.mark.parametrize("name", ASKS_THE_SERVER)
def test_a_rejected_token_is_an_error_with_the_http_status_and_exit_1(name, repo):
    result = run(name, repo, env={"MASTODON_TOKEN": "revoked-token-0123456789abcdef"})
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["problems"] == [] and document["error"]["http_status"] == 401
    assert document["error"]["exit_code"] == 1 and document["error"]["message"]
    assert "revoked-token-0123456789abcdef" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ASKS_THE_SERVER)
def test_a_missing_token_is_an_error_with_its_hint_and_exit_2(name, repo):
    result = run(name, repo, env={"MASTODON_TOKEN": ""})
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "MissingToken" and error["exit_code"] == 2
    assert error["message"] == "account 'main': environment variable MASTODON_TOKEN is not set or empty"
    assert error["hint"].startswith("export MASTODON_TOKEN=")


def test_a_broken_state_file_is_a_problem_of_that_file(repo):
    (repo.parent / "publish.state.json").write_text("{not json")
    for name in ("status", "state"):
        result = run(name, repo)
        assert result.exit_code == 2
        assert json.loads(result.stdout)["problems"][0]["path"] == "publish.state.json"


def test_without_json_a_failure_prints_nothing_on_stdout(repo):
    result = CliRunner().invoke(app, ["check", "--config", str(break_config(repo))])
    assert result.exit_code == 2 and result.stdout == ""


class BrokenClock:
    def now(self):
        raise RuntimeError("the clock fell off the wall")


def test_an_unexpected_error_is_a_bug_document_with_exit_1(repo, capsys, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    with pytest.raises(SystemExit) as exited:
        main(["check", "--json", "--config", str(repo)], obj=Collaborators(clock=BrokenClock()))
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert exited.value.code == 1 and document["version"] == 1
    assert (
        document["error"]["type"] == "Bug" and "the clock fell off the wall" in document["error"]["message"]
    )
    assert "this is a bug in publish" in err


@pytest.mark.parametrize(
    "error, parts",
    [
        (PublishError("plain"), ("plain", None)),
        (PublishError("x is wrong", hint="do y"), ("x is wrong", "do y")),
        (PublishError("x", hint="call f(1)"), ("x", "call f(1)")),
        (PublishError("x (see y) and z"), ("x (see y) and z", None)),
        (PublishError("x", hint="a\nb"), ("x", "a\nb")),
        (
            MissingToken("MY_TOKEN", "main"),
            (
                "account 'main': environment variable MY_TOKEN is not set or empty",
                "export MY_TOKEN=<access token>, or store it as a CI secret",
            ),
        ),
        (
            AuthError("nope", status=401, method="GET", path="/p", hint="log in"),
            ("GET /p: HTTP 401: nope", "log in"),
        ),
    ],
)
def test_the_hint_is_kept_apart_from_the_message(error, parts):
    document = error_dict(error)
    assert (document["message"], document["hint"]) == parts
    assert str(error) == (f"{parts[0]} (hint: {parts[1]})" if parts[1] else parts[0])
