"""Statuses: create (with idempotency and scheduling), edit, delete, read and list."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import validation
from .inputs import StatusInput
from .interactions import Interactions
from .media import MediaLibrary, public_view
from .paging import PageQuery, newest_first
from .quirks import Quirks
from .render import Site, StatusState, poll_json, revision_json, status_json
from .scheduling import Scheduler
from .wire import not_found

IDEMPOTENCY_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Remembered:
    """What an Idempotency-Key points at, and until when."""

    kind: str  # "status" or "scheduled"
    id: str
    expires_at: datetime


class StatusBook:
    def __init__(
        self,
        lock: threading.RLock,
        next_id: Callable[[], str],
        clock,
        media: MediaLibrary,
        site: Site,
        honour_idempotency: bool = True,
        quirks: Quirks = Quirks(),
    ):
        self.quirks = quirks
        self.records: dict[str, dict] = {}  # id -> Status JSON, in creation order
        self.history: dict[str, list[dict]] = {}
        self.published_from_scheduled: dict[str, str] = {}
        self.site = site
        self.scheduler = Scheduler(lock, next_id, media)
        self.interactions = Interactions(self, lock, next_id)
        self._states: dict[str, StatusState] = {}
        self._idempotency: dict[str, Remembered] = {}
        self._lock = lock
        self._next_id = next_id
        self._clock = clock
        self._media = media
        self._honour_idempotency = honour_idempotency

    # -- creating --------------------------------------------------------------------------------

    def create(self, data: StatusInput, idempotency_key: str | None) -> dict:
        """POST /api/v1/statuses: a Status, a ScheduledStatus, or the original one for a replayed key."""
        with self._lock:
            now = self._clock.now()
            original = self._replay(idempotency_key, now)
            if original is not None:
                return original
            state, when = self._validated(data, now)
            if when is not None:
                result = self.scheduler.schedule(state, when, idempotency_key)
            else:
                result = self._publish(replace(state, id=self._next_id(), created_at=now))
            self._remember(idempotency_key, "scheduled" if when else "status", result["id"], now)
            return result

    def _validated(self, data: StatusInput, now: datetime) -> tuple[StatusState, datetime | None]:
        """Mastodon's order: reply target, media, visibility, schedule, poll, then text."""
        # A status fetched from another server will do.
        if data.in_reply_to_id is not None and self.interactions.lookup(data.in_reply_to_id) is None:
            raise not_found()
        visibility = validation.visibility(data.visibility)
        quoted, quote_state, visibility = self.interactions.quote_for(data.quoted_status_id, visibility)
        media = self._media.check_attachable(
            self.quirks.received_media_ids(data.media_ids),
            self.site.max_media_attachments,
            data.poll is not None,
        )
        when = validation.schedule_time(data.scheduled_at, now)
        validation.poll(data.poll)
        validation.text(data, self.site, bool(media))
        state = StatusState(
            id="",
            created_at=now,
            text=data.text,
            spoiler_text=data.spoiler_text,
            visibility=visibility,
            sensitive=validation.sensitive(data),
            language=validation.language(data.language),
            in_reply_to_id=data.in_reply_to_id,
            media_ids=tuple(m["id"] for m in media),
            poll=data.poll,
            quoted_status_id=quoted,
            quote_state=quote_state,
            quote_policy=self.interactions.policy_for(data.quote_approval_policy, visibility),
        )
        return self.quirks.stored(state), when

    def _publish(self, state: StatusState) -> dict:
        for media_id in state.media_ids:
            self._media.records[media_id]["_status_id"] = state.id
        self.history[state.id] = []
        return self._render(state)

    def _render(self, state: StatusState) -> dict:
        """The status as JSON, kept as its newest revision."""
        self.history[state.id].append(revision_json(self.keep(state)))
        return self.records[state.id]

    def keep(self, state: StatusState) -> dict:
        """Store and render a status; a pin, a new quote policy or a quote's state adds no revision."""
        media = [public_view(self._media.records[m]) for m in state.media_ids]
        poll = poll_json(state.id, state.poll, state.created_at) if state.poll else None
        self._states[state.id] = state
        extra = self.interactions.extra_json(state)
        self.records[state.id] = status_json(self.site, state, media, poll, extra)
        return self.records[state.id]

    def _replay(self, key: str | None, now: datetime) -> dict | None:
        remembered = self._idempotency.get(key) if key and self._honour_idempotency else None
        if remembered is None or remembered.expires_at <= now:
            return None
        records = self.records if remembered.kind == "status" else self.scheduler.records
        return records.get(remembered.id)

    def _remember(self, key: str | None, kind: str, record_id: str, now: datetime) -> None:
        if key and self._honour_idempotency:
            self._idempotency[key] = Remembered(kind, record_id, now + IDEMPOTENCY_LIFETIME)

    def publish_due(self) -> list[str]:
        """Turn due scheduled statuses into statuses; returns the new status ids."""
        with self._lock:
            published = []
            for pending in self.scheduler.take_due(self._clock.now()):
                status = self._publish(
                    replace(pending.state, id=self._next_id(), created_at=self._clock.now())
                )
                self.published_from_scheduled[pending.state.id] = status["id"]
                published.append(status["id"])
            return published

    # -- editing and deleting --------------------------------------------------------------------

    def edit(self, status_id: str, data: StatusInput) -> dict:
        """PUT /api/v1/statuses/:id: omitted fields are cleared; visibility and reply target stay."""
        with self._lock:
            old = self._state(status_id)
            media = self._media.check_attachable(
                self.quirks.received_media_ids(data.media_ids),
                self.site.max_media_attachments,
                data.poll is not None,
                owner=status_id,
            )
            validation.poll(data.poll)
            validation.text(data, self.site, bool(media))
            new = self.quirks.stored(_edited(old, data, tuple(m["id"] for m in media)))
            attributes_changed = self._apply_media_attributes(data, media)
            if new.content_key() == old.content_key() and not attributes_changed:
                return self.keep(new)  # a new quote policy alone adds no revision
            return self._commit_edit(new)

    def _apply_media_attributes(self, data: StatusInput, media: list[dict]) -> bool:
        if self.quirks.ignore_media_attributes:
            return False
        by_id = {record["id"]: record for record in media}
        changed = False
        for attribute in data.media_attributes:
            record = by_id.get(attribute.id)
            if record is not None:
                changed |= self._media.apply_attributes(record, attribute.description, attribute.focus)
        return changed

    def _commit_edit(self, new: StatusState) -> dict:
        for media_id in new.media_ids:
            self._media.records[media_id]["_status_id"] = new.id
        return self._render(replace(new, edited_at=self._clock.now()))

    def delete(self, status_id: str, delete_media: bool) -> dict:
        """DELETE returns the status with its source text; its media is freed for a redraft unless deleted."""
        with self._lock:
            state = self._state(status_id)
            for media_id in state.media_ids:
                if delete_media:
                    del self._media.records[media_id]
                else:
                    self._media.records[media_id]["_status_id"] = None
            del self._states[status_id]
            del self.history[status_id]
            self.interactions.forget(status_id)
            return self.records.pop(status_id)

    # -- reading ---------------------------------------------------------------------------------

    def _state(self, status_id: str) -> StatusState:
        state = self._states.get(status_id)
        if state is None:
            raise not_found()
        return state

    def state_of(self, status_id: str) -> StatusState:
        with self._lock:
            return self._state(status_id)

    def states(self) -> list[StatusState]:
        with self._lock:
            return list(self._states.values())

    def now(self) -> datetime:
        return self._clock.now()

    def get(self, status_id: str) -> dict:
        with self._lock:
            self._state(status_id)
            return self.records[status_id]

    def source(self, status_id: str) -> dict:
        with self._lock:
            state = self._state(status_id)
            return {"id": status_id, "text": state.text, "spoiler_text": state.spoiler_text}

    def revisions(self, status_id: str) -> list[dict]:
        with self._lock:
            self._state(status_id)
            return list(self.history[status_id])

    def count(self) -> int:
        with self._lock:
            return len(self.records)

    def last_status_day(self) -> str | None:
        """Mastodon's `last_status_at`: the day (not the moment) of the account's newest status."""
        with self._lock:
            days = [state.created_at.date() for state in self._states.values()]
        return max(days).isoformat() if days else None

    def page(self, query: PageQuery) -> list[dict]:
        with self._lock:
            return newest_first(self.records, query)


def _edited(old: StatusState, data: StatusInput, media_ids: tuple[str, ...]) -> StatusState:
    """The full new state: whatever the edit omits is cleared, except the language and the quote policy (the
    quote itself cannot be edited)."""
    policy = old.quote_policy
    if data.quote_approval_policy is not None and policy is not None:
        policy = Interactions.policy_for(data.quote_approval_policy, old.visibility, policy)
    return replace(
        old,
        text=data.text,
        spoiler_text=data.spoiler_text,
        sensitive=validation.sensitive(data),
        language=validation.language(data.language, old.language or validation.DEFAULT_LANGUAGE),
        media_ids=media_ids,
        poll=data.poll,
        quote_policy=policy,
    )
