"""When and how long to retry a failed request, timed by the injected clock.

Only failures whose outcome may differ on a second try are retried: network errors, 429 and
500/502/503/504. A 429 waits until the announced reset; everything else backs off exponentially
with jitter. All waiting goes through `Clock.sleep`, so tests never sleep for real.
"""

from __future__ import annotations

import logging
import random as random_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import tenacity

from publisher.clock import Clock, iso_utc
from publisher.errors import NetworkError, RateLimited, ServerError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
# The announced reset is already at or after the window's end (Mastodon adds the request's fraction of a
# second); the margin only absorbs clock skew between us and the server.
RESET_MARGIN_SECONDS = 0.25


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, NetworkError | RateLimited):
        return True
    return isinstance(exc, ServerError) and exc.status in RETRYABLE_SERVER_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how long in total, and how far apart."""

    max_attempts: int = 6
    max_total_seconds: float = 600
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.5  # fraction of the delay, applied in both directions
    random: random_module.Random | None = None

    def call(
        self,
        fn: Callable[[], T],
        *,
        clock: Clock,
        label: str = "",
        retry_if: Callable[[BaseException], bool] = is_retryable,
        until: datetime | None = None,
    ) -> T:
        """Run `fn` until it succeeds, fails for good, or the attempts or time budget run out; no wait
        between attempts ends after `until` (the run's end)."""
        run = _PolicyRun(self, clock, label, retry_if, until)
        try:
            return run.retrying()(fn)
        except RateLimited as exc:
            raise run.explain_rate_limit(exc) from exc

    def backoff(self, attempt: int, rng: random_module.Random) -> float:
        """Delay after failed attempt number `attempt` (1-based), before the time budget is applied."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        spread = delay * self.jitter * rng.uniform(-1.0, 1.0)
        return max(0.0, min(self.max_delay, delay + spread))


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    clock: Clock,
    enabled: bool = True,
    label: str = "",
    retry_if: Callable[[BaseException], bool] = is_retryable,
    until: datetime | None = None,
) -> T:
    """Run `fn` under `policy`, or exactly once when the caller turned retries off for this call."""
    if not enabled:
        return fn()
    return policy.call(fn, clock=clock, label=label, retry_if=retry_if, until=until)


def is_rate_limited(exc: BaseException) -> bool:
    """Retry only what surely was not processed: for writes whose outcome must be checked otherwise."""
    return isinstance(exc, RateLimited)


class _PolicyRun:
    """The state of one `RetryPolicy.call`: when it started and its random source."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Clock,
        label: str,
        retry_if: Callable[[BaseException], bool],
        until: datetime | None = None,
    ):
        self.policy = policy
        self.retry_if = retry_if
        self.clock = clock
        self.label = label
        self.until = until
        self.started = clock.now()
        self.rng = policy.random or random_module.Random()

    def retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(
            sleep=self.clock.sleep,
            retry=tenacity.retry_if_exception(self.retry_if),
            wait=self.wait_seconds,
            stop=self.should_stop,
            before_sleep=self.log_retry,
            reraise=True,
        )

    def elapsed(self) -> float:
        return (self.clock.now() - self.started).total_seconds()

    def remaining(self) -> float:
        return max(0.0, self.policy.max_total_seconds - self.elapsed())

    def wait_seconds(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.reset_at is not None:
            until_reset = (exc.reset_at - self.clock.now()).total_seconds()
            return max(0.0, until_reset) + RESET_MARGIN_SECONDS
        return min(self.policy.backoff(state.attempt_number, self.rng), self.remaining())

    def should_stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        if self.remaining() <= 0:
            return True
        if self.until is not None and self.clock.now() + timedelta(seconds=state.upcoming_sleep) > self.until:
            return True
        return self.elapsed() + state.upcoming_sleep > self.policy.max_total_seconds

    def log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "%s failed (%s); attempt %d of %d, retrying in %.1f s",
            self.label or "request",
            exc,
            state.attempt_number + 1,
            self.policy.max_attempts,
            state.upcoming_sleep,
        )

    def explain_rate_limit(self, exc: RateLimited) -> RateLimited:
        """The final 429, with the moment after which a new run can succeed."""
        if exc.reset_at is None or exc.reset_at <= self.clock.now():
            return exc
        return RateLimited(
            f"{exc.server_message}; gave up after {self.elapsed():.0f} s of a "
            f"{self.policy.max_total_seconds:g} s retry budget, retry after {iso_utc(exc.reset_at)}",
            reset_at=exc.reset_at,
            status=exc.status,
            method=exc.method,
            path=exc.path,
        )
