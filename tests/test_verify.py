"""stored_differences: what a server kept otherwise than it was sent, field by field and on quirky servers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from datetime import timedelta

import pytest

from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.retry import RetryPolicy
from publisher.mastodon.statuses import status_params
from publisher.plan.verify import Mismatch, stored_differences
from publisher.sandbox import FakeMastodon, Quirks
from publisher.source.models import DesiredStatus, PollSpec

TOKEN = "sandbox-token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CAT = {"id": "11", "description": "A cat", "focus": "0.5,-0.25"}
DOG = {"id": "12", "description": "A dog"}
SENT = {
    "status": "Hello",
    "media_ids": ["11", "12"],
    "spoiler_text": "",
    "visibility": "public",
    "sensitive": False,
    "language": "en",
    "media_attributes": [CAT, DOG],
}
CAT_STORED = {"id": "11", "description": "A cat", "meta": {"focus": {"x": 0.5, "y": -0.25}}}
DOG_STORED = {"id": "12", "description": "A dog", "meta": {}}
STORED = {
    "id": "99",
    "spoiler_text": "",
    "visibility": "public",
    "sensitive": False,
    "language": "en",
    "poll": None,
    "media_attachments": [CAT_STORED, DOG_STORED],
}
POLL_SENT = {"options": ["Yes", "No"], "expires_in": 3600, "multiple": False, "hide_totals": False}
POLL_STORED = {
    "options": [{"title": "Yes", "votes_count": 0}, {"title": "No", "votes_count": 0}],
    "multiple": False,
}
NO_MEDIA = {"media_ids": [], "media_attributes": []}


def differences(sent_changes: dict, stored_changes: dict) -> list[str]:
    return [m.describe() for m in stored_differences({**SENT, **sent_changes}, {**STORED, **stored_changes})]


# -- status fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored", "expected"),
    [
        ({}, {}, []),
        (
            {"spoiler_text": "CW"},
            {"spoiler_text": "", "sensitive": True},
            ['spoiler_text: sent "CW", the server stored nothing'],
        ),
        ({"spoiler_text": ""}, {"spoiler_text": None}, []),
        ({"visibility": "unlisted"}, {}, ['visibility: sent "unlisted", the server stored "public"']),
        ({"visibility": None}, {"visibility": "private"}, []),
        ({"sensitive": True}, {}, ["sensitive: sent true, the server stored false"]),
        ({"sensitive": False, "spoiler_text": "CW"}, {"sensitive": True, "spoiler_text": "CW"}, []),
        ({"sensitive": False, "spoiler_text": "CW"}, {"sensitive": False, "spoiler_text": "CW"}, []),
        ({"language": "xx"}, {}, ['language: sent "xx", the server stored "en"']),
        ({"language": None}, {"language": "de"}, []),
        ({"language": "EN"}, {}, []),
        ({"language": "de"}, {"language": None}, ['language: sent "de", the server stored nothing']),
        ({}, {"language": 5}, ['language: sent "en", the server stored 5']),
        ({}, {"spoiler_text": 0}, ["spoiler_text: sent nothing, the server stored 0"]),
        ({}, {"visibility": ["public"]}, ['visibility: sent "public", the server stored ["public"]']),
    ],
)
def test_status_fields(sent, stored, expected):
    assert differences(sent, stored) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (POLL_STORED, []),
        (
            {**POLL_STORED, "multiple": True},
            ['poll: sent "Yes", "No", the server stored "Yes", "No" (multiple choice)'],
        ),
        ({**POLL_STORED, "options": [{"title": "Yes"}]}, ['poll: sent "Yes", "No", the server stored "Yes"']),
        (None, ['poll: sent "Yes", "No", the server stored nothing']),
        ({"options": ["Yes", "No"], "multiple": False}, []),  # as a ScheduledStatus keeps it
    ],
)
def test_poll_titles_and_multiple_choice(stored, expected):
    assert differences({**NO_MEDIA, "poll": POLL_SENT}, {"media_attachments": [], "poll": stored}) == expected


def test_a_scheduled_status_is_read_from_its_params():
    params = {"text": "Hello", "media_ids": ["11", "12"], "spoiler_text": None, "visibility": "public"}
    params |= {"sensitive": False, "language": "fr", "poll": None}
    scheduled = {"id": "7", "scheduled_at": "2026-11-24T12:00:00.000Z", "params": params}
    scheduled["media_attachments"] = [DOG_STORED, CAT_STORED]

    assert [m.describe() for m in stored_differences(SENT, scheduled)] == [
        'language: sent "en", the server stored "fr"',
        "media order: sent 1, 2, the server stored 2, 1",
    ]


# -- media ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attachments", "expected"),
    [
        ([CAT_STORED], ["media count: sent 2, the server stored 1"]),
        ([], ["media count: sent 2, the server stored 0"]),
        ([DOG_STORED, CAT_STORED], ["media order: sent 1, 2, the server stored 2, 1"]),
        ([CAT_STORED, {**DOG_STORED, "id": "13"}], []),  # other ids: neither count nor order
        (
            [{**CAT_STORED, "description": ""}, DOG_STORED],
            ['alt text of media 1: sent "A cat", the server stored nothing'],
        ),
        (
            [CAT_STORED, {**DOG_STORED, "description": "A cat"}],
            ['alt text of media 2: sent "A dog", the server stored "A cat"'],
        ),
        ([{**CAT_STORED, "meta": {"focus": {"x": 0.505, "y": -0.259}}}, DOG_STORED], []),
        (
            [{**CAT_STORED, "meta": {}}, DOG_STORED],
            ["focus of media 1: sent 0.5,-0.25, the server stored nothing"],
        ),
        (
            [CAT_STORED, {**DOG_STORED, "meta": {"focus": {"x": 0.3, "y": 0}}}],
            ["focus of media 2: sent nothing, the server stored 0.3,0"],
        ),
        ([CAT_STORED, {**DOG_STORED, "meta": {"focus": {"x": 0, "y": 0}}}], []),
    ],
)
def test_media_count_order_alt_text_and_focus(attachments, expected):
    assert differences({}, {"media_attachments": attachments}) == expected


@pytest.mark.parametrize(
    ("attribute", "stored", "expected"),
    [
        ({"id": "12", "description": None}, {"description": ""}, []),
        ({"id": "12", "description": ""}, {"description": None}, []),
        ({"id": "12", "focus": None}, {"description": None, "meta": {"focus": {"x": 0.0, "y": 0.0}}}, []),
        (
            {"id": "12", "focus": {"x": 0.2, "y": 0.1}},
            {"description": None, "meta": {"focus": {"x": 0.2, "y": 0.1}}},
            [],
        ),
        (
            {"id": "12", "focus": "0.2,0.1"},
            {"description": None, "meta": {"focus": {"x": 0.1, "y": 0.1}}},
            ["focus of media 2: sent 0.2,0.1, the server stored 0.1,0.1"],
        ),
    ],
)
def test_alt_text_and_focus_read_absent_null_and_blank_as_none(attribute, stored, expected):
    sent = {"media_attributes": [CAT, attribute]}
    assert differences(sent, {"media_attachments": [CAT_STORED, {**DOG_STORED, **stored}]}) == expected


def test_an_attachment_missing_from_media_ids_is_named_by_its_place_in_media_attributes():
    sent = {**SENT, "media_ids": ["12"], "media_attributes": [DOG, CAT]}
    stored = {**STORED, "media_attachments": [DOG_STORED, {**CAT_STORED, "description": "?"}]}

    assert [m.field for m in stored_differences(sent, stored)] == ["media count", "alt text of media 2"]


# -- shown values and odd shapes ------------------------------------------------------------------------


def test_shown_values_are_short_and_escaped():
    [mismatch] = stored_differences({"spoiler_text": "\x1b[31m" + "x" * 200}, {"spoiler_text": "y"})
    assert mismatch == Mismatch("spoiler_text", '"\\x1b[31m' + "x" * 49 + '…"', '"y"')
    assert len(mismatch.sent) == 60


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        "x",
        {"media_attachments": "x", "poll": "x", "language": 5, "visibility": ["public"]},
        {"media_attachments": [1, None, {"id": None, "meta": "x", "description": 3}]},
        {"params": "x", "media_attachments": [{"id": "11", "meta": {"focus": {"x": "a", "y": None}}}]},
        {"params": {"poll": {"options": "x", "multiple": "yes"}, "sensitive": {}}},
        {"media_attachments": [{"id": "11", "meta": {"focus": {"x": 10**400, "y": float("nan")}}}]},
    ],
)
@pytest.mark.parametrize(
    "sent",
    [
        {**SENT, "poll": POLL_SENT},
        {"media_ids": 5, "media_attributes": "x", "poll": "x", "language": 7, "spoiler_text": None},
        {
            "media_ids": ["11"],
            "media_attributes": [{"id": "11", "focus": "a,b,c"}, {"id": "11", "focus": 3}, 4],
        },
        {"media_ids": [None], "media_attributes": [{"id": None, "focus": "1e400,x"}]},
        {"media_ids": [10**5000], "language": 10**5000, "poll": {"options": [10**5000]}},
        "not a dict",
    ],
)
def test_odd_shapes_never_raise(sent, answer):
    found = stored_differences(sent, answer)
    assert all(isinstance(m, Mismatch) and len(m.sent) <= 60 and len(m.stored) <= 60 for m in found)
    assert all(m.describe().startswith(f"{m.field}: sent ") for m in found)


@pytest.mark.parametrize("answer", [{"id": "99"}, {"params": {}}, None])
def test_a_field_the_answer_lacks_is_not_compared(answer):
    assert stored_differences(SENT, answer) == []


def test_an_attachment_without_a_description_key_is_compared_on_focus_only():
    media = [{"id": "11", "meta": {}}, {"id": "12"}]
    assert differences({}, {"media_attachments": media}) == [
        "focus of media 1: sent 0.5,-0.25, the server stored nothing"
    ]


# -- against the sandbox's quirks, through MastodonClient ---------------------------------------------------


PICTURES = (("A cat", "0.5,-0.25"), ("A dog", None))


@pytest.fixture
def connect(clock, tmp_path) -> Iterator[Callable[..., tuple[MastodonClient, list[dict]]]]:
    """A client for a sandbox with the quirks named, and the media_attributes of two images uploaded to it:
    dog first, the reverse of the upload order (and so of the ids)."""
    (tmp_path / "pic.png").write_bytes(PNG)
    with ExitStack() as running:

        def start(**quirks: bool) -> tuple[MastodonClient, list[dict]]:
            server = running.enter_context(FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(**quirks)))
            retry = RetryPolicy(random=random.Random(3))
            http = running.enter_context(
                closing(HttpClient(server.url, TOKEN, clock=clock, timeout=5, retry=retry))
            )
            client = MastodonClient(http, clock)
            cat, dog = (upload(client, tmp_path / "pic.png", *picture) for picture in PICTURES)
            return client, [dog, cat]

        yield start


def upload(client: MastodonClient, path, alt: str, focus: str | None) -> dict:
    media = client.upload_processed(path, mime_type="image/png", description=alt, focus=focus)
    return {"id": media.id, "description": alt, **({"focus": focus} if focus else {})}


def create_params(attributes: list[dict], **when) -> dict:
    """In Italian, with a content warning but not marked sensitive."""
    desired = DesiredStatus(
        post_id="p1", source="posts/p1.md", account="main", text="Hello", spoiler_text="CW", language="it"
    )
    return status_params(desired, [attribute["id"] for attribute in attributes], **when)


QUIRKS = [
    ({}, []),
    ({"keep_last_media_id": True}, ["media count"]),
    ({"order_media_by_id": True}, ["media order"]),
    ({"replace_unknown_language": True}, ["language"]),
    ({"ignore_media_attributes": True}, []),  # nothing to ignore in a create
]


@pytest.mark.parametrize(("quirks", "expected"), QUIRKS)
def test_create_reports_what_a_quirky_server_stored_otherwise(connect, quirks, expected):
    client, attributes = connect(**quirks)
    params = create_params(attributes)
    answer = client.create_status(params, idempotency_key="p1")

    sent = {**params, "media_attributes": attributes}
    assert [m.field for m in stored_differences(sent, answer.raw)] == expected


@pytest.mark.parametrize(("quirks", "expected"), QUIRKS[:4])
def test_scheduled_create_reports_what_a_quirky_server_stored_otherwise(connect, clock, quirks, expected):
    client, attributes = connect(**quirks)
    params = create_params(attributes, scheduled_at=clock.now() + timedelta(hours=1))
    answer = client.create_status(params, idempotency_key="p1")

    assert "params" in answer.raw
    sent = {**params, "media_attributes": attributes}
    assert [m.field for m in stored_differences(sent, answer.raw)] == expected


@pytest.mark.parametrize(
    ("quirks", "expected"),
    [*QUIRKS[:4], ({"ignore_media_attributes": True}, ["alt text of media 1", "focus of media 2"])],
)
def test_edit_reports_what_a_quirky_server_stored_otherwise(connect, quirks, expected):
    client, attributes = connect(**quirks)
    status = client.create_status(create_params(attributes), idempotency_key="p1")
    params = create_params(attributes)
    params.pop("visibility")
    dog, cat = attributes
    params["media_attributes"] = [{**dog, "description": "A wolf"}, {**cat, "focus": "0,0.75"}]
    edited = client.edit_status(status.id, params)

    assert [m.field for m in stored_differences(params, edited.raw)] == expected


def test_a_poll_is_stored_as_sent(connect):
    client, _ = connect()
    poll = PollSpec(options=("A", "B"), expires_in=600)
    desired = DesiredStatus(post_id="p2", source="posts/p2.md", account="main", text="Vote", poll=poll)
    params = status_params(desired, [])
    answer = client.create_status(params, idempotency_key="p2")

    assert stored_differences(params, answer.raw) == []
    multiple = {**params, "poll": {**params["poll"], "multiple": True}}
    assert [m.describe() for m in stored_differences(multiple, answer.raw)] == [
        'poll: sent "A", "B" (multiple choice), the server stored "A", "B"'
    ]
