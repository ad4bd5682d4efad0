"""What the client sends about a status and gets back: the request body of a status, the answers as typed
objects (Media, Status, ScheduledStatus, Account) and every API path with its ids checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from publisher.clock import iso_utc, moment_or_none
from publisher.errors import ApiError
from publisher.source.models import DesiredStatus
from publisher.source.untrusted import SERVER_ID_RULE, path_segment


@dataclass(frozen=True)
class Media:
    id: str
    url: str | None
    processed: bool


@dataclass(frozen=True)
class Status:
    id: str
    url: str | None
    created_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ScheduledStatus:
    id: str
    scheduled_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    acct: str
    statuses_count: int | None = None
    last_status_day: date | None = None  # Mastodon's last_status_at is a day, not a moment


def status_params(
    desired: DesiredStatus,
    media_ids: list[str],
    *,
    in_reply_to_id: str | None = None,
    scheduled_at: datetime | None = None,
    quoted_status_id: str | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /api/v1/statuses; visibility, sensitive and language always explicit, the quote
    policy whenever the post sets one (an edit takes it too)."""
    params: dict[str, Any] = {
        "status": desired.text,
        "media_ids": list(media_ids),
        "spoiler_text": desired.spoiler_text,
        "visibility": desired.visibility,
        "sensitive": desired.sensitive,
        "language": desired.language,
    }
    if in_reply_to_id is not None:
        params["in_reply_to_id"] = in_reply_to_id
    params.update(quote_params(desired, quoted_status_id))
    if desired.poll is not None:
        params["poll"] = {
            "options": list(desired.poll.options),
            "expires_in": desired.poll.expires_in,
            "multiple": desired.poll.multiple,
            "hide_totals": desired.poll.hide_totals,
        }
    if scheduled_at is not None:
        params["scheduled_at"] = iso_utc(scheduled_at)
    return params


def day_of(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_media(body: dict[str, Any]) -> Media:
    """From a checked media attachment (answers.checked_media)."""
    return Media(id=body["id"], url=body["url"], processed=body["url"] is not None)


def parse_status(body: dict[str, Any]) -> Status:
    """From a status the client checked (answers.checked_status): what MastodonClient methods return."""
    return Status(id=body["id"], url=body["url"], created_at=moment_or_none(body.get("created_at")), raw=body)


def parse_scheduled(body: dict[str, Any]) -> ScheduledStatus:
    """From a scheduled status the client checked (answers.checked_scheduled)."""
    return ScheduledStatus(id=body["id"], scheduled_at=moment_or_none(body.get("scheduled_at")), raw=body)


def api_path(template: str, *ids: str) -> str:
    """`template` ("/api/v1/statuses/{}") with each id checked and quoted: an id is data, never a path."""
    try:
        return template.format(*(path_segment(value) for value in ids))
    except (ValueError, TypeError):
        shown = template.replace("{}", ":id")
        raise ApiError(f"refused to request {shown}: an id is not a server id ({SERVER_ID_RULE})") from None


def quote_params(desired: DesiredStatus, quoted_status_id: str | None) -> dict[str, Any]:
    """What a status body carries of a quote (Mastodon 4.5): the status it quotes, who may quote it."""
    params: dict[str, Any] = {}
    if quoted_status_id is not None:
        params["quoted_status_id"] = quoted_status_id
    if desired.quote_policy is not None:
        params["quote_approval_policy"] = desired.quote_policy
    return params


def status_path(status_id: str) -> str:
    return api_path("/api/v1/statuses/{}", status_id)


def media_path(media_id: str) -> str:
    return api_path("/api/v1/media/{}", media_id)


def scheduled_path(scheduled_id: str) -> str:
    return api_path("/api/v1/scheduled_statuses/{}", scheduled_id)
