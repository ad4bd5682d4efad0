"""The plan as a GitHub-flavoured Markdown document for a pull-request comment.

A summary table, then one collapsed <details> block per changed post with the exact text in a code fence.
Everything taken from posts is escaped: inside <summary> it is HTML, in tables and paragraphs Markdown."""

from __future__ import annotations

import html
import re

from publisher.output.common import (
    SUMMARY,
    SYMBOLS,
    change_notes,
    character_count,
    edit_diffs,
    grouped,
    headline,
    interaction_facts,
    iso,
    max_characters,
    one_line_note,
    plural,
    recorded_count,
    revision_notes,
    summary_line,
)
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.plan.pacing import MAX_DURATION_HINT, expected_waits
from publisher.source.config import Limits
from publisher.source.models import DesiredStatus

# A stable first line, so a CI job can find and update its earlier comment instead of adding one per push.
MARKER = "<!-- publish-plan -->"
HEADLINE_KEYS = ("create", "update", "delete")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# GitHub turns @name into a notification and #123 into an issue link: a word joiner after them prevents both.
_NO_AUTOLINK = str.maketrans({"@": "@\u2060", "#": "#\u2060"})


def plan_markdown(plan: Plan, limits: Limits, max_length: int | None = None) -> str:
    """The whole plan; with `max_length` (a pull-request comment holds 65,536 characters) a plan that is
    longer keeps its counts, its summary line and the table row of every change, and shortens the rest."""
    changed = [change for _, changes in grouped(plan) for change in changes]
    head = [MARKER, "### publish plan", "", _counts_line(plan), ""]
    table = [*summary_table(changed, limits), ""] if changed else []
    blocks = [[*details_block(change, limits), ""] for change in changed]
    unchanged, closing = _tail(plan)
    document = _joined(head, table, blocks, [*unchanged, *closing])
    if max_length is None or len(document) <= max_length:
        return document
    return _shortened(changed, limits, head, table, (unchanged, closing), max_length)


def _tail(plan: Plan) -> tuple[list[str], list[str]]:
    """What follows the changes: the unchanged count, then (after a note of cuts) the summary and waits."""
    unchanged = len(plan.of(ChangeKind.UNCHANGED))
    counted = [f"{plural(unchanged, 'unchanged post')} not shown.", ""] if unchanged else []
    closing = [f"`{summary_line(plan)}`"]
    waits = expected_waits(plan)
    if waits:
        closing += ["", *(f"> ⏱ {wait.describe()}  " for wait in waits), f"> {MAX_DURATION_HINT}."]
    return counted, closing


def _joined(head: list[str], table: list[str], blocks: list[list[str]], tail: list[str]) -> str:
    return "\n".join([*head, *table, *(line for block in blocks for line in block), *tail]) + "\n"


def _size(lines: list[str]) -> int:
    """The length `_joined` gives these lines: each line and its newline."""
    return sum(len(line) + 1 for line in lines)


def _shortened(
    changed: list[Change],
    limits: Limits,
    head: list[str],
    table: list[str],
    tail: tuple[list[str], list[str]],
    max_length: int,
) -> str:
    """Details with their texts cut, while they fit; then, if need be, fewer table rows. Lengths add up
    line by line, so leaving out a block or a row is a subtraction, not a new document."""
    blocks = [[*details_block(change, limits, short=True), ""] for change in changed]
    sizes = [_size(block) for block in blocks]
    unchanged, closing = tail
    details, rows = len(blocks), len(changed)
    shown, listed = sum(sizes), _size(table[: 2 + rows])
    while True:
        tail = [*unchanged, _cut_note(details, rows, len(changed), max_length), "", *closing]
        more = [*_more_row(len(changed), rows), ""]
        if _size(head) + listed + _size(more) + shown + _size(tail) <= max_length or not (details or rows):
            return _joined(head, [*table[: 2 + rows], *more], blocks[:details], tail)
        if details:
            details -= 1
            shown -= sizes[details]
        else:
            rows -= 1
            listed -= len(table[2 + rows]) + 1


def _more_row(changes: int, rows: int) -> list[str]:
    """A table row that counts the changes left out of the table."""
    return [f"| | … | {changes - rows} more | | | |"] if rows < changes else []


def _cut_note(details: int, rows: int, changes: int, max_length: int) -> str:
    rows_cut = f"{changes - rows} changes left out of the table, " if rows < changes else ""
    return (
        f"> ✂️ Shortened to stay within {max_length:,} characters: {rows_cut}details of {changes - details} "
        f"of {changes} changes left out, texts cut. The full plan is in this run's job summary, or run "
        "`publish plan` locally."
    )


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
            code(change.source),
            _characters(change, limits),
            inline(one_line_note(change)),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def details_block(change: Change, limits: Limits, *, short: bool = False) -> list[str]:
    title = f"{SYMBOLS[change.kind]} {change.kind.value} <code>{html.escape(change.post_id)}</code>"
    lines = ["<details>", f"<summary>{title} · {_characters(change, limits)} characters</summary>", ""]
    if change.reason:
        lines += [f"**Why:** {inline(change.reason)}", ""]
    for label, value in change_notes(change):
        lines += [f"**{label.capitalize()}:** {inline(value)}", ""]
    if change.record and change.record.url:
        lines += [f"**Published:** <{change.record.url}>", ""]
    if change.desired:
        lines += status_block(change, change.desired, limits, short=short)
    elif change.record:
        lines += [RECORDED_TEXT.get(change.kind, "Published text:"), ""]
        lines += fenced(cut(change.record.text, short), "text")
    return [*lines, "", "</details>"]


RECORDED_TEXT = {
    ChangeKind.DELETE: "Published text, to be removed:",
    ChangeKind.GONE: "Published text, deleted on the server:",
}


SHORT_TEXT = 280  # characters of a status text kept in a shortened plan
SHORT_DIFF = 12  # lines of a diff kept in a shortened plan


def cut(text: str, short: bool, limit: int = SHORT_TEXT) -> str:
    return text[:limit].rstrip() + " …" if short and len(text) > limit else text


def status_block(change: Change, post: DesiredStatus, limits: Limits, *, short: bool = False) -> list[str]:
    lines = [" · ".join(_facts(post, limits)), ""]
    if post.spoiler_text:
        lines += [f"**Content warning:** {inline(post.spoiler_text)}", ""]
    if change.kind == ChangeKind.UPDATE and change.record:
        notes = revision_notes(change.record, post)
        lines += [f"- {inline(note)}" for note in notes] + ([""] if notes else [])
        lines += diff_blocks(change, short=short)
    lines += fenced(cut(post.text, short), "text")
    if post.media:
        lines += ["", *media_table(post)]
    if post.poll:
        lines += [
            "",
            f"**Poll:** {inline(' / '.join(post.poll.options))} (expires in {post.poll.expires_in} s)",
        ]
    return lines


def diff_blocks(change: Change, *, short: bool = False) -> list[str]:
    lines: list[str] = []
    for title, diff in edit_diffs(change):
        diff = diff[:SHORT_DIFF] + ["…"] if short and len(diff) > SHORT_DIFF else diff
        lines += [f"**{title.capitalize()}**", ""] if title else []
        lines += [*fenced("\n".join(diff), "diff"), ""]
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
    facts += [f"**{label}:** {code(value)}" for label, value in interaction_facts(post)]
    return ([f"**Title:** {inline(post.title)}"] if post.title else []) + facts


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
