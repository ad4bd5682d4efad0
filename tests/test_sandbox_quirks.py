"""Quirks make the sandbox store statuses the way other servers do; without them it stores what it got."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests

from publisher.clock import iso_utc
from publisher.sandbox import FakeMastodon, Quirks
from publisher.sandbox import server as sandbox_server

TOKEN = "sandbox-token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SCHEDULED = "/api/v1/scheduled_statuses"


@dataclass(frozen=True)
class Sandbox:
    server: FakeMastodon
    session: requests.Session

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.server.url + path, timeout=5, **kwargs)

    def upload(self, description: str | None = None, focus: str | None = None) -> str:
        fields = {name: value for name, value in (("description", description), ("focus", focus)) if value}
        answer = self.call(
            "POST", "/api/v2/media", files={"file": ("pic.png", PNG, "image/png")}, data=fields
        )
        assert answer.status_code == 200
        return answer.json()["id"]

    def create(self, encoding: str, media_ids: list[str], **fields) -> dict:
        return self._ok("POST", "/api/v1/statuses", body(encoding, media_ids, **fields))

    def edit(self, status_id: str, encoding: str, media_ids: list[str], **fields) -> dict:
        return self._ok("PUT", f"/api/v1/statuses/{status_id}", body(encoding, media_ids, **fields))

    def _ok(self, method: str, path: str, request: dict) -> dict:
        answer = self.call(method, path, **request)
        assert answer.status_code == 200, answer.text
        return answer.json()


def body(encoding: str, media_ids: list[str], attributes: tuple[dict, ...] = (), **fields) -> dict:
    """The request's keyword arguments: a JSON body, or form fields as Rails reads them."""
    fields = {"status": "pics", **fields}
    if encoding == "json":
        return {"json": {**fields, "media_ids": media_ids, "media_attributes": list(attributes)}}
    pairs = [*fields.items(), *(("media_ids[]", media_id) for media_id in media_ids)]
    pairs += [(f"media_attributes[][{key}]", value) for item in attributes for key, value in item.items()]
    return {"data": pairs}


@pytest.fixture
def sandbox(clock) -> Iterator[Callable[..., Sandbox]]:
    """Start a sandbox with the quirks named (as keyword switches); all stop after the test."""
    with ExitStack() as running:

        def start(**quirks: bool) -> Sandbox:
            server = running.enter_context(FakeMastodon(clock=clock, quirks=Quirks(**quirks)))
            session = running.enter_context(requests.Session())
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            return Sandbox(server, session)

        yield start


def attached(status: dict) -> list[str]:
    return [media["id"] for media in status["media_attachments"]]


ENCODINGS = pytest.mark.parametrize("encoding", ["json", "form"])


# -- without quirks ----------------------------------------------------------------------------------


@ENCODINGS
def test_without_quirks_the_server_keeps_order_ids_attributes_and_language(sandbox, encoding):
    api = sandbox()
    first, second, third = (api.upload(f"alt {n}", "0.1,0.1") for n in range(3))
    status = api.create(encoding, [third, first, second], language="it")
    change = ({"id": first, "description": "new alt", "focus": "0.5,-0.5"},)
    edited = api.edit(status["id"], encoding, [third, first, second], attributes=change, language="ko")

    assert attached(status) == attached(edited) == [third, first, second]
    assert (status["language"], edited["language"]) == ("it", "ko")
    assert edited["media_attachments"][1]["description"] == "new alt"
    assert edited["media_attachments"][1]["meta"]["focus"] == {"x": 0.5, "y": -0.5}
    assert api.server.statuses[status["id"]] == edited and api.server.quirks == Quirks()


# -- one quirk at a time -----------------------------------------------------------------------------


@ENCODINGS
def test_keep_last_media_id_attaches_only_the_last_id_of_a_create(sandbox, encoding):
    api = sandbox(keep_last_media_id=True)
    first, second = api.upload(), api.upload()
    status = api.create(encoding, [first, second])

    assert attached(status) == attached(api.server.statuses[status["id"]]) == [second]
    assert api.server.media[first]["_status_id"] is None  # free to attach elsewhere


@ENCODINGS
def test_keep_last_media_id_attaches_only_the_last_id_of_an_edit(sandbox, encoding):
    api = sandbox(keep_last_media_id=True)
    first, second = api.upload(), api.upload()
    status = api.create(encoding, [first])
    edited = api.edit(status["id"], encoding, [first, second])

    assert attached(edited) == attached(api.server.statuses[status["id"]]) == [second]


@ENCODINGS
def test_ignore_media_attributes_keeps_alt_text_and_focus_through_an_edit(sandbox, encoding):
    api = sandbox(ignore_media_attributes=True)
    media_id = api.upload("old alt", "0.1,0.2")
    status = api.create(encoding, [media_id])
    change = ({"id": media_id, "description": "new alt", "focus": "0.5,0.5"},)
    edited = api.edit(status["id"], encoding, [media_id], attributes=change)

    [media] = edited["media_attachments"]
    assert (media["description"], media["meta"]["focus"]) == ("old alt", {"x": 0.1, "y": 0.2})
    assert edited["edited_at"] is None  # nothing else changed: the edit was a no-op
    assert api.server.media[media_id]["description"] == "old alt"


