"""Markdown simple enough to need no parser: the plain text markdown_text makes of it, or None.

Simple means: paragraphs and one-line `- ` bullet items, separated by blank lines, with no markup but
emphasis that opens at the start of a word and closes at its end (`*word*`, `**two words**`, `_x_`).
What CommonMark could read otherwise (a line that may start another block, emphasis in a word, code,
links, entities, escapes, HTML) is not simple: the caller then runs the parser.
"""

from __future__ import annotations

import re

# Inline markup other than emphasis, and characters the parser rewrites (a character class's inside).
OTHER_MARKUP = r"`\[\]<>&\\~\r\0"
# A line that could be more than a paragraph's text: an indent, a heading, a quote, a list, a rule, a
# setext underline, a table.
BLOCK_START = r"\s|#(?![^\s#])|[>+\-=|0-9]"
_OTHER_MARKUP = re.compile(f"[{OTHER_MARKUP}]")
_BLOCK_START = re.compile(BLOCK_START)
_BLANK = re.compile(r"[ \t]*")
_DELIMITERS = re.compile(r"\*+|_+")
_ITEM = "- "
_ITEM_INDENT = len(_ITEM)  # a block indented this far after an item belongs to it
_MAX_PARAGRAPH_INDENT = 3  # four spaces make indented code
_AFTER_CLOSER = frozenset(" \n.,:;!?")


def simple_markdown_text(source: str) -> str | None:
    if _OTHER_MARKUP.search(source):
        return None
    texts: list[str] = []
    after_item = False
    for block in _blocks(source.split("\n")):
        text = _item_texts(block) if block[0].startswith(_ITEM) else _paragraph_text(block, after_item)
        if text is None:
            return None
        texts.append(text)
        after_item = block[0].startswith(_ITEM)
    return tidy("\n\n".join(texts))


def tidy(text: str) -> str:
    """Without trailing blanks on each line, and without blank lines at either end."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _blocks(lines: list[str]) -> list[list[str]]:
    """The runs of lines between blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not _BLANK.fullmatch(line):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return [*blocks, current] if current else blocks


def _paragraph_text(lines: list[str], after_item: bool) -> str | None:
    first = lines[0].lstrip(" ")
    indent = len(lines[0]) - len(first)
    if indent > _MAX_PARAGRAPH_INDENT or (after_item and indent >= _ITEM_INDENT):
        return None
    if any(_BLOCK_START.match(line) for line in [first, *lines[1:]]):
        return None
    return _inline_text("\n".join([first, *lines[1:]]))


def _item_texts(lines: list[str]) -> str | None:
    """A tight list of one-line items: each `- ` and its text."""
    texts = []
    for line in lines:
        content = line[_ITEM_INDENT:]
        if not line.startswith(_ITEM) or not content or _BLOCK_START.match(content):
            return None
        text = _inline_text(content)
        if text is None:
            return None
        texts.append(_ITEM + text)
    return "\n".join(texts)


def _inline_text(text: str) -> str | None:
    """The text without its emphasis delimiters, if each run of them plainly opens or closes, and they
    pair up in turn, the same run closing what the one before opened."""
    opened = ""
    for run in _DELIMITERS.finditer(text):
        delimiter, start, end = run.group(), run.start(), run.end()
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if len(delimiter) > 2:
            return None
        if not opened and before in " \n" and after.isalnum():
            opened = delimiter
        elif opened == delimiter and before.isalnum() and after in _AFTER_CLOSER:
            opened = ""
        else:
            return None
    return None if opened else _DELIMITERS.sub("", text)
