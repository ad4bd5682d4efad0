"""Rate limits: which budget a request spends, what is left of each (X-RateLimit-*), and Mastodon's defaults.

No HTTP here: the client (http.py) asks the tracker before each request and tells it each answer's headers."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from publisher.clock import moment_or_none
from publisher.source.limits import MASTODON_RATE_LIMITS, RateLimit

MEDIA_UPLOAD_PATH = re.compile(r"^/api/v\d+/media/?$")
STATUS_PATH = re.compile(r"^/api/v1/statuses(/[^/]+)?/?$")
COUNT = re.compile(r"[0-9]{1,12}")  # ASCII digits: str.isdigit() also takes "²", which int() refuses


LONGEST_WINDOW_SECONDS = max(limit.period for limit in MASTODON_RATE_LIMITS.values())  # 3 h: statuses
# Pacing never waits longer than this unless --max-duration allows it: a reset further off than Mastodon's
# longest window (plus a quarter of an hour for our clock and the server's to disagree) is no window of its.
PACING_HORIZON_SECONDS = LONGEST_WINDOW_SECONDS + 900


def rate_limit_family(method: str, path: str) -> str:
    """The server-side limit a request counts against (Mastodon's rack-attack / RateLimiter families)."""
    if method == "POST" and MEDIA_UPLOAD_PATH.match(path):
        return "media"
    if STATUS_PATH.match(path) and method in ("POST", "PUT"):
        return "statuses"
    if STATUS_PATH.match(path) and method == "DELETE":
        return "deletes"
    return "requests"


def reset_from_headers(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a limit resets: Retry-After (seconds or HTTP-date) if given, else X-RateLimit-Reset."""
    # Retry-After is the instruction for this very answer; X-RateLimit-Reset may describe another window.
    retry_after = _parse_retry_after(headers, now)
    return retry_after or _parse_ratelimit_reset(headers.get("x-ratelimit-reset"))


def _parse_ratelimit_reset(value: str | None) -> datetime | None:
    """When the window ends. Mastodon's windows end on a whole second, but it announces that second plus the
    fraction of a second of the request's own time (now + period - now.to_i % period): up to a second late."""
    moment = moment_or_none(value)
    return moment.replace(microsecond=0) if moment else None


def _parse_retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        if COUNT.fullmatch(value):
            return now + timedelta(seconds=int(value))
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # OverflowError: past the year 9999
        return None


def far_off(seconds: float) -> str:
    """A long wait in words: '3.0 h', '27,000 days'."""
    days = seconds / 86_400
    return f"{days:,.0f} days" if days >= 2 else f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class PacingWait:
    """The client is about to wait `seconds` for a family's window to end, rather than be refused."""

    family: str
    seconds: float
    until: datetime
    rate_limit: RateLimit


@dataclass(frozen=True)
class UsedUp:
    """A budget with nothing left until `reset_at`."""

    family: str
    reset_at: datetime


class RateLimitTracker:
    """What is left of each endpoint family's budget (X-RateLimit-Remaining/Reset), so we wait instead of
    collecting 429s. Upload threads share it: each request takes its slot before it is sent."""

    PROBE_WAIT = 10.0  # real seconds to wait for the probe's answer before probing too

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._limits: dict[str, tuple[int, datetime]] = {}
        self._announced: dict[str, int] = {}  # X-RateLimit-Limit
        self._probing: set[str] = set()
        self._in_flight: dict[str, int] = {}
        self._doubtful: dict[str, int] = {}  # sent in the last window, counted in this one: not answered yet

    def rate_limit(self, family: str) -> RateLimit:
        """The family's limit as the server announced it, over Mastodon's period for it."""
        default = MASTODON_RATE_LIMITS.get(family, MASTODON_RATE_LIMITS["requests"])
        with self._lock:
            return RateLimit(self._announced.get(family, default.limit), default.period)

    def remember(self, family: str, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        reset_at = _parse_ratelimit_reset(headers.get("x-ratelimit-reset"))
        if not COUNT.fullmatch(remaining) or reset_at is None:
            return
        with self._lock:
            limit = headers.get("x-ratelimit-limit", "").strip()
            if COUNT.fullmatch(limit) and int(limit) > 0:  # a limit of 0 would divide the estimates by zero
                self._announced[family] = int(limit)
            known = self._limits.get(family)
            count = int(remaining)
            if known is not None and reset_at < known[1]:
                self._landed_in_earlier_window(family, known)
                return
            if known is not None and known[1] == reset_at:  # answers of one window may arrive out of order
                count = min(count, known[0])
            else:
                # A new window: requests still on the way took their slot in the old one, but may land in
                # this one (a window can end between reserve and send). Count them here to stay under.
                self._doubtful[family] = self._in_flight.get(family, 1) - 1
                count -= self._doubtful[family]
            self._limits[family] = (max(count, 0), reset_at)

    def _landed_in_earlier_window(self, family: str, known: tuple[int, datetime]) -> None:
        """A late answer from the window before: it did not spend the slot counted for it in this one."""
        if self._doubtful.get(family, 0) > 0:
            self._doubtful[family] -= 1
            self._limits[family] = (known[0] + 1, known[1])

    def settle(self, family: str) -> None:
        """A request of the family was answered (or failed): a waiting thread may go on."""
        with self._lock:
            self._probing.discard(family)
            for name in {family, "requests"}:
                self._in_flight[name] = max(self._in_flight.get(name, 0) - 1, 0)
            self._lock.notify_all()

    def reserve(self, family: str, now: datetime) -> UsedUp | None:
        """Take one request from the budgets we know; or, when one has nothing left, the reset to wait for."""
        names = {family, "requests"}
        with self._lock:
            self._probe_first(family, now)
            current = {
                name: self._limits[name]
                for name in names
                if name in self._limits and self._limits[name][1] > now
            }
            used_up = [UsedUp(name, reset_at) for name, (left, reset_at) in current.items() if left <= 0]
            if used_up:
                return max(used_up, key=lambda budget: budget.reset_at)
            for name, (remaining, reset_at) in current.items():
                self._limits[name] = (remaining - 1, reset_at)
            for name in names:
                self._in_flight[name] = self._in_flight.get(name, 0) + 1
            return None

    def _probe_first(self, family: str, now: datetime) -> None:
        """In a window whose budget we do not know yet, one request goes first and learns it;
        parallel uploads wait for its answer instead of all spending the budget blind."""
        if self._known(family, now):
            return
        if family in self._probing:
            self._lock.wait_for(lambda: family not in self._probing, timeout=self.PROBE_WAIT)
            if self._known(family, now):
                return
        self._probing.add(family)

    def _known(self, family: str, now: datetime) -> bool:
        known = self._limits.get(family)
        return known is not None and known[1] > now
