"""Plan and sync results for people (text, colour, Markdown, progress) and machines (JSON).

Renderers only build strings or drive a console they are given; the CLI decides where they go."""

from publisher.output.common import SUMMARY, SYMBOLS, character_count, headline, iso, summary_line
from publisher.output.document import JSON_VERSION, change_dict, plan_json, sync_json
from publisher.output.markdown import plan_markdown
from publisher.output.terminal import use_colour
from publisher.output.text import change_lines, plan_text, sync_event_line, sync_summary

__all__ = [
    "JSON_VERSION",
    "SUMMARY",
    "SYMBOLS",
    "change_dict",
    "change_lines",
    "character_count",
    "headline",
    "iso",
    "plan_json",
    "plan_markdown",
    "plan_text",
    "summary_line",
    "sync_event_line",
    "sync_json",
    "sync_summary",
    "use_colour",
]
