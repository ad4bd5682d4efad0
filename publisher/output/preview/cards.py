"""What the HTML preview shows of each post, built from a plan or from what the sandbox server stored."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from publisher.clock import parse_iso8601
from publisher.output.common import (
    AnyLimits,
    character_count,
    iso,
    max_characters,
    one_line_note,
    recorded_count,
)
from publisher.plan.changes import Change
from publisher.plan.state import MediaRecord, StatusRecord
from publisher.plan.verify import stored_quote_id, stored_quote_policy
from publisher.source.models import DesiredStatus, MediaSpec, PollSpec

MEDIA_KINDS = {"image": "image", "gifv": "image", "video": "video", "audio": "audio"}


@dataclass(frozen=True)
class CardMedia:
    kind: str  # image, video, audio or file
    alt: str
    name: str
    src: str | None = None  # relative to index.html; None when the file is not at hand
    position: str = "50% 50%"  # CSS object-position from the focal point


@dataclass(frozen=True)
class CardPoll:
    """A poll as a card shows it: empty options to tick, one (radio) or several (checkbox), and its end."""

    options: tuple[str, ...]
    expires_in: int | None = None  # seconds from publishing; None when the server's answer did not say
    multiple: bool = False
    hide_totals: bool = False

    @property
    def mark(self) -> str:
        return "checkbox" if self.multiple else "radio"

    @property
    def choice(self) -> str:
        return "choose any" if self.multiple else "choose one"

    @property
    def ends(self) -> str:
        return f"ends in {duration_text(self.expires_in)}" if self.expires_in is not None else ""


POLL_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_text(seconds: int) -> str:
    """'1 day', '2 days 6 hours', '5 minutes': the two largest units that are not zero."""
    parts = []
    for unit, size in POLL_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "0 seconds"


def spec_poll(spec: PollSpec | None) -> CardPoll | None:
    if spec is None:
        return None
    return CardPoll(spec.options, spec.expires_in, spec.multiple, spec.hide_totals)


def server_poll(poll: Mapping[str, Any] | None, created_at: str | None) -> CardPoll | None:
    """A poll as Mastodon's Status JSON has it (options with titles, expires_at), or as a scheduled status's
    params keep what was sent (options, expires_in, multiple, hide_totals)."""
    if not poll:
        return None
    options = tuple(
        option["title"] if isinstance(option, dict) else str(option) for option in poll.get("options") or ()
    )
    expires_in = poll.get("expires_in")
    if expires_in is None and poll.get("expires_at") and created_at:
        expires_in = round((parse_iso8601(poll["expires_at"]) - parse_iso8601(created_at)).total_seconds())
    return CardPoll(options, expires_in, bool(poll.get("multiple")), bool(poll.get("hide_totals")))


@dataclass(frozen=True)
class Card:
    post_id: str
    action: str
    author: str
    handle: str
    text: str
    characters: int
    max_characters: int
    spoiler_text: str = ""
    visibility: str = "public"
    language: str | None = None
    sensitive: bool = False
    media: tuple[CardMedia, ...] = ()
    source: str = ""
    note: str = ""
    url: str | None = None
    when: str | None = None
    reply_to: str | None = None
    poll: CardPoll | None = None
    quote: str | None = None  # what it quotes: a post id or a status URL (or the server's status id)
    quote_text: str | None = None  # the quoted status's text, when it is known
    quote_state: str = ""  # the server's word on the quote (pending: the quoted server has not approved)
    quote_policy: str | None = None  # who may quote it: public, followers or nobody
    pinned: bool = False
    title: str | None = None  # the post's title: on the card for the reviewer, never sent by itself


class MediaFolder:
    """Copies or writes media next to index.html, so the page needs nothing from elsewhere."""

    def __init__(self, out_dir: Path):
        self.folder = out_dir / "media"

    def copy(self, source: Path, key: str, name: str) -> str | None:
        if not source.is_file():
            return None
        target = self._target(key, name)
        shutil.copyfile(source, target)
        return self._src(target)

    def write(self, data: bytes, key: str, name: str) -> str:
        target = self._target(key, name)
        target.write_bytes(data)
        return self._src(target)

    def _target(self, key: str, name: str) -> Path:
        """A fresh path in the folder: anything there already (a symlink too) is removed, not written to."""
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[-80:] or "file"
        target = self.folder / f"{re.sub(r'[^A-Za-z0-9]', '', key)[:64]}-{safe}"
        target.unlink(missing_ok=True)
        return target

    def _src(self, target: Path) -> str:
        return f"media/{quote(target.name)}"


def focus_position(focus: tuple[float, float] | None) -> str:
    """Mastodon's focal point (x right, y up, -1..1) as CSS object-position percentages."""
    if focus is None:
        return "50% 50%"
    return f"{(focus[0] + 1) * 50:g}% {(1 - focus[1]) * 50:g}%"


