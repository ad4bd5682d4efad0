"""Hostile servers, a hostile state file and a broken token: the token never leaks, ids never become paths,
every request and every run is bounded, and whatever a server sends is an error that names the endpoint,
never a traceback. Servers are the sandbox over real HTTP on 127.0.0.1, with faults injected."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import time
import tracemalloc
from contextlib import ExitStack
from datetime import timedelta

import pytest

from publisher import app as library
from publisher.cli import app
from publisher.clock import SystemClock
from publisher.errors import (
    ApiError,
    InvalidToken,
    MissingToken,
    NetworkError,
    RateLimited,
    ServerError,
    TimeUp,
    WaitTooLong,
)
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.clients import token_for
from publisher.mastodon.http import HttpClient
from publisher.mastodon.http_words import SHOWN_MESSAGE_CHARS
from publisher.mastodon.ratelimits import RateLimitTracker, reset_from_headers
from publisher.mastodon.reconcile import Wanted, find_existing_status
from publisher.mastodon.retry import RetryPolicy
from publisher.mastodon.statuses import api_path
from publisher.sandbox import FakeMastodon, Fault
from publisher.source.config import Account
from publisher.source.untrusted import escape_controls, link_on
from tests.conftest import FAKE_TOKEN as TOKEN
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import client_factory

STATUSES = "/api/v1/statuses"
ENV = {"PUBLISH_TEST_TOKEN": TOKEN}
ONE_POST = {"hello.md": "Hello, hostile world.\n"}
MIB = 1024 * 1024
# What the sandbox is asked for in these tests: an id out of place would show up here.
MASTODON_PATH = re.compile(
    r"^/api/v[12]/(instance|statuses(/\d+(/source)?)?|media(/\d+)?|accounts/verify_credentials"
    r"|accounts/\d+/statuses|scheduled_statuses(/\d+)?)$"
)


@pytest.fixture
def make_http(clock):
    """HttpClients on the test's clock, tried once unless told otherwise, closed at the end."""
    defaults = {"clock": clock, "timeout": 5.0, "retry": RetryPolicy(max_attempts=1)}
    with ExitStack() as clients:
        yield lambda url, **options: clients.enter_context(HttpClient(url, TOKEN, **{**defaults, **options}))


@pytest.fixture
def client(make_http, server, clock):
    return MastodonClient(make_http(server.url), clock, processing_deadline=5)


