"""compute_plan(desired, state, now) -> Plan: a pure function, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from publisher.clock import iso_utc
from publisher.plan.drift import ServerEdit, ServerView
from publisher.plan.interactions import adjustments, quoted_post, targets, wanted_policy
from publisher.plan.moves import find_moves, moved_state
from publisher.plan.state import State, StatusRecord
from publisher.source.models import DesiredStatus

# Mastodon refuses scheduled_at less than 5 minutes ahead; keep a margin for the time the run itself takes.
NATIVE_SCHEDULE_MINIMUM = timedelta(minutes=5)
NATIVE_SCHEDULE_MARGIN = timedelta(minutes=2)
EARLIEST = datetime.min.replace(tzinfo=UTC)


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ADJUST = "adjust"  # pin, unpin or a new quote policy: the status itself stays as it is
    REPLACE = "replace"
    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    DEFERRED = "deferred"
    DELETE = "delete"
    MOVE = "move"  # the post's id changed (its file was renamed): the record follows, nothing is sent
    RECORD = "record"  # the server published a scheduled post: sync records its status, nothing is sent
    GONE = "gone"  # deleted on the server (seen with --refresh): left alone unless --recreate-missing
    ORPHAN = "orphan"
    UNCHANGED = "unchanged"

    @property
    def writes(self) -> bool:
        return self in WRITING_KINDS


WRITING_KINDS = {
    ChangeKind.CREATE,
    ChangeKind.UPDATE,
    ChangeKind.ADJUST,
    ChangeKind.REPLACE,
    ChangeKind.SCHEDULE,
    ChangeKind.RESCHEDULE,
    ChangeKind.DELETE,
    ChangeKind.MOVE,
}


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    post_id: str
    desired: DesiredStatus | None = None
    record: StatusRecord | None = None
    reason: str = ""
    uncertain: bool = False  # a previous run may already have created it: reconcile before creating
    previous_id: str | None = None  # MOVE (or ADJUST of a renamed post): the id the record had
    server_text: str | None = None  # with --refresh: the text as edited on the server, when it differs

    @property
    def account(self) -> str:
        """The account the change is made on: the post's, or the recorded one's for a post that is gone."""
        return self.desired.account if self.desired else self.record.account

    @property
    def source(self) -> str:
        """The post file: the post's, or the recorded one's for a post that is gone."""
        if self.desired is not None:
            return self.desired.source
        return self.record.source if self.record is not None else ""

    @property
    def accounts(self) -> frozenset[str]:
        """Every account the change sends to: a replace onto another account deletes on the recorded one."""
        return frozenset({self.account, self.record.account} if self.record else {self.account})


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

    @property
    def sends(self) -> tuple[Change, ...]:
        """The writes that send something to a server: all but moving a record."""
        return tuple(change for change in self.writes if change.kind != ChangeKind.MOVE)

    @property
    def accounts_sent_to(self) -> frozenset[str]:
        """Every account applying the plan sends to."""
        return frozenset(name for change in self.sends for name in change.accounts)


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
    server: ServerView | None = None,
    recreate_missing: bool = False,
) -> Plan:
    """`server`: what a refresh saw of the recorded statuses (none: the state is taken at its word)."""
    moves = find_moves(desired, state)
    sources = {post.post_id: post.source for post in desired}
    state = moved_state(state, moves, sources)
    server = (server or ServerView()).renamed(moves)
    renamed_from = {new: old for old, new in moves.items()}
    seen = _Seen(state, now, schedule, server, recreate_missing, renamed_from)
    changes: list[Change] = []
    for post in order_posts(desired):
        change = seen.change_for(post)
        seen.planned[post.post_id] = change
        changes.append(change)
    wanted = {post.post_id for post in desired}
    gone = sorted(post_id for post_id in state.posts if post_id not in wanted)
    kind = ChangeKind.DELETE if prune else ChangeKind.ORPHAN
    changes += [
        Change(kind, post_id, record=state.posts[post_id], reason=_orphan_reason(prune)) for post_id in gone
    ]
    return Plan(tuple(changes), now)


@dataclass
class _Seen:
    """What one plan knows while it walks the posts, parents before replies."""

    state: State
    now: datetime
    schedule: str
    server: ServerView
    recreate_missing: bool
    renamed_from: dict[str, str]  # new post id -> the id its record had
    planned: dict[str, Change] = field(default_factory=dict)

    def change_for(self, post: DesiredStatus) -> Change:
        change = self._own_change(post)
        follow_on = self._parent_recreated(post, change)
        if follow_on:
            change = Change(ChangeKind.REPLACE, post.post_id, post, change.record, follow_on)
        old = self.renamed_from.get(post.post_id)
        return change if old is None else _renamed(change, old)

    def _own_change(self, post: DesiredStatus) -> Change:
        record = self.state.posts.get(post.post_id)
        if record is None:
            return _new_post(post, self.state, self.now, self.schedule, self.planned)
        if post.post_id in self.server.gone:
            return self._gone(post, record)
        reason = replace_reason(post, record)
        if reason:
            return Change(ChangeKind.REPLACE, post.post_id, post, record, reason)
        if record.status_id is None:
            return _still_scheduled(post, record, self.now, self.schedule)
        edit = self.server.edited.get(post.post_id)
        if edit is not None:
            return _edited_on_server(post, record, edit)
        settings = adjustments(post, record)
        if record.content_hash == post.content_hash and settings:
            return Change(ChangeKind.ADJUST, post.post_id, post, record, "; ".join(settings))
        if record.content_hash == post.content_hash:
            return Change(ChangeKind.UNCHANGED, post.post_id, post, record)
        why = "; ".join(["content changed", *settings])
        return Change(ChangeKind.UPDATE, post.post_id, post, record, why)

    def _gone(self, post: DesiredStatus, record: StatusRecord) -> Change:
        if self.recreate_missing:
            reason = "deleted on the server; --recreate-missing posts it again"
            return Change(ChangeKind.CREATE, post.post_id, post, record, reason)
        reason = "deleted on the server; `publish sync --recreate-missing` posts it again"
        return Change(ChangeKind.GONE, post.post_id, post, record, reason)

    def _parent_recreated(self, post: DesiredStatus, change: Change) -> str:
        """A reply must follow its parent to a new status, and a quote the post it quotes: Mastodon cannot
        edit a reply's target or a quote."""
        record = change.record
        if record is None or change.kind not in FOLLOWS_PARENT:
            return ""
        pointers = [("replies to", post.reply_to, record.in_reply_to_id)]
        pointers.append(("quotes", quoted_post(post), record.quoted_status_id))
        for verb, target, sent in pointers:
            why = _follow(verb, target, self.planned.get(target or ""), sent)
            if why:
                return why
        return ""


