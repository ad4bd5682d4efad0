"""Values that come from outside (a server's answer, the state file, the environment), checked before they
are put in a URL path or a header, stored, or shown on a terminal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from publisher.errors import InvalidToken

# Mastodon's ids are numbers as text; GoToSocial's are ULIDs, Pleroma's base62 flake ids. No dot, no slash:
# an id can never climb out of the path it is put in.
SERVER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SERVER_ID_RULE = "1 to 64 letters, digits, _ or -"
# Visible ASCII: what an HTTP header carries unambiguously. No line break can smuggle in another header.
TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")
# C0 (line breaks and ESC included), DEL and C1: a terminal acts on them instead of showing them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
UNSAFE_IN_LINKS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")
REDACTED = "***"
BEARER_CREDENTIAL = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


def is_server_id(value: object) -> bool:
    return isinstance(value, str) and SERVER_ID.fullmatch(value) is not None


def checked_id(value: str) -> str:
    """`value` when it is a server id; ValueError (for pydantic) otherwise, without repeating it."""
    if not is_server_id(value):
        raise ValueError(f"not a server id ({SERVER_ID_RULE})")
    return value


def path_segment(value: str) -> str:
    """An id quoted for a URL path; ValueError unless it is a server id."""
    return quote(checked_id(value), safe="")


def is_token(value: str) -> bool:
    return TOKEN_CHARACTERS.fullmatch(value) is not None


def token_from(environ: Mapping[str, str], variable: str, account: str) -> str | None:
    """The token in `variable`, or None when it is unset or empty; InvalidToken (naming the variable, never
    the value) when it holds characters no token has: requests would fail on the header and print it."""
    token = environ.get(variable, "").strip()
    if token and not is_token(token):
        raise InvalidToken(variable, account)
    return token or None


def censor_bearer(text: str) -> str:
    """`text` with whatever follows "Bearer" replaced by ***: for text whose token is not known."""
    return BEARER_CREDENTIAL.sub(r"\g<1>" + REDACTED, text)


def escape_controls(text: str) -> str:
    r"""`text` with every control character written as an escape (ESC as \x1b), so printing it is inert."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def is_web_link(value: object) -> bool:
    """An http(s) URL with a host, no credentials, no whitespace or control characters."""
    if not isinstance(value, str) or UNSAFE_IN_LINKS.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc


def checked_link(value: str) -> str:
    """`value` when it is a web link (see is_web_link); ValueError (for pydantic) otherwise."""
    if not is_web_link(value):
        raise ValueError("not an http(s) link")
    return value


def link_on(value: object, instance: str) -> str | None:
    """`value` when it is a web link on the instance's host; None for javascript:, another host, etc."""
    if not is_web_link(value):
        return None
    link = str(value)
    return link if urlsplit(link).hostname == urlsplit(instance).hostname else None
