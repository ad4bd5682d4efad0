"""Time as a collaborator, so tests decide what "now" is and never sleep for real."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as Mastodon writes its times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso8601(value: str) -> datetime:
    """An aware UTC datetime from ISO 8601 as Mastodon writes it ('Z', optional microseconds)."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def moment_or_none(value: object) -> datetime | None:
    """parse_iso8601 for a value read from a server: None when it is missing or no time at all."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso8601(value)
    except (ValueError, OverflowError):
        return None


# How far apart this machine's clock, the server's and git's commit times may be: searches by time on the
# server start this much earlier, and "edited since publish wrote it" allows this much.
CLOCK_SKEW = timedelta(minutes=10)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it and records the wait."""

    def __init__(self, start: datetime | None = None, on_sleep: Callable[[float], None] | None = None):
        self._now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self._on_sleep = on_sleep

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += timedelta(seconds=max(seconds, 0))
        if self._on_sleep:
            self._on_sleep(seconds)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
