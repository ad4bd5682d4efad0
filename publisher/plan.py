"""compute_plan(desired, state, now) -> Plan: a pure function, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from publisher.clock import iso_utc
from publisher.errors import Problem
from publisher.models import DesiredStatus
from publisher.state import State, StatusRecord

# Mastodon refuses scheduled_at less than 5 minutes ahead; keep a margin for the time the run itself takes.
NATIVE_SCHEDULE_MINIMUM = timedelta(minutes=5)
NATIVE_SCHEDULE_MARGIN = timedelta(minutes=2)
EARLIEST = datetime.min.replace(tzinfo=UTC)


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    DEFERRED = "deferred"
    DELETE = "delete"
    ORPHAN = "orphan"
    UNCHANGED = "unchanged"

    @property
    def writes(self) -> bool:
        return self in WRITING_KINDS


WRITING_KINDS = {
    ChangeKind.CREATE,
    ChangeKind.UPDATE,
    ChangeKind.REPLACE,
    ChangeKind.SCHEDULE,
    ChangeKind.RESCHEDULE,
    ChangeKind.DELETE,
}


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    post_id: str
    desired: DesiredStatus | None = None
    record: StatusRecord | None = None
    reason: str = ""
    uncertain: bool = False  # a previous run may already have created it: reconcile before creating

    @property
    def account(self) -> str:
        """The account the change is made on: the post's, or the recorded one's for a post that is gone."""
        return self.desired.account if self.desired else self.record.account


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    now: datetime

    def of(self, *kinds: ChangeKind) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.kind in kinds)

    def counts(self) -> dict[str, int]:
        return {kind.value: len(self.of(kind)) for kind in ChangeKind}

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.kind.writes)


def idempotency_key(desired: DesiredStatus, replacing: str | None = None) -> str:
    """Stable for one post revision on one account, so every retry of it carries the same key.

    `replacing` (the id of the status a re-create replaces) keeps a replay from returning the old one."""
    seed = (
        f"{desired.account}\0{desired.post_id}\0{desired.content_hash}\0{desired.reply_to}\0{replacing or ''}"
    )
    return "publish-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def compute_plan(
    desired: Sequence[DesiredStatus],
    state: State,
    now: datetime,
    *,
    schedule: str = "native",
    prune: bool = False,
) -> Plan:
    changes: list[Change] = []
    planned: dict[str, ChangeKind] = {}
    for post in order_posts(desired):
        change = _change_for(post, state, now, schedule, planned)
        planned[post.post_id] = change.kind
        changes.append(change)
    wanted = {post.post_id for post in desired}
    gone = sorted(post_id for post_id in state.posts if post_id not in wanted)
    kind = ChangeKind.DELETE if prune else ChangeKind.ORPHAN
    changes += [
        Change(kind, post_id, record=state.posts[post_id], reason=_orphan_reason(prune)) for post_id in gone
    ]
    return Plan(tuple(changes), now)


def _orphan_reason(prune: bool) -> str:
    return "post file is gone" if prune else "post file is gone; `publish sync --prune` deletes the status"


def _change_for(
    post: DesiredStatus, state: State, now: datetime, schedule: str, planned: dict[str, ChangeKind]
) -> Change:
    record = state.posts.get(post.post_id)
    if record is None:
        return _new_post(post, state, now, schedule, planned)
    reason = replace_reason(post, record)
    if reason:
        return Change(ChangeKind.REPLACE, post.post_id, post, record, reason)
    if record.status_id is None:
        return _still_scheduled(post, record, now, schedule)
    if record.content_hash == post.content_hash:
        return Change(ChangeKind.UNCHANGED, post.post_id, post, record)
    return Change(ChangeKind.UPDATE, post.post_id, post, record, "content changed")


def _new_post(
    post: DesiredStatus, state: State, now: datetime, schedule: str, planned: dict[str, ChangeKind]
) -> Change:
    uncertain = post.post_id in state.pending
    waiting = _parent_not_published(post, state, planned)
    if waiting:
        return Change(ChangeKind.DEFERRED, post.post_id, post, reason=waiting)
    if _due(post, now):
        reason = "an earlier run was interrupted; will check the server first" if uncertain else ""
        return Change(ChangeKind.CREATE, post.post_id, post, reason=reason, uncertain=uncertain)
    if schedule == "native" and _schedulable(post, now):
        reason = f"scheduled on the server for {_iso(post)}"
        return Change(ChangeKind.SCHEDULE, post.post_id, post, reason=reason, uncertain=uncertain)
    return Change(
        ChangeKind.DEFERRED, post.post_id, post, reason=f"due {_iso(post)}; a later sync publishes it"
    )


def _still_scheduled(post: DesiredStatus, record: StatusRecord, now: datetime, schedule: str) -> Change:
    """A post scheduled on the server: Mastodon can move it in time; anything else re-creates it."""
    if record.content_hash != post.content_hash:
        return Change(
            ChangeKind.UPDATE, post.post_id, post, record, "scheduled post changed: schedule it again"
        )
    if _due(post, now) or schedule != "native":
        return Change(ChangeKind.UPDATE, post.post_id, post, record, "publish now instead of the schedule")
    if record.scheduled_at != post.publish_at and _schedulable(post, now):
        reason = f"move from {_iso_of(record.scheduled_at)} to {_iso(post)}"
        return Change(ChangeKind.RESCHEDULE, post.post_id, post, record, reason)
    return Change(
        ChangeKind.UNCHANGED, post.post_id, post, record, f"scheduled for {_iso_of(record.scheduled_at)}"
    )


def _parent_not_published(post: DesiredStatus, state: State, planned: dict[str, ChangeKind]) -> str:
    """A reply needs its parent's status id; Mastodon cannot reply to a scheduled status."""
    if post.reply_to is None:
        return ""
    parent = state.posts.get(post.reply_to)
    if parent is not None and parent.status_id is not None:
        return ""
    if planned.get(post.reply_to) in (ChangeKind.CREATE, ChangeKind.REPLACE):
        return ""
    return f"waits until {post.reply_to!r} is published"


