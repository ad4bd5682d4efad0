"""Quote posts (Mastodon 4.5), pins and search: what a status says of other statuses and of its account.

A quote of the account's own status is accepted at once; a status of another server, which a search with
resolve=true "fetches" from any status URL of another host, is quoted pending that server's approval (which
never comes here). Mastodon pins at most PIN_LIMIT statuses per account and never a direct one; a quote
policy of a private or direct status is always `nobody`. With the `ignore_quotes` quirk the server is a
Mastodon before 4.5: no quote fields, no interaction_policy route.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol
from urllib.parse import urlsplit

from .inputs import text_field
from .quirks import Quirks
from .render import Site, StatusState, account_json, status_json
from .text import to_bool
from .wire import ApiError, RecordedRequest, Response, json_response, not_found, unprocessable


class StatusBook(Protocol):
    """What interactions read and write of the statuses (statuses.StatusBook, which holds an Interactions)."""

    quirks: Quirks
    records: dict[str, dict]

    def states(self) -> Iterable[StatusState]: ...

    def keep(self, state: StatusState) -> dict: ...


PIN_LIMIT = 5
POLICIES = ("public", "followers", "nobody")
QUOTED_NOT_FOUND = "The post you are trying to quote does not appear to exist."
STATUS_PATH = re.compile(r"/@(?P<name>[^/@]+)/(?P<id>\d+)|/users/(?P<user>[^/]+)/statuses/(?P<uid>\d+)")
PIN_ERRORS = {
    "direct": "Validation failed: Posts that are only visible to mentioned users cannot be pinned",
    "limit": "Validation failed: You have already pinned the maximum number of posts",
    "ownership": "Validation failed: Someone else's post cannot be pinned",
}

Handler = Callable[..., Response]


class Interactions:
    def __init__(self, book: StatusBook, lock: threading.RLock, next_id: Callable[[], str]):
        self.book = book
        self.pins: list[str] = []  # pinned status ids, oldest pin first
        self.elsewhere: dict[str, dict] = {}  # id here -> Status JSON of another server's status
        self._lock = lock
        self._next_id = next_id

    def routes(self) -> list[tuple[str, str, Handler]]:
        ident = r"(?P<ident>[^/]+)"
        return [
            ("POST", rf"/api/v1/statuses/{ident}/pin", self.pin),
            ("POST", rf"/api/v1/statuses/{ident}/unpin", self.unpin),
            ("PUT", rf"/api/v1/statuses/{ident}/interaction_policy", self.set_policy),
            ("GET", "/api/v2/search", self.search),
        ]

    # -- creating and editing a status -------------------------------------------------------------

    def quote_for(self, quoted_id: str | None, visibility: str) -> tuple[str | None, str | None, str]:
        """(quoted status id, quote state, visibility): a quote of a private status is private itself."""
        if quoted_id is None or self.book.quirks.ignore_quotes:
            return None, None, visibility
        quoted = self.lookup(quoted_id)
        if quoted is None or quoted["visibility"] == "direct":
            raise ApiError(404, QUOTED_NOT_FOUND)
        if quoted["visibility"] == "private" and visibility in ("public", "unlisted"):
            visibility = "private"
        return quoted_id, "accepted" if quoted_id in self.book.records else "pending", visibility

    def lookup(self, status_id: str) -> dict | None:
        """A status of this server, or one of another server that a search fetched."""
        return self.book.records.get(status_id) or self.elsewhere.get(status_id)

    @staticmethod
    def policy_for(asked: str | None, visibility: str, default: str = "public") -> str:
        """The policy a status gets: as asked (else the account's default), `nobody` if private or direct."""
        if asked is not None and asked not in POLICIES:
            raise unprocessable("Validation failed: Quote approval policy is invalid")
        return "nobody" if visibility in ("private", "direct") else asked or default

    def extra_json(self, state: StatusState) -> dict:
        """The keys of a Status that depend on other statuses and on the account."""
        extra: dict = {"pinned": state.id in self.pins}
        if state.quote_policy is None:  # a server without quote posts says nothing of them
            return extra
        return {**extra, "quote": self._quote_json(state), **_approval(state), "quotes_count": 0}

    def _quote_json(self, state: StatusState) -> dict | None:
        if state.quoted_status_id is None:
            return None
        quoted = self.lookup(state.quoted_status_id)
        if state.quote_state != "accepted" or quoted is None:
            return {"state": state.quote_state or "deleted", "quoted_status": None}
        return {"state": "accepted", "quoted_status": {**quoted, "quote": _shallow(quoted.get("quote"))}}

    def forget(self, status_id: str) -> None:
        """A deleted status: its pin goes, and quotes of it say it is deleted."""
        if status_id in self.pins:
            self.pins.remove(status_id)
        for state in list(self.book.states()):
            if state.quoted_status_id == status_id:
                self.book.keep(replace(state, quote_state="deleted"))

    # -- routes -----------------------------------------------------------------------------------

    def pin(self, request: RecordedRequest, ident: str) -> Response:
        with self._lock:
            state = self._own(ident)
            if ident in self.pins:
                raise unprocessable("Duplicate record")
            if state.visibility == "direct":
                raise unprocessable(PIN_ERRORS["direct"])
            if len(self.pins) >= PIN_LIMIT:
                raise unprocessable(PIN_ERRORS["limit"])
            self.pins.append(ident)
            return json_response(200, self.book.keep(state))

    def unpin(self, request: RecordedRequest, ident: str) -> Response:
        with self._lock:
            state = self._own(ident)
            if ident in self.pins:
                self.pins.remove(ident)
            return json_response(200, self.book.keep(state))

    def set_policy(self, request: RecordedRequest, ident: str) -> Response:
        """PUT /api/v1/statuses/:id/interaction_policy: the policy changes, the status is not edited."""
        if self.book.quirks.ignore_quotes:
            raise not_found()
        value = text_field(request, "quote_approval_policy")
        with self._lock:
            state = self._own(ident)
            policy = self.policy_for(value, state.visibility, state.quote_policy or "public")
            return json_response(200, self.book.keep(replace(state, quote_policy=policy)))

    def search(self, request: RecordedRequest) -> Response:
        query = (request.first("q") or "").strip()
        resolve = to_bool(request.first("resolve"))
        with self._lock:
            found = self._find(query) or (self._fetch(query) if resolve else None)
        wanted = request.first("type") in (None, "", "statuses")
        statuses = [found] if found is not None and wanted else []
        return json_response(200, {"accounts": [], "statuses": statuses, "hashtags": []})

    # -- helpers ----------------------------------------------------------------------------------

    def _own(self, ident: str) -> StatusState:
        if ident in self.elsewhere:
            raise unprocessable(PIN_ERRORS["ownership"])
        return self.book.state_of(ident)

    def _find(self, url: str) -> dict | None:
        for status in (*self.book.records.values(), *self.elsewhere.values()):
            if url in (status["url"], status["uri"]):
                return status
        return None

    def _fetch(self, url: str) -> dict | None:
        """Another server's status, as Mastodon fetches it for a search with resolve=true."""
        parts = urlsplit(url)
        match = STATUS_PATH.fullmatch(parts.path)
        if parts.scheme not in ("http", "https") or not parts.hostname or match is None:
            return None
        if parts.netloc == urlsplit(self.book.site.base_url).netloc:
            return None  # one of ours that does not exist
        name = match["name"] or match["user"]
        site = Site(f"{parts.scheme}://{parts.netloc}", name)
        now, text = self.book.now(), f"A post by {name} on {parts.hostname}."
        state = StatusState(
            id=self._next_id(), created_at=now, text=text, spoiler_text="", visibility="public",
            sensitive=False, language="en", in_reply_to_id=None, media_ids=(), poll=None,
        )  # fmt: skip
        status = status_json(site, state, [], None, {"url": url, "uri": url})
        status["account"] = {**account_json(site), "acct": f"{name}@{parts.hostname}"}
        self.elsewhere[state.id] = status
        return status


def _approval(state: StatusState) -> dict:
    """QuoteApproval as the author sees it: who is accepted at once; the author always may quote."""
    automatic = [] if state.quote_policy == "nobody" else [state.quote_policy]
    current = "denied" if state.visibility == "direct" else "automatic"
    return {"quote_approval": {"automatic": automatic, "manual": [], "current_user": current}}


def _shallow(quote: dict | None) -> dict | None:
    """A quote inside a quote, as Mastodon nests it: its state and the id it quotes (a ShallowQuote)."""
    if not isinstance(quote, dict):
        return None
    quoted = quote.get("quoted_status")
    return {"state": quote.get("state"), "quoted_status_id": quoted.get("id") if quoted else None}