def answer(server: FakeMastodon, method: str, path: str, body, status: int = 200, **options) -> None:
    """The next matching request gets exactly this answer (bytes as they are, anything else as JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    server.add_fault(Fault(method, path, "body", status=status, body=raw, **options))


def sync(config, *args, runner: CliRunner | None = None, env=ENV):
    return (runner or CliRunner()).invoke(app, ["sync", "--config", str(config), *args], env=env)


def status_body(server: FakeMastodon, **fields) -> dict:
    return {"id": "113000000000000777", "url": f"{server.url}/@sandbox/777", "content": "<p>x</p>", **fields}


# -- 1. the token: censored before anything is cut, checked when read ---------------------------------


def echoes(kept: int) -> dict[str, dict]:
    """Error bodies echoing the Authorization header, padded so that a cut of the shown message (after
    SHOWN_MESSAGE_CHARS - 1 characters) made before censoring would leave `kept` characters of the token."""
    header = f"Authorization: Bearer {TOKEN}"
    pad = SHOWN_MESSAGE_CHARS - 1 - kept - len("Authorization: Bearer ")
    return {
        "error": {"error": "x" * pad + header},
        "description": {"error": "invalid_token", "error_description": "x" * (pad - 15) + header},
        "any-json": {"echo": "x" * (pad - 10) + header},  # '{"echo": "' is 10 characters
    }


@pytest.mark.parametrize("status", [401, 422, 500])
@pytest.mark.parametrize("kept", [1, 10, len(TOKEN) - 1])
@pytest.mark.parametrize("shape", ["error", "description", "any-json"])
def test_an_error_echoing_the_token_shows_no_part_of_it(client, server, shape, kept, status):
    answer(server, "GET", "/api/v1/accounts/verify_credentials", echoes(kept)[shape], status=status)

    with pytest.raises(ApiError) as raised:
        client.verify_credentials()

    shown = str(raised.value)
    assert "Authorization: ***" in shown and "Bearer" not in shown
    assert not [TOKEN[:n] for n in range(4, len(TOKEN) + 1) if TOKEN[:n] in shown]


def test_a_long_server_message_is_abridged_after_the_token_is_censored(client, server):
    answer(server, "POST", STATUSES, {"error": f"{TOKEN} " + "w" * 1000}, status=422)

    with pytest.raises(ApiError) as raised:
        client.create_status({"status": "x"}, idempotency_key="k")

    assert raised.value.server_message.startswith("*** www") and raised.value.server_message.endswith("…")
    assert len(raised.value.server_message) == 300


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
        ("bell\x07 and DEL\x7f", "bell\\x07 and DEL\\x7f"),
        ("C1 \x9b31m CSI", "C1 \\x9b31m CSI"),
        ("line\nbreak\r", "line\\x0abreak\\x0d"),
        ("plain, ünïcode ✓", "plain, ünïcode ✓"),
    ],
)
def test_control_characters_from_a_server_are_escaped(client, server, sent, shown):
    answer(server, "POST", STATUSES, {"error": sent}, status=422)

    with pytest.raises(ApiError) as raised:
        client.create_status({"status": "x"}, idempotency_key="k")

    assert str(raised.value) == f"POST {STATUSES}: HTTP 422: {shown}"


def test_terminal_escapes_in_an_error_reach_the_terminal_inert(tmp_path, server):
    answer(server, "POST", STATUSES, {"error": "\x1b]0;owned\x07\x1b[31mValidation failed"}, status=422)
    config = make_repo(tmp_path, ONE_POST, instance=server.url)

    result = sync(config)

    assert result.exit_code == 1
    assert "\\x1b]0;owned\\x07\\x1b[31mValidation failed" in result.stderr
    assert "\x1b" not in result.output and "\x07" not in result.output


BAD_TOKENS = ["abc\ndef", "abc def", "abc\tdef", "abc\x1b[31mdef", "abc\x01def", "tökén", 'abc"def\x7f']


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("command", [["sync"], ["whoami"]])
def test_a_token_with_characters_no_token_has_exits_2_naming_the_variable(tmp_path, server, token, command):
    config = make_repo(tmp_path, ONE_POST, instance=server.url)

    result = CliRunner().invoke(app, [*command, "--config", str(config)], env={"PUBLISH_TEST_TOKEN": token})

    assert result.exit_code == 2, result.output
    assert "environment variable PUBLISH_TEST_TOKEN holds characters an access token cannot contain" in (
        result.stderr
    )
    assert "abc" not in result.output and "Traceback" not in result.output
    assert server.requests == []


def test_token_for_strips_the_ends_and_tells_missing_from_invalid():
    account = Account(instance="https://m.example", token_env="T")

    assert token_for("main", account, {"T": f"  {TOKEN}\n"}) == TOKEN
    with pytest.raises(MissingToken):
        token_for("main", account, {"T": " \n"})
    with pytest.raises(InvalidToken, match="environment variable T holds") as raised:
        token_for("main", account, {"T": "one\ntwo"})
    assert "one" not in str(raised.value)


def test_an_http_client_refuses_a_token_that_could_not_be_a_header(clock):
    with pytest.raises(InvalidToken, match="the access token holds"):
        HttpClient("https://m.example", "evil\r\nX-Injected: 1", clock=clock)


# -- 2. ids are data, never paths; links stay on the instance ------------------------------------------

BAD_IDS = ["../../../../x/y", "1/2", "1?admin=1", "1#x", "%2e%2e", "", "a" * 65, "1 2", "ünï"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("field", ["status_id", "in_reply_to_id", "media_id"])
def test_a_bad_id_in_the_state_file_exits_2_at_its_line_and_nothing_is_sent(tmp_path, server, bad, field):
    config = make_repo(
        tmp_path,
        {"a.md": "---\nmedia: [{path: a.png, alt: A cat}]\n---\nold"},
        files={"posts/a.png": PNG_1PX},
        instance=server.url,
    )
    assert sync(config).exit_code == 0
    (tmp_path / "posts/a.md").write_text("---\nmedia: [{path: a.png, alt: A cat}]\n---\nnew")
    state = tmp_path / "publish.state.json"
    record = json.loads(state.read_text())["posts"]["a"]
    record.setdefault("in_reply_to_id", "1")
    before = len(server.requests)
    target = record["media"][0] if field == "media_id" else record
    target[field] = bad
    state.write_text(json.dumps({"version": 1, "pending": {}, "posts": {"a": record}}, indent=2))
    line = next(n for n, text in enumerate(state.read_text().splitlines(), 1) if f'"{field}"' in text)

    result = sync(config, "--prune")

    assert result.exit_code == 2, result.output
    assert f"publish.state.json:{line}: state:" in result.stderr and "not a server id" in result.stderr
    assert len(server.requests) == before


def test_a_javascript_link_in_the_state_file_exits_2(tmp_path, server):
    config = make_repo(tmp_path, ONE_POST, instance=server.url)
    assert sync(config).exit_code == 0
    state = tmp_path / "publish.state.json"
    state.write_text(re.sub(r'"url": "[^"]*"', '"url": "javascript:alert(1)"', state.read_text()))

    result = CliRunner().invoke(app, ["status", "--config", str(config)])

    assert result.exit_code == 2 and "url: not an http(s) link" in result.stderr


@pytest.mark.parametrize("bad", ["../x", "1/../../admin", "1?x=1", "", None, ["1"], {"id": 1}, True, 1.5])
def test_a_bad_id_from_the_server_is_a_server_error_naming_the_endpoint(client, server, bad):
    answer(server, "POST", STATUSES, status_body(server, id=bad))

    with pytest.raises(ServerError) as raised:
        client.create_status({"status": "x"}, idempotency_key="k")

    assert str(raised.value).startswith(f"POST {STATUSES}: HTTP 200: malformed answer: id is not a server id")


def test_a_server_id_that_climbs_out_is_never_requested(tmp_path, server):
    """A create answered with id "../../…": that run fails; the next ones never put the id in a path."""
    config = make_repo(tmp_path, ONE_POST, instance=server.url)
    answer(server, "POST", STATUSES, status_body(server, id="../../../../api/v1/accounts/1"))

    assert sync(config).exit_code == 1
    assert sync(config).exit_code == 0
    (tmp_path / "posts/hello.md").write_text("Edited.\n")
    assert sync(config, "--prune").exit_code == 0

    assert [r.path for r in server.requests if not MASTODON_PATH.match(r.path)] == []
    assert [r.method for r in server.requests].count("PUT") == 1


@pytest.mark.parametrize("reply_to", ["../1", "1/2"])
def test_a_bad_reply_id_from_the_server_is_refused_not_stored(client, server, reply_to):
    answer(server, "POST", STATUSES, status_body(server, in_reply_to_id=reply_to))

    with pytest.raises(ServerError, match="in_reply_to_id is not a server id"):
        client.create_status({"status": "x"}, idempotency_key="k")


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "https://evil.example/@x/1",
        "data:text/html,x",
        "//evil.example/x",
        ["javascript:alert(1)"],
        "https://user@HOST/x",
        "https://HOST/\x1b[31m",
    ],
)
def test_a_status_link_off_the_instance_is_dropped(tmp_path, server, link):
    config = make_repo(tmp_path, ONE_POST, instance=server.url)
    host = server.url.removeprefix("http://")
    bad = link.replace("HOST", host) if isinstance(link, str) else link
    answer(server, "POST", STATUSES, status_body(server, url=bad))

    result = sync(config)

    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "publish.state.json").read_text())["posts"]["hello"]
    assert record["status_id"] == "113000000000000777" and "url" not in record
    assert str(bad) not in result.output and "javascript" not in result.output


def test_a_status_link_on_the_instance_is_kept(tmp_path, server):
    config = make_repo(tmp_path, ONE_POST, instance=server.url)

    assert sync(config).exit_code == 0

    record = json.loads((tmp_path / "publish.state.json").read_text())["posts"]["hello"]
    assert record["url"] == f"{server.url}/@sandbox/{record['status_id']}"


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("https://m.example/@me/1", True),
        ("HTTPS://M.EXAMPLE/@me/1", True),
        ("http://m.example/@me/1", True),
        ("https://m.example.evil/@me/1", False),
        ("https://evil.example/?https://m.example/", False),
        ("javascript://m.example/%0aalert(1)", False),
        ("https://m.example:99999/", False),
        ("https://m.example/a b", False),
    ],
)
def test_link_on_keeps_http_links_on_the_instance_host_only(link, kept):
    assert (link_on(link, "https://m.example") == link) is kept


@pytest.mark.parametrize("instance", ["https://m.example", "https://m.example/", "http://127.0.0.1:8080"])
def test_an_instance_url_may_be_scheme_host_and_port(tmp_path, instance):
    config = make_repo(tmp_path, ONE_POST, instance=instance)

    assert CliRunner().invoke(app, ["check", "--config", str(config)]).exit_code == 0


@pytest.mark.parametrize(
    ("instance", "complaint"),
    [
        ("https://m.example/?x=1", "no query"),
        ("https://m.example?", "no query"),
        ("https://m.example#frag", "no query (?...) or fragment"),
        ("https://m.example/api", "no path"),
        ("https://token@m.example", "user name"),
        ("https://u:p@m.example", "user name"),
        ("https://m.example:http", "valid port"),
        ("https://m.example\\\\@evil.example", "no spaces"),
        ("javascript:alert(1)", "an http(s) URL"),
    ],
)
def test_an_instance_url_with_anything_more_exits_2(tmp_path, instance, complaint):
    config = make_repo(tmp_path, ONE_POST, instance=instance)

    result = CliRunner().invoke(app, ["check", "--config", str(config)])

    assert result.exit_code == 2
    assert "publish.toml:13: accounts.main.instance: must be the server's address alone" in result.stderr
    assert complaint in result.stderr


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "1?x"])
def test_api_path_refuses_what_is_not_an_id(bad):
    with pytest.raises(ApiError, match=r"refused to request /api/v1/statuses/:id: an id is not a server id"):
        api_path("/api/v1/statuses/{}", bad)


# -- 3. bounds: a deadline for each request, for the run, for pacing; a cap on answers ---------------


# Slow by design: 20 s of real time. The done-criterion, literally; the tests after it are its scaled
# and deterministic companions.
@pytest.mark.real_time
def test_a_dripping_server_ends_sync_max_duration_20_within_30_s_with_exit_1(tmp_path):
    """The run's end is what stops it.

    The answer to the create comes one byte every 5 s, so socket timeouts never trip; the clock is the
    system's, since that is what --max-duration is measured on."""
    with FakeMastodon(token=TOKEN) as server:
        server.add_fault(Fault("POST", STATUSES, "drip", delay=5))
        config = make_repo(tmp_path, ONE_POST, instance=server.url)
        started = time.monotonic()

        result = sync(config, "--max-duration", "20", runner=CliRunner(clock=SystemClock()))

        took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert 19 <= took < 30
    assert f"error: POST {STATUSES}: the run's time (--max-duration) ran out" in result.stderr
    assert "Traceback" not in result.output and TOKEN not in result.output
    assert "hello" in json.loads((tmp_path / "publish.state.json").read_text())["pending"]


