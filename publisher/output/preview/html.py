"""Status text (plain text) as preview HTML: each piece escaped, then links, #tags and @mentions wrapped."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# Loose versions of Mastodon's patterns: good enough to style a preview, never used to count or send.
TOKENS = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"]+)"
    r"|(?<![\w@/])(?P<mention>@\w+(?:@[\w-]+(?:\.[\w-]+)+)?)"
    r"|(?<![\w#/&])(?P<tag>#\w*[^\W\d_]\w*)"
)
TRAILING = ".,;:!?'\""
LINK_REL = 'rel="nofollow noopener noreferrer"'
SHOWN_URL_LENGTH = 30  # Mastodon shows a link without its scheme, cut after 30 characters


def status_html(text: str) -> Markup:
    pieces: list[str] = []
    last = 0
    for match in TOKENS.finditer(text):
        value = trim_url(match["url"]) if match["url"] else match.group()
        start, end = match.start(), match.start() + len(value)
        pieces += [escape(text[last:start]), _wrap(match.lastgroup or "", value)]
        last = end
    pieces.append(escape(text[last:]))
    return Markup("".join(pieces))


def trim_url(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the URL, and an unbalanced closing bracket."""
    while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _wrap(kind: str, value: str) -> str:
    if kind == "url":
        return f'<a class="link" href="{escape(value)}" {LINK_REL}>{escape(shown_url(value))}</a>'
    return f'<span class="{"mention" if kind == "mention" else "hashtag"}">{escape(value)}</span>'


def shown_url(url: str) -> str:
    bare = url.split("://", 1)[-1].removeprefix("www.")
    return bare if len(bare) <= SHOWN_URL_LENGTH else bare[:SHOWN_URL_LENGTH] + "…"
