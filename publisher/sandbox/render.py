"""JSON entities as Mastodon 4.x serialises them: account, status, poll, scheduled status, instance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .inputs import PollInput
from .media import DESCRIPTION_LIMIT, IMAGE_SIZE_LIMIT, SUPPORTED_TYPES, VIDEO_SIZE_LIMIT
from .text import format_time, render_content

ACCOUNT_ID = "1"
VERSION = "4.5.0"
ACCOUNT_CREATED = "2024-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Site:
    """What the entities need to know about the server they come from."""

    base_url: str
    username: str
    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1]


@dataclass(frozen=True)
class StatusState:
    """The source of a status; its JSON is rendered from this and its attachments."""

    id: str
    created_at: datetime
    text: str
    spoiler_text: str
    visibility: str
    sensitive: bool
    language: str | None
    in_reply_to_id: str | None
    media_ids: tuple[str, ...]
    poll: PollInput | None
    edited_at: datetime | None = None
    quoted_status_id: str | None = None
    quote_state: str | None = None  # accepted, pending (another server's status) or deleted
    quote_policy: str | None = "public"  # None: a server without quote posts (before Mastodon 4.5)

    def content_key(self) -> tuple:
        """What an edit compares to decide whether anything changed."""
        return (self.text, self.spoiler_text, self.sensitive, self.language, self.media_ids, self.poll)


def account_json(site: Site, statuses_count: int = 0) -> dict:
    return {
        "id": ACCOUNT_ID,
        "username": site.username,
        "acct": site.username,
        "display_name": site.username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": ACCOUNT_CREATED,
        "note": "<p>Local sandbox account</p>",
        "url": f"{site.base_url}/@{site.username}",
        "uri": f"{site.base_url}/users/{site.username}",
        "avatar": f"{site.base_url}/avatars/original/missing.png",
        "avatar_static": f"{site.base_url}/avatars/original/missing.png",
        "header": f"{site.base_url}/headers/original/missing.png",
        "header_static": f"{site.base_url}/headers/original/missing.png",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": statuses_count,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def credential_account_json(site: Site, statuses_count: int) -> dict:
    source = {"privacy": "public", "sensitive": False, "language": "en", "note": "", "fields": []}
    return {**account_json(site, statuses_count), "source": source}


def status_json(
    site: Site, state: StatusState, media: list[dict], poll: dict | None, extra: dict | None = None
) -> dict:
    """`extra`: the keys that depend on other statuses and the account (pinned, quote)."""
    return {
        "id": state.id,
        "created_at": format_time(state.created_at),
        "in_reply_to_id": state.in_reply_to_id,
        "in_reply_to_account_id": ACCOUNT_ID if state.in_reply_to_id else None,
        "sensitive": state.sensitive,
        "spoiler_text": state.spoiler_text,
        "visibility": state.visibility,
        "language": state.language,
        "uri": f"{site.base_url}/users/{site.username}/statuses/{state.id}",
        "url": f"{site.base_url}/@{site.username}/{state.id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": format_time(state.edited_at) if state.edited_at else None,
        "content": render_content(state.text),
        "text": state.text,
        "reblog": None,
        "application": {"name": "publish", "website": None},
        "account": account_json(site),
        "media_attachments": media,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": poll,
        **(extra or {}),
    }


def revision_json(status: dict) -> dict:
    """One entry of GET /api/v1/statuses/:id/history."""
    created = status["edited_at"] or status["created_at"]
    keys = ("content", "spoiler_text", "sensitive", "account", "poll", "media_attachments", "emojis")
    return {**{key: status[key] for key in keys}, "created_at": created}


def poll_json(poll_id: str, poll: PollInput, created_at: datetime) -> dict:
    expires_at = created_at + timedelta(seconds=poll.expires_in or 0)
    return {
        "id": poll_id,
        "expires_at": format_time(expires_at),
        "expired": False,
        "multiple": poll.multiple,
        "votes_count": 0,
        "voters_count": 0 if poll.multiple else None,
        "voted": False,
        "own_votes": [],
        "options": [{"title": option, "votes_count": 0} for option in poll.options],
        "emojis": [],
    }


def scheduled_params(state: StatusState, idempotency_key: str | None) -> dict:
    poll = state.poll
    return {
        "text": state.text,
        "media_ids": list(state.media_ids) or None,
        "sensitive": state.sensitive,
        "spoiler_text": state.spoiler_text or None,
        "visibility": state.visibility,
        "language": state.language,
        "scheduled_at": None,
        "in_reply_to_id": state.in_reply_to_id,
        **_scheduled_quote(state),
        "application_id": 1,
        "idempotency": idempotency_key,
        "with_rate_limit": False,
        "poll": {
            "options": list(poll.options),
            "expires_in": poll.expires_in,
            "multiple": poll.multiple,
            "hide_totals": poll.hide_totals,
        }
        if poll
        else None,
    }


def _scheduled_quote(state: StatusState) -> dict:
    if state.quote_policy is None:
        return {}
    return {"quoted_status_id": state.quoted_status_id, "quote_approval_policy": state.quote_policy}


def scheduled_json(scheduled_id: str, when: datetime, params: dict, media: list[dict]) -> dict:
    return {
        "id": scheduled_id,
        "scheduled_at": format_time(when),
        "params": params,
        "media_attachments": media,
    }


def _configuration(site: Site) -> dict:
    return {
        "urls": {"streaming": site.base_url.replace("http", "ws", 1), "status": None},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": site.max_characters,
            "max_media_attachments": site.max_media_attachments,
            "characters_reserved_per_url": site.characters_reserved_per_url,
        },
        "media_attachments": {
            "supported_mime_types": list(SUPPORTED_TYPES),
            "description_limit": DESCRIPTION_LIMIT,
            "image_size_limit": IMAGE_SIZE_LIMIT,
            "image_matrix_limit": 33177600,
            "video_size_limit": VIDEO_SIZE_LIMIT,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 8294400,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
        "translation": {"enabled": False},
    }


def instance_v2_json(site: Site, api_version: int | None = 7) -> dict:
    document = {
        "domain": site.domain,
        "title": "Publish sandbox",
        "version": VERSION,
        "source_url": None,
        "description": "A local Mastodon-compatible server for trying `publish` safely.",
        "usage": {"users": {"active_month": 1}},
        "thumbnail": {"url": None},
        "languages": ["en"],
        "configuration": _configuration(site),
        "api_versions": {"mastodon": api_version},
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "", "account": account_json(site)},
        "rules": [],
    }
    if api_version is None:  # as before Mastodon 4.3
        del document["api_versions"]
    return document


def instance_v1_json(site: Site) -> dict:
    return {
        "uri": site.domain,
        "title": "Publish sandbox",
        "short_description": "",
        "version": VERSION,
        "description": "A local Mastodon-compatible server for trying `publish` safely.",
        "email": "",
        "urls": {"streaming_api": site.base_url.replace("http", "ws", 1)},
        "languages": ["en"],
        "stats": {"user_count": 1, "status_count": 0, "domain_count": 0},
        "thumbnail": None,
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(site),
        "contact_account": account_json(site),
        "rules": [],
    }
