"""`publish init` and `publish new`: repositories that `publish check` accepts, never overwritten."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from publisher import ACTION_REPOSITORY, __version__
from publisher import app as library
from publisher.cli import app
from publisher.clock import FakeClock
from publisher.scaffold.starter import GITIGNORE_ENTRIES, InvalidPostName, PostExists, new_post, slugify
from tests.helpers import CliRunner

SCAFFOLD = {
    "publish.toml",
    "posts/hello-world.md",
    "templates/default.txt.j2",
    ".github/workflows/publish.yml",
}


@pytest.fixture
def runner():
    return CliRunner(env={"MASTODON_TOKEN": ""})


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def init(runner: CliRunner, root: Path, *extra: str):
    return runner.invoke(app, ["init", str(root), *extra])


def load_workflow(root: Path) -> dict:
    workflow = yaml.safe_load((root / ".github/workflows/publish.yml").read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean True; GitHub reads it as "on".
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_init_in_an_empty_folder_makes_a_repository_that_check_accepts(runner, tmp_path):
    result = init(runner, tmp_path / "blog")
    assert result.exit_code == 0, result.output
    root = tmp_path / "blog"
    assert set(snapshot(root)) == SCAFFOLD | {".gitignore"}
    assert all(f"wrote    {name}" in result.stdout for name in SCAFFOLD)
    checked = runner.invoke(app, ["check", "--config", str(root / "publish.toml")])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == "ok: 0 files valid (0 statuses), 1 draft skipped\n"


def test_the_example_post_renders_once_it_is_no_longer_a_draft(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    example = tmp_path / "posts/hello-world.md"
    example.write_text(
        example.read_text(encoding="utf-8").replace("draft: true", "draft: false"), encoding="utf-8"
    )
    (post,) = library.check(tmp_path / "publish.toml").posts
    assert post.post_id == "hello-world" and post.text.startswith("Hello, fediverse!")
    assert post.text.endswith("#introduction")


def test_the_default_template_is_the_packaged_one_byte_for_byte(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    packaged = (files("publisher") / "source" / "templates" / "default.txt.j2").read_bytes()
    assert (tmp_path / "templates/default.txt.j2").read_bytes() == packaged


def action_steps(job: dict) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{ACTION_REPOSITORY}@")]


def test_the_workflow_plans_pull_requests_and_syncs_main_on_push_and_schedule(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    workflow = load_workflow(tmp_path)
    triggers = workflow["on"]
    assert "pull_request" in triggers and "workflow_dispatch" in triggers
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"][0]["cron"] == "*/15 * * * *"
    assert workflow["permissions"] == {}
    plan, sync = workflow["jobs"]["plan"], workflow["jobs"]["sync"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert plan["concurrency"] == {
        "group": "publish-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    (planning,) = action_steps(plan)
    assert planning["with"] == {"command": "plan", "comment": True, "version": __version__}
    assert sync["concurrency"] == {"group": "publish", "cancel-in-progress": False}
    assert sync["permissions"] == {"contents": "write"}


def test_the_sync_job_runs_the_action_with_the_secret_and_ends_before_its_timeout(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    sync = load_workflow(tmp_path)["jobs"]["sync"]
    (syncing,) = action_steps(sync)
    assert syncing["env"] == {"MASTODON_TOKEN": "${{ secrets.MASTODON_TOKEN }}"}
    assert syncing["with"] == {"command": "sync", "args": "--max-duration 1500", "version": __version__}
    # commit-state is left at its default, true: the state file is committed back after every sync.
    max_duration = int(syncing["with"]["args"].split()[-1])
    assert sync["timeout-minutes"] * 60 - max_duration >= 300  # install, a slow last post, the commit


def test_the_sync_job_restores_and_saves_a_fresh_cache_every_run(runner, tmp_path):
    """A cache key cannot be saved twice: a key with the run id saves every run, the prefix restores."""
    assert init(runner, tmp_path).exit_code == 0
    steps = load_workflow(tmp_path)["jobs"]["sync"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    order = ("actions/cache/restore", ACTION_REPOSITORY, "actions/cache/save")
    first, action, last = (uses.index(name) for name in order)
    assert first < action < last
    restore, save = steps[first], steps[last]
    assert restore["with"]["path"] == save["with"]["path"] == ".publish-cache/"
    assert restore["with"]["key"] == save["with"]["key"]
    assert "${{ github.run_id }}" in save["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert save["if"] == "always()"  # the cache is good after a failed sync too


def test_the_workflow_uses_this_releases_action_and_package(runner, tmp_path):
    """PyPI's `publish` is another project: the workflow installs mastodon-publish, through the action."""
    assert init(runner, tmp_path).exit_code == 0
    text = (tmp_path / ".github/workflows/publish.yml").read_text(encoding="utf-8")
    assert text.count(f"uses: {ACTION_REPOSITORY}@v{__version__}\n") == 2
    assert text.count(f'version: "{__version__}"\n') == 2
    assert "__" not in text.replace("__version__", "")  # every placeholder filled in
    assert "pip install" not in text


