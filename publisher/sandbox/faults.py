"""Injected failures: what a flaky network, a proxy or an overloaded server does to a request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from .wire import Response, html_response, json_response, proxy_error_page

FAULT_KINDS = ("status", "html", "drop_before", "drop_after", "slow", "drip", "drip_body", "body")
PROCESSING_KINDS = ("drop_after", "slow", "drip", "drip_body")


@dataclass(frozen=True)
class Fault:
    """Affects the next `times` requests whose method and path prefix match.

    kind: "status" answers `status` with {"error": message} without processing;
    "html" answers `status` with an HTML page (a proxy's 413/502/504), without processing;
    "drop_before" closes the connection without processing or answering;
    "drop_after" processes (commits) fully, then closes without answering;
    "slow" sleeps `delay` seconds, then processes and answers normally;
    "drip" processes, then sends the answer one byte every `delay` seconds, status line and headers included;
    "drip_body" processes, sends the status line and headers at once, then the body one byte every `delay` s;
    "body" answers `status` with the raw `body` (sent `repeat` times: a huge answer the server never holds)
    and `content_type`, without processing; `chunked` leaves out Content-Length, so the size is unknown
    until the end.
    """

    method: str
    path: str
    kind: str
    status: int = 503
    message: str = "Service Unavailable"
    delay: float = 0.0
    times: int = 1
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    repeat: int = 1
    content_type: str = "application/json; charset=utf-8"
    chunked: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and path.startswith(self.path)

    @property
    def processes(self) -> bool:
        return self.kind in PROCESSING_KINDS


class FaultBook:
    """Faults in the order added, each used up after `times` matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[list] = []  # [fault, uses left]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._entries.append([fault, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [fault for fault, _ in self._entries]

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault, counting this request against its uses."""
        with self._lock:
            for entry in self._entries:
                fault, left = entry
                if fault.matches(method, path):
                    entry[1] = left - 1
                    if entry[1] <= 0:
                        self._entries.remove(entry)
                    return fault
        return None


def fault_response(fault: Fault) -> Response | None:
    if fault.kind == "drop_before":
        return None
    if fault.kind == "html":
        return html_response(fault.status, proxy_error_page(fault.status), fault.headers)
    if fault.kind == "body":
        answer = Response(fault.status, fault.body, fault.content_type, dict(fault.headers))
        return replace(answer, repeat=fault.repeat, chunked=fault.chunked)
    return json_response(fault.status, {"error": fault.message}, fault.headers)


def as_delivered(response: Response, fault: Fault) -> Response | None:
    """The answer to a processed request as the fault delivers it: not at all, with headers, or dripped."""
    if fault.kind == "drop_after":
        return None
    response = response.with_headers(fault.headers)
    if fault.kind in ("drip", "drip_body"):
        return replace(response, drip=fault.delay, drip_body=fault.kind == "drip_body")
    return response
