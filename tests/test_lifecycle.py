"""Edits, replacement, pruning, threads and scheduling follow the files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.errors import InvalidInput
from tests.helpers import PNG_1PX
from tests.sync_support import example_repo, read_state, run_sync

CAT = "posts/caturday.md"
CAT_MEDIA = """media:
  - path: media/cat.jpg
    alt: "A grey cat asleep on a black keyboard, ears up, paws tucked in."
    focus: [0.2, -0.1]
  - path: media/sunrise.png
    alt: "An orange sun rising over a dark blue sea under a peach sky."
    focus: [0.0, 0.4]
"""


@pytest.fixture
def published(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    (tmp_path / "posts/media/extra.png").write_bytes(PNG_1PX)
    run_sync(config, clock)
    return config


def rewrite(root, name, old, new):
    path = root / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def cat_status(server, config):
    return server.statuses[read_state(config)["posts"]["caturday-keyboard"]["status_id"]]


EXTRA = '  - path: media/extra.png\n    alt: "One white pixel."\n'
EDITS = {
    "text": ("Saturday means *two* pictures:", "Saturday means *three* pictures:"),
    "content-warning": ('spoiler: "Cat photos"', 'spoiler: "Cat photos, sleepy"'),
    "language": ("id: caturday-keyboard", "id: caturday-keyboard\nlanguage: de"),
    "alt-text": ("ears up, paws tucked in.", "ears down, paws tucked in."),
    "focus": ("focus: [0.2, -0.1]", "focus: [-0.5, 0.5]"),
    "media-added": (CAT_MEDIA, CAT_MEDIA + EXTRA),
    "media-removed": (CAT_MEDIA, CAT_MEDIA.split("  - path: media/sunrise.png")[0]),
    "media-reordered": (
        CAT_MEDIA,
        "media:\n"
        + "  - path: media/sunrise.png"
        + CAT_MEDIA.split("  - path: media/sunrise.png")[1]
        + "  - path: media/cat.jpg"
        + CAT_MEDIA.split("  - path: media/cat.jpg")[1].split("  - path")[0],
    ),
}


@pytest.mark.parametrize(("old", "new"), list(EDITS.values()), ids=list(EDITS))
def test_edit_sends_one_put_with_the_full_state(published, server, clock, old, new):
    root = published.parent
    before = cat_status(server, published)
    writes = len(server.writes())
    rewrite(root, CAT, old, new)
    run_sync(published, clock)
    new_writes = server.writes()[writes:]
    puts = [r for r in new_writes if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].path == f"/api/v1/statuses/{before['id']}"
    body = puts[0].json
    assert {"status", "spoiler_text", "sensitive", "language", "media_ids", "media_attributes"} <= set(body)
    after = cat_status(server, published)
    state = read_state(published)["posts"]["caturday-keyboard"]
    assert after["id"] == before["id"]
    assert [m["id"] for m in after["media_attachments"]] == [m["media_id"] for m in state["media"]]
    assert [m["description"] for m in after["media_attachments"]] == [m["alt"] for m in state["media"]]
    assert after["text"] == state["text"] and after["spoiler_text"] == state.get("spoiler_text", "")
    uploads = [r for r in new_writes if r.path == "/api/v2/media"]
    assert len(uploads) == (
        1 if "extra.png" in new else 0
    )  # unchanged files are reused, never uploaded again


def test_edit_result_matches_the_file(published, server, clock):
    root = published.parent
    rewrite(root, CAT, EDITS["focus"][0], EDITS["focus"][1])
    rewrite(
        root,
        CAT,
        EDITS["media-reordered"][0].replace("focus: [0.2, -0.1]", "focus: [-0.5, 0.5]"),
        EDITS["media-reordered"][1].replace("focus: [0.2, -0.1]", "focus: [-0.5, 0.5]"),
    )
    run_sync(published, clock)
    after = cat_status(server, published)
    assert [m["description"][:6] for m in after["media_attachments"]] == ["An ora", "A grey"]
    assert after["media_attachments"][1]["meta"]["focus"] == {"x": -0.5, "y": 0.5}
    assert run_sync(published, clock).applied is False  # identical content: no edit sent


def test_visibility_change_is_refused_without_allow_replace(published, server, clock):
    writes = len(server.writes())
    rewrite(published.parent, "posts/bonjour.yaml", "visibility: unlisted", "visibility: public")
    with pytest.raises(InvalidInput) as error:
        run_sync(published, clock)
    assert "visibility unlisted -> public cannot be edited" in str(error.value)
    assert "--allow-replace" in str(error.value)
    assert len(server.writes()) == writes


def test_replace_deletes_and_creates_with_allow_replace(published, server, clock):
    old_id = read_state(published)["posts"]["bonjour"]["status_id"]
    rewrite(published.parent, "posts/bonjour.yaml", "visibility: unlisted", "visibility: public")
    run_sync(published, clock, allow_replace=True)
    new = read_state(published)["posts"]["bonjour"]
    assert old_id not in server.statuses and new["status_id"] in server.statuses
    assert server.statuses[new["status_id"]]["visibility"] == "public"
    create = [r for r in server.requests if r.method == "POST" and r.path == "/api/v1/statuses"][-1]
    first = [r for r in server.requests if r.method == "POST" and r.path == "/api/v1/statuses"][0]
    assert create.headers["idempotency-key"] != first.headers["idempotency-key"]


def test_prune_deletes_exactly_the_orphans(published, server, clock):
    state = read_state(published)["posts"]
    (published.parent / "posts/bonjour.yaml").unlink()
    plan_only = run_sync(published, clock)
    assert [c.kind.value for c in plan_only.plan.changes if c.post_id == "bonjour"] == ["orphan"]
    assert state["bonjour"]["status_id"] in server.statuses
    run_sync(published, clock, prune=True)
    deletes = [r for r in server.writes() if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/api/v1/statuses/{state['bonjour']['status_id']}"]
    assert "bonjour" not in read_state(published)["posts"]


def test_large_deletion_needs_force(published, server, clock):
    for name in ("bonjour.yaml", "hello-reply.md"):
        (published.parent / "posts" / name).unlink()
    with pytest.raises(InvalidInput) as error:
        run_sync(published, clock, prune=True)
    assert "would delete or replace 2 of 5 published posts" in str(error.value)
    assert not [r for r in server.writes() if r.method == "DELETE"]
    run_sync(published, clock, prune=True, force=True)
    assert len([r for r in server.writes() if r.method == "DELETE"]) == 2


def test_reply_chain_across_files_is_created_in_order(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    (tmp_path / "posts/hello-third.md").write_text("---\nreply_to: hello-reply\n---\nAnd a third one.\n")
    run_sync(config, clock)
    posts = read_state(config)["posts"]
    chain = [posts[name]["status_id"] for name in ("hello-world", "hello-reply", "hello-third")]
    assert [server.statuses[i]["in_reply_to_id"] for i in chain] == [None, chain[0], chain[1]]
    assert int(chain[0]) < int(chain[1]) < int(chain[2])


ADVENT = "posts/2027/advent-of-toots.md"


def test_native_schedule_sends_scheduled_at(published, server):
    (request,) = [
        r for r in server.requests if r.path == "/api/v1/statuses" and (r.json or {}).get("scheduled_at")
    ]
    assert request.json["scheduled_at"].startswith("2027-12-01T09:00:00")
    state = read_state(published)["posts"]["2027/advent-of-toots"]
    assert state["scheduled_id"] in server.scheduled


def test_changed_publish_at_reschedules(published, server, clock):
    rewrite(published.parent, ADVENT, "2027-12-01T09:00:00Z", "2027-12-02T10:00:00Z")
    run_sync(published, clock)
    state = read_state(published)["posts"]["2027/advent-of-toots"]
    (put,) = [r for r in server.writes() if r.method == "PUT"]
    assert put.path == f"/api/v1/scheduled_statuses/{state['scheduled_id']}"
    assert server.scheduled[state["scheduled_id"]]["scheduled_at"].startswith("2027-12-02T10:00:00")


def test_changed_content_of_a_scheduled_post_schedules_it_again(published, server, clock):
    old = read_state(published)["posts"]["2027/advent-of-toots"]["scheduled_id"]
    rewrite(published.parent, ADVENT, "Day 1 of the advent", "Day one of the advent")
    run_sync(published, clock)
    new = read_state(published)["posts"]["2027/advent-of-toots"]
    assert old not in server.scheduled and new["scheduled_id"] in server.scheduled
    assert "Day one" in server.scheduled[new["scheduled_id"]]["params"]["text"]


def test_scheduled_post_published_by_the_server_is_adopted(published, server, clock):
    clock.advance(timedelta(days=400).total_seconds())
    server.publish_due_scheduled()
    writes = len(server.writes())
    result = run_sync(published, clock)
    state = read_state(published)["posts"]["2027/advent-of-toots"]
    assert state["status_id"] in server.statuses and "scheduled_id" not in state
    assert [e.action for e in result.events] == ["published"]
    assert len(server.writes()) == writes


def test_ci_mode_defers_until_the_clock_passes_publish_at(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url, schedule="ci")
    run_sync(config, clock)
    assert server.scheduled == {} and "2027/advent-of-toots" not in read_state(config)["posts"]
    clock.advance(timedelta(days=400).total_seconds())
    run_sync(config, clock)
    state = read_state(config)["posts"]["2027/advent-of-toots"]
    assert "Day 1 of the advent" in server.statuses[state["status_id"]]["text"]


def test_status_lists_what_the_state_knows(published, server):
    import json

    from publisher.cli import app
    from tests.helpers import CliRunner

    text = CliRunner().invoke(app, ["status", "--config", str(published)])
    assert text.exit_code == 0
    assert "caturday-keyboard" in text.stdout and f"{server.url}/@" in text.stdout
    assert "  scheduled  2027-12-01 09:00:00Z  " in text.stdout
    document = json.loads(CliRunner().invoke(app, ["state", "--config", str(published), "--json"]).stdout)
    assert {row["post"] for row in document["posts"]} == set(read_state(published)["posts"])
    assert all(row["content_hash"].startswith("sha256:") for row in document["posts"])


THREAD = """---
id: story
tags: [thread]
media:
  - {path: media/extra.png, alt: "One white pixel."}
