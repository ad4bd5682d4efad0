"""Output: plans and results for people (text, colour, Markdown, progress, the HTML preview, reports) and
for machines (JSON). It reads plans and posts; it never talks to a server.

Exports the names below (plan_text, plan_json, plan_markdown, sync_summary, ...), each imported from its
module when first asked for: a sync prints text, and needs neither JSON nor Markdown. Renderers only build
strings or drive a console they are given; the CLI decides where they go."""

from importlib import import_module

_MODULE_OF = {
    "SUMMARY": "common",
    "SYMBOLS": "common",
    "character_count": "common",
    "headline": "common",
    "iso": "common",
    "summary_line": "common",
    "JSON_VERSION": "document",
    "change_dict": "document",
    "plan_json": "document",
    "sync_json": "document",
    "plan_markdown": "markdown",
    "use_colour": "terminal",
    "change_lines": "text",
    "plan_text": "text",
    "sync_event_line": "text",
    "sync_summary": "text",
}


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    return value


__all__ = sorted(_MODULE_OF)
