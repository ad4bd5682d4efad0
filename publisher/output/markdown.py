"""The plan as a GitHub-flavoured Markdown document for a pull-request comment.

A summary table, then one collapsed <details> block per changed post with the exact text in a code fence.
Everything taken from posts is escaped: inside <summary> it is HTML, in tables and paragraphs Markdown."""

from __future__ import annotations

import html
import re

from publisher.config import Limits
from publisher.models import DesiredStatus
from publisher.output.common import (
    SUMMARY,
    SYMBOLS,
    character_count,
    grouped,
    headline,
    iso,
    max_characters,
    plural,
    recorded_count,
    revision_notes,
    source_of,
    summary_line,
    text_diff,
)
from publisher.pacing import MAX_DURATION_HINT, expected_waits
from publisher.plan import Change, ChangeKind, Plan

# A stable first line, so a CI job can find and update its earlier comment instead of adding one per push.
MARKER = "<!-- publish-plan -->"
HEADLINE_KEYS = ("create", "update", "delete")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# GitHub turns @name into a notification and #123 into an issue link: a word joiner after them prevents both.
_NO_AUTOLINK = str.maketrans({"@": "@\u2060", "#": "#\u2060"})


def plan_markdown(plan: Plan, limits: Limits) -> str:
    changed = [change for _, changes in grouped(plan) for change in changes]
    parts = [MARKER, "### publish plan", "", _counts_line(plan), ""]
    if changed:
        parts += [*summary_table(changed, limits), ""]
        parts += [block for change in changed for block in (*details_block(change, limits), "")]
    unchanged = len(plan.of(ChangeKind.UNCHANGED))
    if unchanged:
        parts += [f"{plural(unchanged, 'unchanged post')} not shown.", ""]
    parts.append(f"`{summary_line(plan)}`")
    waits = expected_waits(plan)
    if waits:
        parts += ["", *(f"> ⏱ {wait.describe()}  " for wait in waits), f"> {MAX_DURATION_HINT}."]
    return "\n".join(parts) + "\n"


def _counts_line(plan: Plan) -> str:
    """The headline in bold, then the other non-zero counts."""
    counts = plan.counts()
    others = [f"{counts[key]} {label}" for key, label in SUMMARY if counts[key] and key not in HEADLINE_KEYS]
    return " · ".join([f"**{headline(plan)}**", *others])


def summary_table(changes: list[Change], limits: Limits) -> list[str]:
    rows = ["| | Action | Post | Source | Characters | Note |", "|:-:|---|---|---|--:|---|"]
    for change in changes:
        cells = (
            SYMBOLS[change.kind],
            change.kind.value,
            code(change.post_id),
            code(source_of(change)),
            _characters(change, limits),
            inline(change.reason),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def details_block(change: Change, limits: Limits) -> list[str]:
    title = f"{SYMBOLS[change.kind]} {change.kind.value} <code>{html.escape(change.post_id)}</code>"
    lines = ["<details>", f"<summary>{title} · {_characters(change, limits)} characters</summary>", ""]
    if change.reason:
        lines += [f"**Why:** {inline(change.reason)}", ""]
    if change.record and change.record.url:
        lines += [f"**Published:** <{change.record.url}>", ""]
    if change.desired:
        lines += status_block(change, change.desired, limits)
    elif change.record:
        lines += [
            "Published text, to be removed:" if change.kind == ChangeKind.DELETE else "Published text:",
            "",
        ]
        lines += fenced(change.record.text, "text")
    return [*lines, "", "</details>"]


def status_block(change: Change, post: DesiredStatus, limits: Limits) -> list[str]:
    lines = [" · ".join(_facts(post, limits)), ""]
    if post.spoiler_text:
        lines += [f"**Content warning:** {inline(post.spoiler_text)}", ""]
    if change.kind == ChangeKind.UPDATE and change.record:
        notes = revision_notes(change.record, post)
        lines += [f"- {inline(note)}" for note in notes] + ([""] if notes else [])
        diff = text_diff(change.record.text, post.text)
        lines += [*fenced("\n".join(diff), "diff"), ""] if diff else []
    lines += fenced(post.text, "text")
    if post.media:
        lines += ["", *media_table(post)]
    if post.poll:
        lines += [
            "",
            f"**Poll:** {inline(' / '.join(post.poll.options))} (expires in {post.poll.expires_in} s)",
        ]
    return lines


def _facts(post: DesiredStatus, limits: Limits) -> list[str]:
    facts = [
        f"**Visibility:** {post.visibility}",
        f"**Language:** {inline(post.language or '-')}",
        f"**Sensitive:** {'yes' if post.sensitive else 'no'}",
        f"**Characters:** {character_count(post, limits)}/{max_characters(post, limits)}",
    ]
    if post.publish_at:
        facts.append(f"**Publish at:** {iso(post.publish_at)}")
    if post.reply_to:
        facts.append(f"**Reply to:** {code(post.reply_to)}")
    return facts


def media_table(post: DesiredStatus) -> list[str]:
    rows = ["| Media | Type | Alt text |", "|---|---|---|"]
    for media in post.media:
        alt = inline(media.alt) if media.alt else "⚠️ _no alt text_"
        rows.append(f"| {code(media.path)} | {media.mime_type}, {media.size:,} bytes | {alt} |")
    return rows


def _characters(change: Change, limits: Limits) -> str:
    if change.desired:
        return f"{character_count(change.desired, limits)}/{max_characters(change.desired, limits)}"
    return (
        f"{recorded_count(change.record, limits)}/{max_characters(change.record, limits)}"
        if change.record
        else ""
    )


def inline(text: str) -> str:
    """Text safe in a Markdown paragraph or table cell: one line, HTML and Markdown syntax escaped."""
    one_line = " ".join(text.split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False)).translate(_NO_AUTOLINK)


def code(text: str) -> str:
    """An inline code span usable inside a table (GFM splits cells on | even in code)."""
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text.replace('|', chr(92) + '|')}{pad}{ticks}" if text else ""


def fenced(text: str, language: str) -> list[str]:
    fence = "`" * max(3, _longest_run(text, "`") + 1)
    return [fence + language, *text.split("\n"), fence]


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)
