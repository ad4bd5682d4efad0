"""`split: true`: an over-long status becomes a numbered thread, each part within Mastodon's count.

Parts are cut at sentence ends (and line breaks) first; a sentence longer than a whole part is cut between
words, and a word longer than a part between grapheme clusters. Each part ends with " (n/N)"; the content
warning repeats on every part and counts against each; media and poll go on the first part. Part 1 keeps the
post's id, part n is `<id>#n` and replies to part n-1, so plan and sync publish the thread in order like any
reply chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import grapheme

from publisher.source.config import Limits
from publisher.source.length import status_length
from publisher.source.models import PART_SEPARATOR, DesiredStatus

MAX_DIGITS = 4
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+|[。！？][\"'”’」』)\]]*\s*|\n\s*")
WHITESPACE = re.compile(r"\s+")

Fits = Callable[[str], bool]


class SplitImpossible(Exception):
    """Even a single character per part would not fit (the content warning takes the whole limit)."""


def numbering(index: int, total: int) -> str:
    return f" ({index}/{total})"


def part_id(post_id: str, index: int) -> str:
    return post_id if index == 1 else f"{post_id}{PART_SEPARATOR}{index}"


def split_status(desired: DesiredStatus, limits: Limits) -> tuple[DesiredStatus, ...]:
    """The thread a too-long status becomes; raises SplitImpossible when no part could hold any text."""
    return thread_of(desired, split_text(desired.text, desired.spoiler_text, limits))


def thread_of(desired: DesiredStatus, texts: list[str]) -> tuple[DesiredStatus, ...]:
    """Part 1 is `desired` with the first text; each later part replies to the one before."""
    return tuple(_part(desired, index, text) for index, text in enumerate(texts, start=1))


def _part(desired: DesiredStatus, index: int, text: str) -> DesiredStatus:
    if index == 1:
        return desired.model_copy(update={"text": text})
    return desired.model_copy(
        update={
            "post_id": part_id(desired.post_id, index),
            "text": text,
            "reply_to": part_id(desired.post_id, index - 1),
            "media": (),
            "poll": None,
            "quote": None,  # the quote and the pin are the first part's; the quote policy is every part's
            "pinned": None,
        }
    )


def split_text(text: str, spoiler_text: str, limits: Limits) -> list[str]:
    """Numbered parts of `text`, each within max_characters together with the spoiler and its number."""
    for digits in range(1, MAX_DIGITS + 1):
        widest = "9" * digits
        fits = _fits(numbering(int(widest), int(widest)), spoiler_text, limits)
        parts = _pack(_units(text, fits), fits)
        if len(parts) < 10**digits:
            return [part + numbering(index, len(parts)) for index, part in enumerate(parts, start=1)]
    raise SplitImpossible(f"the text would need {10**MAX_DIGITS} parts or more")


def _fits(label: str, spoiler_text: str, limits: Limits) -> Fits:
    def fits(text: str) -> bool:
        counted = status_length(text + label, spoiler_text, url_length=limits.characters_reserved_per_url)
        return counted <= limits.max_characters

    return fits


def _units(text: str, fits: Fits) -> list[str]:
    """Pieces to pack, each fitting a part alone, each with the whitespace that followed it."""
    units: list[str] = []
    for sentence in _cut(text, SENTENCE_END):
        if fits(sentence.strip()):
            units.append(sentence)
            continue
        for word in _cut(sentence, WHITESPACE):
            units += [word] if fits(word.strip()) else _cut_clusters(word, fits)
    return units


def _cut(text: str, boundary: re.Pattern[str]) -> list[str]:
    pieces, start = [], 0
    for match in boundary.finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()])
            start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _cut_clusters(word: str, fits: Fits) -> list[str]:
    """A word longer than a part: as many grapheme clusters per piece as fit (found by bisection)."""
    clusters = list(grapheme.graphemes(word))
    pieces = []
    while clusters:
        size = _most_that_fit(clusters, fits)
        pieces.append("".join(clusters[:size]))
        clusters = clusters[size:]
    return pieces


def _most_that_fit(clusters: list[str], fits: Fits) -> int:
    low, high = 0, len(clusters)
    while low < high:
        middle = (low + high + 1) // 2
        if fits("".join(clusters[:middle]).strip()):
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise SplitImpossible("not even one character fits beside the content warning and the numbering")
    return low


def _pack(units: Iterable[str], fits: Fits) -> list[str]:
    """Greedy: each part takes units while the next still fits, so cuts fall at the best boundary reached."""
    parts: list[str] = []
    current = ""
    for unit in units:
        if fits((current + unit).strip()):
            current += unit
            continue
        if current.strip():
            parts.append(current.strip())
        current = unit
    if current.strip():
        parts.append(current.strip())
    return parts


def thread_replies(statuses: list[DesiredStatus]) -> list[DesiredStatus]:
    """A post replying to a split post continues its thread: it answers the last part, not the first."""
    last: dict[str, str] = {}
    for status in statuses:
        base, separator, _ = status.post_id.partition(PART_SEPARATOR)
        if separator:
            last[base] = status.post_id
    return [_continue_thread(status, last) for status in statuses]


def _continue_thread(status: DesiredStatus, last: dict[str, str]) -> DesiredStatus:
    target = status.reply_to
    own_thread = status.post_id.partition(PART_SEPARATOR)[0] == target
    if target in last and not own_thread:
        return status.model_copy(update={"reply_to": last[target]})
    return status
