"""The sandbox server behaves like Mastodon 4.x where a batch publisher can tell the difference."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from publisher.sandbox import FakeMastodon, Fault
from publisher.sandbox.text import status_length

TOKEN = "test-token-SECRET-1234567890"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ISO_MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 11, 23, 12, 0, 0, 250000, tzinfo=UTC)):
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class Client:
    """A keep-alive session bound to one server, sending the bearer token."""

    def __init__(self, server: FakeMastodon, token: str | None = TOKEN):
        self.server = server
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.server.url + path, **kwargs)

    def upload(self, data: bytes = PNG, content_type: str = "image/png", **fields) -> requests.Response:
        return self("POST", "/api/v2/media", files={"file": ("pic.png", data, content_type)}, data=fields)

    def post(
        self, text: str = "Hello", key: str | None = None, timeout: float = 5, **fields
    ) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self(
            "POST", "/api/v1/statuses", data={"status": text, **fields}, headers=headers, timeout=timeout
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_server(clock: FakeClock) -> Iterator:
    """Start a server with options (on the fake clock) and a client for it; everything stops afterwards."""
    started: list[tuple[FakeMastodon, Client]] = []

    def make(**options) -> tuple[FakeMastodon, Client]:
        server = FakeMastodon(token=TOKEN, clock=clock, **options).start()
        started.append((server, Client(server)))
        return started[-1]

    yield make
    for server, client in started:
        client.session.close()
        server.stop()


@pytest.fixture
def api(fake_server: FakeMastodon) -> Iterator[Client]:
    client = Client(fake_server)
    yield client
    client.session.close()


# -- media ---------------------------------------------------------------------------------------


def test_media_is_processed_after_the_configured_polls_then_hidden_once_attached(make_server):
    server, api = make_server(media_processing_polls=2)
    upload = api.upload(description="A cat", focus="0.5,-0.25")
    assert upload.status_code == 202 and upload.json()["url"] is None
    media_id = upload.json()["id"]
    polls = [api("GET", f"/api/v1/media/{media_id}") for _ in range(3)]
    assert [r.status_code for r in polls] == [206, 206, 200]
    assert polls[0].json()["url"] is None
    assert polls[2].json()["url"].endswith("/pic.png")
    assert polls[2].json()["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert api.post("With a cat", **{"media_ids[]": media_id}).status_code == 200
    assert api("GET", f"/api/v1/media/{media_id}").json() == {"error": "Record not found"}


def test_synchronous_upload_answers_200_and_serves_the_bytes(api):
    media = api.upload(description="alt").json()
    assert api.upload().status_code == 200
    assert media["type"] == "image" and media["description"] == "alt"
    served = requests.get(media["url"], timeout=5)
    assert served.content == PNG and served.headers["Content-Type"] == "image/png"
    assert api("POST", "/api/v1/media", files={"file": ("a.png", PNG, "image/png")}).status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (b"GIF89a", "image/gif", "gifv"),
        (b"\x00" * 8, "video/mp4", "video"),
        (b"ID3", "audio/mpeg", "audio"),
        (PNG, "application/octet-stream", "image"),
    ],
)
def test_media_type_follows_the_content_type_or_magic_bytes(api, data, content_type, expected):
    assert api.upload(data, content_type).json()["type"] == expected


@pytest.mark.parametrize(
    ("files", "fields", "message"),
    [
        ({}, {}, "File can't be blank"),
        ({"file": ("a.txt", b"hi", "text/plain")}, {}, "content type is invalid"),
        ({"file": ("a.png", PNG, "image/png")}, {"description": "x" * 1501}, "Description is too long"),
    ],
)
def test_invalid_uploads_are_422(api, files, fields, message):
    response = api("POST", "/api/v2/media", files=files or {"other": ("x", b"", "text/plain")}, data=fields)
    assert response.status_code == 422 and message in response.json()["error"]


def test_posting_with_unprocessed_media_is_422_and_creates_nothing(make_server):
    server, api = make_server(media_processing_polls=1)
    media_id = api.upload().json()["id"]
    response = api.post("Too early", **{"media_ids[]": media_id})
    assert (response.status_code, response.json()) == (422, {"error": NOT_READY})
    assert server.statuses == {}


def test_failed_processing_is_422_on_poll_and_blocks_posting(api, fake_server):
    fake_server.fail_next_processing()
    failed = api.upload().json()["id"]
    poll = api("GET", f"/api/v1/media/{failed}")
    assert (poll.status_code, poll.json()) == (
        422,
        {"error": "Error processing thumbnail for uploaded media"},
    )
    assert api.post("x", **{"media_ids[]": failed}).json() == {"error": NOT_READY}
    assert api.upload().status_code == 200  # only the next upload failed


def test_media_can_be_described_before_attachment_only(api):
    media_id = api.upload().json()["id"]
    updated = api("PUT", f"/api/v1/media/{media_id}", data={"description": "New", "focus": "0,1"})
    assert updated.json()["description"] == "New" and updated.json()["meta"]["focus"] == {"x": 0.0, "y": 1.0}
    api.post("x", **{"media_ids[]": media_id})
    assert api("PUT", f"/api/v1/media/{media_id}", data={"description": "Late"}).status_code == 404


# -- creating statuses ---------------------------------------------------------------------------


def send_status(
    api: Client, encoding: str, fields: dict[str, str], media_ids: list[str]
) -> requests.Response:
    """POST a status with the same fields as JSON, url-encoded or multipart form data."""
    if encoding == "json":
        return api("POST", "/api/v1/statuses", json={**fields, "media_ids": media_ids})
    pairs = [*fields.items(), *(("media_ids[]", media_id) for media_id in media_ids)]
    if encoding == "form":
        return api("POST", "/api/v1/statuses", data=pairs)
    return api("POST", "/api/v1/statuses", files=[(name, (None, value)) for name, value in pairs])


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
def test_status_fields_are_read_from_form_multipart_and_json_bodies(api, fake_server, encoding):
    first, second = api.upload().json()["id"], api.upload().json()["id"]
    fields = {
        "status": "Hi\n\nthere <you>",
        "spoiler_text": "CW",
        "visibility": "unlisted",
        "sensitive": "false",
        "language": "de",
    }
    response = send_status(api, encoding, fields, [second, first])
    sent_as = fake_server.requests[-1].headers["content-type"]
    assert sent_as.startswith(
        {"form": "application/x-www", "multipart": "multipart/", "json": "application/json"}[encoding]
    )
    status = response.json()
    assert response.status_code == 200, status
    assert status["content"] == "<p>Hi</p><p>there &lt;you&gt;</p>" and status["text"] == fields["status"]
    assert (status["spoiler_text"], status["visibility"], status["language"]) == ("CW", "unlisted", "de")
    assert status["sensitive"] is True  # a content warning always makes it sensitive
    assert [m["id"] for m in status["media_attachments"]] == [second, first]
    assert status["url"] == f"{fake_server.url}/@sandbox/{status['id']}"
    assert list(fake_server.statuses) == [status["id"]]


def test_status_ids_increase_and_created_at_comes_from_the_clock(make_server, clock):
    server, api = make_server()
    first = api.post("one").json()
    clock.advance(60)
    second = api.post("two").json()
    assert int(second["id"]) > int(first["id"])
    assert (first["created_at"], second["created_at"]) == (
        "2026-11-23T12:00:00.250Z",
        "2026-11-23T12:01:00.250Z",
    )


@pytest.mark.parametrize(
    ("fields", "status_code", "message"),
    [
        ({"status": " "}, 422, "Validation failed: Text can't be blank"),
        ({"status": "x" * 501}, 422, "Validation failed: Text character limit of 500 exceeded"),
        ({"status": "x" * 490, "spoiler_text": "y" * 11}, 422, "Text character limit of 500 exceeded"),
        ({"status": "hi", "visibility": "everyone"}, 422, None),
        ({"status": "hi", "media_ids[]": ["1", "2", "3", "4", "5"]}, 422, "Cannot attach more than 4 files"),
        (
            {"status": "hi", "media_ids[]": ["42"]},
            422,
            "Media 42 not found or already attached to another post",
        ),
        ({"status": "hi", "in_reply_to_id": "999"}, 404, "Record not found"),
    ],
)
def test_invalid_statuses_are_rejected_and_create_nothing(api, fake_server, fields, status_code, message):
    response = api("POST", "/api/v1/statuses", data=fields)
    assert response.status_code == status_code
    assert message is None or message in response.json()["error"]
    assert fake_server.statuses == {}


@pytest.mark.parametrize(("max_characters", "status_code"), [(32, 200), (31, 422)])
def test_urls_and_remote_mentions_count_like_mastodon(make_server, max_characters, status_code):
    server, api = make_server(max_characters=max_characters)
    long_url = "https://example.com/" + "a" * 100
    assert api.post(f"{long_url} @someone@very.long.example.org").status_code == status_code  # 23 + 1 + 8


@pytest.mark.parametrize(
    ("text", "spoiler", "expected"),
    [
        ("héllo", "", 5),
        ("e\u0301", "", 1),
        ("👍🏽👨‍👩‍👧🇫🇷", "", 3),
        ("@anna@example.social hi", "", 8),
        ("see https://a.example/very/long/path?query=1", "cw", 4 + 23 + 2),
        ("mail@me.example", "", 15),
    ],
)
def test_status_length(text, spoiler, expected):
    assert status_length(text, spoiler, 23) == expected


def test_media_cannot_be_attached_twice(api):
    media_id = api.upload().json()["id"]
    assert api.post("first", **{"media_ids[]": media_id}).status_code == 200
    second = api.post("second", **{"media_ids[]": media_id})
    assert second.status_code == 422 and "not found or already attached" in second.json()["error"]


def test_poll_is_created_and_cannot_be_combined_with_media(make_server):
    server, api = make_server()
    poll = {"poll[options][]": ["Yes", "No"], "poll[expires_in]": "3600", "poll[multiple]": "true"}
    status = api.post("Vote?", **poll).json()
    assert [o["title"] for o in status["poll"]["options"]] == ["Yes", "No"] and status["poll"]["multiple"]
    assert status["poll"]["expires_at"] == "2026-11-23T13:00:00.250Z"
    media_id = api.upload().json()["id"]
    assert api.post("Both", **poll, **{"media_ids[]": media_id}).status_code == 422
    assert (
        api.post("One option", **{"poll[options][]": ["Only"], "poll[expires_in]": "3600"}).status_code == 422
    )


# -- idempotency ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("honour", "expected_statuses"), [(True, 1), (False, 2)])
def test_idempotency_key_replays_the_original_status(make_server, honour, expected_statuses):
    server, api = make_server(honour_idempotency=honour)
    first = api.post("Once", key="post-1")
    replay = api.post("Once, edited body is not compared", key="post-1")
    assert first.status_code == replay.status_code == 200
    assert (replay.json()["id"] == first.json()["id"]) is honour
    assert len(server.statuses) == expected_statuses


def test_idempotency_key_expires_after_an_hour_and_failures_are_not_remembered(make_server, clock):
    server, api = make_server()
    assert api.post(" ", key="k").status_code == 422
    original = api.post("Once", key="k").json()
    clock.advance(3599)
    assert api.post("Once", key="k").json()["id"] == original["id"]
    clock.advance(2)
    assert api.post("Once", key="k").json()["id"] != original["id"]
    assert len(server.statuses) == 2


# -- rate limits ---------------------------------------------------------------------------------


def test_rate_limit_headers_use_the_most_specific_family(make_server):
    server, api = make_server()
    read = api("GET", "/api/v1/accounts/verify_credentials")
    upload = api.upload()
    post = api.post("hi")
    assert (read.headers["X-RateLimit-Limit"], read.headers["X-RateLimit-Remaining"]) == ("300", "299")
    assert (upload.headers["X-RateLimit-Limit"], upload.headers["X-RateLimit-Remaining"]) == ("30", "29")
    assert (post.headers["X-RateLimit-Limit"], post.headers["X-RateLimit-Remaining"]) == ("300", "299")
    assert ISO_MICROSECONDS.match(read.headers["X-RateLimit-Reset"])
    assert read.headers["X-RateLimit-Reset"] == "2026-11-23T12:05:00.250000Z"
    assert upload.headers["X-RateLimit-Reset"] == "2026-11-23T12:30:00.250000Z"
    assert "X-RateLimit-Limit" not in api("GET", "/api/v2/instance").headers


def test_exceeding_a_limit_is_429_without_processing_until_the_window_ends(make_server, clock):
    server, api = make_server(rate_limits={"statuses": (2, 600)})
    assert [api.post(f"n{i}").status_code for i in range(3)] == [200, 200, 429]
    refused = api.post("again")
    assert refused.json() == {"error": "Too many requests"} and "Retry-After" not in refused.headers
    assert refused.headers["X-RateLimit-Remaining"] == "0" and refused.headers["X-RateLimit-Limit"] == "2"
    assert len(server.statuses) == 2
    clock.advance(600)
    assert api.post("next window").status_code == 200


def test_overall_request_limit_applies_to_every_authenticated_request(make_server):
    server, api = make_server(rate_limits={"requests": (3, 300)})
    codes = [api("GET", "/api/v1/accounts/verify_credentials").status_code for _ in range(3)]
    assert codes + [api.post("x").status_code] == [200, 200, 200, 429]
    assert server.statuses == {}


# -- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_missing_or_wrong_token_is_401(fake_server, token):
    client = Client(fake_server, token)
    try:
        response = client.post("x")
        assert (response.status_code, response.json()) == (401, {"error": "The access token is invalid"})
        assert client("GET", "/api/v2/instance").status_code == 200
    finally:
        client.session.close()
    assert fake_server.statuses == {}


def test_oauth_app_registration_and_code_exchange(api, fake_server):
    app = api(
        "POST",
        "/api/v1/apps",
        data={
            "client_name": "publish",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "write:statuses write:media",
        },
    ).json()
    assert {"id", "name", "client_id", "client_secret", "redirect_uri"} <= set(app)
    page = api("GET", "/oauth/authorize", params={"client_id": app["client_id"], "response_type": "code"})
    code = re.search(r'<code id="code">([^<]+)</code>', page.text).group(1)
    exchange = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": app["redirect_uri"],
    }
    token = api("POST", "/oauth/token", data={**exchange, "code": code}).json()
    assert token["access_token"] == TOKEN and token["token_type"] == "Bearer"
    reused = api("POST", "/oauth/token", data={**exchange, "code": code})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    issued = fake_server.issue_auth_code()
    assert api("POST", "/oauth/token", json={**exchange, "code": issued}).status_code == 200
    assert api("POST", "/oauth/token", data={**exchange, "code": "sandbox-code"}).status_code == 200


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status_code", "content_type"),
    [
        (
            Fault("POST", "/api/v1/statuses", "status", 503, headers={"Retry-After": "3"}),
            503,
            "application/json",
        ),
        (Fault("*", "/api/v1/", "html", 502), 502, "text/html"),
    ],
)
def test_answering_faults_do_not_process_and_are_used_up(api, fake_server, fault, status_code, content_type):
    fake_server.add_fault(fault)
    failed = api.post("x")
    assert failed.status_code == status_code and failed.headers["Content-Type"].startswith(content_type)
    assert fake_server.statuses == {}
    if fault.kind == "status":
        assert failed.json() == {"error": "Service Unavailable"} and failed.headers["Retry-After"] == "3"
    else:
        assert "<title>502 Bad Gateway</title>" in failed.text
    assert api.post("x").status_code == 200
    assert [r.path for r in fake_server.writes()] == ["/api/v1/statuses"] * 2


@pytest.mark.parametrize(("kind", "committed"), [("drop_before", 0), ("drop_after", 1)])
def test_dropped_connections_look_like_network_errors(api, fake_server, kind, committed):
    fake_server.add_fault(Fault("POST", "/api/v1/statuses", kind))
    with pytest.raises(requests.ConnectionError):
        api.post("x")
    assert len(fake_server.statuses) == committed
    assert api.post("y").status_code == 200  # the session reconnects


def test_slow_fault_processes_after_the_client_gave_up(api, fake_server):
    fake_server.add_fault(Fault("POST", "/api/v1/statuses", "slow", delay=0.15))
    with pytest.raises(requests.ReadTimeout):
        api.post("x", timeout=0.03)
    deadline = time.monotonic() + 2
    while not fake_server.statuses and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake_server.statuses) == 1


def test_faults_match_method_and_prefix_in_order_and_for_their_times(api, fake_server):
    fake_server.add_fault(Fault("GET", "/api/v1/statuses", "status", 500))
    fake_server.add_fault(Fault("*", "/api/v2/media", "status", 504, message="first", times=2))
    fake_server.add_fault(Fault("*", "/api/v2/media", "status", 413, message="second"))
    assert [api.upload().status_code for _ in range(4)] == [504, 504, 413, 200]
    assert api.post("not a GET").status_code == 200
    assert len(fake_server.requests) == 5


# -- editing, deleting, reading ------------------------------------------------------------------


def test_edit_clears_omitted_fields_and_keeps_visibility(api, fake_server):
    media_id = api.upload(description="old alt").json()["id"]
    original = api.post(
        "v1",
        spoiler_text="CW",
        sensitive="true",
        visibility="private",
        language="fr",
        **{"media_ids[]": media_id},
    ).json()
    edited = api(
        "PUT", f"/api/v1/statuses/{original['id']}", data={"status": "v2", "visibility": "public"}
    ).json()
    assert (edited["text"], edited["spoiler_text"], edited["sensitive"]) == ("v2", "", False)
    assert (edited["media_attachments"], edited["visibility"], edited["language"]) == ([], "private", "fr")
    assert edited["edited_at"] is not None and edited["id"] == original["id"]
    assert fake_server.statuses[original["id"]]["text"] == "v2"
    assert len(api("GET", f"/api/v1/statuses/{original['id']}/history").json()) == 2


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_edit_updates_media_attributes(api, encoding):
    first, second = api.upload(description="a").json()["id"], api.upload(description="b").json()["id"]
    status_id = api.post("pics", **{"media_ids[]": [first, second]}).json()["id"]
    if encoding == "json":
        body = {
            "status": "pics",
            "media_ids": [first, second],
            "media_attributes": [{"id": first, "description": "A"}, {"id": second, "focus": "0.1,0.2"}],
        }
        edited = api("PUT", f"/api/v1/statuses/{status_id}", json=body).json()
    else:
        body = [
            ("status", "pics"),
            ("media_ids[]", first),
            ("media_ids[]", second),
            ("media_attributes[][id]", first),
            ("media_attributes[][description]", "A"),
            ("media_attributes[][id]", second),
            ("media_attributes[][focus]", "0.1,0.2"),
        ]
        edited = api("PUT", f"/api/v1/statuses/{status_id}", data=body).json()
    media = edited["media_attachments"]
    assert [m["description"] for m in media] == ["A", "b"]
    assert media[1]["meta"]["focus"] == {"x": 0.1, "y": 0.2}
    assert edited["edited_at"] is not None


def test_identical_edit_records_no_revision(api):
    status = api.post("same", language="en").json()
    again = api("PUT", f"/api/v1/statuses/{status['id']}", json={"status": "same", "language": "en"}).json()
    assert again["edited_at"] is None
    assert len(api("GET", f"/api/v1/statuses/{status['id']}/history").json()) == 1


def test_delete_returns_the_source_and_frees_media_for_a_redraft(api, fake_server):
    media_id = api.upload().json()["id"]
    status = api.post("bye", **{"media_ids[]": media_id}).json()
    assert api("GET", f"/api/v1/statuses/{status['id']}/source").json() == {
        "id": status["id"],
        "text": "bye",
        "spoiler_text": "",
    }
    deleted = api("DELETE", f"/api/v1/statuses/{status['id']}")
    assert deleted.status_code == 200 and deleted.json()["text"] == "bye"
    assert deleted.headers["X-RateLimit-Limit"] == "30"
    assert fake_server.statuses == {}
    for method in ("GET", "PUT", "DELETE"):
        assert api(method, f"/api/v1/statuses/{status['id']}", data={"status": "x"}).status_code == 404
    assert api.post("redraft", **{"media_ids[]": media_id}).status_code == 200


def test_account_statuses_are_paged_newest_first(api):
    ids = [api.post(f"n{i}").json()["id"] for i in range(5)]
    account_id = api("GET", "/api/v1/accounts/verify_credentials").json()["id"]
    path = f"/api/v1/accounts/{account_id}/statuses"
    first = api("GET", path, params={"limit": 2})
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    assert f"max_id={ids[3]}" in first.links["next"]["url"]
    older = api("GET", path, params={"limit": 2, "max_id": ids[3]}).json()
    assert [s["id"] for s in older] == [ids[2], ids[1]]
    assert [s["id"] for s in api("GET", path, params={"since_id": ids[2]}).json()] == [ids[4], ids[3]]
    assert [s["id"] for s in api("GET", path, params={"min_id": ids[0], "limit": 2}).json()] == [
        ids[2],
        ids[1],
    ]
    assert len(api("GET", path).json()) == 5
    assert api("GET", "/api/v1/accounts/999/statuses").status_code == 404


# -- scheduling ----------------------------------------------------------------------------------


def test_scheduled_status_lifecycle(make_server, clock):
    server, api = make_server()
    media_id = api.upload().json()["id"]
    at = (clock.now() + timedelta(minutes=10)).isoformat()
    scheduled = api.post("later", scheduled_at=at, **{"media_ids[]": media_id}).json()
    assert scheduled["params"]["text"] == "later" and scheduled["media_attachments"][0]["id"] == media_id
    assert scheduled["scheduled_at"] == "2026-11-23T12:10:00.250Z"
    assert server.statuses == {} and list(server.scheduled) == [scheduled["id"]]
    assert api("GET", "/api/v1/scheduled_statuses").json() == [scheduled]
    moved = api(
        "PUT", f"/api/v1/scheduled_statuses/{scheduled['id']}", data={"scheduled_at": "2026-11-23T13:00:00Z"}
    )
    assert moved.json()["scheduled_at"] == "2026-11-23T13:00:00.000Z"
    clock.advance(3600)
    [status_id] = server.publish_due_scheduled()
    assert server.scheduled == {} and server.statuses[status_id]["media_attachments"][0]["id"] == media_id
    assert server.published_from_scheduled == {scheduled["id"]: status_id}


@pytest.mark.parametrize(("minutes_ahead", "expected"), [(4, 422), (-1, "status"), (5, "scheduled")])
def test_scheduled_at_must_be_five_minutes_ahead_or_in_the_past(make_server, clock, minutes_ahead, expected):
    server, api = make_server()
    at = (clock.now() + timedelta(minutes=minutes_ahead)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    response = api.post("when?", scheduled_at=at)
    if expected == 422:
        assert response.json() == {"error": "Validation failed: Scheduled at date must be in the future"}
    else:
        assert ("params" in response.json()) is (expected == "scheduled")
    assert len(server.statuses) + len(server.scheduled) == (0 if expected == 422 else 1)


def test_scheduled_status_can_be_cancelled(api, fake_server):
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled_id = api.post("later", scheduled_at=at).json()["id"]
    assert api("DELETE", f"/api/v1/scheduled_statuses/{scheduled_id}").json() == {}
    assert api("GET", f"/api/v1/scheduled_statuses/{scheduled_id}").status_code == 404


# -- protocol and recording ----------------------------------------------------------------------


def test_recorded_requests_show_fields_arrays_files_headers_and_json(api, fake_server):
    api.upload(description="alt")
    api(
        "POST",
        "/api/v1/statuses?x=1",
        data={"status": "hi", "media_ids[]": ["1", "2"]},
        headers={"Idempotency-Key": "abc"},
    )
    api("PUT", "/api/v1/statuses/1", json={"status": "edit", "media_ids": []})
    api("GET", "/api/v1/accounts/verify_credentials")
    upload, post, put, _ = fake_server.requests
    assert upload.form == {"description": ["alt"]} and upload.files["file"] == ("pic.png", "image/png", PNG)
    assert post.form == {"status": ["hi"], "media_ids[]": ["1", "2"]} and post.query == {"x": ["1"]}
    assert post.headers["idempotency-key"] == "abc" and post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.path == "/api/v1/statuses" and post.json is None
    assert put.json == {"status": "edit", "media_ids": []}
    assert [r.method for r in fake_server.writes()] == ["POST", "POST", "PUT"]


def test_protocol_errors(api):
    unknown = api("GET", "/api/v1/nothing-here")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Record not found"})
    assert unknown.headers["Content-Type"] == "application/json; charset=utf-8"
    malformed = api(
        "POST", "/api/v1/statuses", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "error" in malformed.json()


def test_instance_describes_the_configured_limits(make_server):
    server, api = make_server(max_characters=1000, max_media_attachments=6, characters_reserved_per_url=25)
    v2 = api("GET", "/api/v2/instance").json()
    assert v2["configuration"]["statuses"] == {
        "max_characters": 1000,
        "max_media_attachments": 6,
        "characters_reserved_per_url": 25,
    }
    assert v2["version"] == "4.5.0" and v2["api_versions"] == {"mastodon": 7}  # 7: quote posts
    assert "image/webp" in v2["configuration"]["media_attachments"]["supported_mime_types"]
    v1 = api("GET", "/api/v1/instance").json()
    assert v1["configuration"] == v2["configuration"] and v1["uri"] == v2["domain"]


def test_concurrent_uploads_get_distinct_ids(api, fake_server):
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(
            pool.map(
                lambda _: requests.post(
                    f"{fake_server.url}/api/v2/media",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    files={"file": ("p.png", PNG, "image/png")},
                    timeout=5,
                ),
                range(8),
            )
        )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 8 == len(fake_server.media)


def test_keep_alive_requests_are_fast(api):
    api("GET", "/api/v2/instance")
    started = time.perf_counter()
    for index in range(15):
        assert api.post(f"n{index}").status_code == 200
    assert time.perf_counter() - started < 0.5  # 15 x 40 ms of delayed ACKs would be 0.6 s


def test_latency_is_added_to_every_response(make_server):
    server, api = make_server(latency=0.05)
    started = time.perf_counter()
    api("GET", "/api/v2/instance")
    assert time.perf_counter() - started >= 0.05


def test_status_page_shows_the_post(api):
    media_id = api.upload(description="A cat").json()["id"]
    status = api.post("Look", **{"media_ids[]": media_id}).json()
    page = requests.get(status["url"], timeout=5).text
    assert "<p>Look</p>" in page and 'alt="A cat"' in page
    assert json.loads(api("GET", f"/api/v1/statuses/{status['id']}").text)["id"] == status["id"]