def test_a_server_dripping_every_answer_ends_a_short_run_in_time(tmp_path):
    with FakeMastodon(token=TOKEN) as server:
        server.add_fault(Fault("*", "/api/", "drip", delay=0.2, times=50))
        config = make_repo(tmp_path, ONE_POST, instance=server.url)
        started = time.monotonic()

        result = sync(config, "--max-duration", "1", runner=CliRunner(clock=SystemClock()))

        took = time.monotonic() - started
    assert result.exit_code == 1 and took < 3
    assert "error: GET /api/v2/instance: the run's time (--max-duration) ran out after 1 s" in result.stderr


@pytest.mark.parametrize("kind", ["drip", "drip_body"])
def test_a_dripping_answer_is_cut_at_the_request_deadline(make_http, server, kind):
    server.add_fault(Fault("GET", "/api/v2/instance", kind, delay=0.05))
    http = make_http(server.url, deadline=0.6, timeout=5.0)
    started = time.monotonic()

    with pytest.raises(NetworkError) as raised:
        http.request("GET", "/api/v2/instance", auth=False)

    assert str(raised.value) == "GET /api/v2/instance: no complete answer within 0.6 s"
    assert time.monotonic() - started < 2


def test_the_body_deadline_is_checked_on_the_injected_monotonic_time(make_http, server):
    """Deterministic: each look at the time moves it 1 s; the body (dripped) is cut at 10 "s"."""
    ticks = itertools.count()
    server.add_fault(Fault("GET", "/api/v2/instance", "drip_body", delay=0.001))
    http = make_http(server.url, deadline=10, monotonic=lambda: float(next(ticks)))

    with pytest.raises(NetworkError, match="no complete answer within 10 s"):
        http.request("GET", "/api/v2/instance", auth=False)

    assert 10 <= next(ticks) <= 13  # the start, then one look per byte read


