"""What every plan renderer shares: symbols, labels, grouping, counts and the old → new comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from publisher.clock import iso_utc
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.plan.state import MediaRecord, StatusRecord
from publisher.source.config import Limits
from publisher.source.length import status_length
from publisher.source.models import DesiredStatus, MediaSpec

SYMBOLS = {
    ChangeKind.CREATE: "+",
    ChangeKind.UPDATE: "~",
    ChangeKind.ADJUST: "⚑",
    ChangeKind.REPLACE: "⇄",
    ChangeKind.SCHEDULE: "⏲",
    ChangeKind.RESCHEDULE: "↻",
    ChangeKind.DEFERRED: "⏲",
    ChangeKind.DELETE: "-",
    ChangeKind.MOVE: "→",
    ChangeKind.RECORD: "✓",
    ChangeKind.GONE: "✗",
    ChangeKind.ORPHAN: "?",
    ChangeKind.UNCHANGED: "=",
}
SUMMARY = (
    ("create", "to create"),
    ("update", "to edit"),
    ("adjust", "to adjust"),  # pin, unpin, quote policy
    ("replace", "to replace"),
    ("delete", "to delete"),
    ("schedule", "to schedule"),
    ("reschedule", "to reschedule"),
    ("deferred", "deferred"),
    ("move", "to move"),
    ("record", "to record"),
    ("gone", "gone on the server"),
    ("orphan", "orphaned"),
    ("unchanged", "unchanged"),
)
LABELS = dict(SUMMARY)
# Shown grouped in this order; unchanged posts are only counted.
GROUPS = tuple(ChangeKind(key) for key, _ in SUMMARY if key != "unchanged")
RECREATE_HINT = "`publish sync --recreate-missing` posts it again"


def iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


AnyLimits = (
    Limits | Mapping[str, Limits]
)  # one set for all, or each account's own (accounts on different servers)


def limits_for(limits: AnyLimits, account: str) -> Limits:
    return limits if isinstance(limits, Limits) else limits[account]


def max_characters(post: DesiredStatus | StatusRecord, limits: AnyLimits) -> int:
    return limits_for(limits, post.account).max_characters


def character_count(post: DesiredStatus, limits: AnyLimits) -> int:
    url_length = limits_for(limits, post.account).characters_reserved_per_url
    return status_length(post.text, post.spoiler_text, url_length=url_length)


def recorded_count(record: StatusRecord, limits: AnyLimits) -> int:
    url_length = limits_for(limits, record.account).characters_reserved_per_url
    return status_length(record.text, record.spoiler_text, url_length=url_length)


def interaction_facts(post: DesiredStatus) -> list[tuple[str, str]]:
    """The quote, who may quote it and the pin, where the post sets them."""
    facts = [("Quote", post.quote)] if post.quote else []
    if post.quote_policy:
        facts.append(("Quote policy", post.quote_policy))
    if post.pinned is not None:
        facts.append(("Pinned", "yes" if post.pinned else "no (unpin)"))
    return facts


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    return "Plan: " + ", ".join(f"{counts[key]} {label}" for key, label in SUMMARY) + "."


def headline(plan: Plan) -> str:
    """The one line a reviewer reads first: "3 to create, 1 to edit, 0 to delete"."""
    counts = plan.counts()
    return f"{counts['create']} to create, {counts['update']} to edit, {counts['delete']} to delete"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def grouped(plan: Plan) -> list[tuple[ChangeKind, tuple[Change, ...]]]:
    """The non-empty groups of changes, in GROUPS order, each in plan order."""
    return [(kind, plan.of(kind)) for kind in GROUPS if plan.of(kind)]


def text_diff(old: str, new: str, names: tuple[str, str] = ("published", "new")) -> list[str]:
    """A unified diff of the published text against the new one; empty when they are equal."""
    import difflib  # only plans with edits show diffs

    lines = difflib.unified_diff(old.split("\n"), new.split("\n"), *names, lineterm="")
    return list(lines)


def edit_diffs(change: Change) -> list[tuple[str, list[str]]]:
    """An edit's non-empty text diffs, each under a title: the published text against the new one; or,
    when someone edited the status on the server, that edit, then what the post file makes of it."""
    record, post = change.record, change.desired
    if change.server_text is None:
        diffs = [("", text_diff(record.text, post.text))]
    else:
        diffs = [
            ("edited on the server:", text_diff(record.text, change.server_text, ("published", "server"))),
            ("the post file makes it:", text_diff(change.server_text, post.text, ("server", "new"))),
        ]
    return [(title, diff) for title, diff in diffs if diff]


def change_notes(change: Change) -> list[tuple[str, str]]:
    """What some kinds tell besides their reason, as (label, value): where a moved record came from, and
    how a post deleted on the server comes back (unless the reason says so already)."""
    if change.kind == ChangeKind.MOVE and change.previous_id:
        return [("moved", f"{change.previous_id} → {change.post_id}")]
    if change.kind == ChangeKind.GONE and "--recreate-missing" not in change.reason:
        return [("hint", RECREATE_HINT)]
    return []


def one_line_note(change: Change) -> str:
    """The reason and what the kind adds to it, for a table cell or a card."""
    notes = [change.reason, *(f"{label}: {value}" for label, value in change_notes(change))]
    return " · ".join(note for note in notes if note)


def revision_notes(record: StatusRecord, post: DesiredStatus) -> list[str]:
    """What changed besides the text, as far as the state file remembers the published version."""
    notes = []
    if record.spoiler_text != post.spoiler_text:
        notes.append(f'content warning: "{record.spoiler_text}" → "{post.spoiler_text}"')
    return notes + media_notes(record.media, post.media)


def media_notes(published: Sequence[MediaRecord], wanted: Sequence[MediaSpec]) -> list[str]:
    by_digest = {record.sha256: record for record in published}
    notes = []
    for spec in wanted:
        record = by_digest.get(spec.sha256)
        if record is None:
            notes.append(f"media added: {spec.path}")
            continue
        if record.alt != spec.alt:
            notes.append(f'alt text of {spec.path}: "{record.alt or ""}" → "{spec.alt or ""}"')
        if record.focus != spec.focus:
            notes.append(f"focus of {spec.path}: {_focus(record.focus)} → {spec.focus_param() or 'none'}")
    kept = {spec.sha256 for spec in wanted}
    notes += [f"media removed: {record.path}" for record in published if record.sha256 not in kept]
    if not notes and [r.sha256 for r in published] != [s.sha256 for s in wanted]:
        notes.append("media reordered")
    return notes


def _focus(focus: tuple[float, float] | None) -> str:
    return "none" if focus is None else f"{focus[0]:g},{focus[1]:g}"
