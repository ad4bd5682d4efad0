"""The CLI on the bundled examples: no token, no network."""

from __future__ import annotations

import json

import pytest

from publisher.cli import app
from tests.helpers import REPO, CliRunner, copy_example_repo

EXAMPLE_IDS = {"hello-world", "hello-reply", "caturday-keyboard", "bonjour", "2027/advent-of-toots"}


@pytest.fixture
def runner():
    return CliRunner(env={"MASTODON_TOKEN": ""})


def test_plan_on_the_bundled_examples_prints_every_post(runner, tmp_path):
    config = copy_example_repo(tmp_path)
    result = runner.invoke(app, ["plan", "--config", str(config)])
    assert result.exit_code == 0, result.output
    for post_id in EXAMPLE_IDS:
        assert f" {post_id}  (posts/" in result.stdout
    assert "content warning: Cat photos" in result.stdout
    assert "alt: A grey cat asleep on a black keyboard" in result.stdout
    assert "characters: " in result.stdout and "/500" in result.stdout
    assert "ideas" not in result.stdout  # a draft
    assert result.stdout.splitlines()[-1].startswith("Plan: 4 to create, 0 to edit")


def test_plan_json_is_stable_and_lists_every_post(runner, tmp_path):
    config = copy_example_repo(tmp_path)
    first = runner.invoke(app, ["plan", "--config", str(config), "--json"])
    second = runner.invoke(app, ["plan", "--config", str(config), "--json"])
    document = json.loads(first.stdout)
    assert {change["post"] for change in document["changes"]} == EXAMPLE_IDS
    assert document["summary"]["create"] == 4 and document["summary"]["schedule"] == 1
    drop_now = [{k: v for k, v in json.loads(out.stdout).items() if k != "now"} for out in (first, second)]
    assert drop_now[0] == drop_now[1]
    cat = next(change for change in document["changes"] if change["post"] == "caturday-keyboard")
    assert cat["status"]["media"][0]["alt"].startswith("A grey cat")
    assert cat["status"]["media"][0]["mime_type"] == "image/jpeg"


def test_sync_dry_run_prints_the_same_as_plan(runner, tmp_path):
    config = copy_example_repo(tmp_path)
    plan = runner.invoke(app, ["plan", "--config", str(config)])
    dry = runner.invoke(app, ["sync", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0 and dry.stdout == plan.stdout


def test_check_validates_without_network(runner, tmp_path):
    config = copy_example_repo(tmp_path)
    result = runner.invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0
    assert result.stdout == "ok: 5 files valid (5 statuses), 1 draft skipped\n"


def test_plan_in_the_repository_itself_works(runner, monkeypatch):
    monkeypatch.chdir(REPO)
    assert runner.invoke(app, ["plan"]).exit_code == 0


@pytest.mark.parametrize("command", sorted(c.name or c.callback.__name__ for c in app.registered_commands))
def test_every_command_has_help_text(runner, command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) > 3


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("publish ")
