"""Find post files and parse their front-matter into validated `Post` objects."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator

from publisher.errors import Problem, did_you_mean
from publisher.source.confine import Confinement, read_handle, utf8_text
from publisher.source.frontmatter import FrontMatterError, ParsedFile, parse_markdown_file, parse_yaml_file
from publisher.source.languages import LanguageCode
from publisher.source.models import PART_SEPARATOR, Frozen, QuotePolicy, Visibility

POST_SUFFIXES = (".md", ".yaml", ".yml")
# Keys of Hugo and Jekyll files that mean nothing to publish: accepted, and handed to templates as they are.
SITE_GENERATOR_KEYS = frozenset(
    "aliases author authors categories description excerpt images keywords lastmod layout linkTitle "
    "permalink series slug summary toc type url weight".split()
)
# Where several keys give the publishing time, the first present wins: Hugo's `date` is when a page was
# written and its `publishDate` when it goes out.
PUBLISH_AT_KEYS = ("publish_at", "publishDate", "date")
MEDIA_KEYS = ("path", "alt", "description", "focus", "thumbnail")
THREAD_BREAK = re.compile(r"^\+\+\+[ \t]*$", re.MULTILINE)
POST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
PART_HINT = "rename the file without '#', or set `id:`; x#2 is how publish names part 2 of a thread x"
TIMEZONE_HINT = "e.g. 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00"
WHITESPACE = re.compile(r"\s")


class MediaEntry(Frozen):
    path: str
    alt: str | None = Field(None, validation_alias=AliasChoices("alt", "description"))
    focus: tuple[float, float] | None = None
    thumbnail: str | None = None  # a preview image for audio or video, relative to the post file

    @field_validator("focus")
    @classmethod
    def _focus_in_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not all(-1.0 <= part <= 1.0 for part in value):
            raise ValueError("each coordinate must be between -1.0 and 1.0, e.g. [0.0, 0.4]")
        return value


class PollEntry(Frozen):
    options: tuple[str, ...] = Field(min_length=2)
    expires_in: int = Field(86400, gt=0)
    multiple: bool = False
    hide_totals: bool = False


class FrontMatter(Frozen):
    """The fields publish understands. Any other key is an error (a typo must not publish something else):
    data for templates lives under `vars:` (or Hugo's `params:`)."""

    id: str | None = None
    title: str | None = None  # shown in plans; sent only where a template uses it
    account: str | None = None
    template: str | None = None
    visibility: Visibility | None = None
    spoiler: str | None = Field(None, validation_alias=AliasChoices("spoiler", "cw", "content_warning"))
    sensitive: bool | None = None
    language: LanguageCode | None = None
    tags: tuple[str, ...] = ()
    media: tuple[MediaEntry, ...] = ()
    publish_at: datetime | None = None
    reply_to: str | None = None
    quote: str | None = None  # a post id of this repository, or a status URL: this post quotes it
    quote_policy: QuotePolicy | None = None  # who may quote this post: public | followers | nobody
    pinned: bool | None = None  # true pins it on the profile; false unpins it
    draft: bool = False
    poll: PollEntry | None = None
    split: bool = False  # post an over-long text as a numbered thread instead of refusing it
    body: str | None = None
    parts: tuple[str, ...] = ()  # more statuses of a thread, after the body
    vars: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("vars", "params"))
    site_keys: dict[str, Any] = {}  # the SITE_GENERATOR_KEYS a file has, set by _sort_keys

    @model_validator(mode="before")
    @classmethod
    def _sort_keys(cls, data: object) -> object:
        """Hugo's and Jekyll's keys aside (for templates), and the publishing time from its first key."""
        if not isinstance(data, dict):
            return data
        keys = dict(data)
        site = {key: keys.pop(key) for key in data if key in SITE_GENERATOR_KEYS}
        times = [key for key in PUBLISH_AT_KEYS if key in keys]
        for later in times[1:]:
            site[later] = keys.pop(later)
        if times and times[0] != "publish_at":
            keys["publish_at"] = start_of_day(keys.pop(times[0]))
        return {**keys, "site_keys": site}

    @field_validator("id", "reply_to")
    @classmethod
    def _post_id(cls, value: str | None) -> str | None:
        if value is not None and not POST_ID.fullmatch(value):
            raise ValueError("use letters, digits and . _ / - only, e.g. 2026/hello-world")
        return value

    @field_validator("quote")
    @classmethod
    def _post_id_or_status_url(cls, value: str | None) -> str | None:
        from publisher.source.untrusted import is_web_link

        if value is None or POST_ID.fullmatch(value) or is_web_link(value):
            return value
        raise ValueError("a post id (e.g. 2026/hello-world) or a status URL (https://host/@name/123)")

    @field_validator("publish_at", mode="before")
    @classmethod
    def _iso_with_timezone(cls, value: object) -> object:
        """Only an ISO 8601 date-time with a timezone: pydantic would read 20271201 as seconds since 1970."""
        return None if value is None else moment_with_timezone(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tags = tuple(tag.strip().lstrip("#") for tag in value)
        if any(not tag or WHITESPACE.search(tag) for tag in tags):
            raise ValueError("each tag must be one word without spaces, e.g. [caturday, photography]")
        return tags

    def template_data(self) -> dict[str, Any]:
        """What only templates read: Hugo's and Jekyll's keys at the top, and `vars` (also as `params`)."""
        return {**self.site_keys, "vars": self.vars, "params": self.vars}

    @classmethod
    def names_in_a_file(cls) -> dict[str, tuple[str, ...]]:
        """Each field's keys in a file: its aliases (`spoiler`, `cw`, `content_warning`), or its own name."""
        return {
            name: tuple(alias for alias in getattr(info.validation_alias, "choices", None) or [name])
            for name, info in cls.model_fields.items()
            if name != "site_keys"
        }

    @classmethod
    def known_keys(cls) -> tuple[str, ...]:
        """Every key a file may use: fields, their aliases and the site generators' keys."""
        keys = [key for names in cls.names_in_a_file().values() for key in names]
        return (*keys, *PUBLISH_AT_KEYS[1:], *sorted(SITE_GENERATOR_KEYS))


@dataclass(frozen=True)
class Post:
    id: str
    source: str  # posix path relative to the repository root
    file: Path
    front: FrontMatter
    body: str
    parsed: ParsedFile

    def line_of(self, field: str) -> int | None:
        return self.parsed.line_of(*key_prefixes(field))

    def without_source_text(self) -> Post:
        """The post as it is once rendered (and as the render cache recalls it): without the raw front-matter
        and the body, which only parsing and rendering read."""
        return replace(self, body="", parsed=ParsedFile({}, "", self.parsed.lines, self.parsed.body_line))

    def published_later_than(self, other: Post) -> datetime | None:
        """When this post is published, if that is after `other` (an undated post goes out at once): then
        `other` cannot reply to it or quote it."""
        mine, theirs = self.front.publish_at, other.front.publish_at
        return mine if mine is not None and (theirs is None or theirs < mine) else None

    @property
    def thread_bodies(self) -> list[str]:
        """The Markdown of each status: the body cut at lines of `+++`, then the `parts` list."""
        bodies = [part.strip("\n") for part in THREAD_BREAK.split(self.body)]
        bodies = [body for body in bodies if body.strip()] or [""]
        return bodies + [part for part in self.front.parts if part.strip()]


@dataclass(frozen=True)
class PostFile:
    """A post file's bytes, read inside the repository: what the load stage parses."""

    source: str  # relative to the repository's root
    path: Path
    data: bytes


def moment_with_timezone(value: object) -> datetime:
    """A YAML timestamp or an ISO 8601 string, with its timezone; anything else is a ValueError."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be an ISO 8601 date and time, {TIMEZONE_HINT}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"must be a date and time with a timezone, {TIMEZONE_HINT}")
    if value.tzinfo is None:
        raise ValueError(f"needs a timezone, {TIMEZONE_HINT}")
    return value


def start_of_day(value: object) -> object:
    """A bare date (`date: 2026-12-01`, Jekyll's habit) as midnight UTC; anything else as it is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def key_prefixes(key: str) -> list[str]:
    """ "media[0].alt" -> ["media[0].alt", "media[0]", "media"]: the nearest key that has a line."""
    prefixes = [key]
    while match := re.search(r"(\.[^.\[]+|\[\d+\])$", key):
        key = key[: match.start()]
        prefixes.append(key)
    return prefixes


def discover(posts_dir: Path) -> Iterator[Path]:
    """Post files under posts_dir in a stable order; names starting with `_` or `.` are ignored."""
    return (posts_dir / relative for relative in post_files(posts_dir))


def post_files(posts_dir: Path) -> list[str]:
    """The posix paths of the post files relative to posts_dir, in the order of their path parts."""
    return ["/".join(parts) for parts in sorted(_post_parts(str(posts_dir), ()))]


def _post_parts(folder: str, parents: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Like Path.rglob: symlinked folders are not entered and an unreadable folder is skipped."""
    try:
        with os.scandir(folder) as scanned:
            entries = list(scanned)
    except PermissionError:
        return
    for entry in entries:
        if entry.name.startswith((".", "_")):  # hidden, and so is everything below it
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _post_parts(entry.path, (*parents, entry.name))
        elif entry.name.endswith(POST_SUFFIXES) and _is_file(entry):
            yield (*parents, entry.name)


def _is_file(entry: os.DirEntry) -> bool:
    return entry.is_file(follow_symlinks=False) or (entry.is_symlink() and Path(entry.path).is_file())


def read_bytes(path: str | Path, confinement: Confinement | None = None) -> bytes:
    """The whole file, like Path.read_bytes, without the io module's layers: a quarter of the time.

    With `confinement`: RefusedPath unless it is a regular file that resolves inside the repository (discovery
    lists a symlinked post file wherever it points, so that reading it can refuse it by name)."""
    if confinement is not None:
        return confinement.read_bytes(path)
    return read_handle(os.open(path, os.O_RDONLY))


def parse_post(
    file: Path, root: Path, posts_dir: Path, data: bytes | None = None, source: str | None = None
) -> Post | list[Problem]:
    """`data`: the file's bytes when already read; `source`: its path relative to root, when known."""
    source = file.relative_to(root).as_posix() if source is None else source
    try:
        text = file.read_text(encoding="utf-8") if data is None else utf8_text(data)
        parsed = parse_yaml_file(text) if file.suffix != ".md" else parse_markdown_file(text)
    except UnicodeDecodeError:
        return [Problem(source, None, "", "not UTF-8 text", "save the file as UTF-8")]
    except FrontMatterError as exc:
        return [Problem(source, exc.line, "front-matter", str(exc), exc.hint)]
    try:
        front = FrontMatter.model_validate(parsed.data)
    except ValidationError as exc:
        return [_field_problem(source, parsed, error) for error in exc.errors()]
    post_id = front.id or file.relative_to(posts_dir).with_suffix("").as_posix()
    if PART_SEPARATOR in post_id:
        message = f"id {post_id!r} (from the file name) contains {PART_SEPARATOR!r}"
        return [Problem(source, None, "id", message, PART_HINT)]
    return Post(post_id, source, file, front, parsed.body, parsed)


def _field_problem(source: str, parsed: ParsedFile, error: dict) -> Problem:
    field = written_key(loc_to_key(error["loc"]), parsed)
    line = parsed.line_of(*key_prefixes(field))
    message, hint = error["msg"].removeprefix("Value error, "), ""
    if error["type"] == "missing":
        message = "is required"
    if error["type"] == "extra_forbidden":
        message, hint = _unknown_key(error["loc"], parsed)
    if error["type"] == "literal_error":
        choices = tuple(re.findall(r"'([^']*)'", error["ctx"]["expected"]))
        message = f"{error['input']!r} is not one of {', '.join(choices)}"
        hint = did_you_mean(str(error["input"]), choices)
    if error["type"] in ("bool_parsing", "bool_type"):
        message, hint = f"{error['input']!r} is not true or false", "write true or false, unquoted"
    return Problem(source, line, field, message, hint)


def written_key(field: str, parsed: ParsedFile) -> str:
    """The key as the file writes it: `date` for a publishing time given as Hugo's `date`."""
    name, _, rest = field.partition(".")
    if name == "publish_at" and name not in parsed.data:
        name = next((key for key in PUBLISH_AT_KEYS if key in parsed.data), name)
    return f"{name}.{rest}" if rest else name


def _unknown_key(loc: tuple, parsed: ParsedFile) -> tuple[str, str]:
    key = str(loc[-1])
    if len(loc) == 1:
        same = next((names for names in FrontMatter.names_in_a_file().values() if key in names), ())
        if twin := next((other for other in same if other != key and other in parsed.data), None):
            return f"sets the same field as {twin!r}", f"keep one of {twin!r} and {key!r}"
        known = FrontMatter.known_keys()
        return "unknown key", did_you_mean(key, known) or "put data for templates under `vars:`"
    known = tuple(PollEntry.model_fields) if loc[0] == "poll" else MEDIA_KEYS
    return "unknown key", did_you_mean(key, known) or "known keys: " + ", ".join(known)


def loc_to_key(loc: tuple) -> str:
    """("media", 0, "focus") -> "media[0].focus", the form ParsedFile uses for lines."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key
