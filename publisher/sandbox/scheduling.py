"""Scheduled statuses: held until due, then handed back to be published like any other status."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from .media import MediaLibrary, public_view
from .paging import PageQuery, newest_first
from .render import StatusState, scheduled_json, scheduled_params
from .validation import schedule_time
from .wire import not_found, unprocessable

MAX_PENDING = 300
MAX_PER_DAY = 25


@dataclass(frozen=True)
class Pending:
    state: StatusState  # its id is the scheduled status id until it is published
    when: datetime
    idempotency_key: str | None


class Scheduler:
    def __init__(self, lock: threading.RLock, next_id: Callable[[], str], media: MediaLibrary):
        self.records: dict[str, dict] = {}  # id -> ScheduledStatus JSON
        self._pending: dict[str, Pending] = {}
        self._lock = lock
        self._next_id = next_id
        self._media = media

    def schedule(self, state: StatusState, when: datetime, key: str | None) -> dict:
        with self._lock:
            self._check_limits(when)
            scheduled_id = self._next_id()
            for media_id in state.media_ids:
                self._media.records[media_id]["_scheduled_id"] = scheduled_id
            self._pending[scheduled_id] = Pending(replace(state, id=scheduled_id), when, key)
            return self._render(scheduled_id)

    def _check_limits(self, when: datetime, ignore: str | None = None) -> None:
        others = [p for sid, p in self._pending.items() if sid != ignore]
        if len(others) >= MAX_PENDING:
            raise unprocessable(
                f"Validation failed: You have exceeded the limit of {MAX_PENDING} scheduled posts"
            )
        if sum(p.when.date() == when.date() for p in others) >= MAX_PER_DAY:
            raise unprocessable(
                "Validation failed: Scheduled at You have exceeded the limit of "
                f"{MAX_PER_DAY} scheduled posts for that day"
            )

    def _render(self, scheduled_id: str) -> dict:
        pending = self._pending[scheduled_id]
        media = [public_view(self._media.records[m]) for m in pending.state.media_ids]
        params = scheduled_params(pending.state, pending.idempotency_key)
        self.records[scheduled_id] = scheduled_json(scheduled_id, pending.when, params, media)
        return self.records[scheduled_id]

    def get(self, scheduled_id: str) -> dict:
        with self._lock:
            if scheduled_id not in self.records:
                raise not_found()
            return self.records[scheduled_id]

    def page(self, query: PageQuery) -> list[dict]:
        with self._lock:
            return newest_first(self.records, query)

    def reschedule(self, scheduled_id: str, value: str | None, now: datetime) -> dict:
        """PUT changes only scheduled_at, which must again be at least 5 minutes ahead."""
        with self._lock:
            pending = self._pending.get(scheduled_id)
            if pending is None:
                raise not_found()
            when = schedule_time(value, now) if value else None
            if when is None:
                raise unprocessable("Validation failed: Scheduled at date must be in the future")
            self._check_limits(when, ignore=scheduled_id)
            self._pending[scheduled_id] = replace(pending, when=when)
            return self._render(scheduled_id)

    def cancel(self, scheduled_id: str) -> None:
        with self._lock:
            pending = self._pop(scheduled_id)
            for media_id in pending.state.media_ids:
                self._media.records[media_id]["_scheduled_id"] = None

    def _pop(self, scheduled_id: str) -> Pending:
        pending = self._pending.pop(scheduled_id, None)
        if pending is None:
            raise not_found()
        del self.records[scheduled_id]
        return pending

    def take_due(self, now: datetime) -> list[Pending]:
        """Remove and return the statuses whose time has come, earliest first; their media is released."""
        with self._lock:
            due = sorted(
                (p for p in self._pending.values() if p.when <= now), key=lambda p: (p.when, int(p.state.id))
            )
            for pending in due:
                self._pop(pending.state.id)
                for media_id in pending.state.media_ids:
                    self._media.records[media_id]["_scheduled_id"] = None
            return due
