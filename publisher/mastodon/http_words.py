"""What publish says about an exchange: the server's own words, and failures described without repeating the
HTTP library's text (which holds the URL and its query string). The token is censored first, always."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from publisher.source.untrusted import REDACTED, censor_bearer, escape_controls

if TYPE_CHECKING:  # logging is set up by every command: it must not load the network stack
    from publisher.mastodon.transfer import Response

SHOWN_MESSAGE_CHARS = 300
HTML_TITLE = re.compile(r"<title>\s*([^<]{1,80}?)\s*</title>", re.IGNORECASE)


def redact(text: str, token: str | None) -> str:
    """`text` with the token, alone or as a bearer credential, replaced by ***."""
    if not token:
        return text
    return text.replace(f"Bearer {token}", REDACTED).replace(token, REDACTED)


class SecretFilter(logging.Filter):
    """Belt and braces for log handlers: blank anything that looks like a bearer credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "earer" in message:
            record.msg, record.args = censor_bearer(message), None
        return True


class Prefixed(logging.Formatter):
    """`warning: …`, as the command's own warnings read on stderr."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"


def server_message(response: Response) -> str:
    """The server's own words, or a description of a body that has none (proxy HTML, empty); unabridged, so
    that the token is censored before anything is cut off (see HttpClient.shown)."""
    body = response.body
    if isinstance(body, dict) and body.get("error"):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if description else str(body["error"])
    if not response.text.strip():
        return "empty body"
    if body is None:
        title = HTML_TITLE.search(response.text)
        return "non-JSON body from a proxy" + (f" ({title.group(1)})" if title else "")
    return json.dumps(body, ensure_ascii=False)


def shown(text: str, token: str | None) -> str:
    """Server text as it may be shown: censored first, then made inert for a terminal, then abridged (so no
    cut can leave part of the token behind)."""
    return abridged(escape_controls(redact(text, token)))


def abridged(text: str, limit: int = SHOWN_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redirect_message(response: Response) -> str:
    location = response.headers.get("location", "")
    host = urlsplit(location).netloc or "the same host"
    return f"redirect to {host} refused (not followed, so the token is never sent elsewhere)"


def describe_transport_error(exc: Exception, read_timeout: float) -> str:
    """A failure after a connection was made (network_errors.diagnose has those before it)."""
    # The library's own text embeds the full URL with its query string: classify it, never repeat it.
    import requests

    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return f"no answer within {read_timeout:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped while reading the answer"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the answer could not be decompressed"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection closed before an answer came"
    return f"connection failed ({type(exc).__name__})"
