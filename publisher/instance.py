"""What each account's server accepts: announced by its instance, cached beside the state file, or defaults.

For every limit, a key set in publish.toml's [limits] wins; else the instance's cached announcement, of any
age (a day-old announcement is still closer to the truth than generic defaults, and offline commands must not
start failing because a cache aged); else Mastodon's documented defaults. `publish sync` refreshes an
announcement older than MAX_AGE before it validates; `publish limits --refresh` refreshes on request.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from publisher.clock import Clock
from publisher.config import Account, Config, Limits
from publisher.confine import RefusedPath, read_regular
from publisher.errors import ApiError
from publisher.threads import side_by_side
from publisher.untrusted import token_from

log = logging.getLogger(__name__)

CACHE_DIR = ".publish-cache"
CACHE_VERSION = 1
MAX_AGE = timedelta(hours=24)

InstanceFetch = Callable[[str, Account], Any]
"""(account name, account) -> the body of GET /api/v2/instance (or v1), or None when it is not to be asked."""

# Where an instance document announces each limit; earlier entries win. The flat keys are what Mastodon's v1
# before 3.4, Pleroma and Akkoma announce outside `configuration`.
ANNOUNCED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("configuration", "statuses", "max_characters"), "max_characters"),
    (("configuration", "statuses", "max_media_attachments"), "max_media_attachments"),
    (("configuration", "statuses", "characters_reserved_per_url"), "characters_reserved_per_url"),
    (("configuration", "media_attachments", "supported_mime_types"), "supported_mime_types"),
    (("configuration", "media_attachments", "image_size_limit"), "image_size_limit"),
    (("configuration", "media_attachments", "video_size_limit"), "video_size_limit"),
    (("configuration", "media_attachments", "image_matrix_limit"), "image_matrix_limit"),
    (("configuration", "media_attachments", "video_matrix_limit"), "video_matrix_limit"),
    (("configuration", "media_attachments", "description_limit"), "description_limit"),
    (("configuration", "polls", "max_options"), "poll_max_options"),
    (("configuration", "polls", "max_characters_per_option"), "poll_max_characters_per_option"),
    (("configuration", "polls", "min_expiration"), "poll_min_expiration"),
    (("configuration", "polls", "max_expiration"), "poll_max_expiration"),
    (("configuration", "accounts", "max_pinned_statuses"), "max_pinned_statuses"),
    (("api_versions", "mastodon"), "mastodon_api_version"),
    (("max_toot_chars",), "max_characters"),
    (("description_limit",), "description_limit"),
    (("upload_limit",), "image_size_limit"),
    (("upload_limit",), "video_size_limit"),
    (("poll_limits", "max_options"), "poll_max_options"),
    (("poll_limits", "max_option_chars"), "poll_max_characters_per_option"),
    (("poll_limits", "min_expiration"), "poll_min_expiration"),
    (("poll_limits", "max_expiration"), "poll_max_expiration"),
)


def announced_limits(document: dict) -> dict[str, Any]:
    """The Limits fields an instance document announces; a missing or nonsensical value is left out, except
    the API version: a server that announces none (Mastodon before 4.3, other servers) has version 0, so
    what needs a newer Mastodon (quote posts) is refused rather than silently dropped by the server."""
    found: dict[str, Any] = {}
    for path, field in ANNOUNCED:
        value = _dig(document, path)
        if field not in found and value is not None:
            checked = checked_limit(field, value)
            if checked is not None:
                found[field] = checked
    found.setdefault("mastodon_api_version", 0)
    return found


def checked_limit(field: str, value: Any) -> Any:
    """The value as a Limits field holds it, or None when it is not valid for that field."""
    try:
        return getattr(Limits.model_validate({field: value}), field)
    except ValidationError:
        log.warning("ignoring the instance's %s: %r is not a valid value", field, value)
        return None


def _dig(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


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


def announcement_from(instance: str, document: Any, now: datetime) -> Announcement:
    if not isinstance(document, dict):
        raise ApiError("the instance answered without a JSON document", method="GET", path="/api/v2/instance")
    version = document.get("version")
    server_version = version if isinstance(version, str) else None
    return Announcement(instance, now, announced_limits(document), server_version)


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

    def by_account(self) -> dict[str, Limits]:
        return {entry.account: entry.limits for entry in self.accounts}

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


def refresh_announcements(
    config: Config,
    cache: InstanceCache,
    fetch: InstanceFetch,
    now: datetime,
    *,
    accounts: Iterable[str],
    force: bool = False,
) -> list[str]:
    """Ask each account's instance when its cached answer is missing or stale, or always with `force`; return
    the instances that answered. Instances are asked side by side, each once: through its first account that
    gets an answer (an account without a token is not asked)."""
    due: dict[str, list[str]] = {}
    for name in accounts:
        instance = config.accounts[name].instance
        if instance in due or force or not _fresh(cache.load(instance), now):
            due.setdefault(instance, []).append(name)
    asked = side_by_side(lambda names: _first_answer(config, fetch, names), list(due.values()), "limits")
    refreshed: list[str] = []
    for instance, document in zip(due, asked, strict=True):
        if document is not None:
            cache.save(announcement_from(instance, document, now))
            refreshed.append(instance)
            log.info("read the limits of %s", instance)
    return refreshed


def _fresh(cached: Announcement | None, now: datetime) -> bool:
    return cached is not None and cached.is_fresh(now)


def _first_answer(config: Config, fetch: InstanceFetch, names: list[str]) -> Any:
    for name in names:
        document = fetch(name, config.accounts[name])
        if document is not None:
            return document
    return None


Warn = Callable[[str], None]


def tolerant(fetch: InstanceFetch, warn: Warn = log.warning) -> InstanceFetch:
    """An instance that cannot tell its limits leaves the cache (or the defaults) in force, and says so."""

    def fetch_or_none(name: str, account: Account) -> Any:
        host = account.instance
        try:
            document = fetch(name, account)
        except ApiError as exc:
            warn(f"could not read the limits of {host} ({exc}); checking against the cached or default ones")
            return None
        if document is not None and not isinstance(document, dict):
            warn(f"{host} sent no JSON document for its limits; checking against the cached or default ones")
            return None
        return document

    return fetch_or_none


QUICK_TIMEOUT = 5.0  # seconds a plan waits for an instance to answer before it checks against defaults


def public_fetch(clock: Clock, *, quick: bool = False) -> InstanceFetch:
    """GET /api/v2/instance (or v1) without a token: the limits are public. `quick` (plans): a short timeout
    and one retry, so a server that is down costs seconds, not the minutes a sync would keep trying."""

    def fetch(name: str, account: Account) -> Any:
        from publisher.http import HttpClient
        from publisher.mastodon import MastodonClient
        from publisher.retry import RetryPolicy

        options = {"timeout": QUICK_TIMEOUT, "retry": RetryPolicy(max_attempts=2, max_total_seconds=10)}
        with HttpClient(account.instance, None, clock=clock, **(options if quick else {})) as http:
            return MastodonClient(http, clock).instance()

    return fetch


ClientFor = Callable[[str, Account, str], Any]  # (account name, account, token) -> a MastodonClient


def publishing_fetch(client_for: ClientFor, environ: Mapping[str, str]) -> InstanceFetch:
    """Sync asks through the clients it publishes with; an account without a token is not asked at all."""

    def fetch(name: str, account: Account) -> Any:
        token = token_from(environ, account.token_env, name)
        return client_for(name, account, token).instance() if token else None

    return fetch


# Top-level domains reserved never to resolve (RFC 2606, RFC 6761): `https://mastodon.example` in a
# scaffolded publish.toml is a placeholder, and asking it would only cost a warning.
RESERVED_DOMAINS = ("example", "invalid", "test")


def is_placeholder(instance: str) -> bool:
    host = (urlsplit(instance).hostname or "").rstrip(".")
    return host.rsplit(".", 1)[-1] in RESERVED_DOMAINS


def stale_refresher(
    clock: Clock, fetch: InstanceFetch, account: str | None, warn: Warn = log.warning
) -> Callable[[Config], None]:
    """Re-read the instances whose cached limits are missing or stale; a failure only warns."""

    def refresh(config: Config) -> None:
        names = [account] if account in config.accounts else list(config.accounts)
        names = [name for name in names if not is_placeholder(config.accounts[name].instance)]
        cache = InstanceCache.for_config(config)
        refresh_announcements(config, cache, tolerant(fetch, warn), clock.now(), accounts=names)

    return refresh
