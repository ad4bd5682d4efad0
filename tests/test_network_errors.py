"""Network failures fail fast and say what to do; retries show on stderr; a refused token names its variable.

Every server here listens on 127.0.0.1 (or nowhere: a port nothing listens on); a name that does not resolve
comes from a transport that raises what requests raises, so no test asks a real resolver."""

from __future__ import annotations

import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
import urllib3

from publisher.cli import app
from publisher.clock import FakeClock
from publisher.errors import AuthError, NetworkError, NotConnected, ServerError
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.network_errors import SCOPES, TokenSource, diagnose
from publisher.mastodon.retry import RetryPolicy, retry_line
from publisher.sandbox import Fault
from tests.conftest import FAKE_TOKEN
from tests.helpers import CliRunner, make_repo

VERIFY = "/api/v1/accounts/verify_credentials"
STATUSES = "/api/v1/statuses"
TOKEN_ENV = "PUBLISH_TEST_TOKEN"  # what tests.helpers.make_repo writes as token_env


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def make_http(clock):
    clients: list[HttpClient] = []

    def make(url: str, token: str | None = FAKE_TOKEN, **options) -> HttpClient:
        options.setdefault("retry", RetryPolicy(random=random.Random(3)))
        client = HttpClient(url, token, clock=clock, timeout=5.0, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def failure(call) -> Exception:
    with pytest.raises(Exception) as raised:
        call()
    return raised.value


# -- a connection that cannot be made ------------------------------------------------------------------


def test_a_refused_connection_is_tried_for_a_second_and_a_half_then_names_the_url_and_a_hint(
    make_http, clock, closed_port, caplog
):
    http = make_http(f"http://127.0.0.1:{closed_port}")

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, NotConnected) and not error.lasting
    assert clock.sleeps == [0.5, 1.0]
    assert str(error) == (
        f"GET http://127.0.0.1:{closed_port}{VERIFY}: could not connect to 127.0.0.1:{closed_port}: "
        f"connection refused (hint: is the server at http://127.0.0.1:{closed_port} up, and is the "
        "address (and port) right?)"
    )
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert retries == [
        f"retrying GET {VERIFY} in 0.5 s: could not connect to 127.0.0.1:{closed_port}: connection refused "
        "(attempt 2 of 3)",
        f"retrying GET {VERIFY} in 1 s: could not connect to 127.0.0.1:{closed_port}: connection refused "
        "(attempt 3 of 3)",
    ]


def test_a_plain_http_port_asked_for_https_fails_at_once_saying_to_write_http(make_http, clock, fake_server):
    address = urlsplit(fake_server.url).netloc
    http = make_http(f"https://{address}")

    error = failure(lambda: http.request("POST", "/api/v1/apps", data={"client_name": "publish"}))

    assert isinstance(error, NotConnected) and error.lasting
    assert clock.sleeps == []
    assert str(error).startswith(f"POST https://{address}/api/v1/apps: {address} does not speak https (TLS)")
    assert error.hint == f"the port answers in plain http: write http://{address}"


@pytest.mark.parametrize("address", ["127.0.0.1:8080", "localhost:8080"])
def test_an_address_without_scheme_fails_at_once_saying_to_write_https(make_http, clock, address):
    http = make_http(address)

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, NotConnected) and error.lasting
    assert clock.sleeps == []
    assert f"GET {address}{VERIFY}: not an address publish can use: no scheme (https://)" in str(error)
    assert (
        f"with its scheme: https://{address} (plain http:// only for a server on this machine" in error.hint
    )