# Changes that keep the published status, so a reply to it keeps pointing at the right one (or not).
FOLLOWS_PARENT = (ChangeKind.UNCHANGED, ChangeKind.UPDATE, ChangeKind.ADJUST, ChangeKind.MOVE)


def _follow(verb: str, target: str | None, planned: Change | None, sent: str | None) -> str:
    """Why a post must be re-created to point at the current status of `target` (the post it replies to or
    quotes, whose status id it was sent with as `sent`), or ""."""
    if planned is None:
        return ""
    if recreates(planned):
        return f"{verb} {target}, which is re-created: re-create it to point at the new status"
    current = planned.record.status_id if planned.record is not None else None
    if current is not None and sent is not None and sent != current:
        return f"points at an old status of {target}: re-create it to point at the current one"
    return ""


def _renamed(change: Change, old: str) -> Change:
    """The change of a renamed post: its record follows the file first (a MOVE, when that is all), then the
    change does what it does."""
    if change.kind == ChangeKind.UNCHANGED:
        return replace(change, kind=ChangeKind.MOVE, reason=f"renamed from {old}", previous_id=old)
    return replace(change, reason=f"renamed from {old}; {change.reason}", previous_id=old)


def recreates(change: Change) -> bool:
    """The change gives the post a new status id: replaced, or posted again after it was deleted."""
    if change.kind == ChangeKind.REPLACE:
        return True
    return change.kind == ChangeKind.CREATE and change.record is not None


