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
    checked = requests = 0
    for post_id, record in sorted(state.posts.items()):
        client = clients.get(record.account)
        if client is None or record.status_id is None:
            continue
        checked += 1
        requests += 1
        try:
            status = client.get_status(record.status_id)
        except NotFound:
            gone.add(post_id)
            continue
        edit, cost = _server_edit(client, record, status)
        requests += cost
        if edit is not None:
            edited[post_id] = edit
    return ServerView(frozenset(gone), edited, checked, requests)


def _server_edit(
    client: MastodonClient, record: StatusRecord, status: Status
) -> tuple[ServerEdit | None, int]:
    edited_at = moment_or_none(status.raw.get("edited_at"))
    if edited_at is None or edited_at < record.recorded_at - CLOCK_SKEW:
        return None, 0
    source = client.status_source(record.status_id)
    text, spoiler = source["text"].strip(), source["spoiler_text"]
    if text == record.text.strip() and spoiler == record.spoiler_text:
        return None, 1  # publish's own edit
    log.info("%s: edited on the server at %s", record.source, edited_at)
    return ServerEdit(text, spoiler, edited_at), 1
