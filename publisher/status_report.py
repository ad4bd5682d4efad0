"""`publish status`: what the state file knows, as a table or JSON."""

from __future__ import annotations

import json

from publisher.clock import iso_utc
from publisher.state import State, StatusRecord


def _when(record: StatusRecord) -> str:
    if record.status_id is None and record.scheduled_at:
        return "scheduled " + iso_utc(record.scheduled_at)
    return iso_utc(record.published_at) if record.published_at else "-"


def status_rows(state: State) -> list[dict]:
    rows = []
    for post_id in sorted(state.posts):
        record = state.posts[post_id]
        rows.append(
            {
                "post": post_id,
                "account": record.account,
                "status_id": record.status_id,
                "url": record.url,
                "published_at": iso_utc(record.published_at) if record.published_at else None,
                "scheduled_at": iso_utc(record.scheduled_at)
                if record.scheduled_id and record.scheduled_at
                else None,
                "content_hash": record.content_hash,
                "source": record.source,
            }
        )
    return rows


def status_text(state: State) -> str:
    lines = [
        f"{post_id}  {_when(record)}  {record.url or '(not published yet)'}  {record.content_hash[:19]}"
        for post_id, record in sorted(state.posts.items())
    ]
    lines += [f"{post_id}  interrupted create, checked on the next sync" for post_id in sorted(state.pending)]
    total = f"{len(state.posts)} post(s) recorded, {len(state.pending)} interrupted"
    return "\n".join([*lines, total]) + "\n"


def status_json(state: State) -> str:
    document = {"version": 1, "posts": status_rows(state), "pending": sorted(state.pending)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
