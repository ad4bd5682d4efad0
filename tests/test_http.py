"""HttpClient and RetryPolicy against the fake Mastodon over real HTTP, timed by a FakeClock."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from publisher import __version__
from publisher.clock import FakeClock
from publisher.errors import (
    ApiError,
    AuthError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    Unprocessable,
)
from publisher.mastodon.http import HttpClient, redact
from publisher.mastodon.retry import RESET_MARGIN_SECONDS, RetryPolicy, call_with_retry
from publisher.sandbox import FakeMastodon, Fault

TOKEN = "tok-5ecret-abc123"
STATUSES = "/api/v1/statuses"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def token_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    ours = [record for record in caplog.records if not record.name.startswith("publisher.sandbox")]
    assert not [record for record in ours if TOKEN in record.getMessage()]
    assert TOKEN not in "".join(record.exc_text or "" for record in ours)


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def make_server(clock, stop_later):
    def make(**options) -> FakeMastodon:
        server = FakeMastodon(token=TOKEN, clock=clock, **options)
        server.start()
        stop_later(server)
        return server

    return make


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def make_http(clock):
    clients = []

    def make(url: str, token: str | None = TOKEN, **options) -> HttpClient:
        options.setdefault("retry", RetryPolicy(random=random.Random(7)))
        client = HttpClient(url, token, clock=clock, timeout=options.pop("timeout", 5.0), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def http(make_http, server):
    return make_http(server.url)


def raised(exc_type, call):
    """The exception `call` raises, checked to be of `exc_type` and free of the token."""
    with pytest.raises(exc_type) as info:
        call()
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    return info.value


def post_status(http: HttpClient, text: str = "hello", key: str = "key-1", **options):
    body = {"status": text, "visibility": "public", "sensitive": False, "language": "en"}
    return http.request("POST", STATUSES, json=body, headers={"Idempotency-Key": key}, **options)


def received(server: FakeMastodon, method: str, path: str) -> list:
    return [r for r in server.requests if r.method == method and r.path == path]


# -- headers -----------------------------------------------------------------------------------------


def test_sends_user_agent_bearer_and_parses_json(http, server):
    response = http.request("GET", "/api/v1/accounts/verify_credentials")

    sent = server.requests[-1]
    assert sent.headers["user-agent"] == f"publish/{__version__}"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert response.status == 200
    assert isinstance(response.body, dict) and response.body["username"]
    assert all(name == name.lower() for name in response.headers)


def test_auth_false_sends_no_authorization(http, server):
    http.request("GET", "/api/v2/instance", auth=False)

    assert "authorization" not in server.requests[-1].headers


def test_repr_hides_token(http):
    assert TOKEN not in repr(http)
    assert "***" in repr(http)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {TOKEN}", "Authorization: ***"),
        (f"token={TOKEN}&x=1", "token=***&x=1"),
        ("nothing secret", "nothing secret"),
    ],
)
def test_redact(text, expected):
    assert redact(text, TOKEN) == expected
    assert redact(text, None) == text


# -- transient failures are retried ------------------------------------------------------------------


def test_503_then_success_makes_one_status(http, server, clock):
    server.add_fault(Fault("POST", STATUSES, "status", status=503))

    post_status(http)

    assert len(received(server, "POST", STATUSES)) == 2
    assert len(server.statuses) == 1
    assert len(clock.sleeps) == 1


def test_html_502_from_proxy_is_retried(http, server):
    server.add_fault(Fault("POST", STATUSES, "html", status=502))

    post_status(http)

    assert len(server.statuses) == 1


def test_html_502_without_retry_names_the_proxy(http, server):
    server.add_fault(Fault("POST", STATUSES, "html", status=502))

    error = raised(ServerError, lambda: post_status(http, retry=False))

    assert error.status == 502
    assert "non-JSON body from a proxy" in str(error)
    assert str(error).startswith(f"POST {STATUSES}: HTTP 502")
    assert len(received(server, "POST", STATUSES)) == 1


def test_html_413_is_not_retried(http, server):
    server.add_fault(Fault("POST", "/api/v2/media", "html", status=413))

    error = raised(ApiError, lambda: http.request("POST", "/api/v2/media", files={"file": ("a.png", b"x")}))

    assert error.status == 413
    assert len(received(server, "POST", "/api/v2/media")) == 1


def test_drop_after_is_retried_with_the_same_idempotency_key(http, server):
    server.add_fault(Fault("POST", STATUSES, "drop_after"))

    post_status(http, key="stable-key")

    posts = received(server, "POST", STATUSES)
    assert [p.headers["idempotency-key"] for p in posts] == ["stable-key", "stable-key"]
    assert len(server.statuses) == 1


def test_drop_before_is_retried(http, server):
    server.add_fault(Fault("POST", STATUSES, "drop_before"))

    post_status(http)

    assert len(server.statuses) == 1


def test_read_timeout_without_retry_is_a_network_error(make_http, server):
    server.add_fault(Fault("GET", "/api/v1/accounts/verify_credentials", "slow", delay=0.5))
    http = make_http(server.url, timeout=0.2)

    error = raised(
        NetworkError, lambda: http.request("GET", "/api/v1/accounts/verify_credentials", retry=False)
    )

    assert "read timeout" in str(error)
    assert str(error).startswith("GET /api/v1/accounts/verify_credentials:")


def test_connection_refused_is_retried_for_the_connect_budget_only(make_http, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = make_http(f"http://127.0.0.1:{port}", retry=RetryPolicy(max_attempts=6, jitter=0))

    error = raised(NetworkError, lambda: http.request("GET", "/api/v1/statuses/1", params={"q": "x"}))

    assert clock.sleeps == [0.5, 1.0]  # connect_seconds=1.5, not the policy's minutes
    url, host = f"http://127.0.0.1:{port}/api/v1/statuses/1", f"127.0.0.1:{port}"
    assert str(error).startswith(f"GET {url}: could not connect to {host}: connection refused (hint:")


# -- rate limits -------------------------------------------------------------------------------------


def test_429_waits_until_the_announced_reset(make_server, make_http, clock):
    server = make_server(rate_limits={"statuses": (1, 300)})
    post_status(make_http(server.url), key="first")
    unaware = make_http(server.url)  # has not seen the headers, so it runs into the 429

    post_status(unaware, key="second")

    reset = START + timedelta(seconds=300)
    assert clock.sleeps == [pytest.approx(300 + RESET_MARGIN_SECONDS)]
    assert clock.now() >= reset
    assert len(server.statuses) == 2
    assert len(received(server, "POST", STATUSES)) == 3


def test_retry_after_seconds_is_honoured(http, server, clock):
    server.add_fault(
        Fault(
            "POST", STATUSES, "status", status=429, message="Too many requests", headers={"Retry-After": "30"}
        )
    )

    post_status(http)

    assert clock.sleeps == [pytest.approx(30 + RESET_MARGIN_SECONDS)]
    assert len(server.statuses) == 1


def test_429_beyond_the_budget_says_when_to_retry(make_http, server, clock):
    reset = START + timedelta(hours=2)
    server.add_fault(
        Fault(
            "POST",
            STATUSES,
            "status",
            status=429,
            message="Too many requests",
            headers={"X-RateLimit-Reset": "2026-11-23T14:00:00.000000Z"},
        )
    )
    http = make_http(server.url, retry=RetryPolicy(max_total_seconds=600))

    error = raised(RateLimited, lambda: post_status(http))

    assert error.reset_at == reset
    assert "retry after 2026-11-23T14:00:00Z" in str(error)
    assert clock.sleeps == []


def test_paces_proactively_when_remaining_hits_zero(make_server, make_http, clock, caplog):
    server = make_server(rate_limits={"statuses": (2, 300)})
    http = make_http(server.url)
    post_status(http, key="a")
    post_status(http, key="b")
    assert clock.sleeps == []

    post_status(http, key="c")

    assert clock.sleeps == [pytest.approx(300 + RESET_MARGIN_SECONDS)]
    assert len(received(server, "POST", STATUSES)) == 3  # no 429 was provoked
    assert len(server.statuses) == 3
    assert "until 2026-11-23T12:05:00Z" in caplog.text and "WARNING" in caplog.text


def test_422_validation_is_not_retried(http, server, clock):
    error = raised(Unprocessable, lambda: post_status(http, text="x" * 501))

    assert error.status == 422
    assert "character limit" in str(error)
    assert len(received(server, "POST", STATUSES)) == 1
    assert clock.sleeps == []


def test_401_is_an_auth_error_and_not_retried(make_http, server, clock):
    http = make_http(server.url, token=TOKEN + "-revoked")

    error = raised(AuthError, lambda: post_status(http))

    assert error.status == 401
    assert TOKEN + "-revoked" not in str(error)
    assert len(received(server, "POST", STATUSES)) == 1
    assert clock.sleeps == []


def test_server_message_echoing_the_token_is_redacted(http, server):
    server.add_fault(
        Fault(
            "GET",
            "/api/v1/accounts",
            "status",
            status=403,
            message=f"token Bearer {TOKEN} lacks scope {TOKEN}",
        )
    )

    error = raised(AuthError, lambda: http.request("GET", "/api/v1/accounts/verify_credentials"))

    assert "token *** lacks scope ***" in str(error)


def test_404_is_not_found(http, server):
    raised(NotFound, lambda: http.request("GET", "/api/v1/statuses/does-not-exist"))

    assert len(received(server, "GET", "/api/v1/statuses/does-not-exist")) == 1


def test_501_is_not_retried(http, server):
    server.add_fault(Fault("GET", "/api/v1/accounts", "status", status=501, message="Not Implemented"))

    error = raised(ServerError, lambda: http.request("GET", "/api/v1/accounts/verify_credentials"))

    assert error.status == 501
    assert len(server.requests) == 1


# -- redirects ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_server(status: int, headers: dict[str, str]):
    """A local server answering every request with `status` and `headers`; yields (url, paths received)."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            paths.append(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", paths
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_redirect_is_not_followed(make_http):
    with tiny_server(200, {}) as (elsewhere, elsewhere_paths):
        target = elsewhere.replace("127.0.0.1", "localhost") + "/landing"
        with tiny_server(302, {"Location": target}) as (url, paths):
            http = make_http(url)

            error = raised(ApiError, lambda: http.request("GET", "/api/v1/accounts/verify_credentials"))

    assert error.status == 302
    assert target.split("/")[2] in str(error)
    assert paths == ["/api/v1/accounts/verify_credentials"]
    assert elsewhere_paths == []