class Unresolvable(requests.adapters.BaseAdapter):
    """A transport for which no name resolves: it raises what requests raises when DNS knows no such host."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def send(self, request, **kwargs):
        self.calls += 1
        host = urlsplit(request.url).hostname
        answer = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        reason = urllib3.exceptions.NameResolutionError(
            host, urllib3.connection.HTTPSConnection(host), answer
        )
        reason.__cause__ = answer
        raise requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, request.url, reason))

    def close(self) -> None:
        pass


def test_a_name_that_does_not_resolve_is_not_retried(make_http, clock):
    session, transport = requests.Session(), Unresolvable()
    session.mount("https://", transport)
    http = make_http("https://mastodn.social", session=session)

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, NotConnected) and error.lasting
    assert transport.calls == 1 and clock.sleeps == []
    assert f"GET https://mastodn.social{VERIFY}: the name mastodn.social does not resolve (DNS)" in str(error)
    assert "check the spelling of the instance address" in error.hint


def test_a_proxy_that_refuses_is_named_not_the_server(make_http, clock, closed_port):
    session = requests.Session()
    session.trust_env = False  # this proxy only, whatever the environment says
    session.proxies = {"https": f"http://127.0.0.1:{closed_port}"}
    http = make_http("https://mastodon.example", session=session)

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, NotConnected) and not error.lasting
    assert "could not reach mastodon.example through the proxy" in str(error) and "HTTPS_PROXY" in error.hint


@pytest.fixture
def self_signed_server(tmp_path) -> Iterator[str]:
    """An https server on 127.0.0.1 whose certificate nobody vouches for."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=127.0.0.1",
        ]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_certificate_not_trusted_is_not_retried_and_says_why(make_http, clock, self_signed_server):
    http = make_http(self_signed_server)

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, NotConnected) and error.lasting
    assert clock.sleeps == []
    host = urlsplit(self_signed_server).netloc
    assert f"the TLS certificate of {host} was not accepted (" in str(error)
    assert "REQUESTS_CA_BUNDLE" in error.hint


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ReadTimeout(),
        requests.exceptions.ChunkedEncodingError(),
        requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.")),
    ],
    ids=["read-timeout", "dropped-while-reading", "closed-before-answer"],
)
def test_a_failure_after_connecting_is_left_to_the_exactly_once_machinery(exc):
    assert diagnose(exc, "https://mastodon.example") is None


def test_a_connect_timeout_may_be_tried_again():
    diagnosis = diagnose(requests.ConnectTimeout(), "https://mastodon.example")
    assert diagnosis is not None and not diagnosis.lasting
    assert diagnosis.reason == "could not connect to mastodon.example (timed out)"


def test_a_create_that_could_not_connect_is_not_looked_for(make_http, clock, closed_port):
    looked: list[bool] = []
    client = MastodonClient(make_http(f"http://127.0.0.1:{closed_port}"), clock)

    def find_existing():
        looked.append(True)

    error = failure(
        lambda: client.create_status({"status": "hi"}, idempotency_key="k", find_existing=find_existing)
    )

    assert isinstance(error, NotConnected)
    assert looked == []  # nothing reached the server: there is nothing to reconcile
    assert sum(clock.sleeps) <= 1.5


# -- the commands, as the issue measured them ------------------------------------------------------------


def test_sync_against_a_port_nothing_listens_on_fails_in_seconds_with_the_url_and_a_hint(
    tmp_path, closed_port
):
    clock = FakeClock()
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()

    result = CliRunner(clock=clock).invoke(app, ["sync", "--config", str(config)], env={TOKEN_ENV: "t0ken"})

    assert result.exit_code == 1
    assert time.monotonic() - started < 5
    assert sum(clock.sleeps) <= 3.0  # two requests (limits, account), 1.5 s of waiting each at most
    error = result.stderr.splitlines()[-1]
    assert error.startswith(f"error: GET http://127.0.0.1:{closed_port}/api/")
    assert "connection refused (hint: is the server at" in error
    assert "warning: retrying GET /api/v1/accounts/verify_credentials in 0.5 s" in result.stderr


def test_whoami_against_a_port_nothing_listens_on_fails_in_seconds(tmp_path, closed_port):
    clock = FakeClock()
    config = make_repo(tmp_path, {}, instance=f"http://127.0.0.1:{closed_port}")

    result = CliRunner(clock=clock).invoke(app, ["whoami", "--config", str(config)], env={TOKEN_ENV: "t0ken"})

    assert result.exit_code == 1
    assert clock.sleeps == [0.5, 1.0]
    assert f"GET http://127.0.0.1:{closed_port}{VERIFY}: could not connect" in result.stderr


def test_login_without_scheme_fails_before_any_request(tmp_path, fake_server):
    address = urlsplit(fake_server.url).netloc
    arguments = ["login", "--instance", address, "--config", str(tmp_path / "publish.toml")]

    result = CliRunner().invoke(app, arguments, input="code\n")

    assert result.exit_code == 2
    assert f"write https://{address}, or http://{address} if the server on this machine" in result.stderr
    assert fake_server.requests == []


# -- retries say so --------------------------------------------------------------------------------------


