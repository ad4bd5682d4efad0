"""publish.toml -> a frozen Config; every problem reported at once with its line."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator

from publisher.errors import InvalidInput, Problem, did_you_mean
from publisher.source.confine import Confinement, RefusedPath
from publisher.source.languages import LanguageCode
from publisher.source.models import Frozen, Visibility
from publisher.source.untrusted import is_web_link

LOOPBACK_HOSTS = {"localhost"}
PATH_SETTINGS = ("posts", "templates", "state")  # of [publish]
MASTODON_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp3",
    "audio/mp4",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/3gpp",
)


class PublishSection(Frozen):
    posts: str = "posts"
    templates: str = "templates"
    template: str = "default.txt.j2"
    state: str = "publish.state.json"
    require_alt_text: bool = True
    schedule: Literal["native", "ci"] = "native"
    max_change_share: float = Field(0.3, ge=0.0, le=1.0)
    # How far back `sync` looks for an existing copy of a post the state does not know, when git history
    # cannot say when the post file first appeared (a shallow clone, no git).
    look_back_days: int = Field(30, ge=0, le=3650)


class Defaults(Frozen):
    visibility: Visibility = "public"
    language: LanguageCode | None = "en"
    sensitive: bool = False


class Limits(Frozen):
    """What the server accepts; Mastodon's defaults unless publish.toml (or the instance) says otherwise."""

    max_characters: int = Field(500, gt=0)
    max_media_attachments: int = Field(4, gt=0)
    characters_reserved_per_url: int = Field(23, ge=0)
    image_size_limit: int = Field(16 * 1024 * 1024, gt=0)
    video_size_limit: int = Field(99 * 1024 * 1024, gt=0)
    description_limit: int = Field(1500, gt=0)
    supported_mime_types: tuple[str, ...] = MASTODON_MIME_TYPES
    image_matrix_limit: int = Field(33_177_600, gt=0)  # width * height of an image, in pixels
    video_matrix_limit: int = Field(8_294_400, gt=0)
    poll_max_options: int = Field(4, ge=2)
    poll_max_characters_per_option: int = Field(50, gt=0)
    poll_min_expiration: int = Field(300, ge=0)  # seconds
    poll_max_expiration: int = Field(2_629_746, gt=0)
    max_pinned_statuses: int = Field(5, ge=0)  # per account (StatusPinValidator::PIN_LIMIT)
    mastodon_api_version: int = Field(7, ge=0)  # api_versions.mastodon; 7 (Mastodon 4.5) has quote posts


class Account(Frozen):
    instance: str
    token_env: str = "MASTODON_TOKEN"

    @field_validator("instance")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        """The server's address and nothing more (scheme, host, port): the token goes wherever it leads."""
        problem = instance_url_problem(value)
        if problem:
            raise ValueError(f"must be the server's address alone, like https://mastodon.example: {problem}")
        hostname = urlsplit(value).hostname or ""
        if urlsplit(value).scheme == "http" and not is_loopback(hostname):
            raise ValueError("must use https (plain http is allowed only for 127.0.0.1, localhost, [::1])")
        return value.rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be the NAME of an environment variable, not the token itself")
        return value


class Config(Frozen):
    publish: PublishSection = PublishSection()
    defaults: Defaults = Defaults()
    limits: Limits = Limits()
    accounts: dict[str, Account]
    root: Path = Path(".")

    @model_validator(mode="after")
    def _at_least_one_account(self) -> Config:
        if not self.accounts:
            raise ValueError("at least one [accounts.NAME] table is required")
        return self

    @property
    def default_account(self) -> str:
        return next(iter(self.accounts))

    def path(self, relative: str, setting: str = "") -> Path:
        """root / relative; InvalidInput unless it resolves inside the repository (symlinks followed)."""
        try:
            return Confinement(self.root).setting(relative)
        except RefusedPath as exc:
            raise InvalidInput([Problem(relative, None, setting, str(exc), exc.hint)]) from None


def instance_url_problem(value: str) -> str:
    """What keeps `value` from being scheme://host[:port] (a trailing slash is fine), or ""."""
    if not is_web_link(value):
        return "an http(s) URL with a host and a valid port, no spaces, control characters or user name"
    parts = urlsplit(value)
    if parts.path not in ("", "/"):
        return "no path (Mastodon serves its API at the root)"
    if "?" in value or "#" in value:
        return "no query (?...) or fragment (#...)"
    return ""


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_config(path: Path) -> Config:
    """Read and validate publish.toml; the folder holding it is the repository root."""
    shown = path.name
    if not path.is_file():
        raise InvalidInput(
            [Problem(shown, None, "", "config file not found", "run `publish init`, or pass --config")]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes().count(b"\n", 0, exc.start) + 1
        raise InvalidInput([Problem(shown, line, "", "not UTF-8 text", "save the file as UTF-8")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput([Problem(shown, _toml_line(exc), "", f"not valid TOML: {exc}")]) from None
    try:
        config = Config.model_validate({**raw, "root": path.resolve().parent})
    except ValidationError as exc:
        raise InvalidInput(config_problems(exc, shown, text)) from None
    problems = path_problems(config, shown, text)
    if problems:
        raise InvalidInput(problems)
    return config


def path_problems(config: Config, shown: str, text: str) -> list[Problem]:
    """Each folder or file named in publish.toml must resolve inside the repository, like any other."""
    confinement = Confinement(config.root)
    problems = []
    for name in PATH_SETTINGS:
        try:
            confinement.setting(getattr(config.publish, name))
        except RefusedPath as exc:
            line = _key_line(text, ["publish", name])
            problems.append(Problem(shown, line, f"publish.{name}", str(exc), exc.hint))
    return problems


def config_problems(exc: ValidationError, shown: str, text: str) -> list[Problem]:
    return [_config_problem(error, shown, text) for error in exc.errors()]


def _config_problem(error, shown: str, text: str) -> Problem:
    loc = [str(part) for part in error["loc"]]
    field = ".".join(loc)
    hint = ""
    if error["type"] == "extra_forbidden":
        hint = _unknown_key_hint(loc)
        message = "unknown key"
    else:
        message = error["msg"].removeprefix("Value error, ")
    return Problem(shown, _key_line(text, loc), field, message, hint)


def _unknown_key_hint(loc: list[str]) -> str:
    sections = {
        "publish": PublishSection.model_fields,
        "defaults": Defaults.model_fields,
        "accounts": Account.model_fields,
        "limits": Limits.model_fields,
    }
    known = sections.get(loc[0], Config.model_fields) if len(loc) > 1 else Config.model_fields
    known = [name for name in known if name != "root"]
    return did_you_mean(loc[-1], known) or "known keys: " + ", ".join(known)


def _key_line(text: str, loc: list[str]) -> int | None:
    """Best-effort line of the key a problem is about (tomllib keeps no positions)."""
    key = loc[-1] if loc else ""
    table = ".".join(loc[:-1])
    in_table = not table
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.strip("[] ") == table or stripped.strip("[] ") == ".".join(loc)
            if stripped.strip("[] ") == ".".join(loc):
                return number
        elif in_table and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _toml_line(exc: tomllib.TOMLDecodeError) -> int | None:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None
