"""Quote posts, quote policies and pins round-trip through the sandbox server: what it received, what it
stores and what the state file holds; servers without quote posts, the server's own pin cap, a lost state
file, and the HTML previews."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests

from publisher import app
from publisher.cli import app as cli
from publisher.errors import Unprocessable
from publisher.output.preview.page import write_preview, write_sandbox_preview
from publisher.output.preview.stored import contents_of
from publisher.plan.state import StateStore
from publisher.sandbox import FakeMastodon, Quirks
from publisher.sandbox.interactions import PIN_ERRORS, QUOTED_NOT_FOUND
from tests.helpers import CliRunner, make_repo, write
from tests.sync_support import ENV, TOKEN, read_state, run_sync

QUOTED = "---\npinned: true\nquote_policy: followers\n---\nThe post everyone quotes."
QUOTING = "---\nquote: quoted\n---\nWell said."


def writes(server: FakeMastodon) -> list[str]:
    return [f"{request.method} {request.path}" for request in server.writes()]


def by_text(server: FakeMastodon) -> dict[str, dict]:
    return {status["text"]: status for status in server.statuses.values()}


def api(server: FakeMastodon, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.request(method, server.url + path, headers=headers, timeout=5, **kwargs)


@pytest.fixture
def repo(tmp_path, server) -> Path:
    return make_repo(tmp_path, {"quoted.md": QUOTED, "quoting.md": QUOTING}, instance=server.url)


def test_a_quote_a_quote_policy_and_a_pin_round_trip(repo, clock, server):
    run_sync(repo, clock)

    quoted, quoting = by_text(server)["The post everyone quotes."], by_text(server)["Well said."]
    assert writes(server) == [
        "POST /api/v1/statuses",
        f"POST /api/v1/statuses/{quoted['id']}/pin",
        "POST /api/v1/statuses",
    ]
    first, second = (request.json for request in server.writes() if request.path == "/api/v1/statuses")
    assert first["quote_approval_policy"] == "followers" and "quoted_status_id" not in first
    assert second["quoted_status_id"] == quoted["id"] and "quote_approval_policy" not in second
    assert quoted["pinned"] is True and quoted["quote_approval"]["automatic"] == ["followers"]
    assert quoting["quote"]["state"] == "accepted" and quoting["quote"]["quoted_status"]["id"] == quoted["id"]
    posts = read_state(repo)["posts"]
    assert (posts["quoted"]["pinned"], posts["quoted"]["quote_policy"]) == (True, "followers")
    assert (posts["quoting"]["quote"], posts["quoting"]["quoted_status_id"]) == ("quoted", quoted["id"])
    assert "server_differs" not in posts["quoted"] and "server_differs" not in posts["quoting"]

    run_sync(repo, clock)  # nothing changed: nothing is sent
    assert len(server.writes()) == 3


def test_unpin_and_a_new_quote_policy_neither_edit_the_status_nor_add_a_revision(repo, clock, server):
    run_sync(repo, clock)
    write(repo.parent / "posts/quoted.md", "---\nquote_policy: nobody\n---\nThe post everyone quotes.")
    events = []
    result = run_sync(repo, clock, events=events)

    quoted = by_text(server)["The post everyone quotes."]
    assert [(c.kind.value, c.reason) for c in result.plan.writes] == [
        ("adjust", "quote policy followers -> nobody; unpin it")
    ]
    assert writes(server)[3:] == [
        f"PUT /api/v1/statuses/{quoted['id']}/interaction_policy",
        f"POST /api/v1/statuses/{quoted['id']}/unpin",
    ]
    assert [event.action for event in events if event.action not in ("started",)] == ["policy", "unpinned"]
    assert quoted["pinned"] is False and quoted["quote_approval"]["automatic"] == []
    assert len(server.history[quoted["id"]]) == 1 and quoted["edited_at"] is None
    record = read_state(repo)["posts"]["quoted"]
    assert record["quote_policy"] == "nobody" and "pinned" not in record


def test_an_edit_carries_the_quote_policy(repo, clock, server):
    run_sync(repo, clock)
    write(repo.parent / "posts/quoted.md", "---\npinned: true\nquote_policy: public\n---\nNow edited.")
    run_sync(repo, clock)

    quoted = by_text(server)["Now edited."]
    assert writes(server)[3:] == [f"PUT /api/v1/statuses/{quoted['id']}"]
    assert server.writes()[-1].json["quote_approval_policy"] == "public"
    assert quoted["quote_approval"]["automatic"] == ["public"] and quoted["pinned"] is True
    assert read_state(repo)["posts"]["quoted"]["quote_policy"] == "public"


def test_a_changed_quote_replaces_the_status(repo, clock, server):
    write(repo.parent / "posts/other.md", "Another post.")
    run_sync(repo, clock)
    old = by_text(server)["Well said."]["id"]
    write(repo.parent / "posts/quoting.md", "---\nquote: other\n---\nWell said.")

    result = run_sync(repo, clock, allow_replace=True, force=True)

    assert [(c.kind.value, c.reason) for c in result.plan.writes] == [
        ("replace", "quote quoted -> other cannot be edited")
    ]
    new = by_text(server)["Well said."]
    assert old not in server.statuses and new["quote"]["quoted_status"]["text"] == "Another post."
    assert read_state(repo)["posts"]["quoting"]["quoted_status_id"] == by_text(server)["Another post."]["id"]


def test_a_status_url_is_read_on_the_own_server_and_looked_up_on_another(tmp_path, clock, server):
    run_sync(make_repo(tmp_path / "first", {"a.md": "Quote me."}, instance=server.url), clock)
    own = by_text(server)["Quote me."]
    posts = {
        "own.md": f"---\nquote: {own['url']}\n---\nQuoting my own URL.",
        "far.md": "---\nquote: https://elsewhere.example/@amy/42\n---\nQuoting Amy.",
    }
    events = []
    run_sync(make_repo(tmp_path / "second", posts, instance=server.url), clock, events=events)

    searches = [r for r in server.requests if r.path == "/api/v2/search"]
    assert [(r.first("q"), r.first("resolve")) for r in searches] == [
        ("https://elsewhere.example/@amy/42", "true")
    ]
    assert by_text(server)["Quoting my own URL."]["quote"]["quoted_status"]["id"] == own["id"]
    assert by_text(server)["Quoting Amy."]["quote"] == {"state": "pending", "quoted_status": None}
    assert [event for event in events if event.action == "mismatch"] == []  # pending is no warning


def test_a_server_that_drops_quotes_is_refused_in_the_plan(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(ignore_quotes=True)) as old:
        config = make_repo(tmp_path, {"quoted.md": QUOTED, "quoting.md": QUOTING}, instance=old.url)
        result = CliRunner(clock=clock).invoke(cli, ["sync", "--config", str(config)], env=ENV)
        assert result.exit_code == 2
        assert "posts/quoting.md:2: quote: quote posts need Mastodon 4.5 (API version 7)" in result.stderr
        assert "the server announces Mastodon API version 6" in result.stderr
        assert old.writes() == [] and old.statuses == {}


def test_a_server_that_drops_quotes_anyway_is_a_warning_recorded_in_the_state(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(ignore_quotes=True)) as old:
        config = make_repo(tmp_path, {"quoted.md": QUOTED, "quoting.md": QUOTING}, instance=old.url)
        config.write_text(config.read_text() + "\n[limits]\nmastodon_api_version = 7\n")
        result = run_sync(config, clock)

        assert [(event.post_id, event.detail) for event in result.mismatches] == [
            ("quoted", 'quote policy: sent "followers", the server stored nothing'),
            ("quoting", f'quote: sent status "{by_text(old)["The post everyone quotes."]["id"]}", '
             "the server stored nothing"),
        ]  # fmt: skip
        posts = read_state(config)["posts"]
        assert posts["quoted"]["server_differs"] == [
            'quote policy: sent "followers", the server stored nothing'
        ]
        assert posts["quoted"]["pinned"] is True  # a pin is no quote post: every Mastodon has them


def test_a_pin_the_server_refuses_stops_the_sync_after_the_status_is_recorded(tmp_path, clock, server):
    for n in range(5):  # pinned by hand: publish does not know of them
        status = api(server, "POST", "/api/v1/statuses", json={"status": f"By hand {n}"}).json()
        assert api(server, "POST", f"/api/v1/statuses/{status['id']}/pin").status_code == 200
    config = make_repo(tmp_path, {"p.md": "---\npinned: true\n---\nPin me."}, instance=server.url)

    with pytest.raises(Unprocessable, match=PIN_ERRORS["limit"]):
        run_sync(config, clock)
    record = read_state(config)["posts"]["p"]
    assert record["status_id"] == by_text(server)["Pin me."]["id"] and "pinned" not in record

    api(server, "POST", f"/api/v1/statuses/{by_text(server)['By hand 0']['id']}/unpin")
    result = run_sync(config, clock)
    assert [change.kind.value for change in result.plan.writes] == ["adjust"]
    assert by_text(server)["Pin me."]["pinned"] is True and read_state(config)["posts"]["p"]["pinned"] is True


def test_a_pin_made_by_a_run_that_died_before_saving_it_is_not_an_error(tmp_path, clock, server):
    config = make_repo(tmp_path, {"p.md": "Pin me later."}, instance=server.url)
    run_sync(config, clock)
    status = by_text(server)["Pin me later."]
    api(server, "POST", f"/api/v1/statuses/{status['id']}/pin")  # as if a run pinned it, then died
    write(config.parent / "posts/p.md", "---\npinned: true\n---\nPin me later.")

    result = run_sync(config, clock)

    assert [r.path for r in server.writes()][-1] == f"/api/v1/statuses/{status['id']}/pin"  # answered 422
    assert result.mismatches == () and read_state(config)["posts"]["p"]["pinned"] is True


def test_a_scheduled_quote_keeps_its_quote_until_the_server_publishes_it(tmp_path, clock, server):
    later = (clock.now() + timedelta(hours=1)).isoformat()
    posts = {
        "quoted.md": "The quoted one.",
        "later.md": f"---\nquote: quoted\npublish_at: {later}\n---\nLater.",
    }
    config = make_repo(tmp_path, posts, instance=server.url)
    run_sync(config, clock)
    (scheduled,) = server.scheduled.values()
    assert scheduled["params"]["quoted_status_id"] == by_text(server)["The quoted one."]["id"]

    clock.advance(timedelta(hours=2).total_seconds())
    server.publish_due_scheduled()
    run_sync(config, clock)

    published = by_text(server)["Later."]
    assert published["quote"]["quoted_status"]["id"] == scheduled["params"]["quoted_status_id"]
    assert read_state(config)["posts"]["later"]["status_id"] == published["id"]


def test_a_lost_state_file_adopts_the_quote_the_policy_and_the_pin(repo, clock, server):
    run_sync(repo, clock)
    first = read_state(repo)["posts"]
    (repo.parent / "publish.state.json").unlink()

    run_sync(repo, clock)

    assert len(server.statuses) == 2 and len(server.writes()) == 3  # found, not posted again
    again = read_state(repo)["posts"]
    kept = ("status_id", "quote", "quoted_status_id", "quote_policy", "pinned")
    assert {key: again["quoted"].get(key) for key in kept} == {key: first["quoted"].get(key) for key in kept}
    # What the server says of the other: the account's default policy, which publish had never set.
    expected = {**{key: first["quoting"].get(key) for key in kept}, "quote_policy": "public"}
    assert {key: again["quoting"].get(key) for key in kept} == expected


def test_a_lost_state_file_leaves_a_pin_made_by_hand_alone(tmp_path, clock, server):
    config = make_repo(tmp_path, {"note.md": "Pinned by hand later."}, instance=server.url)
    run_sync(config, clock)
    [status_id] = server.statuses
    assert api(server, "POST", f"/api/v1/statuses/{status_id}/pin").ok
    (tmp_path / "publish.state.json").unlink()

    run_sync(config, clock)
    run_sync(config, clock)

    assert server.statuses[status_id]["pinned"] is True
    assert [path for path in writes(server) if "pin" in path] == [f"POST /api/v1/statuses/{status_id}/pin"]
    assert read_state(config)["posts"]["note"].get("pinned") is None


def test_the_plan_preview_shows_the_quote_the_policy_and_the_pin(repo, clock, server):
    page = write_preview(app.make_plan(repo, clock=clock), repo.parent / "preview").read_text()
    assert "📌 pinned on the profile" in page and "quotes: followers" in page
    assert 'class="quote quote-wanted"' in page and "<code>quoted</code>" in page


def test_the_sandbox_preview_shows_the_quoted_text(repo, clock, server):
    run_sync(repo, clock)
    posts = StateStore(repo.parent / "publish.state.json").load().posts
    index = write_sandbox_preview(
        contents_of(server, posts),
        app.limits_by_account(app.make_plan(repo, clock=clock).project)["main"],
        repo.parent / "out",
        root=repo.parent,
    )
    page = index.read_text()
    assert 'class="quote quote-accepted"' in page and "The post everyone quotes." in page
    assert page.count("📌 pinned on the profile") == 1


# -- the sandbox server on its own -------------------------------------------------------------------------


def create(server: FakeMastodon, text: str, **fields) -> dict:
    return api(server, "POST", "/api/v1/statuses", json={"status": text, **fields}).json()


def pin(server: FakeMastodon, status_id: str) -> requests.Response:
    return api(server, "POST", f"/api/v1/statuses/{status_id}/pin")


def test_the_sandbox_pins_five_statuses_once_each_and_never_a_direct_one(server):
    ids = [create(server, f"S{n}")["id"] for n in range(6)]
    answers = [pin(server, status_id) for status_id in ids]
    assert [answer.status_code for answer in answers] == [200] * 5 + [422]
    assert answers[-1].json() == {"error": PIN_ERRORS["limit"]}
    assert pin(server, ids[0]).json() == {"error": "Duplicate record"}
    assert api(server, "POST", f"/api/v1/statuses/{ids[0]}/unpin").json()["pinned"] is False
    assert pin(server, ids[5]).json()["pinned"] is True
    direct = create(server, "D", visibility="direct")
    assert pin(server, direct["id"]).json() == {"error": PIN_ERRORS["direct"]}


def test_the_sandbox_keeps_private_posts_unquotable_and_their_quotes_private(server):
    private = create(server, "P", visibility="private", quote_approval_policy="public")
    assert private["quote_approval"]["automatic"] == []  # Mastodon makes it `nobody`
    assert create(server, "Q", quoted_status_id=private["id"])["visibility"] == "private"
    direct = create(server, "D", visibility="direct")
    missing = api(server, "POST", "/api/v1/statuses", json={"status": "Q", "quoted_status_id": direct["id"]})
    assert missing.status_code == 404 and missing.json() == {"error": QUOTED_NOT_FOUND}
