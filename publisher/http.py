"""The one place that talks HTTP: auth, User-Agent, timeouts, rate-limit pacing, errors, retries.

Everything that leaves this module (exception messages, log lines, reprs) has the token censored.
"""

from __future__ import annotations

import json as json_module
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from publisher import __version__
from publisher.clock import Clock, iso_utc
from publisher.errors import (
    ApiError,
    AuthError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    Unprocessable,
)
from publisher.multipart import MultipartBody
from publisher.ratelimits import PacingWait, RateLimitTracker, UsedUp, rate_limit_family, reset_from_headers
from publisher.retry import RESET_MARGIN_SECONDS, RetryPolicy, call_with_retry, is_retryable

log = logging.getLogger(__name__)

REDACTED = "***"
CONNECT_TIMEOUT_CAP = 10.0
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
STATUS_ERRORS: Mapping[int, type[ApiError]] = {
    400: Unprocessable,
    401: AuthError,
    403: AuthError,
    404: NotFound,
    422: Unprocessable,
}
HTML_TITLE = re.compile(r"<title>\s*([^<]{1,80}?)\s*</title>", re.IGNORECASE)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None when the body is empty or not JSON
    text: str


def redact(text: str, token: str | None) -> str:
    """`text` with the token, alone or as a bearer credential, replaced by ***."""
    if not token:
        return text
    return text.replace(f"Bearer {token}", REDACTED).replace(token, REDACTED)


class SecretFilter(logging.Filter):
    """Belt and braces for log handlers: blank anything that looks like a bearer credential."""

    PATTERN = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "earer" in message:
            record.msg, record.args = self.PATTERN.sub(r"\1" + REDACTED, message), None
        return True


def server_message(response: Response) -> str:
    """The server's own words, or a description of a body that has none (proxy HTML, empty)."""
    body = response.body
    if isinstance(body, dict) and body.get("error"):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if description else str(body["error"])
    if not response.text.strip():
        return "empty body"
    if body is None:
        title = HTML_TITLE.search(response.text)
        return "non-JSON body from a proxy" + (f" ({title.group(1)})" if title else "")
    return json_module.dumps(body)[:200]


