"""The account's own statuses, read once per run, to find a copy of a post the state file does not know.

One walk of an account's statuses (pages of 40, newest first, back to the oldest moment any of the run's
new posts can have been published) serves every create of a run; the source text is fetched only for
statuses whose spoiler, attachment count, reply target and visible text already match."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from publisher.clock import CLOCK_SKEW
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.reconcile import same_scheduled
from publisher.mastodon.statuses import Account, ScheduledStatus, Status, parse_scheduled, parse_status

log = logging.getLogger(__name__)

PAGE = 40  # Mastodon's largest page of statuses
MAX_PAGES = 25  # 1,000 statuses: beyond that, a lost state is a job for `publish import`

_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sought:
    """A post as it would be sent."""

    post_id: str
    text: str
    spoiler_text: str
    media_count: int
    in_reply_to_id: str | None = None  # the parent's status id, when the post is a reply


def visible_text(content: str) -> str:
    """A status's HTML content as words: what the cheap comparison looks at before asking for the source."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", _BREAK.sub("\n", content)))).strip()


def _words(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class AccountCopies:
    """The statuses and scheduled statuses of one account, read once, claimed by at most one post each."""

    client: MastodonClient
    claimed: set[str] = field(default_factory=set)  # status and scheduled ids the state already records
    statuses: list[dict] = field(default_factory=list)
    scheduled: list[dict] = field(default_factory=list)
    requests: int = 0
    _sources: dict[str, dict] = field(default_factory=dict)

    def read(self, oldest: datetime, *, with_scheduled: bool, max_pages: int = MAX_PAGES) -> None:
        """Walk back to `oldest` (minus clock skew); `with_scheduled` also reads the scheduled statuses."""
        account = self.client.verify_credentials()
        self.requests += 1
        bound = oldest - CLOCK_SKEW
        if not _posted_since(account, bound):
            log.debug("no status on the account since %s: nothing to look through", bound)
        else:
            self.statuses = list(self._walk(account.id, bound, max_pages))
        if with_scheduled:
            self.scheduled = self._scheduled_pages(max_pages)

    def _walk(self, account_id: str, bound: datetime, max_pages: int) -> Iterable[dict]:
        max_id = None
        for _ in range(max_pages):
            page = self.client.account_statuses(account_id, limit=PAGE, max_id=max_id)
            self.requests += 1
            for raw in page:
                created = parse_status(raw).created_at
                if created is not None and created < bound:
                    return
                yield raw
            if len(page) < PAGE:
                return
            max_id = str(page[-1]["id"])
        log.warning("stopped looking for existing copies after %d statuses", max_pages * PAGE)

    def _scheduled_pages(self, max_pages: int) -> list[dict]:
        found: list[dict] = []
        max_id = None
        for _ in range(max_pages):
            page = self.client.scheduled_statuses(limit=PAGE, max_id=max_id)
            self.requests += 1
            found += page
            if len(page) < PAGE:
                break
            max_id = str(page[-1]["id"])
        return found

    def find(self, sought: Sought, *, scheduled: bool) -> Status | ScheduledStatus | None:
        """An unclaimed copy of `sought`, claimed by this call; with `scheduled`, scheduled statuses too."""
        found = self._find_scheduled(sought) if scheduled else None
        found = found or self._find_status(sought)
        if found is not None:
            self.claimed.add(found.id)
            log.info(
                "%s: found %s on the server; adopting it instead of posting again", sought.post_id, found.id
            )
        return found

    def _find_status(self, sought: Sought) -> Status | None:
        for raw in self.statuses:
            if self._looks_alike(raw, sought) and self._source_text(raw["id"]) == sought.text.strip():
                return parse_status(raw)
        return None

    def _looks_alike(self, raw: dict, sought: Sought) -> bool:
        if raw["id"] in self.claimed or raw.get("reblog"):
            return False
        if (raw.get("spoiler_text") or "") != sought.spoiler_text:
            return False
        if (
            len(raw["media_attachments"]) != sought.media_count
            or raw["in_reply_to_id"] != sought.in_reply_to_id
        ):
            return False
        shown = visible_text(str(raw.get("content") or ""))
        # Mentions of other servers' accounts show as @name only: those are left to the source text.
        return shown == _words(sought.text) or "@" in sought.text

    def _source_text(self, status_id: str) -> str:
        return self.source(status_id)["text"].strip()

    def source(self, status_id: str) -> dict:
        """GET /api/v1/statuses/:id/source (text and spoiler_text), once per status."""
        if status_id not in self._sources:
            self._sources[status_id] = self.client.status_source(status_id)
            self.requests += 1
        return self._sources[status_id]

    def _find_scheduled(self, sought: Sought) -> ScheduledStatus | None:
        for raw in self.scheduled:
            alike = same_scheduled(raw, sought.text, sought.spoiler_text, sought.media_count)
            if alike and raw["id"] not in self.claimed:
                return parse_scheduled(raw)
        return None


def _posted_since(account: Account, bound: datetime) -> bool:
    """False only when the account says so: no status at all, or none since the day before `bound`."""
    if account.statuses_count == 0:
        return False
    day = account.last_status_day
    return day is None or day >= bound.astimezone(UTC).date() - timedelta(days=1)
