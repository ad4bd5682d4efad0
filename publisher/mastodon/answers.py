"""A server's answers, checked before anything reads them: objects where objects belong, ids that are ids,
links that stay on the instance. A wrong shape is a ServerError that names the endpoint, never a KeyError.

The checked statuses are plain dicts (the rest of publish reads `raw` fields) whose id, url and
in_reply_to_id are safe to put in a path, store and show.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from publisher.errors import ServerError
from publisher.source.untrusted import SERVER_ID_RULE, escape_controls, is_server_id, link_on

if TYPE_CHECKING:
    from publisher.mastodon.transfer import Response

log = logging.getLogger(__name__)

KINDS = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number"}


def malformed(response: Response, what: str) -> ServerError:
    where = {"status": response.status, "method": response.method, "path": response.path}
    return ServerError(f"malformed answer: {what}", **where)


def json_object(response: Response) -> dict[str, Any]:
    if not isinstance(response.body, dict):
        raise malformed(response, f"expected a JSON object, got {_kind(response)}")
    return response.body


def json_objects(response: Response) -> list[dict[str, Any]]:
    body = response.body
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise malformed(response, f"expected a list of JSON objects, got {_kind(response)}")
    return body


def _kind(response: Response) -> str:
    if response.body is None:
        return "a body that is not JSON" if response.text.strip() else "an empty body"
    if isinstance(response.body, list) and response.body:
        return "a list holding " + KINDS.get(type(response.body[0]), "a number")
    return KINDS.get(type(response.body), "a number")


def server_id(response: Response, value: object, field: str = "id") -> str:
    """An id as text (Mastodon sends strings, some servers numbers); a ServerError when it is no id."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not is_server_id(value):
        raise malformed(response, f"{field} is not a server id ({SERVER_ID_RULE})")
    return str(value)


def optional_id(response: Response, value: object, field: str) -> str | None:
    return None if value is None else server_id(response, value, field)


def text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def items(value: object) -> list:
    return value if isinstance(value, list) else []


def mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def required_text(response: Response, body: dict[str, Any], field: str) -> str:
    """A field that must be a non-empty string (an OAuth client id, an access token), taken as sent."""
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise malformed(response, f"{field} is missing or not a string")
    return value


def shown_text(response: Response, body: dict[str, Any], field: str) -> str:
    """A text field shown to the user (a username): required, with control characters made inert."""
    value = body.get(field)
    if not isinstance(value, str):
        raise malformed(response, f"{field} is missing or not a string")
    return escape_controls(value)


def checked_status(response: Response, body: dict[str, Any], instance: str) -> dict[str, Any]:
    """A Status object with its id, reply target and link checked, its texts and attachments typed."""
    return {
        **body,
        "id": server_id(response, body.get("id")),
        "url": _status_link(body, instance),
        "in_reply_to_id": optional_id(response, body.get("in_reply_to_id"), "in_reply_to_id"),
        "spoiler_text": text(body.get("spoiler_text")),
        "media_attachments": items(body.get("media_attachments")),
    }


def _status_link(body: dict[str, Any], instance: str) -> str | None:
    link = link_on(body.get("url"), instance)
    if link is None and body.get("url") is not None:
        log.warning("ignoring a status link that is not an http(s) link on %s", instance)
    return link


def checked_scheduled(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    """A ScheduledStatus object with its id checked and the params that are compared typed."""
    params = mapping(body.get("params"))
    return {
        **body,
        "id": server_id(response, body.get("id")),
        "params": {**params, **typed_texts(params, "text", "spoiler_text")},
        "media_attachments": items(body.get("media_attachments")),
    }


def typed_texts(body: dict[str, Any], *fields: str) -> dict[str, str]:
    """Each of the fields as text ("" when missing or of another type)."""
    return {field: text(body.get(field)) for field in fields}


def checked_media(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    """A MediaAttachment with its id checked. Its url only tells whether processing is done, and media are
    often served from another host (a CDN): it is never shown or stored, so not checked against the host."""
    url = body.get("url")
    return {**body, "id": server_id(response, body.get("id")), "url": url if isinstance(url, str) else None}