class _HeadersOnly(requests.auth.AuthBase):
    """The Authorization header is ours. Without an auth object, requests reads ~/.netrc on every request
    and, if it names the instance, replaces the bearer token with that login."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


HEADERS_ONLY = _HeadersOnly()


class HttpClient:
    """A keep-alive session against one server, with the token held back from every output."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        clock: Clock,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        user_agent: str = f"publish/{__version__}",
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token or None
        self._clock = clock
        self._timeout = (min(timeout, CONNECT_TIMEOUT_CAP), timeout)
        self._session = session or requests.Session()
        self._retry = retry or RetryPolicy()
        self._user_agent = user_agent
        self._limits = RateLimitTracker()
        self.on_pacing_wait: Callable[[PacingWait], None] | None = None  # told before each pacing wait

    def __repr__(self) -> str:
        token = REDACTED if self._token else None
        return f"HttpClient(base_url={self.base_url!r}, token={token!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        return redact(text, self._token)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        retry_if: Callable[[BaseException], bool] = is_retryable,
        auth: bool = True,
    ) -> Response:
        """Send one logical request, retried under the policy unless `retry=False`; raise ApiError kinds."""
        method = method.upper()
        send_headers = self._headers(headers, auth)
        start_positions = _file_positions(files)

        def attempt() -> Response:
            _rewind(start_positions)
            options, body_headers = _request_body(params, data, json, files)
            return self._send_once(method, path, options, {**send_headers, **body_headers})

        label = f"{method} {_path_only(path)}"
        return call_with_retry(
            attempt, policy=self._retry, clock=self._clock, enabled=retry, label=label, retry_if=retry_if
        )

    def _headers(self, extra: Mapping[str, str] | None, auth: bool) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        headers.update(extra or {})
        return headers

    def _send_once(
        self, method: str, path: str, options: dict[str, Any], headers: dict[str, str]
    ) -> Response:
        family = rate_limit_family(method, _path_only(path))
        self._pace(family)
        try:
            raw = self._transport(method, path, options, headers)
            response = _to_response(raw)
            self._limits.remember(family, response.headers)
        finally:
            self._limits.settle(family)
        elapsed_ms = raw.elapsed.total_seconds() * 1000
        log.debug("%s %s -> %s (%.0f ms)", method, _path_only(path), response.status, elapsed_ms)
        if response.status >= 300:
            raise self._error_for(method, path, response)
        return response

    def _pace(self, family: str) -> None:
        while (used_up := self._limits.reserve(family, self._clock.now())) is not None:
            self._wait_for_reset(used_up)

    def _wait_for_reset(self, used_up: UsedUp) -> None:
        # Read the clock again: reserve() may have waited for another thread's probe to be answered.
        wait = (used_up.reset_at - self._clock.now()).total_seconds() + RESET_MARGIN_SECONDS
        until, family = iso_utc(used_up.reset_at), used_up.family
        # Without a listener, a warning, so CI logs show why a run pauses (media: 30 per 30 min on Mastodon).
        level = logging.INFO if self.on_pacing_wait else logging.WARNING
        log.log(level, "rate limit %r used up: waiting %.0f s, until %s", family, wait, until)
        if self.on_pacing_wait:
            self.on_pacing_wait(PacingWait(family, wait, used_up.reset_at, self._limits.rate_limit(family)))
        self._clock.sleep(wait)

    def _transport(
        self, method: str, path: str, options: dict[str, Any], headers: dict[str, str]
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                self.base_url + path,
                headers=headers,
                auth=HEADERS_ONLY,
                timeout=self._timeout,
                allow_redirects=False,
                **options,
            )
        except TRANSPORT_ERRORS as exc:
            log.debug("%s %s -> %s", method, _path_only(path), type(exc).__name__)
            raise NetworkError(
                self.redact(_describe_transport_error(exc, self._timeout[1])),
                method=method,
                path=self.redact(_path_only(path)),
            ) from exc

    def _error_for(self, method: str, path: str, response: Response) -> ApiError:
        message = self.redact(server_message(response))
        safe_path = self.redact(_path_only(path))
        where: dict[str, Any] = {"status": response.status, "method": method, "path": safe_path}
        if 300 <= response.status < 400:
            return ApiError(self.redact(_redirect_message(response)), **where)
        if response.status == 429:
            reset_at = reset_from_headers(response.headers, self._clock.now())
            resets = f" (limit resets at {iso_utc(reset_at)})" if reset_at else ""
            return RateLimited(message + resets, reset_at=reset_at, **where)
        if response.status >= 500:
            return ServerError(message, **where)
        return STATUS_ERRORS.get(response.status, ApiError)(message, **where)


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]


def _to_response(raw: requests.Response) -> Response:
    text = raw.text
    return Response(
        status=raw.status_code,
        headers={name.lower(): value for name, value in raw.headers.items()},
        body=_parse_json(text),
        text=text,
    )


def _parse_json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json_module.loads(text)
    except ValueError:
        return None


def _redirect_message(response: Response) -> str:
    location = response.headers.get("location", "")
    host = urlsplit(location).netloc or "the same host"
    return f"redirect to {host} refused (not followed, so the token is never sent elsewhere)"


def _describe_transport_error(exc: Exception, read_timeout: float) -> str:
    # The library's own text embeds the full URL with its query string: classify it, never repeat it.
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "could not connect (timed out)"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {read_timeout:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped while reading the answer"
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection closed before an answer came"
    return f"connection failed ({type(exc).__name__})"


def _request_body(
    params: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    json: Any,
    files: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """requests' keyword arguments for one attempt; files go in a MultipartBody streamed from disk."""
    if not files:
        return {"params": params, "data": data, "json": json}, {}
    body = MultipartBody(data or {}, files)  # requests' own files= would build the whole body in memory
    return {"params": params, "data": body}, {"Content-Type": body.content_type}


def _file_positions(files: Mapping[str, Any] | None) -> list[tuple[Any, int]]:
    """Each seekable file handle of a multipart body with where it starts."""
    positions = []
    for spec in (files or {}).values():
        handle = spec[1] if isinstance(spec, tuple) else spec
        if hasattr(handle, "seek") and hasattr(handle, "tell"):
            positions.append((handle, handle.tell()))
    return positions


def _rewind(positions: list[tuple[Any, int]]) -> None:
    """Put streamed files back where they started, so a retried upload sends the whole file again."""
    for handle, position in positions:
        handle.seek(position)
