"""compute_plan is a pure function of (desired posts, state, now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from publisher.plan.changes import ChangeKind, compute_plan, idempotency_key, order_posts
from publisher.plan.state import PendingCreate, State, StatusRecord
from publisher.source.models import DesiredStatus, MediaSpec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def post(post_id: str, text: str = "hello", **fields) -> DesiredStatus:
    values = dict(post_id=post_id, source=f"posts/{post_id}.md", account="main", text=text)
    return DesiredStatus(**{**values, **fields})


def record(desired: DesiredStatus, **fields) -> StatusRecord:
    values = dict(
        source=desired.source,
        account=desired.account,
        status_id="1",
        url="https://m.example/@a/1",
        content_hash=desired.content_hash,
        idempotency_key=idempotency_key(desired),
        text=desired.text,
        visibility=desired.visibility,
        recorded_at=NOW,
    )
    return StatusRecord(**{**values, **fields})


def kinds(plan) -> dict[str, ChangeKind]:
    return {change.post_id: change.kind for change in plan.changes}


def test_new_post_is_created():
    assert kinds(compute_plan([post("a")], State(), NOW)) == {"a": ChangeKind.CREATE}


def test_recorded_post_with_same_hash_is_unchanged():
    desired = post("a")
    state = State(posts={"a": record(desired)})
    assert kinds(compute_plan([desired], state, NOW)) == {"a": ChangeKind.UNCHANGED}


def test_changed_text_is_an_update():
    state = State(posts={"a": record(post("a", "old"))})
    plan = compute_plan([post("a", "new")], state, NOW)
    assert kinds(plan) == {"a": ChangeKind.UPDATE}


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"visibility": "unlisted"}, "visibility"), ({"account": "other"}, "account")],
)
def test_uneditable_change_is_a_replace(change, reason):
    state = State(posts={"a": record(post("a"))})
    plan = compute_plan([post("a", **change)], state, NOW)
    assert kinds(plan) == {"a": ChangeKind.REPLACE}
    assert reason in plan.changes[0].reason


def test_post_gone_from_files_is_orphan_or_delete_with_prune():
    state = State(posts={"gone": record(post("gone"))})
    assert kinds(compute_plan([], state, NOW)) == {"gone": ChangeKind.ORPHAN}
    assert kinds(compute_plan([], state, NOW, prune=True)) == {"gone": ChangeKind.DELETE}


@pytest.mark.parametrize(
    ("schedule", "ahead", "expected"),
    [
        ("ci", timedelta(days=3), ChangeKind.DEFERRED),
        ("native", timedelta(days=3), ChangeKind.SCHEDULE),
        ("native", timedelta(minutes=4), ChangeKind.DEFERRED),  # too soon for Mastodon's 5 minute minimum
        ("native", timedelta(minutes=-1), ChangeKind.CREATE),
        ("ci", timedelta(0), ChangeKind.CREATE),
    ],
)
def test_publish_at_decides_between_now_schedule_and_deferred(schedule, ahead, expected):
    plan = compute_plan([post("a", publish_at=NOW + ahead)], State(), NOW, schedule=schedule)
    assert kinds(plan) == {"a": expected}


def test_deferred_post_becomes_create_once_the_clock_passes_publish_at():
    desired = post("a", publish_at=NOW + timedelta(hours=1))
    assert kinds(compute_plan([desired], State(), NOW, schedule="ci")) == {"a": ChangeKind.DEFERRED}
    later = NOW + timedelta(hours=1, seconds=1)
    assert kinds(compute_plan([desired], State(), later, schedule="ci")) == {"a": ChangeKind.CREATE}


def test_pending_intent_plans_an_uncertain_create():
    desired = post("a")
    intent = PendingCreate(content_hash=desired.content_hash, idempotency_key="k", started_at=NOW)
    plan = compute_plan([desired], State(pending={"a": intent}), NOW)
    assert plan.changes[0].kind == ChangeKind.CREATE and plan.changes[0].uncertain


def test_order_is_publish_at_then_id_with_parents_first():
    posts = [
        post("b"),
        post("a", reply_to="z"),
        post("z"),
        post("late", publish_at=NOW + timedelta(days=1)),
        post("early", publish_at=NOW - timedelta(days=1)),
    ]
    assert [p.post_id for p in order_posts(posts)] == ["z", "a", "b", "early", "late"]


def test_plan_is_deterministic_whatever_the_input_order():
    posts = [post(name) for name in "dcba"]
    first = compute_plan(posts, State(), NOW)
    second = compute_plan(list(reversed(posts)), State(), NOW)
    assert first == second
    assert [c.post_id for c in first.changes] == ["a", "b", "c", "d"]


def media(**fields) -> MediaSpec:
    values = dict(
        path="posts/a.png", sha256="0" * 64, size=10, mime_type="image/png", alt="a cat", focus=(0.0, 0.5)
    )
    return MediaSpec(**{**values, **fields})


@pytest.mark.parametrize(
    "changed",
    [
        {"text": "other"},
        {"spoiler_text": "cw"},
        {"language": "de"},
        {"sensitive": True},
        {"media": (media(alt="a dog"),)},
        {"media": (media(focus=(0.1, 0.5)),)},
        {"media": (media(sha256="1" * 64),)},
        {"media": (media(), media(sha256="1" * 64))},
    ],
)
def test_content_hash_changes_with_what_is_sent(changed):
    base = post("a", media=(media(),))
    assert post("a", **{"media": (media(),), **changed}).content_hash != base.content_hash


@pytest.mark.parametrize(
    "unrelated", [{"source": "posts/moved.md"}, {"media": (media(path="posts/moved.png"),)}]
)
def test_content_hash_ignores_what_is_not_sent(unrelated):
    base = post("a", media=(media(),))
    assert post("a", **{"media": (media(),), **unrelated}).content_hash == base.content_hash


def test_idempotency_key_is_stable_per_revision():
    assert idempotency_key(post("a")) == idempotency_key(post("a"))
    assert idempotency_key(post("a")) != idempotency_key(post("a", "edited"))
    assert idempotency_key(post("a")) != idempotency_key(post("b"))


def test_more_than_25_scheduled_posts_a_day_is_a_plan_error():
    from publisher.plan.plan_checks import schedule_problems

    day = NOW + timedelta(days=2)
    posts = [post(f"p{i:02}", publish_at=day + timedelta(minutes=i)) for i in range(27)]
    plan = compute_plan(posts, State(), NOW)
    problems = schedule_problems(plan, State())
    assert [p.path for p in problems] == ["posts/p25.md", "posts/p26.md"]
    assert "Mastodon accepts 25 a day" in problems[0].message
    assert [p.message.split(" post ")[0] for p in problems] == ["the 26th", "the 27th"]
    spread = [post(f"p{i:02}", publish_at=day + timedelta(hours=i)) for i in range(27)]  # crosses midnight
    assert len(schedule_problems(compute_plan(spread, State(), NOW), State())) <= 2


def test_the_posts_past_a_days_limit_are_numbered_in_english():
    from publisher.plan.plan_checks import schedule_problems

    day = NOW + timedelta(days=2)
    posts = [post(f"p{i:02}", publish_at=day + timedelta(minutes=i)) for i in range(33)]
    problems = schedule_problems(compute_plan(posts, State(), NOW), State())
    nths = [p.message.split(" post ")[0].removeprefix("the ") for p in problems]
    assert nths == ["26th", "27th", "28th", "29th", "30th", "31st", "32nd", "33rd"]


def test_already_scheduled_posts_count_against_the_day():
    from publisher.plan.plan_checks import schedule_problems

    day = NOW + timedelta(days=2)
    waiting = {
        f"old{i}": record(post(f"old{i}"), status_id=None, scheduled_id=str(i), scheduled_at=day)
        for i in range(25)
    }
    new = [
        post("new", publish_at=day + timedelta(hours=1)),
        *[post(f"old{i}", publish_at=day) for i in range(25)],
    ]
    state = State(posts=waiting)
    problems = schedule_problems(compute_plan(new, state, NOW), state)
    assert [p.path for p in problems] == ["posts/new.md"]


def test_more_than_300_pending_is_a_plan_error():
    from publisher.plan.plan_checks import schedule_problems

    posts = [post(f"p{i:03}", publish_at=NOW + timedelta(days=2 + i // 20)) for i in range(301)]
    problems = schedule_problems(compute_plan(posts, State(), NOW), State())
    assert any("at most 300 pending" in p.message for p in problems)