def test_a_slow_drip_that_ends_in_time_is_read(make_http, server):
    server.add_fault(Fault("GET", "/api/v2/instance", "drip", delay=0.0002))

    response = make_http(server.url, deadline=30).request("GET", "/api/v2/instance", auth=False)

    assert response.status == 200 and response.body["configuration"]["statuses"]["max_characters"] == 500


def test_the_run_end_caps_the_request_deadline_and_says_so(make_http, server, clock):
    server.add_fault(Fault("POST", STATUSES, "slow", delay=3))
    http = make_http(server.url, timeout=30)
    http.run_ends_at = clock.now() + timedelta(seconds=0.5)
    started = time.monotonic()

    with pytest.raises(TimeUp) as raised:
        http.request("POST", STATUSES, json={"status": "x"})

    assert time.monotonic() - started < 2
    assert str(raised.value) == (
        f"POST {STATUSES}: the run's time (--max-duration) ran out after 0.5 s of this request, before the "
        "answer was complete; whether it was applied is unknown (the next run finds out)"
    )


def test_nothing_is_sent_once_the_run_is_over(make_http, server, clock):
    http = make_http(server.url, retry=RetryPolicy())
    http.run_ends_at = clock.now() - timedelta(seconds=1)

    with pytest.raises(
        TimeUp, match=r"^GET /api/v2/instance: not sent: the run's time \(--max-duration\) is up"
    ):
        http.request("GET", "/api/v2/instance")

    assert server.requests == []


