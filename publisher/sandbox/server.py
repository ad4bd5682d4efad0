"""A Mastodon-compatible server on 127.0.0.1, for the test suite and for `publish sync --sandbox`.

It keeps everything in memory and mimics the behaviours of Mastodon 4.x that a batch publisher must survive:
asynchronous media processing, validation errors, Idempotency-Key, rate limits, scheduling, and injected
network faults (see Fault). Quirks make it behave like other servers instead.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import sys
import threading
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer

from .faults import Fault, FaultBook, as_delivered, fault_response
from .media import MediaLibrary
from .oauth import OAuthDesk
from .quirks import Quirks
from .ratelimit import RateLimiter
from .render import Site
from .routes import Api
from .statuses import StatusBook
from .wire import (
    ApiError,
    RecordedRequest,
    Response,
    body_pieces,
    json_response,
    parse_request,
    raw_head,
)

FIRST_ID = 113_000_000_000_000_000  # snowflake-sized, so ids sort the same as text and as numbers
READ_METHODS = ("GET", "HEAD")


class UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class IdSequence:
    """Increasing ids shared by every kind of record, like Mastodon's snowflakes."""

    def __init__(self, start: int = FIRST_ID):
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self._next += 1
            return str(self._next)


class FakeMastodon:
    def __init__(
        self,
        token: str = "sandbox-token",
        clock=None,
        media_processing_polls: int = 0,
        honour_idempotency: bool = True,
        max_characters: int = 500,
        max_media_attachments: int = 4,
        characters_reserved_per_url: int = 23,
        rate_limits: dict[str, tuple[int, int]] | None = None,
        latency: float = 0.0,
        username: str = "sandbox",
        port: int = 0,
        quirks: Quirks = Quirks(),
    ):
        self.token = token
        self.clock = clock or UtcClock()
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        # Callbacks (phase, request) with phase "received" (before processing) or "processed" (committed,
        # not yet answered): fault tests use them to kill a client at an exact point.
        self.observers: list = []
        self._port = port
        self._lock = threading.RLock()
        self._faults = FaultBook()
        self._limiter = RateLimiter(rate_limits)
        next_id = IdSequence()
        site = Site("", username, max_characters, max_media_attachments, characters_reserved_per_url)
        self._media = MediaLibrary(self._lock, next_id, media_processing_polls)
        self._statuses = StatusBook(
            self._lock, next_id, self.clock, self._media, site, honour_idempotency, quirks
        )
        self._oauth = OAuthDesk(self._lock, next_id, token)
        self._api = Api(token, self.clock, self._statuses, self._media, self._oauth, self._limiter)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeMastodon:
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer(self, self._port)
        self._statuses.site = replace(self._statuses.site, base_url=self.url)
        self._media.base_url = self.url
        self._thread = threading.Thread(
            target=self._httpd.serve_until_stopped, name="fake-mastodon", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.request_stop()
        if self._thread is not None:
            self._thread.join()
        httpd.server_close()
        httpd.close_open_connections()

    def __enter__(self) -> FakeMastodon:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeMastodon is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def quirks(self) -> Quirks:
        return self._statuses.quirks

    # -- state for assertions ------------------------------------------------------------------

    @property
    def statuses(self) -> dict[str, dict]:
        return self._statuses.records

    @property
    def media(self) -> dict[str, dict]:
        return self._media.records

    @property
    def scheduled(self) -> dict[str, dict]:
        return self._statuses.scheduler.records

    @property
    def history(self) -> dict[str, list[dict]]:
        """Status id -> its revisions, as GET /api/v1/statuses/:id/history would list them."""
        return self._statuses.history

    @property
    def published_from_scheduled(self) -> dict[str, str]:
        """Scheduled status id -> id of the status it became."""
        return self._statuses.published_from_scheduled

    @property
    def apps(self) -> dict[str, dict]:
        return self._oauth.apps

    def writes(self) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.method not in READ_METHODS]

    # -- steering --------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def fail_next_processing(self, n: int = 1) -> None:
        self._media.fail_next_processing(n)

    def publish_due_scheduled(self) -> list[str]:
        return self._statuses.publish_due()

    def issue_auth_code(self) -> str:
        return self._oauth.issue_code()

    def reset_rate_limits(self) -> None:
        self._limiter.reset()

    # -- serving ---------------------------------------------------------------------------------

    def respond(self, request: RecordedRequest, body_problem: ApiError | None) -> Response | None:
        """The answer to one request, or None to close the connection without answering."""
        with self._lock:
            self.requests.append(request)
        self._notify("received", request)
        if self.latency:
            time.sleep(self.latency)
        fault = self._faults.take(request.method, request.path)
        if fault is not None and not fault.processes:
            return fault_response(fault)
        if fault is not None and fault.delay and fault.kind in ("slow", "drop_after"):
            time.sleep(fault.delay)
        response = self._api.handle(request, body_problem)
        self._notify("processed", request)
        return response if fault is None else as_delivered(response, fault)

    def _notify(self, phase: str, request: RecordedRequest) -> None:
        for observer in list(self.observers):
            observer(phase, request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        request, problem = parse_request(self.command, self.path, headers, body)
        try:
            response = self.server.app.respond(request, problem)
        except Exception as error:  # a bug here must reach the test output, not hang the client
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"error": f"sandbox server bug: {error!r}"})
        if response is None:
            self.close_connection = True
            return
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

    def _send(self, response: Response) -> None:
        if response.drip or response.chunked or response.repeat != 1:
            self._send_as_faulted(response)
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, str(value))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _send_as_faulted(self, response: Response) -> None:
        """Written byte by byte, repeated or chunked: what a hostile or broken server sends."""
        head = raw_head(response)
        if response.drip and not response.drip_body:
            self._drip(head, response.drip)
        else:
            self.wfile.write(head)
        for piece in body_pieces(response):
            if response.drip:
                self._drip(piece, response.drip)
            else:
                self.wfile.write(piece)

    def _drip(self, data: bytes, delay: float) -> None:
        for index in range(len(data)):
            self.wfile.write(data[index : index + 1])
            time.sleep(delay)

    def version_string(self) -> str:
        return "publish-sandbox"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and the sandbox CLI read server.requests instead


