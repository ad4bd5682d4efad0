"""What each account's server accepts, as known without asking it: publish.toml's [limits], the instance's
announcement cached beside the state file, or Mastodon's defaults.

For every limit, a key set in publish.toml's [limits] wins; else the instance's cached announcement, of any
age (a day-old announcement is still closer to the truth than generic defaults, and offline commands must not
start failing because a cache aged); else Mastodon's documented defaults. `publish sync` refreshes an
announcement older than MAX_AGE before it validates (publisher.mastodon.instance); `publish limits --refresh`
refreshes on request. The rate limits are Mastodon's own: servers announce a window's size, never its length.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from publisher.source.config import Config, Limits
from publisher.source.confine import RefusedPath, read_regular

log = logging.getLogger(__name__)

LimitsOf = Callable[[str], Limits]  # an account's name -> its limits

CACHE_DIR = ".publish-cache"


CACHE_VERSION = 1


MAX_AGE = timedelta(hours=24)


def checked_limit(field: str, value: Any) -> Any:
    """The value as a Limits field holds it, or None when it is not valid for that field."""
    try:
        return getattr(Limits.model_validate({field: value}), field)
    except ValidationError:
        log.warning("ignoring the instance's %s: %r is not a valid value", field, value)
        return None


@dataclass(frozen=True)
class Announcement:
    """What one instance said about its limits, and when we asked."""

    instance: str
    fetched_at: datetime
    limits: dict[str, Any]
    server_version: str | None = None

    def age(self, now: datetime) -> timedelta:
        return now - self.fetched_at

    def is_fresh(self, now: datetime, max_age: timedelta = MAX_AGE) -> bool:
        return self.age(now) <= max_age


class InstanceCache:
    """One small JSON file per instance in `.publish-cache/` beside the state file (not for git)."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def for_config(cls, config: Config) -> InstanceCache:
        folder = (Path(config.publish.state).parent / CACHE_DIR).as_posix()
        return cls(config.path(folder, "publish.state"))  # beside the state file, inside the repository

    def path(self, instance: str) -> Path:
        host = re.sub(r"[^A-Za-z0-9.-]", "_", urlsplit(instance).netloc)
        return self.folder / f"instance-{host}.json"

    def load(self, instance: str) -> Announcement | None:
        """The cached announcement, or None when there is none, it is unreadable or for another URL."""
        try:
            data = json.loads(read_regular(self.path(instance)).decode("utf-8"))
            if data.get("version") != CACHE_VERSION or data.get("instance") != instance:
                return None
            limits = _cached_limits(data["limits"])
            fetched_at = _aware(datetime.fromisoformat(data["fetched_at"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RefusedPath) as exc:
            log.warning("ignoring unreadable instance cache %s: %s", self.path(instance), exc)
            return None
        return Announcement(instance, fetched_at, limits, data.get("server_version"))

    def save(self, announcement: Announcement) -> None:
        """Written to a temporary file and renamed, so a reader never sees half a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {
            "version": CACHE_VERSION,
            "instance": announcement.instance,
            "fetched_at": announcement.fetched_at.isoformat(),
            "server_version": announcement.server_version,
            "limits": {key: list(v) if isinstance(v, tuple) else v for key, v in announcement.limits.items()},
        }
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".instance-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=True)
            stream.write("\n")
        os.replace(temporary, self.path(announcement.instance))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("fetched_at has no timezone")
    return moment


def _cached_limits(raw: dict[str, Any]) -> dict[str, Any]:
    checked = {key: checked_limit(key, value) for key, value in raw.items() if key in Limits.model_fields}
    return {key: value for key, value in checked.items() if value is not None}


@dataclass(frozen=True)
class AccountLimits:
    """The limits one account's posts are validated against, and where they came from."""

    account: str
    instance: str
    limits: Limits
    announced_at: datetime | None = None  # when the instance was read; None: nothing cached
    overrides: tuple[str, ...] = ()  # the keys publish.toml's [limits] sets

    @property
    def host(self) -> str:
        return urlsplit(self.instance).netloc

    @property
    def guessed(self) -> bool:
        """Only Mastodon's defaults: neither the instance nor publish.toml said anything."""
        return self.announced_at is None and not self.overrides

    @property
    def keeps_media_order(self) -> bool:
        """Whether the server is known to attach media in the order sent: it announces a Mastodon API version
        (Mastodon 4.3 on; attachments keep their order since 3.5), or publish.toml's [limits] says which it
        has. Else a post's files go up one after another, for a server that orders them by id."""
        known = self.announced_at is not None or "mastodon_api_version" in self.overrides
        return known and self.limits.mastodon_api_version >= 1


@dataclass(frozen=True)
class EffectiveLimits:
    accounts: tuple[AccountLimits, ...] = ()

    def limits_of(self, fallback: Limits) -> LimitsOf:
        """An account's name -> its limits; `fallback` (publish.toml's) for an account not listed."""
        known = {entry.account: entry.limits for entry in self.accounts}
        return lambda account: known.get(account, fallback)

    def only(self, account: str | None) -> EffectiveLimits:
        if account is None:
            return self
        return EffectiveLimits(tuple(entry for entry in self.accounts if entry.account == account))


def effective_limits(config: Config, cache: InstanceCache) -> EffectiveLimits:
    entries = [
        account_limits(config, name, cache.load(config.accounts[name].instance)) for name in config.accounts
    ]
    return EffectiveLimits(tuple(entries))


def account_limits(config: Config, name: str, announcement: Announcement | None) -> AccountLimits:
    overrides = tuple(sorted(config.limits.model_fields_set))
    explicit = config.limits.model_dump(include=set(overrides))
    announced = announcement.limits if announcement else {}
    limits = Limits.model_validate({**announced, **explicit})
    fetched_at = announcement.fetched_at if announcement else None
    return AccountLimits(name, config.accounts[name].instance, limits, fetched_at, overrides)


# Top-level domains reserved never to resolve (RFC 2606, RFC 6761): `https://mastodon.example` in a
# scaffolded publish.toml is a placeholder, and asking it would only cost a warning.
RESERVED_DOMAINS = ("example", "invalid", "test")


def is_placeholder(instance: str) -> bool:
    host = (urlsplit(instance).hostname or "").rstrip(".")
    return host.rsplit(".", 1)[-1] in RESERVED_DOMAINS


@dataclass(frozen=True)
class RateLimit:
    limit: int  # requests per window
    period: float  # seconds; windows are aligned to multiples of it


# config/initializers/rack_attack.rb and app/lib/rate_limiter.rb. Servers announce the limit
# (X-RateLimit-Limit) but not the period, so the period always comes from here.
MASTODON_RATE_LIMITS = {
    "media": RateLimit(30, 1800),  # POST /api/v1/media and /api/v2/media
    "statuses": RateLimit(300, 10_800),  # POST and PUT /api/v1/statuses
    "deletes": RateLimit(30, 1800),  # DELETE /api/v1/statuses/:id
    "requests": RateLimit(300, 300),  # every authenticated request
}
FAMILY_NOUNS = {
    "media": "media uploads",
    "statuses": "status creates and edits",
    "deletes": "deletes",
    "requests": "requests",
}
