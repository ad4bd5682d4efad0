"""The server is the truth: a lost state, a rename, a replaced thread or a change made on the server never
duplicates or orphans a post. Every test talks HTTP to the sandbox server and asserts what it holds."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import requests

from publisher import app
from publisher.cli import app as cli
from publisher.errors import PublishError
from publisher.plan.changes import ChangeKind
from publisher.plan.safety import SyncOptions
from publisher.plan.state import StateStore
from publisher.sandbox.server import FakeMastodon
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import ENV, TOKEN, client_factory, read_state, run_sync

THREAD = """
    ---
    visibility: public
    ---
    Part one of a thread.
    +++
    Part two of a thread.
    +++
    Part three of a thread.
    +++
    Part four of a thread.
    """
REPLY = """
    ---
    reply_to: thread
    ---
    An answer to the last part of the thread.
    """


def twenty_posts() -> tuple[dict[str, str], dict[str, bytes]]:
    """20 statuses: 12 notes, 4 posts with an image, and a thread of 4 parts."""
    posts = {f"note-{n:02}.md": f"Note number {n}, with its own words." for n in range(1, 13)}
    for n in range(1, 5):
        posts[f"pic-{n}.md"] = f"""
            ---
            media:
              - path: media/p{n}.png
                alt: "Picture {n}"
                focus: [0.1, -0.2]
            ---
            A picture, number {n}.
            """
    posts["thread.md"] = THREAD
    files = {f"posts/media/p{n}.png": PNG_1PX + bytes([n]) for n in range(1, 5)}
    return posts, files


def status_writes(server: FakeMastodon) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.writes()]


def state_of(config: Path):
    return StateStore(config.parent / "publish.state.json").load()


@pytest.fixture
def forgetful(clock):
    """A server that ignores Idempotency-Key (GoToSocial, and Mastodon after an hour)."""
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=False) as server:
        yield server


def test_a_lost_state_file_publishes_nothing_twice(tmp_path, clock, forgetful):
    posts, files = twenty_posts()
    config = make_repo(tmp_path, posts, files=files, instance=forgetful.url)
    run_sync(config, clock)
    first = state_of(config)
    assert len(first.posts) == len(forgetful.statuses) == 20
    (tmp_path / "publish.state.json").unlink()
    forgetful.requests.clear()
    clock.advance(7200)

    events: list = []
    run_sync(config, clock, events=events)

    assert status_writes(forgetful) == []  # not one upload, create or edit
    again = state_of(config)
    assert {k: v.status_id for k, v in again.posts.items()} == {
        k: v.status_id for k, v in first.posts.items()
    }
    assert {k: v.content_hash for k, v in again.posts.items()} == {
        k: v.content_hash for k, v in first.posts.items()
    }
    assert [e.action for e in events].count("adopted") == 20
    reads = len(forgetful.requests)
    assert reads == 1 + 1 + 20  # credentials, one page of 40, one source each
    plan = app.make_plan(config, clock=clock).plan
    assert plan.counts()["unchanged"] == 20


def test_a_stale_state_adopts_only_what_it_lacks(tmp_path, clock, forgetful):
    config = make_repo(tmp_path, {"a.md": "First.", "b.md": "Second."}, instance=forgetful.url)
    run_sync(config, clock)
    stale = (tmp_path / "publish.state.json").read_bytes()
    (tmp_path / "posts" / "c.md").write_text("Third.")
    run_sync(config, clock)
    (tmp_path / "publish.state.json").write_bytes(stale)  # the commit-back of the second run failed
    clock.advance(4000)

    run_sync(config, clock)

    assert sorted(s["text"] for s in forgetful.statuses.values()) == ["First.", "Second.", "Third."]
    assert set(state_of(config).posts) == {"a", "b", "c"}


def test_an_adopted_copy_that_differs_from_its_file_is_edited(tmp_path, clock, forgetful):
    posts = {"pic.md": "---\nmedia:\n  - path: media/p.png\n    alt: Old words\n---\nA picture."}
    config = make_repo(tmp_path, posts, files={"posts/media/p.png": PNG_1PX}, instance=forgetful.url)
    run_sync(config, clock)
    (tmp_path / "publish.state.json").unlink()
    (tmp_path / "posts" / "pic.md").write_text(posts["pic.md"].replace("Old words", "New words"))

    run_sync(config, clock)

    (status,) = forgetful.statuses.values()
    assert status["media_attachments"][0]["description"] == "New words"
    assert app.make_plan(config, clock=clock).plan.counts()["unchanged"] == 1


def test_a_new_post_on_an_empty_account_costs_one_read(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "First."}, instance=server.url)
    run_sync(config, clock)
    assert [f"{r.method} {r.path}" for r in server.requests if "instance" not in r.path] == [
        "GET /api/v1/accounts/verify_credentials",
        "POST /api/v1/statuses",
    ]


def test_plan_says_it_will_look_first(tmp_path, clock):
    config = make_repo(tmp_path, {"a.md": "First."})
    result = CliRunner(clock=clock).invoke(cli, ["plan", "--offline", "--config", str(config)])
    assert "will look for an existing copy on the server first" in result.stdout


def test_renamed_files_move_their_records_and_send_nothing(tmp_path, clock, server):
    posts = {f"n{n}.md": f"Note {n}." for n in range(5)}
    config = make_repo(tmp_path, {**posts, "thread.md": THREAD, "reply.md": REPLY}, instance=server.url)
    run_sync(config, clock)
    before = state_of(config)
    for name in [*posts, "thread.md"]:
        (tmp_path / "posts" / "2026").mkdir(exist_ok=True)
        (tmp_path / "posts" / name).rename(tmp_path / "posts" / "2026" / name)
    reply = textwrap.dedent(REPLY).replace("reply_to: thread", "reply_to: 2026/thread")
    (tmp_path / "posts" / "reply.md").write_text(reply.lstrip())
    server.requests.clear()

    plan = app.make_plan(config, clock=clock).plan
    assert plan.counts()["move"] == 9 and plan.counts()["orphan"] == 0
    run_sync(config, clock)

    assert server.requests == []  # moves cost nothing, not even a token check
    after = state_of(config)
    assert after.posts["2026/n3"].status_id == before.posts["n3"].status_id
    assert after.posts["2026/thread#4"].reply_to == "2026/thread#3"
    assert after.posts["reply"].reply_to == "2026/thread#4"
    assert app.make_plan(config, clock=clock).plan.counts()["unchanged"] == 10


def test_a_replaced_thread_takes_its_replies_along(tmp_path, clock, server):
    config = make_repo(tmp_path, {"thread.md": THREAD, "reply.md": REPLY}, instance=server.url)
    run_sync(config, clock)
    old_last = state_of(config).posts["thread#4"].status_id
    (tmp_path / "posts" / "thread.md").write_text(
        (tmp_path / "posts" / "thread.md").read_text().replace("public", "unlisted")
    )

    plan = app.make_plan(config, clock=clock).plan
    assert [c.post_id for c in plan.writes] == ["thread", "thread#2", "thread#3", "thread#4", "reply"]
    assert "re-created" in plan.writes[-1].reason
    run_sync(config, clock, allow_replace=True, force=True)

    state = state_of(config)
    reply = server.statuses[state.posts["reply"].status_id]
    assert reply["in_reply_to_id"] == state.posts["thread#4"].status_id != old_last
    assert old_last not in server.statuses
    assert len(server.statuses) == 5
    assert app.make_plan(config, clock=clock).plan.counts()["unchanged"] == 5


def test_a_reply_recorded_against_an_old_parent_is_re_created(tmp_path, clock, server):
    config = make_repo(
        tmp_path, {"a.md": "Parent.", "b.md": "---\nreply_to: a\n---\nChild."}, instance=server.url
    )
    run_sync(config, clock)
    path = tmp_path / "publish.state.json"
    data = json.loads(path.read_text())
    data["posts"]["b"]["in_reply_to_id"] = "1"  # what the old bug recorded: the deleted parent's id
    path.write_text(json.dumps(data))

    change = app.make_plan(config, clock=clock).plan.of(ChangeKind.REPLACE)[0]

    assert change.post_id == "b" and "old status of a" in change.reason


def test_refresh_reports_a_status_deleted_on_the_server(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "Kept.", "b.md": "Deleted by hand."}, instance=server.url)
    run_sync(config, clock)
    gone = state_of(config).posts["b"].status_id
    server._statuses.delete(gone, delete_media=False)
    runner = CliRunner(env=ENV, clock=clock)

    result = runner.invoke(cli, ["plan", "--refresh", "--offline", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "gone on the server" in result.stdout and "--recreate-missing" in result.stdout
    assert app.make_plan(config, clock=clock).plan.counts()["unchanged"] == 2  # without --refresh: trusted

    run_sync(config, clock, refresh=True)
    assert len(server.statuses) == 1  # left alone without --recreate-missing
    run_sync(config, clock, refresh=True, recreate_missing=True)
    assert sorted(s["text"] for s in server.statuses.values()) == ["Deleted by hand.", "Kept."]
    assert state_of(config).posts["b"].status_id != gone


def test_refresh_sees_a_renamed_post_deleted_on_the_server_and_its_record_follows_the_file(
    tmp_path, clock, server
):
    config = make_repo(
        tmp_path, {"a.md": "Kept.", "b.md": "Renamed, then deleted by hand."}, instance=server.url
    )
    run_sync(config, clock)
    gone = state_of(config).posts["b"].status_id
    server._statuses.delete(gone, delete_media=False)
    (tmp_path / "posts" / "b.md").rename(tmp_path / "posts" / "b2.md")

    plan = app.make_plan(config, clock=clock, refresh=app.Refresh(ENV, client_factory(clock))).plan
    (change,) = plan.of(ChangeKind.GONE)
    assert (change.post_id, change.previous_id) == ("b2", "b") and "renamed from b" in change.reason

    run_sync(config, clock, refresh=True, recreate_missing=True)
    assert sorted(s["text"] for s in server.statuses.values()) == ["Kept.", "Renamed, then deleted by hand."]
    posts = state_of(config).posts
    assert set(posts) == {"a", "b2"} and posts["b2"].status_id != gone
    assert app.make_plan(config, clock=clock).plan.counts()["unchanged"] == 2


def test_refresh_shows_an_edit_made_on_the_server_and_the_file_wins(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "As written in the file."}, instance=server.url)
    run_sync(config, clock)
    status_id = state_of(config).posts["a"].status_id
    clock.advance(3600)
    requests.put(
        f"{server.url}/api/v1/statuses/{status_id}",
        json={"status": "Changed in the web interface."},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )

    plan = app.make_plan(config, clock=clock, refresh=app.Refresh(ENV, client_factory(clock))).plan
    (change,) = plan.of(ChangeKind.UPDATE)
    assert change.server_text == "Changed in the web interface." and "edited on the server" in change.reason
    run_sync(config, clock, refresh=True)
    assert server.statuses[status_id]["text"] == "As written in the file."


def test_an_edit_of_a_status_deleted_on_the_server_is_reported_not_failed(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "Before."}, instance=server.url)
    run_sync(config, clock)
    server._statuses.delete(state_of(config).posts["a"].status_id, delete_media=False)
    (tmp_path / "posts" / "a.md").write_text("After.")
    events: list = []

    run_sync(config, clock, events=events)

    assert [e.action for e in events if e.action == "gone"] == ["gone"]
    assert server.statuses == {}


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_leaves_the_state_file_byte_for_byte(tmp_path, clock, server, status):
    config = make_repo(tmp_path, {"a.md": "Published."}, instance=server.url)
    run_sync(config, clock)
    (tmp_path / "posts" / "b.md").write_text("---\nmedia:\n  - path: media/p.png\n    alt: x\n---\nNew.")
    (tmp_path / "posts" / "media").mkdir()
    (tmp_path / "posts" / "media" / "p.png").write_bytes(PNG_1PX)
    before = (tmp_path / "publish.state.json").read_bytes()
    from publisher.sandbox.faults import Fault

    server.add_fault(
        Fault("*", "/api/", "status", status=status, message="The access token is invalid", times=99)
    )

    with pytest.raises(PublishError):
        run_sync(config, clock)

    assert (tmp_path / "publish.state.json").read_bytes() == before
    assert [r.method for r in server.writes()] == ["POST"]  # only the first run's create


def test_a_scheduled_post_the_server_published_plans_as_record(tmp_path, clock, server):
    posts = {"s.md": "---\npublish_at: 2026-12-25T10:00:00Z\n---\nLater."}  # the clock starts 2026-11-23
    config = make_repo(tmp_path, posts, instance=server.url)
    run_sync(config, clock)
    assert len(server.scheduled) == 1
    clock.advance(40 * 86400)

    plan = app.make_plan(config, clock=clock).plan

    assert [c.kind.value for c in plan.changes] == ["record"] and not plan.writes


def test_state_mv_and_rm(tmp_path, clock, server):
    config = make_repo(
        tmp_path, {"a.md": "Parent.", "b.md": "---\nreply_to: a\n---\nChild."}, instance=server.url
    )
    run_sync(config, clock)
    runner = CliRunner(clock=clock)

    moved = runner.invoke(cli, ["state", "mv", "a", "renamed", "--config", str(config)])
    assert moved.exit_code == 0, moved.output
    state = read_state(config)["posts"]
    assert set(state) == {"renamed", "b"} and state["b"]["reply_to"] == "renamed"

    unknown = runner.invoke(cli, ["state", "rm", "renamd", "--config", str(config)])
    assert unknown.exit_code == 2 and "did you mean 'renamed'" in unknown.stderr

    removed = runner.invoke(cli, ["state", "rm", "b", "--config", str(config)])
    assert removed.exit_code == 0 and set(read_state(config)["posts"]) == {"renamed"}
    assert len(server.statuses) == 2  # the server is never told


def test_state_mv_refuses_while_a_sync_holds_the_lock(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "Parent."}, instance=server.url)
    run_sync(config, clock)
    before = (tmp_path / "publish.state.json").read_bytes()
    store = StateStore(tmp_path / "publish.state.json")
    with store.lock(timeout=1):
        result = CliRunner(clock=clock).invoke(cli, ["state", "mv", "a", "b", "--config", str(config)])
    assert result.exit_code != 0 and "holds" in result.stderr
    assert (tmp_path / "publish.state.json").read_bytes() == before


def test_sync_verifies_tokens_before_anything_when_only_moves_and_edits(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "One."}, instance=server.url)
    run_sync(config, clock)
    (tmp_path / "posts" / "a.md").write_text("Two.")
    before = (tmp_path / "publish.state.json").read_bytes()
    with pytest.raises(PublishError):
        app.sync(
            config,
            clock=clock,
            environ={"PUBLISH_TEST_TOKEN": "wrong-token-0123456789"},
            client_factory=client_factory(clock),
            options=SyncOptions(),
        )
    assert (tmp_path / "publish.state.json").read_bytes() == before


QUIRKS = {
    "keep_last_media_id": "media count: sent 2, the server stored 1",
    "order_media_by_id": "media order: sent 1, 2, the server stored 2, 1",
    "replace_unknown_language": 'language: sent "eo", the server stored "en"',
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
def test_what_a_quirky_server_did_not_keep_is_a_warning_and_exit_1(tmp_path, clock, quirk):
    from publisher.sandbox import Quirks

    post = """
        ---
        language: eo
        media:
          - path: media/b.png
            alt: Second file, uploaded first
          - path: media/a.png
            alt: First file
        ---
        Two pictures.
        """
    files = {"posts/media/a.png": PNG_1PX + b"a", "posts/media/b.png": PNG_1PX + b"b"}
    with FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(**{quirk: True})) as server:
        config = make_repo(tmp_path, {"p.md": post}, files=files, instance=server.url)
        if quirk == "order_media_by_id":  # b.png, added before a.png in an edit, gets the larger id
            (tmp_path / "posts" / "p.md").write_text(_without_first_file(post))
            run_sync(config, clock)
            (tmp_path / "posts" / "p.md").write_text(textwrap.dedent(post).lstrip())
        result = CliRunner(env=ENV, clock=clock).invoke(cli, ["sync", "--config", str(config)])

    assert result.exit_code == 1, result.output
    assert QUIRKS[quirk] in result.stderr and "p: the server did not keep what was sent" in result.stderr
    (record,) = state_of(config).posts.values()
    assert any(QUIRKS[quirk] in note for note in record.server_differs)


def _without_first_file(post: str) -> str:
    lines = textwrap.dedent(post).lstrip().splitlines()
    kept = [line for line in lines if "b.png" not in line and "Second file" not in line]
    return "\n".join(kept).replace("language: eo", "language: en") + "\n"


def test_a_server_without_quirks_gives_no_warning(tmp_path, clock, server):
    post = "---\nlanguage: eo\nmedia:\n  - path: media/a.png\n    alt: A\n    focus: [0.5, 0.5]\n---\nOne."
    config = make_repo(tmp_path, {"p.md": post}, files={"posts/media/a.png": PNG_1PX}, instance=server.url)
    result = CliRunner(env=ENV, clock=clock).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 0 and "did not keep" not in result.stderr
    assert state_of(config).posts["p"].server_differs is None


def test_an_edit_the_server_ignores_is_reported(tmp_path, clock):
    from publisher.sandbox import Quirks

    post = "---\nmedia:\n  - path: media/a.png\n    alt: Before\n---\nOne."
    with FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(ignore_media_attributes=True)) as server:
        files = {"posts/media/a.png": PNG_1PX}
        config = make_repo(tmp_path, {"p.md": post}, files=files, instance=server.url)
        run_sync(config, clock)
        (tmp_path / "posts" / "p.md").write_text(post.replace("Before", "After"))
        result = CliRunner(env=ENV, clock=clock).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert 'alt text of media 1: sent "After", the server stored "Before"' in result.stderr


def test_a_new_post_on_an_account_with_recent_statuses_costs_one_page(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "First."}, instance=server.url)
    run_sync(config, clock)  # an empty account: the token check says so
    clock.advance(3 * 86400)
    (tmp_path / "posts" / "b.md").write_text("Second, days later.")
    server.requests.clear()

    run_sync(config, clock)  # 30 days back: the one status of 3 days ago fits one page

    assert [r.path.split("?")[0] for r in server.requests if "instance" not in r.path] == [
        "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/1/statuses",
        "/api/v1/statuses",
    ]


def test_a_lost_state_adopts_scheduled_posts_too(tmp_path, clock, forgetful):
    posts = {"later.md": "---\npublish_at: 2026-12-24T10:00:00Z\n---\nLater.", "now.md": "Now."}
    config = make_repo(tmp_path, posts, instance=forgetful.url)
    run_sync(config, clock)
    scheduled_id = state_of(config).posts["later"].scheduled_id
    (tmp_path / "publish.state.json").unlink()
    forgetful.requests.clear()

    run_sync(config, clock)

    assert status_writes(forgetful) == []
    assert list(forgetful.scheduled) == [scheduled_id] and len(forgetful.statuses) == 1
    assert state_of(config).posts["later"].scheduled_id == scheduled_id
