"""Checks of a whole plan against what each account's server takes, before anything is sent: how many posts
Mastodon schedules, and how many statuses an account may pin.

Mastodon pins at most 5 statuses per account (StatusPinValidator::PIN_LIMIT; /api/v2/instance announces it
as configuration.accounts.max_pinned_statuses since 4.3) and never a direct one. Only the pins publish knows
are counted: a status pinned by hand on the server still takes a place, and the server then refuses the pin
with an error that stops the sync after the status itself is safely recorded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC

from publisher.errors import Problem
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.plan.state import State
from publisher.source.config import Limits

# Mastodon's own limits on scheduled statuses (app/models/scheduled_status.rb).
SCHEDULED_PER_DAY = 25
SCHEDULED_PENDING = 300
PIN_HINT = "unpin another post (`pinned: false`); if the server allows more, set [limits] max_pinned_statuses"


def plan_problems(plan: Plan, state: State, limits: Mapping[str, Limits]) -> list[Problem]:
    """Every reason to refuse the plan as a whole; `limits`: each account's effective limits."""
    return [*schedule_problems(plan, state), *pin_problems(plan, limits)]


def pin_problems(plan: Plan, limits: Mapping[str, Limits]) -> list[Problem]:
    """The pins past each account's cap, counting the statuses that stay pinned first, then the new pins in
    the order the plan makes them (a pinned direct post never gets here: quotes.quote_problems refuses it)."""
    problems = []
    pinned: dict[str, list[str]] = {}
    kept = [change for change in plan.changes if _pinned_after(change) and _pinned_before(change)]
    for change in kept + [c for c in plan.changes if _pinned_after(c) and not _pinned_before(c)]:
        ids = pinned.setdefault(change.account, [])
        ids.append(change.post_id)
        cap = limits.get(change.account, Limits()).max_pinned_statuses
        if len(ids) > cap:
            message = (
                f"the {_ordinal(len(ids))} post pinned on account {change.account}; its server pins at most "
                f"{cap} ({', '.join(ids[:cap])} are pinned before it)"
            )
            problems.append(Problem(change.source, None, "pinned", message, PIN_HINT))
    return problems


def _pinned_before(change: Change) -> bool:
    return change.record is not None and change.record.pinned is True and change.kind != ChangeKind.REPLACE


def _pinned_after(change: Change) -> bool:
    """Whether the status is pinned once the plan is applied (or, if it waits, once it is published)."""
    if change.kind in (ChangeKind.DELETE, ChangeKind.GONE):
        return False
    if change.desired is not None:
        return change.desired.pinned is True
    return change.record is not None and change.record.pinned is True  # an orphan keeps its pin


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


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
    per_day = Counter(moment.astimezone(UTC).date() for moment, _source in kept)
    problems = []
    for moment, source in sorted(planned):
        day = moment.astimezone(UTC).date()
        per_day[day] += 1
        if per_day[day] > SCHEDULED_PER_DAY:
            nth = _ordinal(per_day[day])
            message = f"the {nth} post scheduled for {day}; Mastodon accepts {SCHEDULED_PER_DAY} a day"
            problems.append(
                Problem(source, None, "publish_at", message, 'move it to another day, or use schedule = "ci"')
            )
    return problems
