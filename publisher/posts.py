"""Find post files and parse their front-matter into validated `Post` objects."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import AliasChoices, ConfigDict, Field, ValidationError, field_validator

from publisher.confine import Confinement, read_handle, utf8_text
from publisher.errors import Problem, did_you_mean
from publisher.frontmatter import FrontMatterError, ParsedFile, parse_markdown_file, parse_yaml_file
from publisher.languages import LanguageCode
from publisher.models import PART_SEPARATOR, Frozen, Visibility

POST_SUFFIXES = (".md", ".yaml", ".yml")
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
    """The fields publish understands; any other key is kept for templates."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str | None = None
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
    draft: bool = False
    poll: PollEntry | None = None
    split: bool = False  # post an over-long text as a numbered thread instead of refusing it
    body: str | None = None
    parts: tuple[str, ...] = ()  # more statuses of a thread, after the body

    @field_validator("id", "reply_to")
    @classmethod
    def _post_id(cls, value: str | None) -> str | None:
        if value is not None and not POST_ID.fullmatch(value):
            raise ValueError("use letters, digits and . _ / - only, e.g. 2026/hello-world")
        return value

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

    @property
    def extra(self) -> dict:
        return dict(self.model_extra or {})


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

    @property
    def thread_bodies(self) -> list[str]:
        """The Markdown of each status: the body cut at lines of `+++`, then the `parts` list."""
        bodies = [part.strip("\n") for part in THREAD_BREAK.split(self.body)]
        bodies = [body for body in bodies if body.strip()] or [""]
        return bodies + [part for part in self.front.parts if part.strip()]


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


def parse_post(file: Path, root: Path, posts_dir: Path, data: bytes | None = None) -> Post | list[Problem]:
    """`data`: the file's bytes when they were read already."""
    source = file.relative_to(root).as_posix()
    try:
        text = file.read_text(encoding="utf-8") if data is None else utf8_text(data)
        parsed = parse_yaml_file(text) if file.suffix != ".md" else parse_markdown_file(text)
    except UnicodeDecodeError:
        return [Problem(source, None, "", "not UTF-8 text", "save the file as UTF-8")]
    except FrontMatterError as exc:
        return [Problem(source, exc.line, "front-matter", str(exc))]
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
    field = loc_to_key(error["loc"])
    line = parsed.line_of(*key_prefixes(field))
    message, hint = error["msg"].removeprefix("Value error, "), ""
    if error["type"] == "missing":
        message = "is required"
    if error["type"] == "extra_forbidden":
        known = tuple(PollEntry.model_fields) if error["loc"][0] == "poll" else MEDIA_KEYS
        message, hint = "unknown key", _close_key_hint(error["loc"][-1], known)
    return Problem(source, line, field, message, hint)


def _close_key_hint(key: object, known: tuple[str, ...]) -> str:
    return did_you_mean(str(key), known) or "known keys: " + ", ".join(known)


def loc_to_key(loc: tuple) -> str:
    """("media", 0, "focus") -> "media[0].focus", the form ParsedFile uses for lines."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key