@pytest.mark.parametrize("scheduled", [False, True])
def test_order_media_by_id_returns_attachments_in_id_order(sandbox, clock, scheduled):
    api = sandbox(order_media_by_id=True)
    ids = [api.upload() for _ in range(3)]
    when = {"scheduled_at": iso_utc(clock.now() + timedelta(hours=1))} if scheduled else {}
    answer = api.create("json", [ids[2], ids[0], ids[1]], **when)

    assert attached(answer) == sorted(ids, key=int) == ids
    book = api.server.scheduled if scheduled else api.server.statuses
    assert attached(book[answer["id"]]) == ids


@pytest.mark.parametrize(
    ("language", "stored"), [("it", "en"), ("pt-BR", "en"), ("de", "de"), ("ja", "ja"), ("en", "en")]
)
@pytest.mark.parametrize("step", ["create", "edit"])
def test_replace_unknown_language_stores_english_instead(sandbox, language, stored, step):
    api = sandbox(replace_unknown_language=True)
    status = api.create("json", [], language=language if step == "create" else "fr")
    if step == "edit":
        status = api.edit(status["id"], "json", [], status="edited", language=language)

    assert status["language"] == stored
    assert api.server.statuses[status["id"]]["language"] == stored


def test_quirks_are_named_by_their_fields():
    assert Quirks.names() == (
        "keep_last_media_id",
        "ignore_media_attributes",
        "order_media_by_id",
        "replace_unknown_language",
        "ignore_quotes",
    )
    chosen = Quirks.named(["order_media_by_id", "keep_last_media_id"])
    assert chosen == Quirks(keep_last_media_id=True, order_media_by_id=True)
    assert chosen.active() == ("keep_last_media_id", "order_media_by_id")
    with pytest.raises(ValueError, match="unknown quirks: nope"):
        Quirks.named(["nope"])


def test_main_runs_a_server_with_the_quirks_given(monkeypatch, capsys):
    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)  # Ctrl-C at the first tick of the serving loop
    sandbox_server.main(["--quirk", "order_media_by_id", "--quirk", "replace_unknown_language"])

    assert "quirks: order_media_by_id, replace_unknown_language" in capsys.readouterr().err


def test_main_refuses_an_unknown_quirk(capsys):
    with pytest.raises(SystemExit):
        sandbox_server.main(["--quirk", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


# -- paging scheduled statuses -----------------------------------------------------------------------


def schedule(api: Sandbox, clock, count: int) -> list[str]:
    """`count` scheduled statuses, at most 20 a day (Mastodon allows 25)."""
    moments = [clock.now() + timedelta(days=1 + n // 20) for n in range(count)]
    return [api.create("json", [], status="later", scheduled_at=iso_utc(at))["id"] for at in moments]


@pytest.mark.parametrize(
    ("query", "expected", "link_limit"),
    [
        ({}, [4, 3, 2, 1, 0], 20),
        ({"limit": 2}, [4, 3], 2),
        ({"limit": 2, "max_id": 3}, [2, 1], 2),
        ({"since_id": 2}, [4, 3], 20),
        ({"min_id": 0, "limit": 2}, [2, 1], 2),
        ({"max_id": 4, "since_id": 1}, [3, 2], 20),
        ({"limit": "x"}, [4, 3, 2, 1, 0], 20),
    ],
)
def test_scheduled_statuses_are_paged_newest_first(sandbox, clock, query, expected, link_limit):
    api = sandbox()
    ids = schedule(api, clock, 5)
    params = {name: ids[value] if name.endswith("_id") else value for name, value in query.items()}
    page = api.call("GET", SCHEDULED, params=params)

    assert [item["id"] for item in page.json()] == [ids[n] for n in expected]
    newest, oldest = ids[expected[0]], ids[expected[-1]]
    assert page.links["next"]["url"].endswith(f"{SCHEDULED}?limit={link_limit}&max_id={oldest}")
    assert page.links["prev"]["url"].endswith(f"{SCHEDULED}?limit={link_limit}&min_id={newest}")


@pytest.mark.parametrize(("limit", "shown"), [("1", 1), ("40", 40), ("41", 40), ("0", 1)])
def test_scheduled_statuses_limit_is_between_1_and_40(sandbox, clock, limit, shown):
    api = sandbox()
    schedule(api, clock, 41)

    assert len(api.call("GET", SCHEDULED, params={"limit": limit}).json()) == shown


def test_an_empty_page_of_scheduled_statuses_has_no_link_header(sandbox):
    answer = sandbox().call("GET", SCHEDULED, params={"limit": 5})
    assert answer.json() == [] and "Link" not in answer.headers