def test_retries_stop_before_a_wait_past_the_run_end(make_http, server, clock):
    server.add_fault(Fault("GET", "/api/v2/instance", "status", status=503, times=10))
    http = make_http(server.url, retry=RetryPolicy(max_attempts=10, base_delay=4, jitter=0))
    http.run_ends_at = clock.now() + timedelta(seconds=10)

    with pytest.raises(ServerError):
        http.request("GET", "/api/v2/instance")

    assert clock.sleeps == [4.0]  # then 8 s more would end after the run
    assert clock.now() <= http.run_ends_at


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "undeclared"])
def test_a_400_mb_answer_is_refused_without_being_read_into_memory(make_http, server, chunked):
    server.add_fault(
        Fault("GET", "/api/v2/instance", "body", status=200, body=b"x" * MIB, repeat=400, chunked=chunked)
    )
    http = make_http(server.url)
    tracemalloc.start()
    try:
        with pytest.raises(ServerError) as raised:
            http.request("GET", "/api/v2/instance", auth=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert str(raised.value) == "GET /api/v2/instance: HTTP 200: answer larger than 4194304 bytes; not read"
    assert peak < 16 * MIB


def test_a_compressed_bomb_counts_what_it_unpacks_to(make_http, server):
    bomb = gzip.compress(b"[" + b" " * (64 * MIB) + b"]")
    server.add_fault(
        Fault("GET", "/api/v2/instance", "body", body=bomb, headers={"Content-Encoding": "gzip"})
    )

    with pytest.raises(ServerError, match="answer larger than 4194304 bytes"):
        make_http(server.url).request("GET", "/api/v2/instance", auth=False)


def test_a_broken_compressed_answer_is_a_network_error(make_http, server):
    server.add_fault(
        Fault(
            "GET", "/api/v2/instance", "body", body=b"not gzip at all", headers={"Content-Encoding": "gzip"}
        )
    )

    with pytest.raises(NetworkError, match="the answer could not be decompressed"):
        make_http(server.url).request("GET", "/api/v2/instance", auth=False)


def used_up_until(server: FakeMastodon, reset: str) -> None:
    """The next create is answered normally, saying the statuses budget is spent until `reset`."""
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    server.add_fault(Fault("POST", STATUSES, "slow", headers=headers))


def test_pacing_refuses_to_wait_until_the_year_2100(client, server, clock):
    used_up_until(server, "2100-01-01T00:00:00.000Z")
    client.create_status({"status": "first"}, idempotency_key="k1")
    before = len(server.requests)

    with pytest.raises(WaitTooLong) as raised:
        client.create_status({"status": "second"}, idempotency_key="k2")

    message = str(raised.value)
    assert message.startswith(f"POST {STATUSES}: the server asked to wait until 2100-01-01T00:00:00Z (in ")
    assert "longer than Mastodon's longest rate-limit window (3.0 h), so publish does not wait" in message
    assert "--max-duration" in message
    assert clock.sleeps == [] and len(server.requests) == before


def test_pacing_waits_a_long_reset_when_max_duration_allows_it(client, server, clock):
    reset = clock.now() + timedelta(hours=5)
    used_up_until(server, reset.isoformat())
    client.create_status({"status": "first"}, idempotency_key="k1")
    client.finish_by(clock.now() + timedelta(hours=6))

    client.create_status({"status": "second"}, idempotency_key="k2")

    assert clock.sleeps and clock.now() >= reset


def test_pacing_past_the_run_end_stops_the_sync_cleanly(tmp_path, server, clock):
    used_up_until(server, "2100-01-01T00:00:00.000Z")
    config = make_repo(tmp_path, {"a.md": "A", "b.md": "B"}, instance=server.url)

    result = library.sync(
        config,
        clock=clock,
        environ=ENV,
        client_factory=client_factory(clock),
        options=library.SyncOptions(max_duration=20),
    )

    (stop,) = [event for event in result.events if event.action == "stopped"]
    assert "the statuses rate limit allows more at 2100-01-01T00:00:00Z" in stop.detail
    assert clock.sleeps == [] and len(server.statuses) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "9" * 30},
        {"retry-after": "²"},
        {"retry-after": "Fri, 31 Dec 99999 23:59:59 GMT"},
        {"x-ratelimit-reset": "99999-01-01T00:00:00Z"},
        {"x-ratelimit-reset": "0001-01-01T00:00:00+05:00"},
    ],
)
def test_absurd_reset_headers_are_ignored_not_raised(headers, clock):
    assert reset_from_headers(headers, clock.now()) is None