def plan_card(
    change: Change, root: Path, limits: AnyLimits, instance: Mapping[str, str], folder: MediaFolder
) -> Card:
    post, record = change.desired, change.record
    common: dict[str, Any] = {
        "post_id": change.post_id,
        "action": change.kind.value,
        "note": card_note(change),
        "url": record.url if record else None,
        "max_characters": max_characters(post or record, limits),
    }
    if post is not None:
        fields = _desired_fields(post, root, limits, instance, folder)
        return Card(**common, **fields, **quote_pin(post))
    assert record is not None  # without a desired post: a recorded one deleted, orphaned or gone
    return Card(**common, **_recorded_fields(record, limits, instance), **quote_pin(record))


def card_note(change: Change) -> str:
    """The change's note, and an edit made on the server (the card shows the post's own text)."""
    edited = f'edited on the server to "{change.server_text}"' if change.server_text is not None else ""
    return " · ".join(filter(None, [one_line_note(change), edited]))


def _desired_fields(
    post: DesiredStatus, root: Path, limits: AnyLimits, instance, folder: MediaFolder
) -> dict:
    return {
        **_identity(post.account, instance),
        "text": post.text,
        "title": post.title,
        "characters": character_count(post, limits),
        "spoiler_text": post.spoiler_text,
        "visibility": post.visibility,
        "language": post.language,
        "sensitive": post.sensitive,
        "media": tuple(_spec_media(spec, root, folder) for spec in post.media),
        "source": post.source,
        "when": iso(post.publish_at),
        "reply_to": post.reply_to,
        "poll": spec_poll(post.poll),
    }


def _recorded_fields(record: StatusRecord, limits: AnyLimits, instance) -> dict:
    return {
        **_identity(record.account, instance),
        "text": record.text,
        "characters": recorded_count(record, limits),
        "spoiler_text": record.spoiler_text,
        "visibility": record.visibility,
        "media": tuple(_recorded_media(media) for media in record.media),
        "source": record.source,
        "when": iso(record.published_at or record.scheduled_at),
    }


def _identity(account: str, instance: Mapping[str, str]) -> dict:
    host = urlsplit(instance.get(account, "")).netloc or "instance"
    return {"author": account, "handle": f"{account}@{host}"}


def _spec_media(spec: MediaSpec, root: Path, folder: MediaFolder) -> CardMedia:
    name = PurePosixPath(spec.path).name
    src = folder.copy(root / spec.path, spec.sha256[:16], name)
    kind = MEDIA_KINDS.get(spec.mime_type.split("/")[0], "file")
    return CardMedia(kind, spec.alt or "", spec.path, src, focus_position(spec.focus))


def _recorded_media(media: MediaRecord) -> CardMedia:
    return CardMedia("file", media.alt or "", media.path, None, focus_position(media.focus))


# -- quote, quote policy and pin -------------------------------------------------------------------------


def quote_pin(source: DesiredStatus | StatusRecord) -> dict[str, Any]:
    """The quote, quote policy and pin a post asks for, or that publish last set on its status."""
    return {"quote": source.quote, "quote_policy": source.quote_policy, "pinned": bool(source.pinned)}


def server_quote_pin(body: Mapping[str, Any]) -> dict[str, Any]:
    """The quote, quote policy and pin a server's Status (or a ScheduledStatus's params) says it has."""
    quote = body.get("quote") if isinstance(body.get("quote"), dict) else {}
    quoted = quote.get("quoted_status") if isinstance(quote.get("quoted_status"), dict) else {}
    stored, state = dict(body), str(quote.get("state") or "")
    quoted_id = stored_quote_id(stored)
    pending = f"a status ({state})" if state else "a status"  # a server may leave the state out
    return {
        "quote": f"status {quoted_id}" if quoted_id else (pending if quote else None),
        "quote_text": quoted.get("text") or None,
        "quote_state": state,
        "quote_policy": stored_quote_policy(stored),
        "pinned": body.get("pinned") is True,
    }
