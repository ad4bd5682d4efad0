"""Adopt before create: the state file is a cache of the server, so before posting what it does not know,
sync looks for a copy on the account and records that instead. Nothing here writes to the server.

`prepare` runs before the state changes at all: it checks every writing account's token (a 401 leaves the
state file as it was) and reads each account's statuses once for all of the run's new posts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from publisher.apply.adjust import id_seen_from
from publisher.apply.records import (
    DIFFERS_FROM_FILE,
    attached_media,
    media_attributes,
    status_record,
    stored_fields,
)
from publisher.errors import NotFound
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.copies import MAX_PAGES, AccountCopies, Sought
from publisher.mastodon.statuses import ScheduledStatus, Status, status_params
from publisher.mastodon.threads import side_by_side
from publisher.plan.attachments import media_record
from publisher.plan.changes import Change, ChangeKind, idempotency_key
from publisher.plan.interactions import quoted_post
from publisher.plan.state import PendingCreate, State, StatusRecord
from publisher.plan.verify import (
    Mismatch,
    quote_pending,
    stored_differences,
    stored_quote_id,
    stored_quote_policy,
)
from publisher.source.models import DesiredStatus

log = logging.getLogger(__name__)

FirstSeen = Callable[[str], datetime]  # a post file's source -> the earliest it can have been published
# Differences an edit does not mend: a replace does (visibility, quote), or a request of its own (the policy).
NOT_EDITED = ("visibility", "quote", "quote policy")


@dataclass(frozen=True)
class Adoption:
    record: StatusRecord
    differences: tuple[Mismatch, ...]  # where the copy differs from the post file: sync edits it

    @property
    def needs_edit(self) -> bool:
        return edit_mends(self.differences)


def edit_mends(differences: Sequence[Mismatch]) -> bool:
    """Whether an edit would bring the copy closer to its file: a difference other than NOT_EDITED."""
    return any(difference.field not in NOT_EDITED for difference in differences)


def looks_first(change: Change) -> bool:
    """A new post (not an interrupted create, which has its own search, nor a re-create)."""
    kinds = (ChangeKind.CREATE, ChangeKind.SCHEDULE)
    return change.kind in kinds and change.record is None and not change.uncertain


@dataclass
class Adopter:
    clients: Mapping[str, MastodonClient]
    first_seen: FirstSeen
    now: datetime
    copies: dict[str, AccountCopies] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(copies.requests for copies in self.copies.values())

    def prepare(self, writes: Sequence[Change], state: State) -> None:
        """Check each writing account's token; read the statuses of each account with new posts. Accounts
        are read side by side (each on its own server, under its own rate limits)."""
        accounts = sorted({name for change in writes for name in change.accounts})
        side_by_side(lambda account: self._prepare_account(account, writes, state), accounts, "adopt")

    def _prepare_account(self, account: str, writes: Sequence[Change], state: State) -> None:
        new = [change.desired for change in writes if change.account == account and looks_first(change)]
        if not new:
            self.clients[account].verify_credentials()
            return
        oldest = min(self.first_seen(post.source) for post in new)
        self.read_account(
            account, state, oldest, with_scheduled=any(post.publish_at is not None for post in new)
        )

    def read_account(
        self,
        account: str,
        state: State,
        oldest: datetime,
        *,
        with_scheduled: bool,
        max_pages: int = MAX_PAGES,
    ) -> None:
        """The account's statuses back to `oldest`, less those the state records: what a post may adopt."""
        copies = AccountCopies(self.clients[account], claimed=recorded_ids(state, account))
        copies.read(oldest, with_scheduled=with_scheduled, max_pages=max_pages)
        self.copies[account] = copies

    def adopt(self, post: DesiredStatus, state: State) -> Adoption | None:
        """A copy of `post` on the server, if there is one; `state` says where its parent is."""
        copies = self.copies.get(post.account)
        if copies is None:
            return None
        parent_id = self._seen(post, state.posts.get(post.reply_to or ""))  # may be a lookup: only when asked
        if post.reply_to and parent_id is None:
            return None  # a reply whose parent is not on the server cannot be there either
        sought = Sought(post.post_id, post.text, post.spoiler_text, len(post.media), parent_id)
        found = copies.find(sought, scheduled=post.publish_at is not None)
        if found is None:
            return None
        quoted_id = self._seen(post, state.posts.get(quoted_post(post) or ""))
        return self._adoption(post, found, parent_id, quoted_id, state)

    def _seen(self, post: DesiredStatus, target: StatusRecord | None) -> str | None:
        """The id on `post`'s server of a status it points at, if that is published and known there."""
        if target is None or target.status_id is None:
            return None
        try:
            return id_seen_from(self.clients[post.account], post.account, target)
        except NotFound:
            return None

    def _adoption(
        self,
        post: DesiredStatus,
        found: Status | ScheduledStatus,
        parent: str | None,
        quoted: str | None,
        state: State,
    ) -> Adoption | None:
        media = attached_media(post.media, found)
        if media is None:
            return None
        media_ids = [item.media_id for item in media]
        sent = status_params(post, media_ids, in_reply_to_id=parent, quoted_status_id=quoted)
        as_in_file = [media_record(spec, item.media_id) for spec, item in zip(post.media, media, strict=True)]
        sent["media_attributes"] = [media_attributes(item) for item in as_in_file]
        differences = tuple(stored_differences(sent, found.raw))
        same = not edit_mends(differences)
        intent = PendingCreate(
            content_hash=post.content_hash if same else DIFFERS_FROM_FILE,
            idempotency_key=idempotency_key(post),
            started_at=self.now,
            text=post.text,
            spoiler_text=post.spoiler_text,
            media_count=len(media),
        )
        record = status_record(post, found, intent, media, self.now, state.posts)
        record = record.model_copy(update=_server_settings(post, found, differences))
        return Adoption(record, differences)


def _server_settings(post: DesiredStatus, found: Status | ScheduledStatus, differences) -> dict:
    """What the copy has of a quote, a quote policy and a pin: the plan then mends what the file wants
    otherwise (a missing quote by a replace, the policy and the pin with requests of their own)."""
    raw = stored_fields(found)
    has_quote = quote_pending(raw) or stored_quote_id(raw) is not None
    quote_differs = any(difference.field == "quote" for difference in differences) or not has_quote
    return {
        "quote": None if quote_differs else post.quote,
        "quote_policy": stored_quote_policy(raw),
        # A pin of a post whose file does not ask for one is taken as made by hand, and left alone.
        "pinned": True if raw.get("pinned") is True and post.pinned else None,
    }


def recorded_ids(state: State, account: str) -> set[str]:
    ids = set()
    for record in state.posts.values():
        if record.account == account:
            ids.update(filter(None, (record.status_id, record.scheduled_id)))
    return ids