@pytest.mark.parametrize("limit", ["0", "²", "-3", "1e9"])
def test_an_announced_limit_that_is_no_count_is_ignored(limit):
    tracker = RateLimitTracker()
    headers = {"x-ratelimit-limit": limit, "x-ratelimit-remaining": "1", "x-ratelimit-reset": "2026-11-24"}

    tracker.remember("media", headers)

    assert tracker.rate_limit("media").limit == 30


def test_a_429_with_a_reset_in_2100_gives_up_at_once(client, server, clock):
    answer(
        server,
        "POST",
        STATUSES,
        {"error": "Too many requests"},
        status=429,
        headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"},
    )

    with pytest.raises(RateLimited, match="retry after 2100-01-01T00:00:00Z"):
        client.create_status({"status": "x"}, idempotency_key="k")

    assert clock.sleeps == []


# -- 4. answers of the wrong shape are ServerErrors naming the endpoint -------------------------------

NOT_AN_OBJECT = {
    "html": (b"<html><title>Hi</title></html>", "a body that is not JSON"),
    "empty": (b"", "an empty body"),
    "list": (b"[]", "a list"),
    "list-of-numbers": (b"[1, 2]", "a list holding a number"),
    "string": (b'"ok"', "a string"),
    "number": (b"42", "a number"),
    "true": (b"true", "true or false"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "a body that is not JSON"),
}


