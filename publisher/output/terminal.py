"""Colour for terminals: whether to use it, and styled lines rendered with rich (imported only then)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

Span = tuple[str, str]  # (text, style name); a style name is mapped to a colour by STYLES
STYLES = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "schedule": "cyan",
    "deferred": "cyan",
    "orphan": "yellow",
    "unchanged": "dim",
    "heading": "bold",
    "post": "bold",
    "dim": "dim",
    "added": "green",
    "removed": "red",
    "hunk": "cyan",
}
FORCE_OFF = ("", "0", "false", "no")


def use_colour(isatty: bool, environ: Mapping[str, str]) -> bool:
    """NO_COLOR (https://no-color.org) wins, then FORCE_COLOR (for CI logs that show ANSI), then the TTY."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "").strip().lower() not in FORCE_OFF:
        return True
    return isatty and environ.get("TERM") != "dumb"


def plain(lines: Sequence[Sequence[Span]]) -> str:
    return "".join("".join(text for text, _ in spans) + "\n" for spans in lines)


def render_lines(lines: Sequence[Sequence[Span]], *, colour: bool) -> str:
    if not colour:
        return plain(lines)
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", soft_wrap=True, highlight=False
    )
    for spans in lines:
        console.print(styled(spans), soft_wrap=True)
    return buffer.getvalue()


def styled(spans: Sequence[Span]):
    from rich.text import Text

    return Text.assemble(*((text, STYLES.get(style, "")) for text, style in spans))
