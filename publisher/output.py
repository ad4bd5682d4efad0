"""Plan and sync results as plain text or as the stable JSON document. Printing is the CLI's job."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from publisher.config import Limits
from publisher.length import status_length
from publisher.models import DesiredStatus
from publisher.plan import Change, ChangeKind, Plan

JSON_VERSION = 1
SYMBOLS = {
    ChangeKind.CREATE: "+",
    ChangeKind.UPDATE: "~",
    ChangeKind.REPLACE: "⇄",
    ChangeKind.SCHEDULE: "⏲",
    ChangeKind.DEFERRED: "⏲",
    ChangeKind.DELETE: "-",
    ChangeKind.ORPHAN: "?",
    ChangeKind.UNCHANGED: "=",
}
SUMMARY = (
    ("create", "to create"),
    ("update", "to edit"),
    ("replace", "to replace"),
    ("delete", "to delete"),
    ("schedule", "to schedule"),
    ("deferred", "deferred"),
    ("orphan", "orphaned"),
    ("unchanged", "unchanged"),
)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def character_count(post: DesiredStatus, limits: Limits) -> int:
    return status_length(post.text, post.spoiler_text, url_length=limits.characters_reserved_per_url)


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    return "Plan: " + ", ".join(f"{counts[key]} {label}" for key, label in SUMMARY) + "."


def plan_text(plan: Plan, limits: Limits) -> str:
    blocks = [change_text(change, limits) for change in plan.changes if change.kind != ChangeKind.UNCHANGED]
    unchanged = len(plan.of(ChangeKind.UNCHANGED))
    if unchanged:
        blocks.append(f"= {unchanged} unchanged post{'s' if unchanged != 1 else ''}")
    return "\n\n".join([*blocks, summary_line(plan)]) + "\n"


def change_text(change: Change, limits: Limits) -> str:
    source = change.desired.source if change.desired else change.record.source if change.record else ""
    lines = [f"{SYMBOLS[change.kind]} {change.kind.value} {change.post_id}  ({source})"]
    if change.reason:
        lines.append(f"    why: {change.reason}")
    if change.record and change.record.url:
        lines.append(f"    url: {change.record.url}")
    if change.desired:
        lines += _status_lines(change.desired, limits)
    return "\n".join(lines)


def _status_lines(post: DesiredStatus, limits: Limits) -> list[str]:
    count = character_count(post, limits)
    lines = [
        f"    visibility: {post.visibility}   language: {post.language or '-'}   "
        f"sensitive: {'yes' if post.sensitive else 'no'}   characters: {count}/{limits.max_characters}"
    ]
    if post.publish_at:
        lines.append(f"    publish at: {iso(post.publish_at)}")
    if post.reply_to:
        lines.append(f"    reply to: {post.reply_to}")
    if post.spoiler_text:
        lines.append(f"    content warning: {post.spoiler_text}")
    for media in post.media:
        focus = f"  focus {media.focus_param()}" if media.focus else ""
        lines.append(f"    media: {media.path} ({media.mime_type}, {media.size:,} bytes){focus}")
        lines.append(f"      alt: {media.alt or '(none)'}")
    if post.poll:
        lines.append(f"    poll: {' / '.join(post.poll.options)} (expires in {post.poll.expires_in} s)")
    lines += ["    │ " + line if line else "    │" for line in post.text.split("\n")]
    return lines


def plan_json(plan: Plan, limits: Limits) -> str:
    document = {
        "version": JSON_VERSION,
        "now": iso(plan.now),
        "summary": plan.counts(),
        "changes": [change_dict(change, limits) for change in plan.changes],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


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
    if change.desired:
        post = change.desired
        entry["source"] = post.source
        entry["content_hash"] = post.content_hash
        entry["characters"] = character_count(post, limits)
        entry["max_characters"] = limits.max_characters
        entry["status"] = post.model_dump(mode="json", exclude={"post_id", "source"})
    elif record:
        entry["source"] = record.source
    return entry


def sync_event_line(event) -> str:
    target = f" -> {event.url}" if event.url else ""
    detail = f" ({event.detail})" if event.detail else ""
    return f"{event.action} {event.post_id}{target}{detail}"


def sync_summary(result) -> str:
    if not result.applied:
        return "Nothing to do: " + summary_line(result.plan).removeprefix("Plan: ") + "\n"
    counts: dict[str, int] = {}
    for event in result.events:
        counts[event.action] = counts.get(event.action, 0) + 1
    done = ", ".join(f"{count} {action}" for action, count in sorted(counts.items())) or "nothing changed"
    return f"Done: {done}.\n"


def sync_json(result, limits: Limits) -> str:
    document = {
        "version": JSON_VERSION,
        "applied": result.applied,
        "summary": result.plan.counts(),
        "changes": [change_dict(change, limits) for change in result.plan.changes],
        "events": [
            {"action": event.action, "post": event.post_id, "url": event.url, "detail": event.detail}
            for event in result.events
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
