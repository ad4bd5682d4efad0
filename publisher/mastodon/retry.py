"""When and how long to retry a failed request, timed by the injected clock.

Only failures whose outcome may differ on a second try are retried: network errors, 429 and
500/502/503/504; never a name that does not resolve, a TLS failure or an address that is no URL. A 429
waits until the announced reset; a connection that could not be made is tried again for a few seconds
only (a CI run should not wait a minute for a server that is down); everything else backs off
exponentially with jitter. Each retry is logged as a warning, so it shows on stderr. All waiting goes
through `Clock.sleep`, so tests never sleep for real.
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
from publisher.errors import ApiError, NetworkError, NotConnected, RateLimited, ServerError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
# The announced reset is already at or after the window's end (Mastodon adds the request's fraction of a
# second); the margin only absorbs clock skew between us and the server.
RESET_MARGIN_SECONDS = 0.25


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, NotConnected):
        return not exc.lasting
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
    connect_seconds: float = 1.5  # how long a connection that could not be made is tried again, in all
    connect_delay: float = 0.5  # the first wait after it; doubled each time

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

    def connect_backoff(self, attempt: int) -> float:
        """Delay after connection attempt number `attempt` failed (nothing was sent): short, no jitter."""
        return self.connect_delay * 2 ** (attempt - 1)

    def connect_attempts(self) -> int:
        """The most tries a connection that cannot be made gets: as many as connect_seconds has waits for."""
        attempts, waited = 1, 0.0
        while (
            attempts < self.max_attempts and waited + self.connect_backoff(attempts) <= self.connect_seconds
        ):
            waited += self.connect_backoff(attempts)
            attempts += 1
        return attempts


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


def surely_unprocessed(exc: BaseException) -> bool:
    """Retry only what surely was not processed (a 429, a connection never made): for writes whose outcome
    must be checked otherwise."""
    return isinstance(exc, RateLimited) or (isinstance(exc, NotConnected) and not exc.lasting)


def retry_line(label: str, seconds: float, exc: BaseException, attempt: int, attempts: int) -> str:
    """'retrying POST /api/v1/statuses in 4 s: HTTP 503: … (attempt 2 of 6)': what a retry says on stderr."""
    what = f"{label or 'request'} in {round(seconds, 1):g} s: {_failure_words(exc)}"
    return f"retrying {what} (attempt {attempt} of {attempts})"


def _failure_words(exc: BaseException) -> str:
    """The failure without the method and path the line already names."""
    if not isinstance(exc, ApiError):
        return str(exc)
    return f"HTTP {exc.status}: {exc.server_message}" if exc.status else exc.server_message


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

    def connect_remaining(self) -> float:
        return max(0.0, self.policy.connect_seconds - self.elapsed())

    def wait_seconds(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.reset_at is not None:
            until_reset = (exc.reset_at - self.clock.now()).total_seconds()
            return max(0.0, until_reset) + RESET_MARGIN_SECONDS
        if isinstance(exc, NotConnected):
            return min(self.policy.connect_backoff(state.attempt_number), self.connect_remaining())
        return min(self.policy.backoff(state.attempt_number, self.rng), self.remaining())

    def should_stop(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if state.attempt_number >= self.policy.max_attempts or self.remaining() <= 0:
            return True
        if isinstance(exc, NotConnected) and self.connect_remaining() <= 0:
            return True
        if self.until is not None and self.clock.now() + timedelta(seconds=state.upcoming_sleep) > self.until:
            return True
        return self.elapsed() + state.upcoming_sleep > self.policy.max_total_seconds

    def log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        attempts = (
            self.policy.connect_attempts() if isinstance(exc, NotConnected) else self.policy.max_attempts
        )
        attempt = state.attempt_number + 1
        log.warning("%s", retry_line(self.label, state.upcoming_sleep, exc, attempt, attempts))

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
