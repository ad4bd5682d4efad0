"""`publish import`: an account with statuses of its own comes under management without a single write."""

from __future__ import annotations

import json

import pytest
import requests

from publisher import app
from publisher.cli import app as cli
from publisher.sandbox.server import FakeMastodon
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import ENV, TOKEN, read_state, run_sync

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def post_status(server: FakeMastodon, **fields) -> dict:
    answer = requests.post(f"{server.url}/api/v1/statuses", json=fields, headers=AUTH, timeout=5)
    answer.raise_for_status()
    return answer.json()


def upload(server: FakeMastodon, data: bytes, alt: str, focus: str) -> str:
    files = {"file": ("p.png", data, "image/png")}
    form = {"description": alt, "focus": focus}
    answer = requests.post(f"{server.url}/api/v2/media", files=files, data=form, headers=AUTH, timeout=5)
    answer.raise_for_status()
    return answer.json()["id"]


def ten_statuses_without_files(server: FakeMastodon) -> None:
    """Written in the web interface: plain, with markup-like text, a CW, media, a poll, a reply."""
    first = post_status(server, status="Written by hand, with *stars* and _underscores_ and #hashtag.")
    post_status(server, status="A reply to my own post.", in_reply_to_id=first["id"])
    post_status(server, status="Careful now.", spoiler_text="Spoilers", visibility="unlisted", sensitive=True)
    post_status(server, status="Auf Deutsch.", language="de")
    media = [upload(server, PNG_1PX + bytes([n]), f"Picture {n}", "0.5,-0.25") for n in (1, 2)]
    post_status(server, status="Two pictures.", media_ids=media)
    post_status(server, status="Which one?", poll={"options": ["This", "That"], "expires_in": 86400})
    for n in range(4):
        post_status(server, status=f"Line one of {n}\n\n- a list\n1. numbered\n> quoted\n+++")


@pytest.fixture
def account_with_fifty(tmp_path, clock):
    """40 statuses published from files (the state then lost), 10 made on the server."""
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=False) as server:
        posts = {f"p{n:02}.md": f"Post {n} from a file." for n in range(40)}
        config = make_repo(tmp_path, posts, instance=server.url)
        run_sync(config, clock)
        (tmp_path / "publish.state.json").unlink()
        ten_statuses_without_files(server)
        assert len(server.statuses) == 50
        server.requests.clear()
        yield server, config


def test_dry_run_records_nothing_and_sends_nothing(account_with_fifty, clock, tmp_path):
    server, config = account_with_fifty
    result = CliRunner(env=ENV, clock=clock).invoke(cli, ["import", "--dry-run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Import: 40 would record, 0 files written, 10 statuses without a file" in result.stdout
    assert not (tmp_path / "publish.state.json").exists()
    assert server.writes() == []


def test_import_records_forty_and_writes_ten_files_that_plan_unchanged(account_with_fifty, clock, tmp_path):
    server, config = account_with_fifty
    runner = CliRunner(env=ENV, clock=clock)
    result = runner.invoke(
        cli,
        ["import", "--write-files", str(tmp_path / "posts" / "imported"), "--json", "--config", str(config)],
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["matched"]) == 50 and len(document["written"]) == 10
    assert document["unmatched"] == [] and document["skipped"] == []
    assert server.writes() == []
    state = read_state(config)["posts"]
    assert {record["status_id"] for record in state.values()} == set(server.statuses)
    plan = app.make_plan(config, clock=clock).plan
    assert plan.counts()["unchanged"] == 50 and not plan.writes
    pictures = (tmp_path / "posts" / "imported" / "media").iterdir()
    assert sorted(path.read_bytes()[-1] for path in pictures) == [1, 2]


def test_write_files_outside_the_posts_folder_is_refused(account_with_fifty, clock, tmp_path):
    server, config = account_with_fifty
    runner = CliRunner(env=ENV, clock=clock)
    result = runner.invoke(
        cli, ["import", "--write-files", str(tmp_path / "elsewhere"), "--config", str(config)]
    )
    assert result.exit_code == 2 and "not inside the posts folder" in result.stderr
    assert server.requests == []


def test_a_written_file_that_does_not_render_back_is_removed(tmp_path, clock):
    signed = {"default.txt.j2": "{{ body }}\n\n(posted with publish)"}
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = make_repo(tmp_path, {}, instance=server.url, templates=signed)
        post_status(server, status="Written by hand.")
        result = CliRunner(env=ENV, clock=clock).invoke(
            cli, ["import", "--write-files", str(tmp_path / "posts"), "--config", str(config)]
        )
    assert result.exit_code == 0, result.output
    assert "does not reproduce its status; removed" in result.stdout
    assert list((tmp_path / "posts").glob("*.md")) == []
    assert read_state(config)["posts"] == {}
