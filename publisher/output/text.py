"""The plan and sync results as text for people, grouped by action like an infrastructure tool's plan.

Lines are built as styled spans (text, style name) so one builder serves plain text and colour."""

from __future__ import annotations

from publisher.output.common import (
    LABELS,
    SYMBOLS,
    change_notes,
    character_count,
    edit_diffs,
    grouped,
    interaction_facts,
    iso,
    max_characters,
    plural,
    revision_notes,
    summary_line,
)
from publisher.output.terminal import Span, render_lines
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.source.config import Limits
from publisher.source.models import DesiredStatus

Line = tuple[Span, ...]
# Sync events that are not a step done: announcing one, or a warning printed on its own (exit 1).
UNDER_WAY = {"started", "uploading", "mismatch"}
INDENT = "    "
# Kinds the terminal has no colour of its own for borrow a related kind's.
BORROWED_STYLES = {
    ChangeKind.RESCHEDULE: "schedule",
    ChangeKind.ADJUST: "update",
    ChangeKind.MOVE: "dim",
    ChangeKind.RECORD: "create",
    ChangeKind.GONE: "orphan",
}


def line(text: str, style: str = "") -> Line:
    return ((text, style),)


def plan_text(plan: Plan, limits: Limits, *, colour: bool = False) -> str:
    return render_lines(plan_lines(plan, limits), colour=colour)


def plan_lines(plan: Plan, limits: Limits) -> list[Line]:
    lines: list[Line] = []
    for kind, changes in grouped(plan):
        lines += [line(f"{len(changes)} {LABELS[kind.value]}:", "heading"), ()]
        for change in changes:
            lines += [*change_lines(change, limits), ()]
    unchanged = len(plan.of(ChangeKind.UNCHANGED))
    if unchanged:
        lines += [line(f"= {plural(unchanged, 'unchanged post')}", "unchanged"), ()]
    lines.append(line(summary_line(plan), "heading"))
    return lines + wait_lines(plan)


def wait_lines(plan: Plan) -> list[Line]:
    """Which rate limits the batch will wait for, and how long at least."""
    from publisher.plan.pacing import MAX_DURATION_HINT, expected_waits  # not needed by a sync's summary

    waits = expected_waits(plan)
    if not waits:
        return []
    return [(), *(line(f"⏱ {wait.describe()}", "update") for wait in waits), line(MAX_DURATION_HINT, "dim")]


def change_lines(change: Change, limits: Limits) -> list[Line]:
    kind = change.kind.value
    style = BORROWED_STYLES.get(change.kind, kind)
    header = ((f"{SYMBOLS[change.kind]} {kind}", style), (" ", ""), (change.post_id, "post"))
    lines: list[Line] = [header + ((f"  ({change.source})", "dim"),)]
    if change.reason:
        lines.append(line(f"{INDENT}why: {change.reason}"))
    lines += [line(f"{INDENT}{label}: {value}") for label, value in change_notes(change)]
    if change.record and change.record.url:
        lines.append(line(f"{INDENT}url: {change.record.url}", "dim"))
    if change.desired:
        lines += [line(text) for text in status_lines(change.desired, limits)]
    return lines + body_lines(change)


def status_lines(post: DesiredStatus, limits: Limits) -> list[str]:
    count = character_count(post, limits)
    lines = [f"{INDENT}title: {post.title}"] if post.title else []
    lines += [
        f"{INDENT}visibility: {post.visibility}   language: {post.language or '-'}   "
        f"sensitive: {'yes' if post.sensitive else 'no'}   characters: {count}/{max_characters(post, limits)}"
    ]
    if post.publish_at:
        lines.append(f"{INDENT}publish at: {iso(post.publish_at)}")
    if post.reply_to:
        lines.append(f"{INDENT}reply to: {post.reply_to}")
    lines += [f"{INDENT}{label.lower()}: {value}" for label, value in interaction_facts(post)]
    if post.spoiler_text:
        lines.append(f"{INDENT}content warning: {post.spoiler_text}")
    for media in post.media:
        focus = f"  focus {media.focus_param()}" if media.focus else ""
        lines.append(f"{INDENT}media: {media.path} ({media.mime_type}, {media.size:,} bytes){focus}")
        lines.append(f"{INDENT}  alt: {media.alt or '(none)'}")
    if post.poll:
        lines.append(f"{INDENT}poll: {' / '.join(post.poll.options)} (expires in {post.poll.expires_in} s)")
    return lines


def body_lines(change: Change) -> list[Line]:
    """The new text; for an edit, what changed against the published version instead."""
    post, record = change.desired, change.record
    if post and record and change.kind == ChangeKind.UPDATE:
        return revision_lines(change)
    if post and record:  # not an edit (a replacement, a move, ...): the whole new text
        return note_lines(revision_notes(record, post)) + quoted(post.text, "")
    if post:
        return quoted(post.text, "")
    return quoted(record.text, "dim") if record else []


def quoted(text: str, style: str) -> list[Line]:
    return [line(f"{INDENT}│ {row}" if row else f"{INDENT}│", style) for row in text.split("\n")]


def revision_lines(change: Change) -> list[Line]:
    notes = revision_notes(change.record, change.desired)
    diffs = edit_diffs(change)
    if not notes and not diffs:
        notes = ["text unchanged; sensitive, language or poll changed"]
    lines = note_lines(notes)
    for title, diff in diffs:
        lines += note_lines([title] if title else [])
        lines += [line(INDENT + row, diff_style(row)) for row in diff]
    return lines


def note_lines(notes: list[str]) -> list[Line]:
    return [line(f"{INDENT}{note}", "update") for note in notes]


def diff_style(row: str) -> str:
    if row.startswith(("---", "+++")):
        return "dim"
    return {"@": "hunk", "+": "added", "-": "removed"}.get(row[:1], "")


def sync_event_line(event) -> str:
    if not event.post_id:  # about a lane (stopped, waiting: its account if there are several) or the run
        whose = f" ({event.account})" if event.account else ""
        return f"{event.action}{whose}: {event.detail}"
    target = f" -> {event.url}" if event.url else ""
    detail = f" ({event.detail})" if event.detail else ""
    return f"{event.action} {event.post_id}{target}{detail}"


def sync_summary(result) -> str:
    if not result.applied:
        return "Nothing to do: " + summary_line(result.plan).removeprefix("Plan: ") + "\n"
    counts: dict[str, int] = {}
    for event in result.events:
        if event.action not in UNDER_WAY:
            counts[event.action] = counts.get(event.action, 0) + 1
    done = ", ".join(f"{count} {action}" for action, count in sorted(counts.items())) or "nothing changed"
    return f"Done: {done}.\n"
