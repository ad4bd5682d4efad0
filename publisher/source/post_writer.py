"""An existing status -> a post file that loads back to exactly that status (`publish import --write-files`).

The body is the status text escaped just enough that `markdown_to_text` gives the text back: Markdown markup
that would change it is backslash-escaped, and what Markdown would drop (leading whitespace, a second blank
line in a row) is written as a character reference. The file is checked by reading it back before it is
written; a status that no post file can reproduce raises UnrepresentableStatus with the reason.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from publisher.source.config import Defaults
from publisher.source.frontmatter import CONTROL_CHARACTER, FENCE, FrontMatterError, parse_markdown_file
from publisher.source.markdown_text import markdown_to_text
from publisher.source.models import QUOTE_POLICIES
from publisher.source.posts import POST_SUFFIXES, THREAD_BREAK, FrontMatter

MAX_SLUG = 50
MEDIA_FOLDER = "media"
# Markup inside a line: a backslash before punctuation, a CR or the end of the line (a hard break), emphasis
# and code, link openers, tags and autolinks, character references, strikethrough (two `~` or more),
# underscores (judged by their neighbours), and a lone CR, which Markdown reads as a line break.
INLINE_MARKUP = re.compile(
    r"\\(?=[!-/:-@\[-`{-~\r]|\Z)|[*`\[]|<(?=[A-Za-z/!?])|&(?=[#A-Za-z0-9]+;)|~{2,}|_+|\r"
)
# What opens a block at the start of a line: quote, list, rule, setext underline, `+++` thread break, heading.
BLOCK_MARKER = re.compile(r"[>+=-]|#{1,6}(?:[ \t]|\Z)")
ORDERED_ITEM = re.compile(r"\d{1,9}(?=[.)](?:[ \t]|\Z))")
# A line Markdown keeps (not blank) and the template's output drops (only whitespace): the second and later
# blank lines of a run, which would otherwise merge into one paragraph break.
KEPT_BLANK_LINE = "&#32;"
MEDIA_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")


class UnrepresentableStatus(ValueError):
    """No post file renders to this status; the message says why."""


@dataclass(frozen=True)
class ImportedMedia:
    file_name: str  # e.g. "113000000000000001.jpg": only its suffix is kept
    data: bytes
    alt: str | None
    focus: tuple[float, float] | None


@dataclass(frozen=True)
class ImportedStatus:
    status_id: str
    created_at: datetime
    text: str  # the source text (GET /api/v1/statuses/:id/source)
    spoiler_text: str = ""
    visibility: str = "public"
    sensitive: bool = False
    language: str | None = None
    media: tuple[ImportedMedia, ...] = ()
    reply_to: str | None = None  # the post id of the status it replies to, when that post is known
    poll_options: tuple[str, ...] = ()
    poll_multiple: bool = False
    poll_expires_in: int | None = None  # None: publish's default, a day
    account: str | None = None  # written as `account:` when it is not the first account of publish.toml
    quote: str | None = None  # what it quotes: a post id of the repository, or the quoted status's URL
    quote_policy: str | None = None  # who may quote it, as the server says
    default_quote_policy: str | None = None  # what the account's default gives a new status; None: unknown
    pinned: bool = False


def post_file_name(status: ImportedStatus) -> str:
    """A readable stem: the day it was posted and the first words, e.g. 2026-11-28-first-words-of-text."""
    moment = status.created_at
    day = (moment.astimezone(UTC) if moment.tzinfo else moment).date().isoformat()
    slug = slug_of(status.text) or slug_of(status.spoiler_text) or slug_of(status.status_id) or "status"
    return f"{day}-{slug}"


def slug_of(text: str) -> str:
    """Lowercase ASCII words joined by `-`, at most MAX_SLUG characters; links and mentions left out."""
    words = [word for word in text.split() if "://" not in word and not word.startswith("@")]
    ascii_text = unicodedata.normalize("NFKD", " ".join(words).casefold()).encode("ascii", "ignore")
    parts = re.findall(r"[a-z0-9]+", ascii_text.decode())
    slug = parts[0][:MAX_SLUG] if parts else ""
    for part in parts[1:]:
        if len(slug) + 1 + len(part) > MAX_SLUG:
            break
        slug = f"{slug}-{part}"
    return slug


def write_post_file(folder: Path, status: ImportedStatus, defaults: dict) -> Path:
    """Write folder/<stem>.md and its media under folder/media/, never replacing a file; return the post's
    path. `defaults`: publish.toml's [defaults], which the front-matter relies on for what it leaves out."""
    media_names = [_media_suffix(media) for media in status.media]
    stem = free_stem(folder, post_file_name(status), media_names)
    media_paths = [f"{MEDIA_FOLDER}/{stem}-{number}{suffix}" for number, suffix in enumerate(media_names, 1)]
    front = front_matter(status, media_paths, Defaults.model_validate(defaults))
    content = post_file_text(front, markdown_body(status.text))
    for media, relative in zip(status.media, media_paths, strict=True):
        _write_new(folder / relative, media.data)
    path = folder / f"{stem}.md"
    _write_new(path, content.encode("utf-8"))
    return path


