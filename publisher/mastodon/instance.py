"""Each account's instance asked for its limits (GET /api/v2/instance), kept in the cache of source.limits:
when the cached announcement is missing or older than MAX_AGE, or on request (`publish limits --refresh`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from publisher.clock import Clock
from publisher.errors import ApiError
from publisher.mastodon.clients import ClientFactory
from publisher.mastodon.threads import side_by_side
from publisher.source.config import Account, Config
from publisher.source.limits import Announcement, InstanceCache, checked_limit, is_placeholder
from publisher.source.untrusted import token_from

log = logging.getLogger(__name__)

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


def _dig(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def announcement_from(instance: str, document: Any, now: datetime) -> Announcement:
    if not isinstance(document, dict):
        raise ApiError("the instance answered without a JSON document", method="GET", path="/api/v2/instance")
    version = document.get("version")
    server_version = version if isinstance(version, str) else None
    return Announcement(instance, now, announced_limits(document), server_version)


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
        from publisher.mastodon.client import MastodonClient
        from publisher.mastodon.http import HttpClient
        from publisher.mastodon.retry import RetryPolicy

        options = {"timeout": QUICK_TIMEOUT, "retry": RetryPolicy(max_attempts=2, max_total_seconds=10)}
        with HttpClient(account.instance, None, clock=clock, **(options if quick else {})) as http:
            return MastodonClient(http, clock).instance()

    return fetch


def publishing_fetch(client_for: ClientFactory, environ: Mapping[str, str]) -> InstanceFetch:
    """Sync asks through the clients it publishes with; an account without a token is not asked at all."""

    def fetch(name: str, account: Account) -> Any:
        token = token_from(environ, account.token_env, name)
        return client_for(name, account, token).instance() if token else None

    return fetch


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