@pytest.mark.parametrize(("body", "kind"), list(NOT_AN_OBJECT.values()), ids=list(NOT_AN_OBJECT))
@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("POST", STATUSES, lambda c: c.create_status({"status": "x"}, idempotency_key="k")),
        ("GET", f"{STATUSES}/1", lambda c: c.get_status("1")),
        ("PUT", f"{STATUSES}/1", lambda c: c.edit_status("1", {"status": "x"})),
        ("GET", f"{STATUSES}/1/source", lambda c: c.status_source("1")),
        ("GET", "/api/v1/accounts/verify_credentials", lambda c: c.verify_credentials()),
        ("GET", "/api/v1/scheduled_statuses/1", lambda c: c.get_scheduled("1")),
    ],
    ids=["create", "get", "edit", "source", "whoami", "scheduled"],
)
def test_an_answer_that_is_no_object_names_the_endpoint(client, server, method, path, call, body, kind):
    answer(server, method, path, body)

    with pytest.raises(ServerError) as raised:
        call(client)

    assert (
        str(raised.value)
        == f"{method} {path}: HTTP 200: malformed answer: expected a JSON object, got {kind}"
    )


@pytest.mark.parametrize(
    "body", [b"{}", b'{"id": "1"}', b'"x"', b"[1]", b'[{"id": "../1"}]', b'[{"no": "id"}]']
)
@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/api/v1/accounts/1/statuses", lambda c: c.account_statuses("1")),
        ("/api/v1/scheduled_statuses", lambda c: c.scheduled_statuses()),
    ],
)
def test_a_list_of_the_wrong_shape_names_the_endpoint(client, server, path, call, body):
    answer(server, "GET", path, body)

    with pytest.raises(ServerError, match=f"^GET {path}: HTTP 200: malformed answer: "):
        call(client)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"id": "1", "acct": "me"}, "username is missing or not a string"),
        ({"id": "1", "username": ["me"], "acct": "me"}, "username is missing or not a string"),
        ({"username": "me", "acct": "me"}, "id is not a server id"),
    ],
)
def test_an_account_of_the_wrong_shape_names_the_endpoint(client, server, body, complaint):
    answer(server, "GET", "/api/v1/accounts/verify_credentials", body)

    with pytest.raises(ServerError, match=complaint):
        client.verify_credentials()


def test_odd_fields_in_a_status_are_read_as_absent(client, server):
    odd = status_body(server, id=113, url=5, created_at="yesterday", spoiler_text=7, media_attachments="x")
    answer(server, "POST", STATUSES, odd)

    status = client.create_status({"status": "x"}, idempotency_key="k")

    assert (status.id, status.url, status.created_at) == ("113", None, None)
    assert status.raw["spoiler_text"] == "" and status.raw["media_attachments"] == []


