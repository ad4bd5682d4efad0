"""Text rules of Mastodon: how a status is counted and rendered, and how Rails reads scalar fields."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime

URL_PLACEHOLDER_CHAR = "x"
_URL = r"https?://[^\s<>\"]+"
# A mention @user@domain counts as @user; not after "=", "/" or a word character (like Mastodon's MENTION_RE).
_MENTION = r"(?<![=/\w])@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?:@\w+(?:[.-]+\w+)*)?"
_ENTITY = re.compile(f"(?P<url>{_URL})|(?P<mention>{_MENTION})", re.IGNORECASE)
_URL_ONLY = re.compile(_URL, re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,:;!?'"
_RAILS_FALSE = {"", "0", "f", "false", "off", "n", "no"}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_TAG_CHARACTERS = range(0xE0020, 0xE0080)


def status_length(text: str, spoiler_text: str, reserved_per_url: int) -> int:
    """Counted length of a status: CW plus text, URLs at a fixed cost, remote mentions as local ones."""
    return count_graphemes(countable_text(spoiler_text + text, reserved_per_url))


def countable_text(text: str, reserved_per_url: int) -> str:
    def replace(match: re.Match) -> str:
        if match.group("url"):
            url, rest = split_trailing_punctuation(match.group("url"))
            return URL_PLACEHOLDER_CHAR * reserved_per_url + rest
        return "@" + match.group(3)

    return _ENTITY.sub(replace, text)


def split_trailing_punctuation(url: str) -> tuple[str, str]:
    """A URL does not end with sentence punctuation or an unbalanced closing parenthesis."""
    end = len(url)
    while end and (url[end - 1] in _TRAILING_PUNCTUATION or _unbalanced_close(url[:end])):
        end -= 1
    return url[:end], url[end:]


def _unbalanced_close(url: str) -> bool:
    return url.endswith(")") and url.count(")") > url.count("(")


def count_graphemes(text: str) -> int:
    """An approximation of extended grapheme clusters, good for emoji sequences, flags and accents."""
    count, after_joiner, pending_flag = 0, False, False
    for char in text:
        if after_joiner:
            after_joiner = False
            continue
        if char == "\u200d":
            after_joiner = True
        elif _extends_previous(char):
            continue
        elif ord(char) in _REGIONAL_INDICATORS:
            count += 0 if pending_flag else 1
            pending_flag = not pending_flag
        else:
            count += 1
            pending_flag = False
    return count


def _extends_previous(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F
        or code in _SKIN_TONES
        or code in _TAG_CHARACTERS
    )


def render_content(text: str) -> str:
    """Plain text to Mastodon-style HTML: paragraphs on blank lines, <br /> on line breaks, links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{_linkify(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)


def _linkify(paragraph: str) -> str:
    pieces, position = [], 0
    for match in _URL_ONLY.finditer(paragraph):
        url, _ = split_trailing_punctuation(match.group())
        pieces.append(html.escape(paragraph[position : match.start()]))
        pieces.append(
            f'<a href="{html.escape(url)}" rel="nofollow noopener" target="_blank">{html.escape(url)}</a>'
        )
        position = match.start() + len(url)
    pieces.append(html.escape(paragraph[position:]))
    return "".join(pieces)


def to_bool(value: object) -> bool:
    """Rails casting: "false", "0", "off" and friends are false, any other value is true."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() not in _RAILS_FALSE


def format_time(moment: datetime) -> str:
    """Mastodon's timestamps: UTC with milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 instant; naive times are UTC. None when unreadable."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
