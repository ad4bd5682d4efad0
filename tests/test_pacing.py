"""What a batch costs in rate-limited requests, and how long it must wait for them (pure functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from publisher.output import plan_json, plan_markdown, plan_text
from publisher.plan.changes import compute_plan
from publisher.plan.pacing import duration, expected_waits, finish_estimate, requests_by_family
from publisher.plan.state import MediaRecord, State
from publisher.source.config import Limits
from publisher.source.limits import RateLimit
from tests.test_plan import NOW, media, post, record


def images(post_id: str, count: int):
    return tuple(
        media(path=f"posts/{post_id}-{n}.png", sha256=f"{post_id}-{n}".ljust(64, "0")) for n in range(count)
    )


def batch(posts: int, per_post: int):
    return [post(f"p{n:02d}", f"post {n}", media=images(f"p{n:02d}", per_post)) for n in range(posts)]


def test_each_kind_of_change_spends_its_own_budgets():
    kept = post("edited", "old", media=images("edited", 2))
    edited = post("edited", "new text", media=(*images("edited", 2), *images("added", 1)))
    moved = post("moved", visibility="unlisted", media=images("moved", 1))
    gone = post("gone")
    state = State(
        posts={
            "edited": record(kept, media=tuple(_attached(spec) for spec in kept.media)),
            "moved": record(post("moved")),
            "gone": record(gone),
        }
    )
    desired = [post("new", media=images("new", 3)), edited, moved]
    plan = compute_plan(desired, state, NOW, prune=True)
    counts = requests_by_family(plan.writes)
    # new: 3 files + create; edited: only the added file + edit; moved (replace): 1 file, create, delete.
    assert counts == {"media": 5, "statuses": 3, "deletes": 2, "requests": 10}


def _attached(spec) -> MediaRecord:
    return MediaRecord(path=spec.path, sha256=spec.sha256, media_id=f"m-{spec.sha256[:24]}", alt=spec.alt)


@pytest.mark.parametrize(
    ("posts", "expected"),
    [
        (7, []),  # 28 files: one window of Mastodon's 30 per 30 minutes
        (8, [("media", 32, 1800)]),  # 32: the last two wait for the next window
        (16, [("media", 64, 3600)]),  # 64: three windows, so two waits
    ],
)
def test_a_batch_waits_only_for_the_limits_it_exceeds(posts, expected):
    plan = compute_plan(batch(posts, 4), State(), NOW)
    waits = [(wait.family, wait.requests, wait.seconds) for wait in expected_waits(plan)]
    assert waits == expected


def test_the_plan_shows_the_wait_in_text_markdown_and_json():
    plan = compute_plan(batch(8, 4), State(), NOW)
    text, markdown = plan_text(plan, Limits()), plan_markdown(plan, Limits())
    expected = "32 media uploads at 30 per 30 min: sync waits at least 30 min"
    assert f"⏱ {expected}" in text and "--max-duration" in text
    assert f"> ⏱ {expected}" in markdown
    (entry,) = json.loads(plan_json(plan, Limits()))["rate_limits"]
    assert entry == {
        "account": None,  # named when the plan spans several accounts
        "family": "media",
        "requests": 32,
        "limit": 30,
        "period_seconds": 1800,
        "wait_seconds": 1800,
    }


def test_a_plan_within_the_limits_says_nothing_about_them():
    plan = compute_plan(batch(2, 4), State(), NOW)
    assert "⏱" not in plan_text(plan, Limits()) and json.loads(plan_json(plan, Limits()))["rate_limits"] == []


@pytest.mark.parametrize(
    ("left", "expected"),
    [(1, "12:30:00"), (30, "12:30:00"), (31, "13:00:00"), (61, "13:30:00")],
)
def test_finish_estimate_counts_whole_windows_from_the_next_one(left, expected):
    opens = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
    assert finish_estimate(left, opens, RateLimit(30, 1800)).strftime("%H:%M:%S") == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (0.2, "1 s"),
        (59, "59 s"),
        (60, "1 min"),
        (61, "1 min"),
        (90, "2 min"),
        (1800.25, "30 min"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
    ],
)
def test_duration_in_words(seconds, expected):
    assert duration(seconds) == expected


def test_each_account_has_its_own_limits():
    """Five posts of four files on each of two accounts: no second window; 40 files on one would need it."""

    def posts(account: str, count: int):
        return [
            post(f"{account}-{n}", f"{account} {n}", account=account, media=images(f"{account}{n}", 4))
            for n in range(count)
        ]

    assert expected_waits(compute_plan(posts("main", 5) + posts("second", 5), State(), NOW)) == ()
    (wait,) = expected_waits(compute_plan(posts("main", 5) + posts("second", 9), State(), NOW))
    assert (wait.account, wait.family, wait.requests) == ("second", "media", 36)
    assert wait.describe().startswith("36 media uploads for account second at 30 per 30 min")


def test_an_edit_uploads_what_sync_would_upload_again():
    """As matching_attached decides: a new thumbnail means the file goes up again; a file twice, twice."""
    (cover,) = images("song", 1)
    published = post("song", "old", media=(cover,))
    recorded = record(published, media=(_attached(cover),))
    new_thumbnail = cover.model_copy(update={"thumbnail": "posts/c.png", "thumbnail_sha256": "c" * 64})
    for files, uploads in (((cover,), 0), ((new_thumbnail,), 1), ((cover, cover), 1)):
        plan = compute_plan([post("song", "new", media=files)], State(posts={"song": recorded}), NOW)
        assert requests_by_family(plan.writes)["media"] == uploads