def test_an_escaped_username_is_what_whoami_shows(tmp_path, server):
    body = {"id": "1", "username": "me\x1b[8m", "acct": "me"}
    answer(server, "GET", "/api/v1/accounts/verify_credentials", body)
    config = make_repo(tmp_path, ONE_POST, instance=server.url)

    result = CliRunner().invoke(app, ["whoami", "--config", str(config)], env=ENV)

    assert result.exit_code == 0 and "@me\\x1b[8m@" in result.stdout


@pytest.mark.parametrize(
    "body", [b"[]", b'{"url": "https://x/1.png"}', b'{"id": "a/b"}', b"<html>", b'{"id": null}']
)
def test_a_media_answer_of_the_wrong_shape_names_the_endpoint(client, server, tmp_path, body):
    picture = tmp_path / "a.png"
    picture.write_bytes(PNG_1PX)
    answer(server, "POST", "/api/v2/media", body)

    with pytest.raises(ServerError, match="^POST /api/v2/media: HTTP 200: malformed answer: "):
        client.upload_media(picture, mime_type="image/png", description="A dot", focus=None)


def test_reconciling_survives_a_page_of_odd_statuses(client, server, clock):
    page = [
        {"id": "9", "created_at": "junk", "spoiler_text": None, "media_attachments": [{}]},
        {"id": 8, "url": "javascript:x", "media_attachments": None, "spoiler_text": 3},
    ]
    answer(server, "GET", f"/api/v1/accounts/{client.verify_credentials().id}/statuses", page)
    answer(server, "GET", f"{STATUSES}/8/source", {"text": ["not", "text"]})

    assert find_existing_status(client, Wanted("hello", "", 0, clock.now())) is None
    asked = [request.path for request in server.requests]
    assert f"{STATUSES}/8/source" in asked and f"{STATUSES}/9/source" not in asked  # 9: other media count


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"error": "x"}', "application/json; charset=x-no-such-charset"),
        (b"\xff\xfe{\x00}\x00", "application/json"),
        (b'{"a": 1}', "text/plain; charset=utf-8"),
    ],
)
def test_odd_encodings_never_raise(make_http, server, body, content_type):
    server.add_fault(
        Fault("GET", "/api/v2/instance", "body", status=200, body=body, content_type=content_type)
    )

    response = make_http(server.url).request("GET", "/api/v2/instance", auth=False)

    assert response.status == 200


@pytest.mark.parametrize(
    "body",
    [b"<html>", b"[]", b'{"id": "../x"}', b'{"url": "x"}', b"[" * 50_000],
)
def test_a_sync_against_a_malformed_create_answer_exits_1_without_traceback(tmp_path, server, body):
    answer(server, "POST", STATUSES, body)
    config = make_repo(tmp_path, ONE_POST, instance=server.url)

    result = sync(config)

    assert result.exit_code == 1
    assert f"error: POST {STATUSES}: HTTP 200: malformed answer" in result.stderr
    assert "Traceback" not in result.output


# -- 5. the sandbox's new faults themselves ------------------------------------------------------------


def test_drip_sends_a_whole_valid_answer_and_processes_the_request(make_http, server):
    server.add_fault(Fault("POST", STATUSES, "drip", delay=0.0002))

    response = make_http(server.url).request("POST", STATUSES, json={"status": "slowly"})

    assert response.status == 200 and response.body["id"] in server.statuses
    assert [status["text"] for status in server.statuses.values()] == ["slowly"]


def test_a_body_fault_answers_exactly_what_it_is_given(make_http, server):
    server.add_fault(Fault("GET", "/api/v2/instance", "body", status=203, body=b"ab", repeat=3, chunked=True))

    response = make_http(server.url).request("GET", "/api/v2/instance", auth=False)

    assert (response.status, response.text) == (203, "ababab")
    assert server.statuses == {}


@pytest.mark.parametrize(
    ("text", "escaped"), [("\x1b", "\\x1b"), ("\x00", "\\x00"), ("\x85", "\\x85"), ("é\t", "é\\x09")]
)
def test_escape_controls(text, escaped):
    assert escape_controls(text) == escaped