---
First, the setup.
+++
Then the *middle*.
+++
And the end.
"""


@pytest.mark.parametrize(
    "post",
    [
        THREAD,
        '---\nid: story\ntags: [thread]\nmedia:\n  - {path: media/extra.png, alt: "One white pixel."}\n'
        "parts: ['Then the *middle*.', 'And the end.']\n---\nFirst, the setup.\n",
    ],
    ids=["plus-separator", "parts-list"],
)
def test_three_part_thread_is_created_in_order(tmp_path, server, clock, post):
    config = example_repo(tmp_path, server.url)
    (tmp_path / "posts/media/extra.png").write_bytes(PNG_1PX)
    (tmp_path / "posts/story.md").write_text(post)
    (tmp_path / "posts/after-story.md").write_text("---\nreply_to: story\n---\nA reply to the whole story.\n")
    run_sync(config, clock)
    posts = read_state(config)["posts"]
    ids = [posts[name]["status_id"] for name in ("story", "story#2", "story#3", "after-story")]
    statuses = [server.statuses[i] for i in ids]
    assert [s["text"] for s in statuses[:3]] == [
        "First, the setup.\n\n#thread",
        "Then the middle.",
        "And the end.",
    ]
    assert [s["in_reply_to_id"] for s in statuses] == [None, ids[0], ids[1], ids[2]]
    assert [len(s["media_attachments"]) for s in statuses[:3]] == [1, 0, 0]


def test_a_thread_part_over_the_limit_is_reported(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    (tmp_path / "posts/long.md").write_text("short\n+++\n" + "word " * 120 + "\n")
    with pytest.raises(InvalidInput) as error:
        run_sync(config, clock)
    assert "part 2: 599/500 characters" in str(error.value)
    assert server.writes() == []
