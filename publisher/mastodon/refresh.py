"""`--refresh`: each recorded status compared with the server, one request each, as a plan's ServerView."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from publisher.clock import CLOCK_SKEW, moment_or_none
from publisher.errors import NotFound
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.statuses import Status
from publisher.plan.drift import ServerEdit, ServerView
from publisher.plan.state import State, StatusRecord

log = logging.getLogger(__name__)


def refresh(state: State, clients: Mapping[str, MastodonClient]) -> ServerView:
    """Compare each recorded status (of the accounts in `clients`) with the server: one request each, and
    one more for the source of a status edited since publish last wrote it."""
    gone: set[str] = set()
    edited: dict[str, ServerEdit] = {}
    for post_id, record in sorted(state.posts.items()):
        client = clients.get(record.account)
        if client is None or record.status_id is None:
            continue
        try:
            status = client.get_status(record.status_id)
        except NotFound:
            gone.add(post_id)
            continue
        edit = _server_edit(client, record, status)
        if edit is not None:
            edited[post_id] = edit
    return ServerView(frozenset(gone), edited)


def _server_edit(client: MastodonClient, record: StatusRecord, status: Status) -> ServerEdit | None:
    edited_at = moment_or_none(status.raw.get("edited_at"))
    if edited_at is None or edited_at < record.recorded_at - CLOCK_SKEW:
        return None
    source = client.status_source(record.status_id)
    text = source["text"].strip()
    if text == record.text.strip() and source["spoiler_text"] == record.spoiler_text:
        return None  # publish's own edit
    log.info("%s: edited on the server at %s", record.source, edited_at)
    return ServerEdit(text, edited_at)
