"""One exchange with a server under bounds (a time for all of it: connect, upload, headers, body; a cap on
the size of the answer), and the answer as the client reads it.

requests' timeouts are per socket operation: a server that sends one byte every few seconds never trips
them, and `Response.content` reads whatever size is sent. So the exchange runs on a worker thread that the
caller stops waiting for when the time is up, and the body is read in chunks, counted and timed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

CHUNK_BYTES = 64 * 1024
# Mastodon's largest JSON answers (a page of 40 statuses, an instance document) are a fraction of this.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class TooSlow(Exception):
    """The exchange did not end within its time."""


class TooLarge(Exception):
    """The answer is longer than the cap; the rest of it was not read."""

    def __init__(self, status: int, cap: int):
        super().__init__(f"answer of more than {cap} bytes")
        self.status = status
        self.cap = cap


@dataclass(frozen=True)
class Received:
    raw: requests.Response  # status and headers; its body is `content`
    content: bytes


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None when the body is empty or not JSON
    text: str
    method: str = ""  # of the request answered, for errors that name the endpoint
    path: str = ""  # without the query string


def exchange(
    send: Callable[[], requests.Response],
    *,
    seconds: float,
    max_bytes: int,
    monotonic: Callable[[], float],
) -> Received:
    """`send()` (a request made with stream=True) and its whole answer; TooSlow after `seconds`."""
    ends = monotonic() + seconds
    worker = _Worker(lambda: _receive(send(), ends, max_bytes, monotonic))
    return worker.result_within(seconds)


class _Worker:
    """One call on a daemon thread. A caller that stops waiting leaves it to end by itself (its deadline
    checks, the socket timeouts) without holding up the exit of the process.

    The caller waits on a socket, not a threading.Event: a timed wait on a lock or condition runs on the
    monotonic clock, which libfaketime moves (the test suite runs a year ahead), and would never end."""

    def __init__(self, call: Callable[[], Any]):
        self._call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._waiting, self._done = socket.socketpair()
        threading.Thread(target=self._run, name="http-exchange", daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # handed to the waiting caller, whatever it is
            self._error = exc
        finally:
            with self._done, contextlib.suppress(OSError):  # OSError: the caller gave up and left
                self._done.send(b".")

    def result_within(self, seconds: float) -> Any:
        self._waiting.settimeout(max(seconds, 0.001))
        try:
            self._waiting.recv(1)
        except TimeoutError:
            raise TooSlow() from None
        finally:
            self._waiting.close()
        if self._error is not None:
            raise self._error
        return self._value


def _receive(raw: requests.Response, ends: float, max_bytes: int, monotonic: Callable[[], float]) -> Received:
    try:
        return Received(raw, _read_body(raw, ends, max_bytes, monotonic))
    except BaseException:
        raw.close()  # the connection is left half-read: never reuse it
        raise


def _read_body(raw: requests.Response, ends: float, max_bytes: int, monotonic: Callable[[], float]) -> bytes:
    declared = raw.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(raw.status_code, max_bytes)
    chunks: list[bytes] = []
    size = 0
    while monotonic() <= ends:
        chunk = _read_chunk(raw)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(raw.status_code, max_bytes)
        chunks.append(chunk)
    raise TooSlow()


def _read_chunk(raw: requests.Response) -> bytes:
    """What one read of the socket brings (read1), so that a server dripping bytes is timed between them;
    urllib3's errors as requests' own (what requests' iter_content does)."""
    read = getattr(raw.raw, "read1", raw.raw.read)
    try:
        return read(CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc


def parsed(received: Received, method: str, path: str) -> Response:
    text = _decoded(received)
    return Response(
        status=received.raw.status_code,
        headers={name.lower(): value for name, value in received.raw.headers.items()},
        body=_parse_json(text),
        text=text,
        method=method,
        path=path,
    )


def _decoded(received: Received) -> str:
    try:
        return received.content.decode(received.raw.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return received.content.decode("utf-8", errors="replace")


def _parse_json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested a few thousand levels deep
        return None
