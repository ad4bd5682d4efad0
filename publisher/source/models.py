"""Value objects handed between stages: what a post wants to be on the server."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

Visibility = Literal["public", "unlisted", "private", "direct"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
QuotePolicy = Literal["public", "followers", "nobody"]  # Mastodon 4.5's quote_approval_policy
QUOTE_POLICIES: tuple[str, ...] = get_args(QuotePolicy)
PART_SEPARATOR = "#"  # part n of a thread x is the status x#n; no post's own id may contain it


def is_status_url(quote: str | None) -> bool:
    """Whether a `quote:` names a status by its URL rather than by the id of a post of the repository."""
    return quote is not None and "://" in quote


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MediaSpec(Frozen):
    """One attachment as it will be uploaded."""

    path: str  # posix path relative to the repository root
    sha256: str
    size: int
    mime_type: str
    alt: str | None = None
    focus: tuple[float, float] | None = None
    thumbnail: str | None = None  # preview image of an audio or video file, relative to the repository root
    thumbnail_sha256: str | None = None
    thumbnail_mime_type: str | None = None

    def focus_param(self) -> str | None:
        return None if self.focus is None else f"{self.focus[0]:g},{self.focus[1]:g}"


class PollSpec(Frozen):
    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


# Fields of a DesiredStatus that its content hash leaves out (see DesiredStatus.content_hash); the title is
# only shown, never sent.
COMPARED_ON_THEIR_OWN = {
    "source",
    "post_id",
    "title",
    "publish_at",
    "reply_to",
    "quote",
    "quote_policy",
    "pinned",
}


class DesiredStatus(Frozen):
    """Exactly what would be sent for one post, plus where it came from."""

    post_id: str
    source: str  # posix path of the post file relative to the repository root
    account: str
    text: str
    # The front-matter's `title`: shown in plans; in the text only where a template puts it.
    title: str | None = None
    spoiler_text: str = ""
    visibility: Visibility = "public"
    sensitive: bool = False
    language: str | None = None
    media: tuple[MediaSpec, ...] = ()
    poll: PollSpec | None = None
    publish_at: datetime | None = None
    reply_to: str | None = None  # another post's id
    quote: str | None = None  # another post's id, or a status URL: this status quotes it
    quote_policy: QuotePolicy | None = None  # who may quote this status; None: the account's default
    pinned: bool | None = None  # True pins it on the profile, False unpins it, None leaves it as it is

    @functools.cached_property  # computed once per object; a copy with changes computes its own
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the status content that an edit can change.

        When and where it is posted (publish_at, reply_to, quote) are compared on their own: changing them
        means rescheduling or re-creating, never an edit. So are the pin and the quote policy, which have
        requests of their own; leaving all of these out keeps the hashes that state files hold."""
        payload = self.model_dump(mode="json", exclude=COMPARED_ON_THEIR_OWN)
        for media in payload["media"]:
            media.pop("size", None)
            media.pop("path", None)  # moving a file without changing its bytes changes nothing on the server
            media.pop("thumbnail", None)
            for key in ("thumbnail_sha256", "thumbnail_mime_type"):
                if media[key] is None:  # posts without thumbnails keep the hashes they had before thumbnails
                    media.pop(key)
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> DesiredStatus:
        copied = super().model_copy(update=update, deep=deep)
        if update:  # pydantic copies __dict__, where the content hash of the original is cached
            copied.__dict__.pop("content_hash", None)
        return copied

    def remember_content_hash(self, known: str) -> None:
        """Take `known` as the content hash: the render cache's, from the same fields in an earlier run."""
        self.__dict__["content_hash"] = known