def test_each_retry_of_a_503_is_a_warning_naming_the_request_the_wait_and_the_attempt(
    make_http, clock, fake_server, caplog
):
    fake_server.add_fault(Fault("GET", VERIFY, "status", status=503, times=3))
    http = make_http(fake_server.url, retry=RetryPolicy(jitter=0))

    assert http.request("GET", VERIFY).status == 200

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"retrying GET {VERIFY} in {delay} s: HTTP 503: Service Unavailable (attempt {n} of 6)"
        for n, delay in ((2, 1), (3, 2), (4, 4))
    ]


def test_sync_shows_each_retry_of_a_503_on_stderr_without_verbose(tmp_path, clock, server):
    server.add_fault(Fault("POST", STATUSES, "status", status=503, times=3))
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)

    result = CliRunner(clock=clock).invoke(
        app, ["sync", "--config", str(config)], env={TOKEN_ENV: FAKE_TOKEN}
    )

    assert result.exit_code == 0, result.output
    retries = [line for line in result.stderr.splitlines() if line.startswith("warning: retrying")]
    assert len(retries) == 3
    assert retries[0].startswith(f"warning: retrying POST {STATUSES} in 1 s: HTTP 503: Service Unavailable")
    assert "(attempt 2 of 6)" in retries[0] and "(attempt 4 of 6)" in retries[2]
    assert len(server.statuses) == 1


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ServerError("Service Unavailable", status=503, method="POST", path=STATUSES), "HTTP 503: Service "),
        (NetworkError("connection dropped", method="GET", path="/x"), "connection dropped ("),
    ],
)
def test_a_retry_line_names_the_failure_without_repeating_the_request(error, words):
    line = retry_line(f"POST {STATUSES}", 4.0, error, 2, 6)
    assert line.startswith(f"retrying POST {STATUSES} in 4 s: {words}") and line.endswith("(attempt 2 of 6)")


# -- a refused token -------------------------------------------------------------------------------------


def test_a_401_names_the_variable_holding_the_token_and_what_to_run(make_http, fake_server):
    source = TokenSource("main", "MY_MASTODON_TOKEN")
    http = make_http(fake_server.url, token="not-the-token", token_source=source)

    error = failure(lambda: http.request("GET", VERIFY))

    assert isinstance(error, AuthError) and error.status == 401
    assert "rejected the token in MY_MASTODON_TOKEN (account 'main')" in error.hint
    assert "`publish login --account main`" in error.hint and SCOPES in error.hint
    assert str(error).endswith(f"(hint: {error.hint})") and "HTTP 401" in str(error)
    assert "not-the-token" not in str(error)


def test_a_403_names_the_scopes_publish_needs(make_http, fake_server):
    message = "This action is outside the authorized scopes"
    fake_server.add_fault(Fault("POST", STATUSES, "status", status=403, message=message))
    http = make_http(fake_server.url, token_source=TokenSource("main", "MASTODON_TOKEN"))

    error = failure(lambda: http.request("POST", STATUSES, json={"status": "hi"}))

    assert isinstance(error, AuthError) and error.server_message == message
    assert error.hint.startswith(
        f"the token in MASTODON_TOKEN (account 'main') lacks a scope publish needs ({SCOPES})"
    )


def test_a_refusal_of_a_request_without_token_does_not_blame_a_token(make_http, fake_server):
    fake_server.add_fault(
        Fault(
            "GET", "/api/v2/instance", "status", status=401, message="This API requires an authenticated user"
        )
    )
    http = make_http(fake_server.url, token=None)

    error = failure(lambda: http.request("GET", "/api/v2/instance", auth=False))

    assert isinstance(error, AuthError) and "made without a token" in error.hint


def test_whoami_with_a_rejected_token_gives_the_one_hint(tmp_path, fake_server):
    config = make_repo(tmp_path, {}, instance=fake_server.url)

    result = CliRunner().invoke(app, ["whoami", "--config", str(config)], env={TOKEN_ENV: "revoked-XYZ"})

    assert result.exit_code == 1
    assert f"rejected the token in {TOKEN_ENV} (account 'main')" in result.stderr
    assert "`publish login --account main` makes a new one" in result.stderr
    assert "revoked-XYZ" not in result.output


def test_sync_with_a_rejected_token_gives_a_hint_not_a_bare_401(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)

    result = CliRunner(clock=clock).invoke(
        app, ["sync", "--config", str(config)], env={TOKEN_ENV: "revoked-XYZ"}
    )

    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert "HTTP 401" in error and "(hint: " in error and "`publish whoami" in error
    assert f"rejected the token in {TOKEN_ENV} (account 'main')" in error
    assert "revoked-XYZ" not in result.output