class _HttpServer(ThreadingHTTPServer):
    """Serves until told to stop; stopping is immediate (serve_forever would poll every half second)."""

    daemon_threads = True

    def __init__(self, app: FakeMastodon, port: int = 0):
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(("127.0.0.1", port), _Handler)

    def serve_until_stopped(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = selector.select()
                if not self._stopping.is_set() and any(key.fileobj is self.socket for key, _ in ready):
                    self._accept_one()

    def _accept_one(self) -> None:
        try:
            connection, address = self.get_request()
        except OSError:
            return
        if self.verify_request(connection, address):
            self.process_request(connection, address)  # on its own thread
        else:
            self.shutdown_request(connection)

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # skip HTTPServer's getfqdn(), a name lookup we never need
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = self.socket.accept()
        # Without this, delayed ACKs add ~40 ms to each request on a kept-alive connection.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so they close their sockets."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a local Mastodon-compatible sandbox server.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--token", default="sandbox-token", help="the only accepted bearer token")
    parser.add_argument("--media-processing-polls", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=Quirks.names(),
        metavar="NAME",
        help=f"behave like another server (repeatable): {', '.join(Quirks.names())}",
    )
    options = parser.parse_args(argv)
    server = FakeMastodon(
        token=options.token,
        media_processing_polls=options.media_processing_polls,
        latency=options.latency,
        port=options.port,
        quirks=Quirks.named(options.quirk),
    )
    with server:
        print(server.url, flush=True)
        print(f"token: {options.token} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        if options.quirk:
            print(f"quirks: {', '.join(server.quirks.active())}", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(1)
                server.publish_due_scheduled()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
