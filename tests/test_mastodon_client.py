"""MastodonClient against the fake Mastodon over real HTTP, timed by a FakeClock."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from publisher.clock import FakeClock
from publisher.errors import MediaProcessingFailed, NetworkError, NotFound, Unprocessable
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.retry import RetryPolicy
from publisher.mastodon.statuses import Account, Media, ScheduledStatus, Status, status_params
from publisher.sandbox import FakeMastodon, Fault
from publisher.source.models import DesiredStatus, PollSpec

TOKEN = "tok-m4stodon-xyz789"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STATUSES = "/api/v1/statuses"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f8b0b40000000049454e44ae426082"
)
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"


@pytest.fixture(autouse=True)
def token_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    ours = [record for record in caplog.records if not record.name.startswith("publisher.sandbox")]
    assert not [record for record in ours if TOKEN in record.getMessage()]


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def make_client(clock, stop_later):
    """Start a fake server with the given options and return (client, server)."""
    started: list[HttpClient] = []

    def make(
        *, timeout=5.0, retry: RetryPolicy | None = None, client_options: dict | None = None, **server_options
    ):
        server = FakeMastodon(token=TOKEN, clock=clock, **server_options)
        server.start()
        stop_later(server)
        retry = retry or RetryPolicy(random=random.Random(3))
        http = HttpClient(server.url, TOKEN, clock=clock, timeout=timeout, retry=retry)
        started.append(http)
        return MastodonClient(http, clock, **(client_options or {})), server

    yield make
    for http in started:
        http.close()


@pytest.fixture
def client_and_server(make_client):
    return make_client()


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(PNG_1PX)
    return path


def desired(**fields) -> DesiredStatus:
    base = {"post_id": "p1", "source": "posts/p1.md", "account": "main", "text": "Hello", "language": "en"}
    return DesiredStatus(**{**base, **fields})


def requests_to(server: FakeMastodon, method: str, path: str) -> list:
    return [r for r in server.requests if r.method == method and r.path.startswith(path)]


def upload_png(client: MastodonClient, path) -> Media:
    return client.upload_processed(path, mime_type="image/png", description="A cat", focus="0.5,-0.25")


def raised(exc_type, call, match: str | None = None):
    """The exception `call` raises, checked to be of `exc_type` and free of the token."""
    with pytest.raises(exc_type, match=match) as info:
        call()
    assert TOKEN not in str(info.value)
    return info.value


@contextlib.contextmanager
def json_server(status: int, body: dict):
    """A local server answering every request with `status` and the JSON `body`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# -- media -------------------------------------------------------------------------------------------


def test_upload_streams_the_file_with_alt_text_and_focus(client_and_server, png):
    client, server = client_and_server

    media = client.upload_media(png, mime_type="image/png", description="A cat", focus="0.5,-0.25")

    sent = requests_to(server, "POST", "/api/v2/media")[0]
    assert sent.files["file"] == ("cat.png", "image/png", PNG_1PX)
    assert sent.form["description"] == ["A cat"] and sent.form["focus"] == ["0.5,-0.25"]
    assert media.processed and media.url
    assert server.media[media.id]["description"] == "A cat"


def test_upload_polls_202_206_200_with_backoff(make_client, png, clock):
    client, server = make_client(media_processing_polls=4)

    media = upload_png(client, png)

    assert media.processed and media.url
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(requests_to(server, "GET", f"/api/v1/media/{media.id}")) == 5


def test_upload_retry_sends_the_whole_file_again(client_and_server, png):
    client, server = client_and_server
    server.add_fault(Fault("POST", "/api/v2/media", "drop_before"))

    client.upload_media(png, mime_type="image/png", description=None, focus=None)

    uploads = requests_to(server, "POST", "/api/v2/media")
    assert [upload.files["file"][2] for upload in uploads] == [PNG_1PX, PNG_1PX]
    assert len(server.media) == 1


def test_202_with_url_counts_as_processed(png, clock):
    pleroma_answer = {"id": "7", "type": "image", "url": "https://pleroma.example/media/cat.png"}
    with json_server(202, pleroma_answer) as url, HttpClient(url, TOKEN, clock=clock) as http:
        media = MastodonClient(http, clock).upload_processed(
            png, mime_type="image/png", description=None, focus=None
        )

    assert media == Media(id="7", url="https://pleroma.example/media/cat.png", processed=True)
    assert clock.sleeps == []


