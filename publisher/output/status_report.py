"""`publish status`: what the state file knows, as an aligned table or JSON.

The table shows times in UTC to the second (`2026-11-23 12:00:00Z`); the JSON document keeps ISO 8601 as
recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from publisher.clock import iso_utc
from publisher.output.common import plural
from publisher.output.document import JSON_VERSION, json_document
from publisher.output.table import aligned
from publisher.plan.state import PendingCreate, State, StatusRecord

HEADER = ("POST", "ACCOUNT", "STATE", "TIME (UTC)", "HASH", "URL")
HASH_SHOWN = len("sha256:") + 12


def table_time(moment: datetime | None) -> str:
    """'2026-11-23 12:00:00Z': UTC, to the second; '-' when unknown."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def record_row(post_id: str, record: StatusRecord) -> tuple[str, ...]:
    if record.status_id is None and record.scheduled_at:
        state, moment = "scheduled", record.scheduled_at
    else:
        state, moment = "published", record.published_at
    url = record.url or "(not published yet)"
    return post_id, record.account, state, table_time(moment), record.content_hash[:HASH_SHOWN], url


def pending_row(post_id: str, intent: PendingCreate) -> tuple[str, ...]:
    started = table_time(intent.started_at)
    hashed = intent.content_hash[:HASH_SHOWN]
    return post_id, "-", "interrupted", started, hashed, "(create interrupted: checked on the next sync)"


def status_text(state: State) -> str:
    rows = [record_row(post_id, record) for post_id, record in sorted(state.posts.items())]
    rows += [pending_row(post_id, intent) for post_id, intent in sorted(state.pending.items())]
    total = f"{plural(len(state.posts), 'post')} recorded, {len(state.pending)} interrupted"
    return "\n".join([*(aligned(HEADER, rows) if rows else []), total]) + "\n"


def status_rows(state: State) -> list[dict]:
    return [record_dict(post_id, record) for post_id, record in sorted(state.posts.items())]


def record_dict(post_id: str, record: StatusRecord) -> dict:
    scheduled = record.scheduled_at if record.scheduled_id else None
    return {
        "post": post_id,
        "account": record.account,
        "status_id": record.status_id,
        "url": record.url,
        "published_at": iso_utc(record.published_at) if record.published_at else None,
        "scheduled_at": iso_utc(scheduled) if scheduled else None,
        "content_hash": record.content_hash,
        "source": record.source,
    }


def status_json(state: State) -> str:
    document = {"version": JSON_VERSION, "posts": status_rows(state), "pending": sorted(state.pending)}
    return json_document(document)