# -- the retry policy itself -------------------------------------------------------------------------


class Flaky:
    """Raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_backoff_is_exponential_and_capped(clock):
    policy = RetryPolicy(max_attempts=6, jitter=0, base_delay=1, max_delay=5)
    flaky = Flaky(*[ServerError("down", status=503)] * 5)

    assert policy.call(flaky, clock=clock) == "ok"
    assert clock.sleeps == [1, 2, 4, 5, 5]


def test_jitter_stays_within_its_fraction(clock):
    policy = RetryPolicy(jitter=0.5, random=random.Random(1))

    delays = [policy.backoff(3, random.Random(seed)) for seed in range(50)]

    assert all(2.0 <= delay <= 6.0 for delay in delays)
    assert len(set(delays)) > 1


def test_gives_up_with_the_library_exception(clock):
    policy = RetryPolicy(max_attempts=3, jitter=0)
    flaky = Flaky(*[NetworkError("reset", method="GET", path="/x")] * 5)

    raised(NetworkError, lambda: policy.call(flaky, clock=clock))

    assert flaky.calls == 3


def test_total_budget_caps_the_waiting(clock):
    policy = RetryPolicy(max_attempts=100, max_total_seconds=10, jitter=0)
    flaky = Flaky(*[ServerError("down", status=502)] * 100)

    raised(ServerError, lambda: policy.call(flaky, clock=clock))

    assert sum(clock.sleeps) <= 10


@pytest.mark.parametrize(
    "error",
    [
        Unprocessable("bad", status=422),
        AuthError("no", status=401),
        NotFound("gone", status=404),
        Unprocessable("bad", status=400),
    ],
)
def test_permanent_errors_are_raised_at_once(clock, error):
    flaky = Flaky(error)

    raised(type(error), lambda: RetryPolicy().call(flaky, clock=clock))

    assert flaky.calls == 1
    assert clock.sleeps == []


def test_retry_can_be_turned_off_for_one_call(clock):
    flaky = Flaky(ServerError("down", status=503))

    raised(ServerError, lambda: call_with_retry(flaky, policy=RetryPolicy(), clock=clock, enabled=False))

    assert flaky.calls == 1


def test_a_netrc_login_for_the_instance_never_replaces_the_token(http, server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    http.request("GET", "/api/v1/accounts/verify_credentials")
    http.request("GET", "/api/v2/instance", auth=False)
    authenticated, anonymous = server.requests[-2:]
    assert authenticated.headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in anonymous.headers
