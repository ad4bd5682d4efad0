"""What a user notices: -h, shell completion, the `status` table, `check`'s counts, polls in the preview."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import typer.main

from publisher.cli import app
from publisher.output.preview.cards import CardPoll, duration_text, server_poll
from publisher.output.status_report import status_json, status_text, table_time
from publisher.output.table import aligned
from publisher.plan.state import PendingCreate, State, StatusRecord
from tests.helpers import REPO, CliRunner, make_repo
from tests.test_preview import Elements


def command_paths(command=None, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """`()` for publish itself, then every command and group, e.g. ("state", "mv")."""
    command = command or typer.main.get_command(app)
    paths = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += command_paths(sub, (*path, name))
    return paths


# -- -h ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", command_paths(), ids=lambda path: " ".join(path) or "publish")
def test_dash_h_is_help_everywhere(path):
    short = CliRunner().invoke(app, [*path, "-h"])
    long = CliRunner().invoke(app, [*path, "--help"])
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout and short.stdout.startswith("Usage: ")
    assert "-h, --help" in short.stdout


def test_the_command_list_includes_the_state_group_and_its_commands():
    assert {("state",), ("state", "mv"), ("state", "rm"), ("check",)} <= set(command_paths())


# -- shell completion --------------------------------------------------------------------------------------


def test_help_offers_to_install_completion():
    text = CliRunner().invoke(app, ["--help"]).stdout
    assert "--install-completion" in text and "--show-completion" in text


@pytest.mark.parametrize("shell, line", [("bash", "complete -o default -F _publish_completion publish")])
def test_show_completion_prints_the_script_for_publish(shell, line, monkeypatch):
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")  # the shell is named, not sniffed
    result = CliRunner().invoke(app, ["--show-completion", shell], prog_name="publish")
    assert result.exit_code == 0 and line in result.stdout


@pytest.mark.parametrize(
    "words, completions",
    [
        ("publish st", ["status", "state"]),
        ("publish state ", ["mv", "rm"]),
        ("publish sync --dr", ["--dry-run"]),
        ("publish check --js", ["--json"]),
    ],
)
def test_completion_completes_commands_and_options(words, completions):
    env = {
        "_PUBLISH_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = CliRunner().invoke(app, [], env=env, prog_name="publish")
    assert result.exit_code == 0 and result.stdout.split() == completions


# -- publish status ----------------------------------------------------------------------------------------

NOON = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)


def record(**fields) -> StatusRecord:
    values = {
        "source": "posts/a.md",
        "account": "main",
        "status_id": "1",
        "url": "https://mastodon.example/@me/1",
        "content_hash": "sha256:" + "ab" * 32,
        "idempotency_key": "k",
        "text": "Hello",
        "published_at": NOON,
        "recorded_at": NOON,
    }
    return StatusRecord(**{**values, **fields})


SCHEDULED = record(status_id=None, url=None, published_at=None, scheduled_id="9", scheduled_at=NOON)
PENDING = PendingCreate(content_hash="sha256:" + "cd" * 32, idempotency_key="k2", started_at=NOON)


@pytest.mark.parametrize(
    "moment, shown",
    [
        (NOON, "2026-11-23 12:00:00Z"),
        (datetime(2026, 11, 23, 13, 30, 5, tzinfo=timezone(timedelta(hours=1))), "2026-11-23 12:30:05Z"),
        (None, "-"),
    ],
)
def test_table_times_are_utc_to_the_second(moment, shown):
    assert table_time(moment) == shown


def test_status_has_a_header_and_aligned_columns():
    state = State(posts={"a-long-post-id": record(), "b": SCHEDULED}, pending={"c": PENDING})
    lines = status_text(state).splitlines()
    assert lines[0].split() == ["POST", "ACCOUNT", "STATE", "TIME", "(UTC)", "HASH", "URL"]
    for column in ("ACCOUNT", "STATE", "TIME (UTC)", "HASH", "URL"):
        start = lines[0].index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[1:4]), column
    assert lines[-1] == "2 posts recorded, 1 interrupted"


@pytest.mark.parametrize(
    "post_id, cells",
    [
        ("a", ["a", "main", "published", "2026-11-23", "12:00:00Z", "sha256:abababababab"]),
        ("b", ["b", "main", "scheduled", "2026-11-23", "12:00:00Z", "sha256:abababababab"]),
        ("c", ["c", "-", "interrupted", "2026-11-23", "12:00:00Z", "sha256:cdcdcdcdcdcd"]),
    ],
)
def test_status_rows_say_what_happened_and_when(post_id, cells):
    state = State(posts={"a": record(), "b": SCHEDULED}, pending={"c": PENDING})
    row = next(line for line in status_text(state).splitlines() if line.startswith(f"{post_id} "))
    assert row.split()[: len(cells)] == cells
    assert ".123456" not in row


def test_the_readme_example_is_what_status_prints():
    def published(moment: datetime, number: int, digest: str) -> StatusRecord:
        url = f"https://mastodon.example/@me/11300000000000000{number}"
        return record(status_id=str(number), url=url, published_at=moment, content_hash=digest + "0" * 52)

    advent = record(
        status_id=None,
        url=None,
        published_at=None,
        scheduled_id="5",
        scheduled_at=datetime(2027, 12, 1, 9, tzinfo=UTC),
        content_hash="sha256:5d0c7e6b91a2" + "0" * 52,
    )
    state = State(
        posts={
            "2027/advent": advent,
            "caturday-keyboard": published(NOON.replace(second=7), 2, "sha256:0e4f1a2b3c4d"),
            "hello-world": published(NOON.replace(second=5), 1, "sha256:9b8a7c6d5e4f"),
        }
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "$ publish status\n" + status_text(state) + "```" in readme


def test_an_empty_state_is_one_line():
    assert status_text(State()) == "0 posts recorded, 0 interrupted\n"


def test_status_json_keeps_the_recorded_times():
    document = json.loads(status_json(State(posts={"a": record()})))
    assert document["version"] == 1 and document["posts"][0]["published_at"] == "2026-11-23T12:00:00.123456Z"


@pytest.mark.parametrize(
    "rows, lines",
    [
        ([], ["A  BB"]),
        ([("xxx", "y")], ["A    BB", "xxx  y"]),
        ([("x", "")], ["A  BB", "x"]),
    ],
)
def test_aligned_pads_every_column_but_the_last(rows, lines):
    assert aligned(("A", "BB"), rows) == lines


# -- publish check -----------------------------------------------------------------------------------------

THREAD = "---\nid: story\n---\nFirst.\n+++\nSecond.\n+++\nThird.\n"
DRAFT = "---\ndraft: true\n---\nNot yet.\n"


@pytest.mark.parametrize(
    "posts, text, counts",
    [
        ({"a.md": "Hi."}, "ok: 1 file valid (1 status), 0 drafts skipped\n", (1, 1, 0)),
        ({"a.md": "Hi.", "t.md": THREAD}, "ok: 2 files valid (4 statuses), 0 drafts skipped\n", (2, 4, 0)),
        ({"t.md": THREAD, "d.md": DRAFT}, "ok: 1 file valid (3 statuses), 1 draft skipped\n", (1, 3, 1)),
        ({"d.md": DRAFT, "e.md": DRAFT}, "ok: 0 files valid (0 statuses), 2 drafts skipped\n", (0, 0, 2)),
    ],
)
def test_check_counts_files_and_statuses_apart(tmp_path, posts, text, counts):
    config = make_repo(tmp_path, posts)
    checked = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == text
    document = json.loads(CliRunner().invoke(app, ["check", "--json", "--config", str(config)]).stdout)
    assert (document["files"], document["statuses"], document["drafts"]) == counts


# -- polls in the HTML preview -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, text",
    [
        (300, "5 minutes"),
        (3600, "1 hour"),
        (86400, "1 day"),
        (93600, "1 day 2 hours"),
        (7 * 86400 + 61, "7 days 1 minute"),
        (0, "0 seconds"),
    ],
)
def test_a_poll_duration_reads_as_people_say_it(seconds, text):
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    "poll, mark, choice, ends",
    [
        (CardPoll(("a", "b"), 86400), "radio", "choose one", "ends in 1 day"),
        (CardPoll(("a", "b"), 300, multiple=True), "checkbox", "choose any", "ends in 5 minutes"),
        (CardPoll(("a", "b")), "radio", "choose one", ""),
    ],
)
def test_a_card_poll_knows_its_marks_and_end(poll, mark, choice, ends):
    assert (poll.mark, poll.choice, poll.ends) == (mark, choice, ends)


@pytest.mark.parametrize(
    "poll, created_at, expected",
    [
        (None, None, None),
        (
            {
                "options": [{"title": "Yes"}, {"title": "No"}],
                "expires_at": "2026-11-24T12:00:00.000Z",
                "multiple": True,
            },
            "2026-11-23T12:00:00.000Z",
            CardPoll(("Yes", "No"), 86400, multiple=True),
        ),
        (
            {"options": ["Tea", "Coffee"], "expires_in": 600, "multiple": False, "hide_totals": True},
            None,
            CardPoll(("Tea", "Coffee"), 600, hide_totals=True),
        ),
    ],
)
def test_a_poll_the_server_stored_becomes_a_card_poll(poll, created_at, expected):
    assert server_poll(poll, created_at) == expected


POLLS = {
    "single.md": "---\npoll: {options: [Tea, Coffee], expires_in: 86400}\n---\nWhich?\n",
    "multiple.md": "---\npoll:\n  options: [Red, Green, Blue]\n  expires_in: 3600\n  multiple: true\n"
    "  hide_totals: true\n---\nColours?\n",
}


@pytest.fixture(scope="module")
def poll_page(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("polls")
    config = make_repo(root / "repo", POLLS)
    result = CliRunner().invoke(app, ["preview", "--html", str(root / "out"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    return (root / "out" / "index.html").read_text()


@pytest.mark.parametrize("post, kind, count", [("single", "radio", 2), ("multiple", "checkbox", 3)])
def test_poll_options_are_marks_to_tick(poll_page, post, kind, count):
    inputs = [attrs for attrs in Elements(poll_page).all("input") if attrs["name"] == f"poll-{post}"]
    assert [attrs["type"] for attrs in inputs] == [kind] * count
    assert all("disabled" in attrs for attrs in inputs)


@pytest.mark.parametrize(
    "meta",
    [
        "0 votes · choose one · ends in 1 day</p>",
        "0 votes · choose any · ends in 1 hour · results hidden until it ends</p>",
    ],
)
def test_poll_says_how_to_choose_and_when_it_ends(poll_page, meta):
    assert meta in poll_page


def test_every_option_has_an_empty_bar(poll_page):
    assert poll_page.count('<span class="poll-fill"></span>') == 5
    assert ">Tea</span>" in poll_page and ">Blue</span>" in poll_page
