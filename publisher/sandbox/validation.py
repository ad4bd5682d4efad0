"""The checks Mastodon makes on a new or edited status, with its error messages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .inputs import PollInput, StatusInput
from .render import Site
from .text import parse_time, status_length
from .wire import unprocessable

VISIBILITIES = ("public", "unlisted", "private", "direct")
DEFAULT_LANGUAGE = "en"
MIN_SCHEDULE_AHEAD = timedelta(minutes=5)
POLL_MAX_OPTIONS = 4
POLL_MAX_OPTION_CHARS = 50
POLL_MIN_SECONDS = 300
POLL_MAX_SECONDS = 2629746
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def visibility(value: str | None) -> str:
    if value is None:
        return "public"
    if value not in VISIBILITIES:
        raise unprocessable(f"Validation failed: Visibility '{value}' is not a valid visibility")
    return value


def language(value: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """Mastodon silently replaces unknown codes with the account's language."""
    return value if value and _LANGUAGE.match(value) else fallback


def sensitive(data: StatusInput) -> bool:
    """A content warning always makes the status sensitive."""
    return data.sensitive or bool(data.spoiler_text.strip())


def schedule_time(value: str | None, now: datetime) -> datetime | None:
    """When to publish: None means now (also for a time in the past); 422 when under 5 minutes ahead."""
    if value is None:
        return None
    when = parse_time(value)
    if when is None:
        raise unprocessable("Validation failed: Scheduled at is invalid")
    if when <= now:
        return None
    if when - now < MIN_SCHEDULE_AHEAD:
        raise unprocessable("Validation failed: Scheduled at date must be in the future")
    return when


def text(data: StatusInput, site: Site, has_media: bool) -> None:
    if not data.text.strip() and not has_media and data.poll is None:
        raise unprocessable("Validation failed: Text can't be blank")
    counted = status_length(data.text, data.spoiler_text, site.characters_reserved_per_url)
    if counted > site.max_characters:
        raise unprocessable(f"Validation failed: Text character limit of {site.max_characters} exceeded")


def poll(value: PollInput | None) -> None:
    if value is None:
        return
    problem = _poll_problem(value)
    if problem:
        raise unprocessable(f"Validation failed: {problem}")


def _poll_problem(value: PollInput) -> str | None:
    options = [option.strip() for option in value.options]
    if len(options) < 2:
        return "Poll options must have more than one item"
    if len(options) > POLL_MAX_OPTIONS:
        return f"Poll options can't contain more than {POLL_MAX_OPTIONS} items"
    if any(len(option) > POLL_MAX_OPTION_CHARS for option in options):
        return f"Poll options cannot be longer than {POLL_MAX_OPTION_CHARS} characters each"
    if not all(options):
        return "Poll options can't be blank"
    if len(set(options)) != len(options):
        return "Poll options contain duplicate items"
    if value.expires_in is None or value.expires_in < POLL_MIN_SECONDS:
        return "Poll expires at is too soon"
    if value.expires_in > POLL_MAX_SECONDS:
        return "Poll expires at is too far into the future"
    return None
