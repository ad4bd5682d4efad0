"""The stable JSON documents of `plan --json` and `sync --json`. Fields may be added, never renamed."""

from __future__ import annotations

import json

from publisher.output.common import character_count, iso, max_characters
from publisher.plan.changes import Change, Plan
from publisher.plan.pacing import expected_waits
from publisher.source.config import Limits

JSON_VERSION = 1


def plan_json(plan: Plan, limits: Limits) -> str:
    document = {
        "version": JSON_VERSION,
        "now": iso(plan.now),
        "summary": plan.counts(),
        "changes": [change_dict(change, limits) for change in plan.changes],
        "rate_limits": rate_limits(plan),
    }
    return json_document(document)


def rate_limits(plan: Plan) -> list[dict]:
    """The limits this batch needs more than one window of, with the least time it will wait."""
    return [
        {
            "account": wait.account or None,
            "family": wait.family,
            "requests": wait.requests,
            "limit": wait.rate_limit.limit,
            "period_seconds": wait.rate_limit.period,
            "wait_seconds": wait.seconds,
        }
        for wait in expected_waits(plan)
    ]


def change_dict(change: Change, limits: Limits) -> dict:
    record = change.record
    entry: dict = {
        "action": change.kind.value,
        "post": change.post_id,
        "reason": change.reason,
        "uncertain": change.uncertain,
        "status_id": record.status_id if record else None,
        "url": record.url if record else None,
    }
    if change.previous_id is not None:
        entry["previous_id"] = change.previous_id
    if change.server_text is not None:
        entry["server_text"] = change.server_text
    if change.desired:
        post = change.desired
        entry["source"] = post.source
        entry["content_hash"] = post.content_hash
        entry["characters"] = character_count(post, limits)
        entry["max_characters"] = max_characters(post, limits)
        entry["status"] = post.model_dump(mode="json", exclude={"post_id", "source"})
    elif record:
        entry["source"] = record.source
    return entry


def sync_json(result, limits: Limits) -> str:
    document = {
        "version": JSON_VERSION,
        "applied": result.applied,
        "summary": result.plan.counts(),
        "changes": [change_dict(change, limits) for change in result.plan.changes],
        "events": [
            {
                "action": event.action,
                "post": event.post_id,
                "account": event.account,
                "url": event.url,
                "detail": event.detail,
            }
            for event in result.events
        ],
    }
    return json_document(document)


def json_document(document: dict) -> str:
    """Every --json document as printed: keys sorted, two-space indent, text as is, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