def test_a_second_init_refuses_and_leaves_every_file_byte_identical(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    (tmp_path / "publish.toml").write_text("# mine\n", encoding="utf-8")
    before = snapshot(tmp_path)
    again = init(runner, tmp_path)
    assert again.exit_code == 2
    assert "already initialised" in again.output and "--force" in again.output
    assert snapshot(tmp_path) == before


def test_init_in_an_existing_repository_adds_only_the_missing_files(runner, tmp_path):
    (tmp_path / "publish.toml").write_text("# mine\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_bytes(b"node_modules/")  # no trailing newline
    result = init(runner, tmp_path)
    assert result.exit_code == 0, result.output
    assert "skipped  publish.toml (exists; --force overwrites it)" in result.stdout
    assert (tmp_path / "publish.toml").read_text(encoding="utf-8") == "# mine\n"
    assert set(snapshot(tmp_path)) == SCAFFOLD | {".gitignore"}
    ignored = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ignored[0] == "node_modules/" and set(GITIGNORE_ENTRIES) <= set(ignored)


def test_init_appends_no_gitignore_entry_twice(runner, tmp_path):
    (tmp_path / ".gitignore").write_text(".publish-cache/\n", encoding="utf-8")
    assert init(runner, tmp_path).exit_code == 0
    assert init(runner, tmp_path, "--force").exit_code == 0
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert all(lines.count(entry) == 1 for entry in GITIGNORE_ENTRIES)


def test_force_overwrites_with_the_defaults(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    pristine = snapshot(tmp_path)
    (tmp_path / "publish.toml").write_text("# mine\n", encoding="utf-8")
    (tmp_path / ".github/workflows/publish.yml").write_text("name: mine\n", encoding="utf-8")
    result = init(runner, tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert snapshot(tmp_path) == pristine


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello Wörld!", "hello-world"),
        ("Straße & Ærø", "strasse-aero"),
        ("  --Ça va? Œuvre n°5--  ", "ca-va-oeuvre-n5"),
        ("日本語", ""),
        ("word " * 30, ("word-" * 12).rstrip("-")),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_new_writes_a_post_under_the_year_of_the_injected_clock(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    clock = FakeClock(datetime(2026, 5, 4, 12, 0, tzinfo=UTC))
    path = new_post(tmp_path / "publish.toml", "Hello Wörld!", clock=clock)
    assert path == tmp_path / "posts/2026/hello-world.md"
    text = path.read_text(encoding="utf-8")
    assert "2026-05-04" in text and text.endswith("---\nHello Wörld!\n")
    (post,) = library.check(tmp_path / "publish.toml").posts
    assert post.post_id == "2026/hello-world" and post.text == "Hello Wörld!"


def test_new_on_the_command_line_passes_check(runner, tmp_path):
    assert init(runner, tmp_path).exit_code == 0
    config = str(tmp_path / "publish.toml")
    result = runner.invoke(app, ["new", "Hello Wörld!", "--config", config, "--date", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'posts/2026/hello-world.md'}\n"
    checked = runner.invoke(app, ["check", "--config", config])
    assert checked.stdout == "ok: 1 file valid (1 status), 1 draft skipped\n"


def test_new_refuses_to_overwrite_a_post(runner, tmp_path):
    arguments = ["new", "Hello", "--dir", str(tmp_path / "posts"), "--date", "2026-01-31"]
    assert runner.invoke(app, arguments).exit_code == 0
    path = tmp_path / "posts/2026/hello.md"
    path.write_text("mine\n", encoding="utf-8")
    again = runner.invoke(app, arguments)
    assert again.exit_code == 2 and "already exists" in again.output
    assert path.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(("title", "slug"), [("日本語", None), ("   ", None), ("Fine", "Not A Slug")])
def test_new_refuses_titles_it_cannot_name_a_file_after(tmp_path, title, slug):
    with pytest.raises(InvalidPostName):
        new_post(tmp_path / "publish.toml", title, clock=FakeClock(), slug=slug)
    assert not (tmp_path / "posts").exists()


def test_new_takes_the_slug_and_day_it_is_given(tmp_path):
    clock = FakeClock()
    path = new_post(tmp_path / "publish.toml", "日本語", clock=clock, slug="nihongo", day=date(2027, 1, 1))
    assert path == tmp_path / "posts/2027/nihongo.md"
    with pytest.raises(PostExists):
        new_post(tmp_path / "publish.toml", "x", clock=clock, slug="nihongo", day=date(2027, 1, 1))
