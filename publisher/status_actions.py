"""Calls on a published status besides editing it (pin, unpin, who may quote it), and the id a status URL
has on the account's server. A part of MastodonClient (mastodon.py), which provides the HTTP client.

Pins need the token's `write:accounts` scope; a quote policy `write:statuses`; looking up a status of
another server (GET /api/v2/search with resolve=true) `read:search`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from publisher.answers import json_object, server_id
from publisher.errors import NotFound
from publisher.models import DesiredStatus

if TYPE_CHECKING:
    from publisher.http import HttpClient, Response
    from publisher.mastodon import Status

# Where Mastodon (and GoToSocial) serve a status of their own: its page, and its ActivityPub id. On the
# account's server, `/@name@other.host/123` is its copy of another server's status, and 123 its id there.
STATUS_PATHS = (
    re.compile(r"/@[^/]+/(?:statuses/)?(?P<id>[A-Za-z0-9]+)/?"),
    re.compile(r"/users/[^/]+/statuses/(?P<id>[A-Za-z0-9]+)/?"),
)


def quote_params(desired: DesiredStatus, quoted_status_id: str | None) -> dict[str, Any]:
    """What a status body carries of a quote (Mastodon 4.5): the status it quotes, who may quote it."""
    params: dict[str, Any] = {}
    if quoted_status_id is not None:
        params["quoted_status_id"] = quoted_status_id
    if desired.quote_policy is not None:
        params["quote_approval_policy"] = desired.quote_policy
    return params


def own_status_id(url: str, instance: str) -> str | None:
    """The id in a status URL of `instance` itself; None for another server's URL or another kind of page."""
    parts, home = urlsplit(url), urlsplit(instance)
    if (parts.hostname or "").lower() != (home.hostname or "").lower() or parts.port != home.port:
        return None
    found = next((match for pattern in STATUS_PATHS if (match := pattern.fullmatch(parts.path))), None)
    return found["id"] if found and not parts.query else None


def _path(status_id: str, action: str) -> str:
    from publisher.mastodon import status_path  # mastodon.py imports this module: its helpers load with it

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
