"""Find a status on the server by its content, so an uncertain create is adopted, not posted twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from publisher.clock import CLOCK_SKEW
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.statuses import ScheduledStatus, Status, parse_scheduled, parse_status

log = logging.getLogger(__name__)

MAX_PAGES = 10  # 400 statuses: far more than one CI run creates between an intent and its rerun


@dataclass(frozen=True)
class Wanted:
    """What the status must look like, and the earliest moment it can have been created."""

    text: str
    spoiler_text: str
    media_count: int
    since: datetime


def find_existing(
    client: MastodonClient, wanted: Wanted, *, scheduled: bool
) -> Status | ScheduledStatus | None:
    """The status, or with `scheduled` also the scheduled status, an uncertain create may have made.

    A scheduled create is looked for among the scheduled statuses first; it may also have been published
    since, so the account's statuses are searched too."""
    found = find_existing_scheduled(client, wanted) if scheduled else None
    return found or find_existing_status(client, wanted)


def find_existing_scheduled(client: MastodonClient, wanted: Wanted) -> ScheduledStatus | None:
    for raw in client.scheduled_statuses():
        if same_scheduled(raw, wanted.text, wanted.spoiler_text, wanted.media_count):
            log.info(
                "found scheduled status %s on the server; adopting it instead of scheduling again", raw["id"]
            )
            return parse_scheduled(raw)
    return None


def same_scheduled(raw: dict, text: str, spoiler_text: str, media_count: int) -> bool:
    """A scheduled status (as answers.checked_scheduled leaves it) with this text, spoiler and media count."""
    params = raw["params"]
    same_text = params["text"].strip() == text.strip() and params["spoiler_text"] == spoiler_text
    return same_text and len(raw["media_attachments"]) == media_count


def find_existing_status(client: MastodonClient, wanted: Wanted) -> Status | None:
    """Walk the account's statuses, newest first, back to `since`; compare the source text."""
    account = client.verify_credentials()
    oldest = wanted.since - CLOCK_SKEW
    max_id = None
    for _ in range(MAX_PAGES):
        page = client.account_statuses(account.id, limit=40, max_id=max_id)
        for raw in page:
            status = parse_status(raw)
            if status.created_at is not None and status.created_at < oldest:
                return None
            if _same_content(client, raw, wanted):
                log.info("found status %s on the server; adopting it instead of posting again", status.id)
                return status
        if not page:
            return None
        max_id = str(page[-1]["id"])
    return None


def _same_content(client: MastodonClient, raw: dict, wanted: Wanted) -> bool:
    if len(raw.get("media_attachments") or []) != wanted.media_count:
        return False
    if (raw.get("spoiler_text") or "") != wanted.spoiler_text:
        return False
    source = client.status_source(str(raw["id"]))
    return source.get("text", "").strip() == wanted.text.strip()
