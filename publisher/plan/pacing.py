"""How long a batch will wait for the server's rate limits: shown with the plan and while a sync waits.

Pure functions of a Plan and the limits; the client does the waiting itself (ratelimits.RateLimitTracker)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from publisher.clock import Clock
from publisher.plan.attachments import matching_attached
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.source.limits import FAMILY_NOUNS, MASTODON_RATE_LIMITS, RateLimit

CREATES = (ChangeKind.CREATE, ChangeKind.SCHEDULE, ChangeKind.REPLACE)
MAX_DURATION_HINT = "`publish sync --max-duration SECONDS` stops between posts in time; the next run goes on"


@dataclass(frozen=True)
class ExpectedWait:
    """A family the batch needs more of than one window allows."""

    family: str
    requests: int
    rate_limit: RateLimit
    account: str = ""  # limits are per account (per token on Mastodon)

    @property
    def seconds(self) -> float:
        """Waiting at the least, when the batch starts at the beginning of a fresh window."""
        return (windows(self.requests, self.rate_limit) - 1) * self.rate_limit.period

    def describe(self) -> str:
        limit = self.rate_limit
        whose = f" for account {self.account}" if self.account else ""
        return (
            f"{self.requests} {FAMILY_NOUNS[self.family]}{whose} at {limit.limit} per "
            f"{duration(limit.period)}: sync waits at least {duration(self.seconds)}"
        )


def requests_by_family(changes: tuple[Change, ...]) -> dict[str, int]:
    """The rate-limited requests applying these changes sends (media processing polls aside)."""
    counts = dict.fromkeys(MASTODON_RATE_LIMITS, 0)
    for change in changes:
        counts["media"] += _uploads(change)
        counts["statuses"] += change.kind in (*CREATES, ChangeKind.UPDATE)
        counts["deletes"] += change.kind in (ChangeKind.DELETE, ChangeKind.REPLACE)
        counts["requests"] += change.kind == ChangeKind.RESCHEDULE
    counts["requests"] += counts["media"] + counts["statuses"] + counts["deletes"]
    return counts


def _uploads(change: Change) -> int:
    if change.desired is None or not change.kind.writes:
        return 0
    if change.kind == ChangeKind.UPDATE and change.record is not None:  # files already attached stay
        return matching_attached(change.desired.media, change.record.media).count(None)
    return len(change.desired.media) if change.kind in CREATES else 0


def expected_waits(
    plan: Plan, limits: Mapping[str, RateLimit] = MASTODON_RATE_LIMITS
) -> tuple[ExpectedWait, ...]:
    """Each limit an account's share of the batch needs more than one window of (named if several)."""
    by_account: dict[str, list[Change]] = {}
    for change in plan.writes:
        by_account.setdefault(change.account, []).append(change)
    named = len(by_account) > 1
    return tuple(
        ExpectedWait(family, count, limit, account if named else "")
        for account, changes in sorted(by_account.items())
        for family, count in requests_by_family(tuple(changes)).items()
        if count > (limit := limits[family]).limit
    )


def windows(requests: int, limit: RateLimit) -> int:
    return max(1, math.ceil(requests / limit.limit))


def finish_estimate(left: int, window_opens: datetime, limit: RateLimit) -> datetime:
    """When the last of `left` requests can go, if the next window opens then and each allows the limit."""
    return window_opens + timedelta(seconds=(windows(left, limit) - 1) * limit.period)


def duration(seconds: float) -> str:
    """'45 s', '30 min', '2 h 5 min': whole seconds rounded up, minutes to the nearest."""
    if seconds <= 59:
        return f"{math.ceil(seconds)} s"
    hours, minutes = divmod(max(1, round(seconds / 60)), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class Budget:
    """`--max-duration`: stop between posts, before one that would not end in time; the next run goes on."""

    def __init__(self, clock: Clock, seconds: float | None, started: datetime | None = None):
        """`started`: when the run began (the command, not the first post), else now."""
        self.clock = clock
        self.seconds = seconds
        self.started = started or clock.now()
        self.durations: list[float] = []

    @property
    def ends_at(self) -> datetime | None:
        """The moment no request, retry or wait may pass, or None without --max-duration."""
        return None if self.seconds is None else self.started + timedelta(seconds=self.seconds)

    def elapsed(self) -> float:
        return (self.clock.now() - self.started).total_seconds()

    def estimate(self) -> float:
        """The slowest of the last few posts: pessimistic, since a late stop costs more than an early one."""
        return max(self.durations[-5:], default=0.0)

    def fits_another(self) -> bool:
        return self.seconds is None or self.elapsed() + self.estimate() <= self.seconds

    def lookahead(self, most: int) -> int:
        if self.seconds is None or not self.estimate():
            return most
        return max(0, min(most, int((self.seconds - self.elapsed()) / self.estimate()) - 1))

    def ends_before(self, moment: datetime) -> bool:
        """Whether `moment` is past the end of the allowed time."""
        return self.seconds is not None and (moment - self.started).total_seconds() > self.seconds

    def stop_reason(self, left: int, why: object = "") -> str:
        done = f"--max-duration {self.seconds:g} s reached after {self.elapsed():.0f} s"
        return f"{done}{f' ({why})' if str(why) else ''}; {left} change(s) left for the next run"

    @contextmanager
    def timing(self) -> Iterator[None]:
        start = self.elapsed()
        yield
        self.durations.append(self.elapsed() - start)
