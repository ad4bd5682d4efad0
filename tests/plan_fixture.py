"""A repository whose plan holds every kind of change that files and a state file alone make, with a
hand-made state file (no server needed). tests/test_plan_kinds.py builds a plan of every kind by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from publisher import app
from publisher.clock import FakeClock
from publisher.plan.state import MediaRecord, State, StatusRecord, serialize
from publisher.source.project import load_project
from tests.helpers import PNG_1PX, make_repo

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POSTS = {
    "new.md": """
        ---
        id: new
        tags: [launch]
        ---
        A new post with a link https://example.org/a?b=1&c=2 and a mention of @friend@example.social.
        """,
    "tricky.md": """
        ---
        id: tricky
        template: fenced.txt.j2
        spoiler: "<b>bold</b> | pipes & `ticks` for @octocat in #1"
        ---
        A | b and <script>alert(1)</script> & "quotes"
        """,
    "edited.md": """
        ---
        id: edited
        spoiler: "Spoilers ahead"
        media:
          - path: media/cat.png
            alt: "A cat, now described properly"
        ---
        The first line stays.
        The second line is new.
        """,
    "moved.md": """
        ---
        id: moved
        visibility: unlisted
        ---
        Moving this one to unlisted.
        """,
    "later.md": """
        ---
        id: later
        publish_at: 2027-01-01T09:00:00Z
        ---
        Happy new year, scheduled on the server.
        """,
    "soon.md": """
        ---
        id: soon
        publish_at: 2026-11-23T12:03:00Z
        ---
        Too soon to schedule natively: a later sync publishes it.
        """,
    "same.md": """
        ---
        id: same
        ---
        Nothing changed here.
        """,
}

TEMPLATES = {"fenced.txt.j2": "{{ body }}\n````\n```not the end```\n````"}  # backticks survive into the text


def every_kind_repo(root: Path) -> Path:
    """create, update, replace, schedule, deferred, unchanged, and orphan (delete with prune)."""
    config = make_repo(root, POSTS, files={"posts/media/cat.png": PNG_1PX}, templates=TEMPLATES)
    posts = {post.post_id: post for post in load_project(config).posts}
    cat = MediaRecord(
        path="posts/media/cat.png", sha256=posts["edited"].media[0].sha256, media_id="m1", alt="A cat"
    )
    old_text = "The first line stays.\nThe second line was old."
    state = State(
        posts={
            "edited": status_record("edited", old_text, spoiler_text="Spoilers", media=(cat,)),
            "moved": status_record("moved", "Moving this one to unlisted."),
            "same": status_record("same", posts["same"].text, content_hash=posts["same"].content_hash),
            "gone": status_record("gone", "This post's file was deleted."),
        }
    )
    (root / "publish.state.json").write_text(serialize(state), encoding="utf-8")
    return config


def status_record(post_id: str, text: str, **fields) -> StatusRecord:
    status_id = str(100 + len(post_id))
    values = {
        "source": f"posts/{post_id}.md",
        "account": "main",
        "status_id": status_id,
        "url": f"https://mastodon.example/@me/{status_id}",
        "content_hash": f"sha256:old-{post_id}",
        "idempotency_key": f"publish-{post_id}",
        "text": text,
        "recorded_at": NOW,
        "published_at": NOW,
    }
    return StatusRecord(**{**values, **fields})


def every_kind_plan(root: Path, *, prune: bool = False) -> app.PlanResult:
    return app.make_plan(every_kind_repo(root), clock=FakeClock(NOW), prune=prune)