def _edited_on_server(post: DesiredStatus, record: StatusRecord, edit: ServerEdit) -> Change:
    reason = f"edited on the server at {iso_utc(edit.edited_at)}; the file wins: sync edits it back"
    return Change(ChangeKind.UPDATE, post.post_id, post, record, reason, server_text=edit.text)


def _orphan_reason(prune: bool) -> str:
    return "post file is gone" if prune else "post file is gone; `publish sync --prune` deletes the status"


LOOK_FIRST = "will look for an existing copy on the server first"
INTERRUPTED = "an earlier run was interrupted; will check the server first"


def _new_post(
    post: DesiredStatus, state: State, now: datetime, schedule: str, planned: dict[str, Change]
) -> Change:
    """Not in the state: the state may be lost or stale, so sync looks on the server before it creates."""
    uncertain = post.post_id in state.pending
    waiting = _parent_not_published(post, state, planned)
    if waiting:
        return Change(ChangeKind.DEFERRED, post.post_id, post, reason=waiting)
    look = INTERRUPTED if uncertain else LOOK_FIRST
    if _due(post, now):
        return Change(ChangeKind.CREATE, post.post_id, post, reason=look, uncertain=uncertain)
    if schedule == "native" and _schedulable(post, now):
        reason = f"scheduled on the server for {_iso(post)}; {look}"
        return Change(ChangeKind.SCHEDULE, post.post_id, post, reason=reason, uncertain=uncertain)
    return Change(
        ChangeKind.DEFERRED, post.post_id, post, reason=f"due {_iso(post)}; a later sync publishes it"
    )


def _still_scheduled(post: DesiredStatus, record: StatusRecord, now: datetime, schedule: str) -> Change:
    """A post scheduled on the server: Mastodon can move it in time; anything else re-creates it."""
    if record.scheduled_at is not None and record.scheduled_at <= now:
        return _published_on_schedule(post, record)
    if record.content_hash != post.content_hash or wanted_policy(post, record) is not None:
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


def _published_on_schedule(post: DesiredStatus, record: StatusRecord) -> Change:
    """Its time has come, so the server has published it (or is about to): sync records the status."""
    published = f"the server published it at {_iso_of(record.scheduled_at)}"
    if record.content_hash == post.content_hash:
        return Change(ChangeKind.RECORD, post.post_id, post, record, f"{published}; sync records its status")
    reason = f"{published}; sync records it, then edits it (content changed)"
    return Change(ChangeKind.UPDATE, post.post_id, post, record, reason)


def _parent_not_published(post: DesiredStatus, state: State, planned: dict[str, Change]) -> str:
    """A reply needs its parent's status id, a quote the quoted one's; Mastodon cannot reply to (or quote) a
    scheduled status."""
    for target in targets(post):
        parent = state.posts.get(target)
        if parent is not None and parent.status_id is not None:
            continue
        parent_change = planned.get(target)
        if parent_change is None or parent_change.kind not in (ChangeKind.CREATE, ChangeKind.REPLACE):
            return f"waits until {target!r} is published"
    return ""


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
    if post.quote != record.quote:
        return f"quote {record.quote or '(none)'} -> {post.quote or '(none)'} cannot be edited"
    return ""


def _iso_of(moment: datetime | None) -> str:
    return iso_utc(moment) if moment else ""


def _iso(post: DesiredStatus) -> str:
    return _iso_of(post.publish_at)


def order_posts(posts: Iterable[DesiredStatus]) -> list[DesiredStatus]:
    """By publish_at (undated first), then id; a reply always after the post it answers, a quote after the
    post it quotes."""
    by_time = sorted(posts, key=lambda post: (post.publish_at or EARLIEST, post.post_id))
    by_id = {post.post_id: post for post in by_time}
    ordered: list[DesiredStatus] = []
    visiting: set[str] = set()

    def place(post: DesiredStatus) -> None:
        if post.post_id in visiting:  # placed already, or a cycle (validation reports cycles)
            return
        visiting.add(post.post_id)
        for target in targets(post):
            if target in by_id:
                place(by_id[target])
        ordered.append(post)

    for post in by_time:
        place(post)
    return ordered