def free_stem(folder: Path, base: str, media_suffixes: list[str]) -> str:
    """`base`, else base-2, base-3...: the first whose post file (any suffix: they would share an id) and
    media files are all still free."""
    candidates = (base if number == 1 else f"{base}-{number}" for number in itertools.count(1))
    return next(stem for stem in candidates if _is_free(folder, stem, media_suffixes))


def _is_free(folder: Path, stem: str, media_suffixes: list[str]) -> bool:
    names = [f"{stem}{suffix}" for suffix in POST_SUFFIXES]
    names += [f"{MEDIA_FOLDER}/{stem}-{number}{suffix}" for number, suffix in enumerate(media_suffixes, 1)]
    return not any(os.path.lexists(folder / name) for name in names)


def _media_suffix(media: ImportedMedia) -> str:
    suffix = Path(media.file_name).suffix.lower()
    return suffix if MEDIA_SUFFIX.fullmatch(suffix) else ""


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:  # "x": an existing file is an error, never overwritten
        handle.write(data)


def front_matter(status: ImportedStatus, media_paths: list[str], defaults: Defaults) -> dict:
    """Only what the defaults would not give the loaded post already."""
    front: dict = {}
    if status.account is not None:
        front["account"] = status.account
    if status.spoiler_text:
        front["spoiler"] = status.spoiler_text
    if status.visibility != defaults.visibility:
        front["visibility"] = status.visibility
    if status.sensitive != (defaults.sensitive or bool(status.spoiler_text)):
        if status.spoiler_text:
            raise UnrepresentableStatus("a status with a content warning is always sensitive, as on Mastodon")
        front["sensitive"] = status.sensitive
    if status.language != defaults.language:
        if status.language is None:
            raise UnrepresentableStatus(
                f"it has no language; the defaults would give it {defaults.language!r}"
            )
        front["language"] = status.language
    if status.reply_to is not None:
        front["reply_to"] = status.reply_to
    front |= _interactions(status)
    if status.media:
        front["media"] = [
            _media_entry(media, path) for media, path in zip(status.media, media_paths, strict=True)
        ]
    if status.poll_options:
        front["poll"] = _poll_entry(status)
    return front


def _interactions(status: ImportedStatus) -> dict:
    """`quote` and `pinned` when the status has them; `quote_policy` when it is not the account's default."""
    front: dict = {}
    if status.quote is not None:
        if status.media or status.poll_options:
            raise UnrepresentableStatus(
                "it quotes a status and has media or a poll, which a post cannot have"
            )
        front["quote"] = status.quote
    if (policy := _quote_policy(status)) is not None:
        front["quote_policy"] = policy
    if status.pinned:
        front["pinned"] = True
    return front


def _quote_policy(status: ImportedStatus) -> str | None:
    """The status's quote policy when the account's default would give a new status another one (a private or
    direct status always gets `nobody`). None when that default is unknown: without the key, sync leaves the
    policy as it is."""
    if status.default_quote_policy is None or status.quote_policy not in QUOTE_POLICIES:
        return None
    private = status.visibility in ("private", "direct")
    default = "nobody" if private else status.default_quote_policy
    return None if status.quote_policy == default else status.quote_policy


