"""The one place that talks HTTP: auth, User-Agent, time and size bounds, rate-limit pacing, errors, retries.

Everything that leaves this module (exception messages, log lines, reprs) has the token censored, and the
server's own words have their control characters escaped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import requests

from publisher import __version__
from publisher.clock import Clock, iso_utc
from publisher.errors import (
    ApiError,
    AuthError,
    InvalidToken,
    NetworkError,
    NotConnected,
    NotFound,
    PublishError,
    RateLimited,
    ServerError,
    TimeUp,
    Unprocessable,
    WaitTooLong,
)
from publisher.mastodon.http_words import (
    REDACTED,
    SecretFilter,
    describe_transport_error,
    redact,
    redirect_message,
    server_message,
    shown,
)
from publisher.mastodon.multipart import MultipartBody
from publisher.mastodon.network_errors import TokenSource, auth_hint, diagnose
from publisher.mastodon.ratelimits import (
    LONGEST_WINDOW_SECONDS,
    PACING_HORIZON_SECONDS,
    PacingWait,
    RateLimitTracker,
    UsedUp,
    far_off,
    rate_limit_family,
    reset_from_headers,
)
from publisher.mastodon.retry import RESET_MARGIN_SECONDS, RetryPolicy, call_with_retry, is_retryable
from publisher.mastodon.transfer import (
    MAX_ANSWER_BYTES,
    Received,
    Response,
    TooLarge,
    TooSlow,
    exchange,
    parsed,
)
from publisher.source.limits import FAMILY_NOUNS
from publisher.source.untrusted import is_token

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_CAP = 10.0
DEADLINE_SECONDS = 120.0  # one whole exchange, whatever the socket timeouts let through
# An upload gets longer: its size at this rate (about 0.8 Mbit/s) on top, e.g. 17 min for a 99 MB video.
MIN_UPLOAD_BYTES_PER_SECOND = 100_000
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
STATUS_ERRORS: Mapping[int, type[ApiError]] = {
    400: Unprocessable,
    404: NotFound,
    422: Unprocessable,
}


@dataclass(frozen=True)
class Allowance:
    """How long one exchange may take, and whether the run's end (not the request's own deadline) sets it."""

    seconds: float
    run_ends: bool


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
        deadline: float = DEADLINE_SECONDS,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        user_agent: str = f"publish/{__version__}",
        token_source: TokenSource | None = None,
    ):
        """`timeout`: for each socket operation; `deadline`: for a whole exchange (uploads get more);
        `monotonic`: the real time the deadline is measured on; `token_source`: the account and variable
        the token came from, named when the server refuses it."""
        if token and not is_token(token):
            raise InvalidToken()
        self.base_url = base_url.rstrip("/")
        self._token = token or None
        self._clock = clock
        self._timeout = timeout
        self._deadline = deadline
        self._max_answer_bytes = max_answer_bytes
        self._monotonic = monotonic
        self._session = session or requests.Session()
        self._retry = retry or RetryPolicy()
        self._user_agent = user_agent
        self._token_source = token_source
        self._limits = RateLimitTracker()
        self.on_pacing_wait: Callable[[PacingWait], None] | None = None  # told before each pacing wait
        self.run_ends_at: datetime | None = None  # --max-duration: no request, retry or wait goes past it

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

    def shown(self, text: str) -> str:
        return shown(text, self._token)

    def time_left(self) -> float | None:
        """Seconds until the run's end, or None when the run has no end."""
        if self.run_ends_at is None:
            return None
        return (self.run_ends_at - self._clock.now()).total_seconds()

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
            attempt,
            policy=self._retry,
            clock=self._clock,
            enabled=retry,
            label=label,
            retry_if=retry_if,
            until=self.run_ends_at,
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
        self._pace(family, method, path)
        try:
            received = self._transport(method, path, options, headers)
            response = parsed(received, method, _path_only(path))
            self._limits.remember(family, response.headers)
        finally:
            self._limits.settle(family)
        elapsed_ms = received.raw.elapsed.total_seconds() * 1000
        log.debug("%s %s -> %s (%.0f ms)", method, _path_only(path), response.status, elapsed_ms)
        if response.status >= 300:
            raise self._error_for(method, path, response, "Authorization" in headers)
        return response

    def _pace(self, family: str, method: str, path: str) -> None:
        while (used_up := self._limits.reserve(family, self._clock.now())) is not None:
            self._wait_for_reset(used_up, method, _path_only(path))

    def _wait_for_reset(self, used_up: UsedUp, method: str, path: str) -> None:
        # Read the clock again: reserve() may have waited for another thread's probe to be answered.
        wait = (used_up.reset_at - self._clock.now()).total_seconds() + RESET_MARGIN_SECONDS
        until, family = iso_utc(used_up.reset_at), used_up.family
        self._refuse_endless_wait(used_up, wait, method, path)
        # Without a listener, a warning, so CI logs show why a run pauses (media: 30 per 30 min on Mastodon).
        level = logging.INFO if self.on_pacing_wait else logging.WARNING
        log.log(level, "rate limit %r used up: waiting %.0f s, until %s", family, wait, until)
        if self.on_pacing_wait:
            self.on_pacing_wait(PacingWait(family, wait, used_up.reset_at, self._limits.rate_limit(family)))
        self._refuse_wait_past_run(used_up, method, path)
        self._clock.sleep(wait)

    def _refuse_endless_wait(self, used_up: UsedUp, wait: float, method: str, path: str) -> None:
        """Beyond Mastodon's longest window, a reset is the server's mistake or worse: wait only within
        --max-duration, which bounds the run anyway."""
        if wait <= PACING_HORIZON_SECONDS or self.run_ends_at is not None:
            return
        noun = FAMILY_NOUNS.get(used_up.family, "requests")
        longest = far_off(LONGEST_WINDOW_SECONDS)
        raise WaitTooLong(
            f"the server asked to wait until {iso_utc(used_up.reset_at)} (in {far_off(wait)}) before more "
            f"{noun}; that is longer than Mastodon's longest rate-limit window ({longest}), so publish "
            "does not wait",
            hint="run again after that time; `publish sync --max-duration SECONDS` waits that long only if "
            "the run may last until then",
            method=method,
            path=path,
        )

    def _refuse_wait_past_run(self, used_up: UsedUp, method: str, path: str) -> None:
        if self.run_ends_at is None or used_up.reset_at <= self.run_ends_at:
            return
        raise TimeUp(
            f"not sent: the {used_up.family} rate limit allows more at {iso_utc(used_up.reset_at)}, after "
            f"the run's time (--max-duration) ends at {iso_utc(self.run_ends_at)}",
            method=method,
            path=path,
        )

    def _allowance(self, options: dict[str, Any]) -> Allowance:
        own = self._deadline + _upload_bytes(options) / MIN_UPLOAD_BYTES_PER_SECOND
        left = self.time_left()
        if left is not None and left <= own:
            return Allowance(max(left, 0.0), run_ends=True)
        return Allowance(own, run_ends=False)

    def _transport(
        self, method: str, path: str, options: dict[str, Any], headers: dict[str, str]
    ) -> Received:
        allowance = self._allowance(options)
        where = {"method": method, "path": self.redact(_path_only(path))}
        if allowance.run_ends and allowance.seconds <= 0:
            raise TimeUp("not sent: the run's time (--max-duration) is up", **where)
        read_timeout = min(self._timeout, allowance.seconds)
        send = partial(
            self._session.request,
            method,
            self.base_url + path,
            headers=headers,
            auth=HEADERS_ONLY,
            timeout=(min(read_timeout, CONNECT_TIMEOUT_CAP), read_timeout),
            allow_redirects=False,
            stream=True,  # read by `exchange`, in chunks, counted and timed
            **options,
        )
        try:
            return exchange(
                send, seconds=allowance.seconds, max_bytes=self._max_answer_bytes, monotonic=self._monotonic
            )
        except (TooLarge, TooSlow, requests.RequestException) as exc:
            log.debug("%s %s -> %s", method, where["path"], type(exc).__name__)
            raise self._failure(exc, allowance, read_timeout, where) from None

    def _failure(
        self, exc: Exception, allowance: Allowance, read_timeout: float, where: dict[str, str]
    ) -> PublishError:
        """What a failed exchange means. The library's own text holds the URL (and maybe a header): never
        repeated, only classified."""
        if isinstance(exc, TooLarge):
            return ServerError(f"answer larger than {exc.cap} bytes; not read", status=exc.status, **where)
        timed_out = isinstance(exc, TooSlow | requests.Timeout)
        if timed_out and allowance.run_ends and (isinstance(exc, TooSlow) or read_timeout < self._timeout):
            return TimeUp(
                f"the run's time (--max-duration) ran out after {round(allowance.seconds, 1):g} s of this "
                "request, before the answer was complete; whether it was applied is unknown (the next run "
                "finds out)",
                **where,
            )
        if (diagnosis := diagnose(exc, self.base_url)) is not None:
            url = self.redact(self.base_url) + where["path"]
            return NotConnected(
                diagnosis.reason, url=url, hint=diagnosis.hint, lasting=diagnosis.lasting, **where
            )
        if isinstance(exc, TooSlow):
            return NetworkError(f"no complete answer within {allowance.seconds:g} s", **where)
        if isinstance(exc, TRANSPORT_ERRORS):
            return NetworkError(describe_transport_error(exc, read_timeout), **where)
        return ApiError(f"request refused by the HTTP library ({type(exc).__name__})", **where)

    def _error_for(self, method: str, path: str, response: Response, token_sent: bool) -> ApiError:
        message = self.shown(server_message(response))
        safe_path = self.redact(_path_only(path))
        where: dict[str, Any] = {"status": response.status, "method": method, "path": safe_path}
        if 300 <= response.status < 400:
            return ApiError(self.shown(redirect_message(response)), **where)
        if response.status == 429:
            reset_at = reset_from_headers(response.headers, self._clock.now())
            resets = f" (limit resets at {iso_utc(reset_at)})" if reset_at else ""
            return RateLimited(message + resets, reset_at=reset_at, **where)
        if response.status >= 500:
            return ServerError(message, **where)
        if response.status in (401, 403):
            hint = auth_hint(response.status, self._token_source, self.redact(self.base_url), token_sent)
            return AuthError(message, hint=hint, **where)
        return STATUS_ERRORS.get(response.status, ApiError)(message, **where)


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]


def _upload_bytes(options: dict[str, Any]) -> int:
    body = options.get("data")
    return len(body) if isinstance(body, MultipartBody) else 0


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


__all__ = ["REDACTED", "HttpClient", "Response", "SecretFilter", "redact", "server_message"]