def test_unprocessed_upload_reports_not_processed(make_client, png):
    client, _ = make_client(media_processing_polls=1)

    media = client.upload_media(png, mime_type="image/png", description=None, focus=None)

    assert media == Media(id=media.id, url=None, processed=False)


def test_processing_deadline_raises(make_client, png, clock):
    client, _ = make_client(media_processing_polls=1000, client_options={"processing_deadline": 60})

    raised(MediaProcessingFailed, lambda: upload_png(client, png), match="still processing after 60 s")

    assert max(clock.sleeps) == 10.0
    assert sum(clock.sleeps) == pytest.approx(60.0)


def test_processing_failure_is_uploaded_again_once(client_and_server, png):
    client, server = client_and_server
    server.fail_next_processing(1)

    media = upload_png(client, png)

    assert media.processed
    assert len(requests_to(server, "POST", "/api/v2/media")) == 2


def test_processing_failure_twice_names_the_file(client_and_server, png):
    client, server = client_and_server
    server.fail_next_processing(2)

    error = raised(MediaProcessingFailed, lambda: upload_png(client, png))

    assert "cat.png" in str(error) and "re-upload" in str(error)
    assert len(requests_to(server, "POST", "/api/v2/media")) == 2


def test_wait_until_processed_raises_on_failure(client_and_server, png):
    client, server = client_and_server
    server.fail_next_processing(1)
    media = client.upload_media(png, mime_type="image/png", description=None, focus=None)

    raised(MediaProcessingFailed, lambda: client.wait_until_processed(media.id))


# -- statuses ----------------------------------------------------------------------------------------


def test_create_status_sends_json_and_the_idempotency_key(client_and_server, png):
    client, server = client_and_server
    media = upload_png(client, png)

    status = client.create_status(status_params(desired(), [media.id]), idempotency_key="post-p1-r1")

    sent = requests_to(server, "POST", STATUSES)[0]
    assert sent.json["status"] == "Hello" and sent.json["media_ids"] == [media.id]
    assert sent.headers["idempotency-key"] == "post-p1-r1"
    assert isinstance(status, Status) and status.url and status.created_at is not None
    assert server.statuses[status.id]["language"] == "en"


def test_not_finished_processing_is_posted_again(client_and_server, clock):
    client, server = client_and_server
    server.add_fault(Fault("POST", STATUSES, "status", status=422, message=NOT_READY, times=2))

    client.create_status(status_params(desired(), []), idempotency_key="k")

    assert clock.sleeps == [2.0, 2.0]
    assert len(requests_to(server, "POST", STATUSES)) == 3
    assert len(server.statuses) == 1


def test_not_finished_processing_gives_up_after_the_configured_tries(make_client, clock):
    client, server = make_client(client_options={"not_ready_retries": 2})
    server.add_fault(Fault("POST", STATUSES, "status", status=422, message=NOT_READY, times=10))

    params = status_params(desired(), [])
    raised(
        Unprocessable,
        lambda: client.create_status(params, idempotency_key="k"),
        match="not finished processing",
    )

    assert len(requests_to(server, "POST", STATUSES)) == 3


def test_other_422_is_raised_at_once(client_and_server, clock):
    client, server = client_and_server

    params = status_params(desired(text="x" * 600), [])
    raised(Unprocessable, lambda: client.create_status(params, idempotency_key="k"), match="character limit")

    assert len(requests_to(server, "POST", STATUSES)) == 1
    assert clock.sleeps == []


def test_dropped_answer_is_retried_with_the_same_key(client_and_server):
    client, server = client_and_server
    server.add_fault(Fault("POST", STATUSES, "drop_after"))

    status = client.create_status(status_params(desired(), []), idempotency_key="same")

    keys = [r.headers["idempotency-key"] for r in requests_to(server, "POST", STATUSES)]
    assert keys == ["same", "same"]
    assert list(server.statuses) == [status.id]