def _media_entry(media: ImportedMedia, path: str) -> dict:
    entry: dict = {"path": path}
    if media.alt is not None:
        entry["alt"] = media.alt
    if media.focus is not None:
        entry["focus"] = FlowList(float(part) for part in media.focus)
    return entry


def _poll_entry(status: ImportedStatus) -> dict:
    if status.media:
        raise UnrepresentableStatus("a post cannot have both a poll and media")
    poll: dict = {"options": FlowList(status.poll_options)}
    if status.poll_expires_in is not None:
        poll["expires_in"] = status.poll_expires_in
    poll["multiple"] = status.poll_multiple
    return poll


def post_file_text(front: dict, body: str) -> str:
    """The whole .md file, checked by reading it back the way publish reads post files."""
    import yaml

    text = body + "\n"
    if front:
        dumped = yaml.dump(front, Dumper=_dumper(), sort_keys=False, allow_unicode=True)
        text = f"{FENCE}\n{dumped}{FENCE}\n{text}"
    _check_reads_back(text, front, body)
    return text


class FlowList(list):
    """Written on one line, `[0.5, -0.25]`, as the docs show focus points and poll options."""


@functools.cache
def _dumper() -> type:
    import yaml

    def flow_list(dumper: yaml.SafeDumper, data: FlowList) -> yaml.Node:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)

    dumper = type("PostDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(FlowList, flow_list)
    return dumper


def _check_reads_back(text: str, front: dict, body: str) -> None:
    try:
        parsed = parse_markdown_file(text)
        FrontMatter.model_validate(parsed.data)
    except FrontMatterError as exc:
        raise UnrepresentableStatus(f"the front-matter would not load: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UnrepresentableStatus(f"the front-matter would not load: {problems}") from None
    if parsed.data != front or parsed.body != body:
        raise UnrepresentableStatus("the post file would not read back as written")


def markdown_body(text: str) -> str:
    """Markdown for which markdown_to_text gives exactly `text`; UnrepresentableStatus when none does."""
    _refuse_unkeepable(text)
    lines = [_block_escaped(INLINE_MARKUP.sub(_escaped, line)) for line in text.split("\n")]
    body = "\n".join(
        KEPT_BLANK_LINE if not line and index and not lines[index - 1] else line
        for index, line in enumerate(lines)
    )
    if THREAD_BREAK.search(body) or markdown_to_text(body) != text:
        raise UnrepresentableStatus("its text does not survive Markdown, even escaped")
    return body


def _refuse_unkeepable(text: str) -> None:
    """What Markdown or the post file loses whatever the escaping: say which line, and why."""
    if bad := CONTROL_CHARACTER.search(text):
        raise UnrepresentableStatus(f"its text holds control character U+{ord(bad.group()):04X}")
    if text != text.strip():
        raise UnrepresentableStatus("its text starts or ends with whitespace, which the template drops")
    for number, line in enumerate(text.split("\n"), start=1):
        if line != line.rstrip():
            why = "a Windows line break" if line.endswith("\r") else "whitespace"
            raise UnrepresentableStatus(f"line {number} of its text ends in {why}, which Markdown drops")


def _escaped(match: re.Match[str]) -> str:
    markup = match.group()
    if markup == "\r":
        return "&#13;"
    if markup[0] == "_" and _between_word_characters(match):
        return markup  # like snake_case or a_url_path: CommonMark never reads these as emphasis
    return "".join(f"\\{character}" for character in markup)


def _between_word_characters(match: re.Match[str]) -> bool:
    line, start, end = match.string, match.start(), match.end()
    return start > 0 and end < len(line) and line[start - 1].isalnum() and line[end].isalnum()


def _block_escaped(line: str) -> str:
    """The line with nothing at its start that Markdown reads as structure; it is escaped inline already."""
    # Indentation, or a byte order mark that reading the file would drop: a reference keeps the first
    # character, and what follows it is mid-line.
    if line[:1].isspace() or line[:1] == "\ufeff":
        return f"&#{ord(line[0])};{line[1:]}"
    if BLOCK_MARKER.match(line):
        return "\\" + line
    if number := ORDERED_ITEM.match(line):
        return f"{number.group()}\\{line[number.end() :]}"
    return line
