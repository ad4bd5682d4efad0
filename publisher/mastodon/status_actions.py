"""Calls on a published status besides editing it (pin, unpin, who may quote it), and the id a status URL
has on the account's server. A part of MastodonClient (client.py), which provides the HTTP client.

Pins need the token's `write:accounts` scope; a quote policy `write:statuses`; looking up a status of
another server (GET /api/v2/search with resolve=true) `read:search`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from publisher.errors import NotFound
from publisher.mastodon.answers import json_object, server_id
from publisher.mastodon.statuses import Status, status_path

if TYPE_CHECKING:
    from publisher.mastodon.http import HttpClient, Response

# Where Mastodon (and GoToSocial) serve a status of their own: its page, and its ActivityPub id. On the
# account's server, `/@name@other.host/123` is its copy of another server's status, and 123 its id there.
STATUS_PATHS = (
    re.compile(r"/@[^/]+/(?:statuses/)?(?P<id>[A-Za-z0-9]+)/?"),
    re.compile(r"/users/[^/]+/statuses/(?P<id>[A-Za-z0-9]+)/?"),
)


def own_status_id(url: str, instance: str) -> str | None:
    """The id in a status URL of `instance` itself; None for another server's URL or another kind of page."""
    parts, home = urlsplit(url), urlsplit(instance)
    if (parts.hostname or "").lower() != (home.hostname or "").lower() or parts.port != home.port:
        return None
    found = next((match for pattern in STATUS_PATHS if (match := pattern.fullmatch(parts.path))), None)
    return found["id"] if found and not parts.query else None


def _path(status_id: str, action: str) -> str:
    return status_path(status_id) + action


class StatusActions:
    _http: HttpClient

    def _status(self, response: Response) -> Status:  # provided by MastodonClient
        raise NotImplementedError

    def pin_status(self, status_id: str) -> Status:
        """POST /api/v1/statuses/:id/pin; a 422 when the account has pinned as many as the server allows."""
        return self._status(self._http.request("POST", _path(status_id, "/pin")))

    def unpin_status(self, status_id: str) -> Status:
        """POST /api/v1/statuses/:id/unpin; a status that is not pinned stays as it is."""
        return self._status(self._http.request("POST", _path(status_id, "/unpin")))

    def set_quote_policy(self, status_id: str, policy: str) -> Status:
        """PUT /api/v1/statuses/:id/interaction_policy (Mastodon 4.5): no edit, no new revision."""
        body = {"quote_approval_policy": policy}
        return self._status(self._http.request("PUT", _path(status_id, "/interaction_policy"), json=body))

    def resolve_status(self, url: str) -> str:
        """The id of the status at `url` on this server: read from a URL of its own, else looked up (the
        server fetches a status of another server that it does not know yet)."""
        own = own_status_id(url, self._http.base_url)
        if own is not None:
            return own
        query = {"q": url, "type": "statuses", "resolve": "true", "limit": 1}
        response = self._http.request("GET", "/api/v2/search", params=query)
        found = json_object(response).get("statuses")
        if not isinstance(found, list) or not found or not isinstance(found[0], dict):
            message = f"no status found at {url}; check the address, and that the post is public"
            raise NotFound(message, status=404, method="GET", path="/api/v2/search")
        return server_id(response, found[0].get("id"))