def test_timeout_is_retried_with_the_same_key(make_client):
    client, server = make_client(timeout=0.2)
    server.add_fault(Fault("POST", STATUSES, "slow", delay=0.5))

    status = client.create_status(status_params(desired(), []), idempotency_key="slow-key")

    keys = [r.headers["idempotency-key"] for r in requests_to(server, "POST", STATUSES)]
    assert keys == ["slow-key", "slow-key"]
    assert list(server.statuses) == [status.id]


def test_timeout_without_retries_left_is_a_network_error(make_client):
    client, server = make_client(timeout=0.2, retry=RetryPolicy(max_attempts=1))
    server.add_fault(Fault("GET", STATUSES, "slow", delay=0.5))

    raised(NetworkError, lambda: client.get_status("1"), match="read timeout")


def test_edit_get_and_delete(client_and_server):
    client, server = client_and_server
    status = client.create_status(status_params(desired(), []), idempotency_key="k")

    edited = client.edit_status(status.id, status_params(desired(text="Hello again"), []))
    fetched = client.get_status(status.id)
    deleted = client.delete_status(status.id)

    assert requests_to(server, "PUT", STATUSES)[0].json["status"] == "Hello again"
    assert edited.id == fetched.id == status.id
    assert "Hello again" in fetched.raw["content"]
    assert deleted["id"] == status.id
    raised(NotFound, lambda: client.get_status(status.id))


def test_account_and_its_statuses(client_and_server):
    client, server = client_and_server
    for n in range(3):
        client.create_status(status_params(desired(text=f"post {n}"), []), idempotency_key=f"k{n}")

    account = client.verify_credentials()
    page = client.account_statuses(account.id, limit=2)
    rest = client.account_statuses(account.id, limit=2, max_id=page[-1]["id"])

    assert isinstance(account, Account) and account.username
    assert len(page) == 2 and len(rest) == 1
    assert requests_to(server, "GET", "/api/v1/accounts/")[-1].query["max_id"] == [page[-1]["id"]]


def test_instance_is_read_without_auth(client_and_server):
    client, server = client_and_server

    info = client.instance()

    assert info["configuration"]["statuses"]["max_characters"] == 500
    assert "authorization" not in server.requests[-1].headers


def test_instance_falls_back_to_v1(client_and_server):
    client, server = client_and_server
    server.add_fault(Fault("GET", "/api/v2/instance", "status", status=404, message="Record not found"))

    info = client.instance()

    assert server.requests[-1].path == "/api/v1/instance"
    assert info


# -- scheduled statuses ------------------------------------------------------------------------------


def test_scheduled_status_lifecycle(client_and_server, clock):
    client, server = client_and_server
    when = clock.now() + timedelta(hours=1)

    scheduled = client.create_status(status_params(desired(), [], scheduled_at=when), idempotency_key="s")
    listed = client.scheduled_statuses()
    moved = client.reschedule(scheduled.id, when + timedelta(hours=1))
    client.delete_scheduled(scheduled.id)

    assert isinstance(scheduled, ScheduledStatus) and scheduled.scheduled_at == when
    assert [item["id"] for item in listed] == [scheduled.id]
    assert moved.scheduled_at == when + timedelta(hours=1)
    assert client.scheduled_statuses() == []
    assert server.statuses == {}


# -- status_params -----------------------------------------------------------------------------------


def test_status_params_are_explicit():
    params = status_params(desired(spoiler_text="cw", visibility="unlisted", sensitive=True), ["1", "2"])

    assert params == {
        "status": "Hello",
        "media_ids": ["1", "2"],
        "spoiler_text": "cw",
        "visibility": "unlisted",
        "sensitive": True,
        "language": "en",
    }


def test_status_params_with_reply_poll_and_schedule():
    poll = PollSpec(options=("yes", "no"), expires_in=3600, multiple=True)
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

    params = status_params(desired(poll=poll), [], in_reply_to_id="99", scheduled_at=when)

    assert params["in_reply_to_id"] == "99"
    assert params["poll"] == {
        "options": ["yes", "no"],
        "expires_in": 3600,
        "multiple": True,
        "hide_totals": False,
    }
    assert params["scheduled_at"] == "2026-12-01T09:30:00Z"