def _due(post: DesiredStatus, now: datetime) -> bool:
    return post.publish_at is None or post.publish_at <= now


def _schedulable(post: DesiredStatus, now: datetime) -> bool:
    return (
        post.publish_at is not None
        and post.publish_at - now >= NATIVE_SCHEDULE_MINIMUM + NATIVE_SCHEDULE_MARGIN
    )


def replace_reason(post: DesiredStatus, record: StatusRecord) -> str:
    """Mastodon cannot edit these, so a change means delete and re-create."""
    if post.visibility != record.visibility:
        return f"visibility {record.visibility} -> {post.visibility} cannot be edited"
    if post.account != record.account:
        return f"account {record.account} -> {post.account} cannot be edited"
    if post.reply_to != record.reply_to:
        return f"reply target {record.reply_to or '(none)'} -> {post.reply_to or '(none)'} cannot be edited"
    return ""


def _iso_of(moment: datetime | None) -> str:
    return iso_utc(moment) if moment else ""


def _iso(post: DesiredStatus) -> str:
    return _iso_of(post.publish_at)


def order_posts(posts: Iterable[DesiredStatus]) -> list[DesiredStatus]:
    """By publish_at (undated first), then id; a reply always after the post it answers."""
    by_time = sorted(posts, key=lambda post: (post.publish_at or EARLIEST, post.post_id))
    by_id = {post.post_id: post for post in by_time}
    ordered: list[DesiredStatus] = []
    visiting: set[str] = set()

    def place(post: DesiredStatus) -> None:
        if post.post_id in visiting:  # placed already, or a cycle (validation reports cycles)
            return
        visiting.add(post.post_id)
        parent = by_id.get(post.reply_to or "")
        if parent is not None:
            place(parent)
        ordered.append(post)

    for post in by_time:
        place(post)
    return ordered


# Mastodon's own limits on scheduled statuses (app/models/scheduled_status.rb).
SCHEDULED_PER_DAY = 25
SCHEDULED_PENDING = 300


def schedule_problems(plan: Plan, state: State) -> list[Problem]:
    """Scheduling more than Mastodon accepts fails halfway through a sync: refuse it in the plan."""
    moving = {change.post_id for change in plan.changes if change.kind.writes}
    kept = [
        (r.scheduled_at, r.source)
        for post_id, r in state.posts.items()
        if r.waiting_on_server and post_id not in moving
    ]
    planned = [
        (change.desired.publish_at, change.desired.source)
        for change in plan.changes
        if change.kind in (ChangeKind.SCHEDULE, ChangeKind.RESCHEDULE)
    ]
    problems = _per_day_problems(kept, planned)
    if len(kept) + len(planned) > SCHEDULED_PENDING:
        message = (
            f"{len(kept) + len(planned)} scheduled posts; Mastodon keeps at most {SCHEDULED_PENDING} pending"
        )
        problems.append(
            Problem(planned[-1][1], None, "publish_at", message, 'use schedule = "ci" in publish.toml')
        )
    return problems


def _per_day_problems(kept: list, planned: list) -> list[Problem]:
    per_day: dict = {}
    for moment, _source in kept:
        per_day[moment.astimezone(UTC).date()] = per_day.get(moment.astimezone(UTC).date(), 0) + 1
    problems = []
    for moment, source in sorted(planned):
        day = moment.astimezone(UTC).date()
        per_day[day] = per_day.get(day, 0) + 1
        if per_day[day] > SCHEDULED_PER_DAY:
            message = (
                f"the {per_day[day]}th post scheduled for {day}; Mastodon accepts {SCHEDULED_PER_DAY} a day"
            )
            problems.append(
                Problem(source, None, "publish_at", message, 'move it to another day, or use schedule = "ci"')
            )
    return problems
