"""Find a status an interrupted run may have created, by its content, so it is adopted, not posted twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from publisher.mastodon import MastodonClient, Status, parse_status
from publisher.state import PendingCreate

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)
MAX_PAGES = 10  # 400 statuses: far more than one CI run creates between an intent and its rerun


def find_existing_status(client: MastodonClient, pending: PendingCreate, *, media_count: int) -> Status | None:
    """Walk the account's statuses back to the intent's start time; compare the source text."""
    account = client.verify_credentials()
    since = pending.started_at - CLOCK_SKEW
    max_id = None
    for _ in range(MAX_PAGES):
        page = client.account_statuses(account.id, limit=40, max_id=max_id)
        for raw in page:
            status = parse_status(raw)
            if status.created_at is not None and status.created_at < since:
                return None
            if _same_content(client, raw, pending, media_count):
                log.info("adopting status %s created by an interrupted run", status.id)
                return status
        if not page:
            return None
        max_id = str(page[-1]["id"])
    return None


def _same_content(client: MastodonClient, raw: dict, pending: PendingCreate, media_count: int) -> bool:
    if len(raw.get("media_attachments") or []) != media_count:
        return False
    if (raw.get("spoiler_text") or "") != pending.spoiler_text:
        return False
    source = client.status_source(str(raw["id"]))
    return source.get("text", "").strip() == pending.text.strip()
