"""What a failed request means to the user, and what to do about it: a connection that could not be made
(refused, a name that does not resolve, TLS, an address that is no URL), or a token the server refused.

Failures are classified from the exception's type and its causes, never from the HTTP library's text (which
holds the URL with its query string); only the TLS library's short reason is repeated.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3

# What `publish login` asks for: posting, uploading, reading its own statuses and who it is; write:accounts
# for pins and read:search to find another server's post to quote (both only used when a post asks for them).
SCOPES = "write:statuses write:media write:accounts read:statuses read:search profile"
LOOPBACK_NOTE = "plain http:// only for a server on this machine (127.0.0.1, localhost, [::1])"
# OpenSSL's reasons when the other end does not speak TLS at all (a plain-HTTP server on that port).
NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST")


@dataclass(frozen=True)
class Diagnosis:
    """Why no connection was made, what to check, and whether another try may help."""

    reason: str
    hint: str
    lasting: bool  # a retry cannot help: DNS, TLS, an address that is no URL


@dataclass(frozen=True)
class TokenSource:
    """Where a client's token comes from: the account of publish.toml and the variable its token_env names."""

    account: str
    variable: str


def diagnose(exc: BaseException, url: str) -> Diagnosis | None:
    """The Diagnosis of a failure before anything was sent, or None when a connection was made (or may have
    been): then the outcome of a write is unknown, and the exactly-once machinery decides."""
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return Diagnosis("not an address publish can use: no scheme (https://)", _scheme_hint(url), True)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired):
        return Diagnosis("not a valid address", _scheme_hint(url), True)
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls(exc, url)
    if isinstance(exc, requests.exceptions.ProxyError):
        hint = "is the proxy up? Check HTTPS_PROXY, HTTP_PROXY and NO_PROXY in the environment"
        return Diagnosis(f"could not reach {_host(url)} through the proxy", hint, False)
    if isinstance(exc, requests.ConnectTimeout):
        hint = "is the server up, and the address right? A firewall may be dropping the connection"
        return Diagnosis(f"could not connect to {_host(url)} (timed out)", hint, False)
    if isinstance(exc, requests.ConnectionError):
        return _connect_failure(exc, url)
    return None


def _connect_failure(exc: BaseException, url: str) -> Diagnosis | None:
    host = _host(url)
    if _cause(exc, socket.gaierror) is not None:
        hint = "check the spelling of the instance address, and that this machine can reach the internet"
        return Diagnosis(f"the name {_hostname(url)} does not resolve (DNS)", hint, True)
    if _cause(exc, ConnectionRefusedError) is not None:
        hint = f"is the server at {_origin(url)} up, and is the address (and port) right?"
        return Diagnosis(f"could not connect to {host}: connection refused", hint, False)
    if _cause(exc, urllib3.exceptions.NewConnectionError) is not None:
        hint = f"is the server at {_origin(url)} up, and can this machine reach it?"
        return Diagnosis(f"could not connect to {host}", hint, False)
    return None


def _tls(exc: BaseException, url: str) -> Diagnosis:
    failure = _cause(exc, ssl.SSLError)
    code = getattr(failure, "reason", None) or ""
    host = _host(url)
    if code in NOT_TLS_REASONS:
        return Diagnosis(f"{host} does not speak https (TLS) on this port", _plain_http_hint(url), True)
    if isinstance(failure, ssl.SSLCertVerificationError):
        detail = failure.verify_message or "not trusted"
        hint = (
            "the server's certificate is expired, self-signed or for another name; for a private CA set "
            "REQUESTS_CA_BUNDLE to its certificate file"
        )
        return Diagnosis(f"the TLS certificate of {host} was not accepted ({detail})", hint, True)
    hint = f"is {_origin(url)} the https address of a Mastodon server?"
    return Diagnosis(f"TLS handshake with {host} failed ({code or type(failure).__name__})", hint, True)


def _plain_http_hint(url: str) -> str:
    from publisher.source.config import is_loopback  # pydantic: only when it is needed

    if is_loopback(_hostname(url)):
        return f"the port answers in plain http: write http://{_host(url)}"
    return "is the port the server's https port? A server elsewhere is reached over https only"


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` among `exc` and what caused it."""
    return next((cause for cause in _causes(exc) if isinstance(cause, kind)), None)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: urllib3's `reason`, the first argument, `__cause__`, `__context__`."""
    pending, seen = [exc], set()
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (
            getattr(current, "reason", None),
            *current.args[:1],
            current.__cause__,
            current.__context__,
        )
        pending += [item for item in wrapped if isinstance(item, BaseException)]


def _scheme_hint(url: str) -> str:
    address = url.partition("://")[2] or url
    return f"write the instance address with its scheme: https://{address} ({LOOPBACK_NOTE})"


def _host(url: str) -> str:
    """host:port as the URL names it."""
    return urlsplit(url).netloc.rpartition("@")[2] or url


def _hostname(url: str) -> str:
    return urlsplit(url).hostname or url


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{_host(url)}" if parts.scheme else url


def auth_hint(status: int, source: TokenSource | None, instance: str, token_sent: bool) -> str:
    """What to do about a 401 or 403: which variable holds the token and which scopes publish needs.
    The one place this is said, for every command."""
    if not token_sent:
        return f"{instance} answered {status} to a request made without a token: it allows no public access"
    holder = (
        f"the token in {source.variable} (account {source.account!r})"
        if source
        else "the access token (in the variable token_env names in publish.toml)"
    )
    account = f" --account {source.account}" if source else ""
    if status == 401:
        return (
            f"{instance} rejected {holder}: it is revoked, mistyped or from another server; "
            f"`publish whoami{account}` checks it, `publish login{account}` makes a new one "
            f"(scopes: {SCOPES})"
        )
    return (
        f"{holder} lacks a scope publish needs ({SCOPES}), or the account is suspended or not approved; "
        f"`publish login{account}` makes a token with those scopes"
    )
