"""Mastodon's rate limits: fixed windows per family, reported in X-RateLimit-* headers."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "requests": (300, 300),  # every authenticated request, per token
    "media": (30, 1800),  # POST /api/v*/media
    "statuses": (300, 10800),  # POST and PUT /api/v1/statuses
    "deletes": (30, 1800),  # DELETE /api/v1/statuses/:id
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


def format_reset(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RateLimiter:
    """Counts requests per family in windows aligned like Mastodon's: start = floor(now / period) * period."""

    def __init__(self, overrides: dict[str, tuple[int, int]] | None = None):
        unknown = set(overrides or {}) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(
                f"unknown rate-limit families {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}"
            )
        self.limits = {**DEFAULT_LIMITS, **(overrides or {})}
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def record(self, family: str | None, now: datetime) -> Verdict:
        """Count one request against `requests` and, when given, its own family; 429 when either overflows."""
        with self._lock:
            overall = self._hit("requests", now)
            if not overall.allowed or family is None:
                return overall
            return self._hit(family, now)

    def _hit(self, family: str, now: datetime) -> Verdict:
        limit, period = self.limits[family]
        window = int(now.timestamp() // period)
        count = self._counts.get((family, window), 0) + 1
        self._counts[(family, window)] = count
        # Mastodon adds the rest of the period to the request time, so the fraction of a second carries over.
        reset = now + timedelta(seconds=period - int(now.timestamp()) % period)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - count, 0)),
            "X-RateLimit-Reset": format_reset(reset),
        }
        return Verdict(count <= limit, headers)
