"""What `--refresh` sees on the server of the recorded statuses: deleted there, or edited there.

The plan takes the resulting ServerView as input and stays a pure function; `refresh` is the only I/O."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from publisher.clock import CLOCK_SKEW, moment_or_none
from publisher.errors import NotFound
from publisher.state import State, StatusRecord

if TYPE_CHECKING:  # plans import the view; only a refresh needs the HTTP stack
    from publisher.mastodon import MastodonClient, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerEdit:
    """A status edited on the server after publish last wrote it."""

    text: str  # its source text now
    spoiler_text: str
    edited_at: datetime | None


@dataclass(frozen=True)
class ServerView:
    """The input the plan takes from a refresh: post ids gone from the server, and those edited there."""

    gone: frozenset[str] = frozenset()
    edited: Mapping[str, ServerEdit] = field(default_factory=dict)
    checked: int = 0  # recorded statuses compared
    requests: int = 0  # what the comparison cost


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
