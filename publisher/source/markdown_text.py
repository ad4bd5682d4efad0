"""Markdown post body -> plain text for a Mastodon status (Mastodon does not render Markdown)."""

from __future__ import annotations

import functools
import re
from itertools import pairwise
from typing import TYPE_CHECKING

from publisher.source.simple_markdown import BLOCK_START, OTHER_MARKUP, simple_markdown_text, tidy

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = ["markdown_to_text", "parsed_markdown_to_text", "prepare_parser"]

_RULE = "———"
_INDENT = "  "
# Text that CommonMark would turn into paragraphs only: no inline markup, entity, escape or HTML anywhere,
# and no line that could open a block (indent, heading, quote, list, rule, fence, setext underline).
_MAYBE_MARKUP = re.compile(rf"[*_{OTHER_MARKUP}]|^(?![ \t]*$)(?:{BLOCK_START})", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")


@functools.cache  # built on first use: `publish --help` and other commands never pay for markdown-it
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark + ~~strikethrough~~; linkify stays off so bare URLs are left exactly as typed.
    return MarkdownIt("commonmark").enable("strikethrough")


def prepare_parser() -> None:
    """Build the parser now rather than on first use (in a process about to fork helpers)."""
    _markdown()


def markdown_to_text(source: str) -> str:
    """Render a Markdown body as readable plain text: markup dropped, structure kept in lines."""
    if _MAYBE_MARKUP.search(source):
        simple = simple_markdown_text(source)  # emphasis and bullet items only: still no parser needed
        return parsed_markdown_to_text(source) if simple is None else simple
    # Nothing for the parser to do but split paragraphs: many times faster, and the same text.
    return tidy(_BLANK_LINES.sub("\n\n", source.strip(" \t\n")))


def parsed_markdown_to_text(source: str) -> str:
    """markdown_to_text through the CommonMark parser, whatever the source looks like."""
    return tidy(_Renderer().blocks(_tree(_markdown().parse(source))))


class _Node:
    """What markdown-it's SyntaxTreeNode gives of a token or an open/close pair, without the links back to
    parents: a tree with cycles is garbage only the cyclic collector frees, and loading pauses it."""

    __slots__ = ("type", "children", "_token")

    def __init__(self, type: str, token: Token, children: list[_Node]):
        self.type = type
        self.children = children
        self._token = token  # the opening one of a pair

    @property
    def map(self) -> list[int] | None:
        return self._token.map or None

    @property
    def attrs(self) -> dict:
        return self._token.attrs

    @property
    def markup(self) -> str:
        return self._token.markup

    @property
    def content(self) -> str:
        return self._token.content


def _tree(tokens: list[Token]) -> list[_Node]:
    """The top-level nodes of a token stream, as SyntaxTreeNode nests them."""
    top: list[_Node] = []
    open_lists = [top]
    for token in tokens:
        if token.nesting == 1:
            children: list[_Node] = []
            open_lists[-1].append(_Node(token.type.removesuffix("_open"), token, children))
            open_lists.append(children)
        elif token.nesting == -1:
            open_lists.pop()
        else:
            open_lists[-1].append(_Node(token.type, token, _tree(token.children or [])))
    return top


class _Renderer:
    """One method per node type; block methods return text without a trailing newline."""

    def blocks(self, nodes: list[_Node]) -> str:
        return _join(nodes, [self.node(node) for node in nodes])

    def node(self, node: _Node) -> str:
        handler = getattr(self, f"_{node.type}", None)
        if handler is not None:
            return handler(node)
        return self.inline(node) if node.children else node.content

    def inline(self, node: _Node) -> str:
        return "".join(self.node(child) for child in node.children)

    # Blocks

    def _paragraph(self, node: _Node) -> str:
        return self.inline(node.children[0]) if node.children else ""

    _heading = _paragraph

    def _blockquote(self, node: _Node) -> str:
        body = self.blocks(node.children)
        return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))

    def _bullet_list(self, node: _Node) -> str:
        return self._list(node, ["- "] * len(node.children))

    def _ordered_list(self, node: _Node) -> str:
        start = int(node.attrs.get("start", 1))
        markers = [f"{start + i}{item.markup} " for i, item in enumerate(node.children)]
        return self._list(node, markers)

    def _list(self, node: _Node, markers: list[str]) -> str:
        items = [self._item(item, marker) for item, marker in zip(node.children, markers, strict=True)]
        return _join(node.children, items)

    def _item(self, item: _Node, marker: str) -> str:
        first, *rest = self.blocks(item.children).split("\n")
        return "\n".join([marker + first, *(_INDENT + line if line else "" for line in rest)])

    def _fence(self, node: _Node) -> str:
        return node.content.rstrip("\n")

    _code_block = _html_block = _fence

    def _hr(self, node: _Node) -> str:
        return _RULE

    # Inlines

    def _softbreak(self, node: _Node) -> str:
        return "\n"

    _hardbreak = _softbreak

    def _code_inline(self, node: _Node) -> str:
        return node.content

    _html_inline = _text = _code_inline

    def _link(self, node: _Node) -> str:
        text = self.inline(node)
        if node.markup == "autolink":  # <https://...>: keep it as typed
            return text
        return _with_url(text, node.attrs["href"])

    def _image(self, node: _Node) -> str:
        return _with_url(self.inline(node), node.attrs["src"])


def _with_url(text: str, href: object) -> str:
    """'text URL', or the URL alone when the text is empty or already is the URL."""
    url = _markdown().normalizeLinkText(str(href))  # undo percent-encoding: show the URL as written
    return url if text in ("", url) else f"{text} {url}"


def _join(nodes: list[_Node], texts: list[str]) -> str:
    parts = texts[:1]
    for (previous, node), text in zip(pairwise(nodes), texts[1:], strict=True):
        parts += [_separator(previous, node), text]
    return "".join(parts)


def _separator(previous: _Node, node: _Node) -> str:
    """Keep the author's layout: blocks typed on adjacent lines (a list right under its intro line,
    tight list items) stay on adjacent lines; a blank line anywhere in between, or a heading, gives
    one blank line."""
    adjacent = _end_line(previous) == _start_line(node)
    return "\n" if adjacent and "heading" not in (previous.type, node.type) else "\n\n"


def _start_line(node: _Node) -> int:
    return node.map[0] if node.map else -1


def _end_line(node: _Node) -> int:
    # Containers' line ranges can take in trailing blank lines; their last leaf block's cannot.
    while node.children and node.children[-1].map:
        node = node.children[-1]
    return node.map[1] if node.map else -2
