"""Plan output for people (text, colour, Markdown), for machines (JSON), and sync progress."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from publisher.apply.sync import SyncEvent
from publisher.cli import app
from publisher.clock import FakeClock
from publisher.output import plan_json, plan_markdown, plan_text, sync_event_line, sync_summary, use_colour
from publisher.output.progress import LiveProgress, overall_line, sync_progress
from publisher.plan.changes import compute_plan
from publisher.plan.state import State
from publisher.source.config import Limits
from publisher.source.models import DesiredStatus
from tests.helpers import CliRunner
from tests.plan_fixture import every_kind_plan, every_kind_repo

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RENDERERS = {
    "txt": lambda plan, limits: plan_text(plan, limits),
    "md": plan_markdown,
    "json": plan_json,
}


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead (review the diff!)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("prune", [False, True], ids=["orphan", "prune"])
@pytest.mark.parametrize("suffix", sorted(RENDERERS))
def test_plan_output_matches_golden_file(tmp_path, suffix, prune):
    result = every_kind_plan(tmp_path, prune=prune)
    name = f"plan{'-prune' if prune else ''}.{suffix}"
    check_golden(name, RENDERERS[suffix](result.plan, result.project.config.limits))


def test_text_groups_every_action_in_a_fixed_order_and_collapses_unchanged(tmp_path):
    result = every_kind_plan(tmp_path)
    text = plan_text(result.plan, result.project.config.limits)
    headings = [line for line in text.splitlines() if re.fullmatch(r"\d+ [a-z ]+:", line)]
    assert headings == [
        "2 to create:",
        "1 to edit:",
        "1 to replace:",
        "1 to schedule:",
        "1 deferred:",
        "1 orphaned:",
    ]
    for symbol, post_id in [
        ("+", "new"),
        ("~", "edited"),
        ("⇄", "moved"),
        ("⏲", "later"),
        ("⏲", "soon"),
        ("?", "gone"),
    ]:
        assert f"\n{symbol} " in text and f" {post_id}  (posts/{post_id}.md)" in text
    assert "= 1 unchanged post\n" in text and "Nothing changed here." not in text
    assert text.splitlines()[-1] == (
        "Plan: 2 to create, 1 to edit, 0 to adjust, 1 to replace, 0 to delete, 1 to schedule, "
        "0 to reschedule, "
        "1 deferred, 0 to move, 0 to record, 0 gone on the server, 1 orphaned, 1 unchanged."
    )


def test_an_edit_shows_a_diff_against_the_published_text_and_what_else_changed(tmp_path):
    result = every_kind_plan(tmp_path)
    text = plan_text(result.plan, result.project.config.limits)
    edit = text[text.index("~ update edited") : text.index("1 to replace:")]
    assert "    -The second line was old.\n    +The second line is new.\n" in edit
    assert "     The first line stays.\n" in edit
    assert 'content warning: "Spoilers" → "Spoilers ahead"' in edit
    assert 'alt text of posts/media/cat.png: "A cat" → "A cat, now described properly"' in edit


def test_colour_only_when_asked_and_the_same_text_underneath(tmp_path):
    result = every_kind_plan(tmp_path)
    limits = result.project.config.limits
    coloured = plan_text(result.plan, limits, colour=True)
    plain = plan_text(result.plan, limits, colour=False)
    assert not ANSI.search(plain)
    assert (
        "\x1b[32m+ create\x1b[0m" in coloured and "\x1b[31m    -The second line was old.\x1b[0m" in coloured
    )
    assert ANSI.sub("", coloured) == plain


@pytest.mark.parametrize(
    "isatty, environ, expected",
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "0"}, False),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_decision(isatty, environ, expected):
    assert use_colour(isatty, environ) is expected


@pytest.mark.parametrize(
    "env, coloured", [({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False), ({"FORCE_COLOR": "1"}, True)]
)
def test_cli_plan_respects_no_color(tmp_path, env, coloured):
    config = every_kind_repo(tmp_path)
    result = CliRunner(env={"NO_COLOR": None, "FORCE_COLOR": None, **env}).invoke(
        app, ["plan", "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert bool(ANSI.search(result.stdout)) is coloured
    assert ANSI.sub("", result.stdout).splitlines()[-1].startswith("Plan: 2 to create, 1 to edit")


@pytest.mark.parametrize("command", [["plan", "--markdown"], ["sync", "--dry-run", "--markdown"]])
def test_cli_markdown_for_plan_and_dry_run(tmp_path, command):
    config = every_kind_repo(tmp_path)
    result = CliRunner().invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- publish-plan -->\n### publish plan\n")
    assert result.stdout.count("<details>") == 7 and result.stdout.count("</details>") == 7


@pytest.mark.parametrize("command", [["plan", "--markdown", "--json"], ["sync", "--markdown"]])
def test_cli_markdown_misuse_is_invalid_input(tmp_path, command):
    config = every_kind_repo(tmp_path)
    result = CliRunner().invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 2 and "--markdown" in result.stderr and result.stdout == ""


def test_markdown_escapes_post_text_outside_code_and_fences_it_exactly(tmp_path):
    result = every_kind_plan(tmp_path)
    document = plan_markdown(result.plan, result.project.config.limits)
    tricky = next(change.desired for change in result.plan.changes if change.post_id == "tricky")
    assert "`````text\n" + tricky.text + "\n`````" in document  # longer than any backtick run inside
    cw_line = next(
        line for line in document.splitlines() if line.startswith("**Content warning:** &lt;b&gt;")
    )
    assert "<b>" not in cw_line and r"\| pipes &amp; \`ticks\`" in cw_line
    assert "@\u2060octocat" in cw_line and "#\u2060" + "1" in cw_line  # no GitHub mention or issue link
    assert "<script>" not in document.replace(tricky.text, "")


def test_markdown_lists_alt_text_visibility_and_character_count(tmp_path):
    result = every_kind_plan(tmp_path)
    document = plan_markdown(result.plan, result.project.config.limits)
    edited = document[document.index("<code>edited</code>") :]
    edited = edited[: edited.index("</details>")]
    assert "| `posts/media/cat.png` | image/png, 70 bytes | A cat, now described properly |" in edited
    assert "**Visibility:** public" in edited and "**Characters:** 59/500" in edited
    assert "```diff\n--- published\n+++ new\n" in edited


def test_json_is_unchanged_in_shape(tmp_path):
    result = every_kind_plan(tmp_path, prune=True)
    document = json.loads(plan_json(result.plan, result.project.config.limits))
    top = {"version", "now", "summary", "changes", "rate_limits"}  # fields may be added, never renamed
    assert set(document) == top and document["version"] == 1
    keys = {change["action"]: set(change) for change in document["changes"]}
    base = {"action", "post", "reason", "uncertain", "status_id", "url", "source"}
    assert keys["delete"] == base
    assert keys["update"] == base | {"content_hash", "characters", "max_characters", "status"}


EVENTS = [
    SyncEvent("started", "caturday", detail="create"),
    SyncEvent("uploading", "caturday", detail="media 1/2 posts/media/cat.jpg"),
    SyncEvent("uploaded", "caturday", detail="media 1/2 posts/media/cat.jpg"),
    SyncEvent("created", "caturday", "https://mastodon.example/@me/1"),
    SyncEvent("scheduled", "advent", detail="for 2027-12-01T09:00:00Z"),
]


def test_plain_progress_is_one_line_per_event():
    lines: list[str] = []
    with sync_progress(live=False, colour=False, echo=lines.append) as on_event:
        for event in EVENTS:
            on_event(event)
    assert lines == [sync_event_line(event) for event in EVENTS]
    assert lines[3] == "created caturday -> https://mastodon.example/@me/1"


def test_live_progress_prints_finished_steps_and_tracks_posts_and_uploads():
    from rich.console import Console

    buffer = io.StringIO()
    with LiveProgress(Console(file=buffer, force_terminal=True, width=120)) as progress:
        progress.on_event(EVENTS[0])
        progress.on_event(EVENTS[1])
        assert set(progress.steps) == {("caturday", "post"), ("caturday", "upload")}
        progress.on_event(EVENTS[2])
        assert set(progress.steps) == {("caturday", "post")}
        for event in EVENTS[3:]:
            progress.on_event(event)
        assert progress.steps == {} and progress.done == {"": 2}
    output = ANSI.sub("", buffer.getvalue())
    for event in EVENTS[2:]:
        assert sync_event_line(event) in output


@pytest.mark.parametrize(
    ("done", "line"),
    [
        ({}, "syncing: 0 posts done"),
        ({"": 1}, "syncing: 1 post done"),
        ({"main": 3}, "syncing: 3 posts done"),
        ({"bob": 2, "alice": 3}, "syncing: 5 posts done (alice 3, bob 2)"),
    ],
)
def test_the_live_overall_line_counts_each_lane_when_there_are_several(done, line):
    assert overall_line(done) == line


def test_a_lane_event_names_its_account_only_when_it_has_one():
    assert sync_event_line(SyncEvent("stopped", "", detail="time")) == "stopped: time"
    waiting = SyncEvent("waiting", "", detail="media uploads limit reached", account="bob")
    assert sync_event_line(waiting) == "waiting (bob): media uploads limit reached"


def test_sync_summary_counts_results_not_steps_under_way(tmp_path):
    from publisher.app import SyncResult

    result = every_kind_plan(tmp_path)
    done = SyncResult(result.project, result.plan, tuple(EVENTS), applied=True)
    assert sync_summary(done) == "Done: 1 created, 1 scheduled, 1 uploaded.\n"


def test_plan_counts_each_post_against_its_own_accounts_server(tmp_path):
    import json

    from publisher.cli import app
    from publisher.sandbox import FakeMastodon
    from tests.helpers import CliRunner, make_repo

    with FakeMastodon() as small, FakeMastodon(max_characters=5000) as big:
        config = make_repo(
            tmp_path,
            {"a.md": "on the small one", "b.md": "---\naccount: big\n---\non the big one"},
            config=(
                f'[accounts.main]\ninstance = "{small.url}"\n\n'
                f'[accounts.big]\ninstance = "{big.url}"\ntoken_env = "BIG_TOKEN"\n'
            ),
        )
        assert CliRunner().invoke(app, ["limits", "--refresh", "--config", str(config)]).exit_code == 0
    document = json.loads(CliRunner().invoke(app, ["plan", "--json", "--config", str(config)]).stdout)
    assert {c["post"]: c["max_characters"] for c in document["changes"]} == {"a": 500, "b": 5000}


def long_posts_plan(count: int):
    desired = [
        DesiredStatus(
            post_id=f"post-{n:03}", source=f"posts/post-{n:03}.md", account="main", text="long " * 99
        )
        for n in range(count)
    ]
    return compute_plan(desired, State(), FakeClock().now())


def test_a_plan_of_500_long_posts_fits_a_pull_request_comment():
    plan = long_posts_plan(500)
    full = plan_markdown(plan, Limits())
    assert len(full) > 65_536  # what GitHub refuses as a comment
    short = plan_markdown(plan, Limits(), max_length=65_000)
    assert len(short) <= 65_000
    assert short.startswith(
        "<!-- publish-plan -->\n### publish plan\n\n**500 to create, 0 to edit, 0 to delete**"
    )
    summary = (
        "`Plan: 500 to create, 0 to edit, 0 to adjust, 0 to replace, 0 to delete, 0 to schedule, "
        "0 to reschedule, "
        "0 deferred, 0 to move, 0 to record, 0 gone on the server, 0 orphaned"
    )
    assert f"\n{summary}, 0 unchanged.`\n" in short
    assert "> ⏱ 500 status creates and edits at 300 per 3 h" in short  # the rate-limit estimate stays too
    assert all(f"| + | create | `post-{n:03}` |" in short for n in range(500))  # every change's row
    assert "> ✂️ Shortened to stay within 65,000 characters: details of " in short
    assert "The full plan is in this run's job summary" in short
    shown = short.count("<details>")
    assert 0 < shown < 500 and f"details of {500 - shown} of 500 changes left out" in short
    assert "long " * 55 + "long …" in short and "long " * 57 not in short  # texts cut to 280 characters


def test_a_plan_within_the_limit_is_not_touched():
    plan = long_posts_plan(3)
    assert plan_markdown(plan, Limits(), max_length=65_000) == plan_markdown(plan, Limits())


def test_a_tiny_limit_drops_table_rows_and_counts_them():
    short = plan_markdown(long_posts_plan(50), Limits(), max_length=3_000)
    assert len(short) <= 3_000
    assert "<details>" not in short and "| | … |" in short
    kept = short.count("| + | create |")
    assert f"| | … | {50 - kept} more | | | |" in short
    assert f"{50 - kept} changes left out of the table" in short


def test_cli_max_length_keeps_the_comment_short(tmp_path):
    config = every_kind_repo(tmp_path)
    full = CliRunner().invoke(app, ["plan", "--markdown", "-c", str(config)])
    short = CliRunner().invoke(app, ["plan", "--markdown", "--max-length", "1500", "-c", str(config)])
    assert full.exit_code == short.exit_code == 0, short.output
    assert len(full.stdout) > 1500 >= len(short.stdout)
    assert "Shortened to stay within 1,500 characters" in short.stdout
