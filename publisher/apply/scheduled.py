"""Posts scheduled on the server: notice when Mastodon has published them and record the status."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from publisher.clock import Clock
from publisher.errors import NotFound
from publisher.plan.state import State, StateStore, StatusRecord

log = logging.getLogger(__name__)


def due_scheduled(state: State, now: datetime) -> list[str]:
    """Post ids scheduled on the server whose time has come, oldest first."""
    due = [
        (record.scheduled_at, post_id)
        for post_id, record in state.posts.items()
        if record.waiting_on_server and record.scheduled_at <= now
    ]
    return [post_id for _, post_id in sorted(due)]


def scheduled_accounts(state: State) -> set[str]:
    return {record.account for record in state.posts.values() if record.waiting_on_server}


def adopt_published(
    state: State, store: StateStore, clients: Mapping, clock: Clock, on_event: Callable
) -> State:
    """A due scheduled status that left GET /api/v1/scheduled_statuses became a status: record its id."""
    from publisher.apply.events import SyncEvent
    from publisher.mastodon.reconcile import Wanted, find_existing_status

    for post_id in due_scheduled(state, clock.now()):
        record = state.posts[post_id]
        client = clients[record.account]
        if _still_waiting(client, record):
            continue
        wanted = Wanted(record.text, record.spoiler_text, len(record.media), record.scheduled_at)
        found = find_existing_status(client, wanted)
        state = _published(state, post_id, record, found) if found else _dropped(state, post_id)
        store.save(state)
        if found:
            on_event(SyncEvent("published", post_id, found.url, "the server published the scheduled post"))
    return state


def _still_waiting(client, record: StatusRecord) -> bool:
    try:
        client.get_scheduled(record.scheduled_id)
    except NotFound:
        return False
    log.info("scheduled status %s is due but still pending on the server", record.scheduled_id)
    return True


def _published(state: State, post_id: str, record: StatusRecord, found) -> State:
    update = {"status_id": found.id, "url": found.url, "published_at": found.created_at, "scheduled_id": None}
    update["in_reply_to_id"] = found.raw.get("in_reply_to_id")
    return state.with_record(post_id, record.model_copy(update=update))


def _dropped(state: State, post_id: str) -> State:
    """Mastodon drops a scheduled status that fails validation at publish time; post it again."""
    log.warning("%s: its scheduled status vanished without being published; it will be posted again", post_id)
    return state.without(post_id)
