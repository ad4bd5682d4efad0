"""`publish import`: an account with statuses of its own comes under management without a single write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from publisher import app
from publisher.cli import app as cli
from publisher.sandbox.server import FakeMastodon
from publisher.source.frontmatter import parse_markdown_file
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import ENV, TOKEN, read_state, run_sync

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FROM_FILES, BY_HAND = 40, 14


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


def pin(server: FakeMastodon, status_id: str) -> None:
    answer = requests.post(f"{server.url}/api/v1/statuses/{status_id}/pin", headers=AUTH, timeout=5)
    answer.raise_for_status()


def far_status(server: FakeMastodon, url: str) -> dict:
    """Another server's status, as the sandbox fetches it for a search with resolve=true."""
    query = {"q": url, "type": "statuses", "resolve": "true"}
    answer = requests.get(f"{server.url}/api/v2/search", params=query, headers=AUTH, timeout=5)
    answer.raise_for_status()
    return answer.json()["statuses"][0]


def statuses_without_files(server: FakeMastodon) -> None:
    """Written in the web interface: plain, with markup-like text, a CW, media, a poll, a reply, a pinned
    status, and quotes of its own statuses (one written by hand, one from a file) and of another server's."""
    first = post_status(server, status="Written by hand, with *stars* and _underscores_ and #hashtag.")
    post_status(server, status="A reply to my own post.", in_reply_to_id=first["id"])
    post_status(server, status="Careful now.", spoiler_text="Spoilers", visibility="unlisted", sensitive=True)
    post_status(server, status="Auf Deutsch.", language="de")
    media = [upload(server, PNG_1PX + bytes([n]), f"Picture {n}", "0.5,-0.25") for n in (1, 2)]
    post_status(server, status="Two pictures.", media_ids=media)
    post_status(server, status="Which one?", poll={"options": ["This", "That"], "expires_in": 86400})
    for n in range(4):
        post_status(server, status=f"Line one of {n}\n\n- a list\n1. numbered\n> quoted\n+++")
    pinned = post_status(server, status="Pinned on my profile.")
    pin(server, pinned["id"])
    post_status(server, status="Quoting myself.", quoted_status_id=first["id"])
    from_file = next(status for status in server.statuses.values() if status["text"] == "Post 7 from a file.")
    post_status(server, status="Quoting a post of the repository.", quoted_status_id=from_file["id"])
    amy = far_status(server, "https://elsewhere.example/@amy/42")
    post_status(server, status="Quoting Amy, who has not approved it yet.", quoted_status_id=amy["id"])


@pytest.fixture
def account_with_statuses(tmp_path, clock):
    """40 statuses published from files (the state then lost), 14 made on the server."""
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=False) as server:
        posts = {f"p{n:02}.md": f"Post {n} from a file." for n in range(FROM_FILES)}
        config = make_repo(tmp_path, posts, instance=server.url)
        run_sync(config, clock)
        (tmp_path / "publish.state.json").unlink()
        statuses_without_files(server)
        assert len(server.statuses) == FROM_FILES + BY_HAND
        server.requests.clear()
        yield server, config


def test_dry_run_records_nothing_and_sends_nothing(account_with_statuses, clock, tmp_path):
    server, config = account_with_statuses
    result = CliRunner(env=ENV, clock=clock).invoke(cli, ["import", "--dry-run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (
        f"Import: {FROM_FILES} would record, 0 files written, {BY_HAND} statuses without a file"
        in result.stdout
    )
    assert not (tmp_path / "publish.state.json").exists()
    assert server.writes() == []


def import_into(folder: Path, config: Path, clock) -> tuple[dict, str]:
    """`publish import --write-files folder --json`: its JSON document and what it said on stderr."""
    result = CliRunner(env=ENV, clock=clock).invoke(
        cli, ["import", "--write-files", str(folder), "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def written_front_matter(folder: Path) -> dict[str, dict]:
    """Each written post file's front-matter, by its text."""
    files = [parse_markdown_file(path.read_text(encoding="utf-8")) for path in folder.glob("*.md")]
    return {parsed.body.strip(): parsed.data for parsed in files}


def test_import_records_forty_and_writes_fourteen_files_that_plan_unchanged(
    account_with_statuses, clock, tmp_path
):
    server, config = account_with_statuses
    document, _ = import_into(tmp_path / "posts" / "imported", config, clock)

    assert len(document["matched"]) == FROM_FILES + BY_HAND and len(document["written"]) == BY_HAND
    assert document["unmatched"] == [] and document["skipped"] == []
    assert server.writes() == []
    state = read_state(config)["posts"]
    assert {record["status_id"] for record in state.values()} == set(server.statuses)
    plan = app.make_plan(config, clock=clock).plan
    assert plan.counts()["unchanged"] == FROM_FILES + BY_HAND and not plan.writes
    pictures = (tmp_path / "posts" / "imported" / "media").iterdir()
    assert sorted(path.read_bytes()[-1] for path in pictures) == [1, 2]


def test_written_files_keep_the_pin_and_the_quotes(account_with_statuses, clock, tmp_path):
    server, config = account_with_statuses
    _, said = import_into(tmp_path / "posts" / "imported", config, clock)

    front = written_front_matter(tmp_path / "posts" / "imported")
    [by_hand] = [path.stem for path in (tmp_path / "posts" / "imported").glob("*-written-by-hand-*.md")]
    assert front["Pinned on my profile."] == {"pinned": True}
    assert front["Quoting myself."] == {"quote": f"imported/{by_hand}"}
    assert front["Quoting a post of the repository."] == {"quote": "p07"}
    assert front["Quoting Amy, who has not approved it yet."] == {}  # pending: the server does not say what
    assert "quotes a status the server does not name (pending): its file leaves `quote` out" in said
    state = read_state(config)["posts"]
    records = {record["text"]: record for record in state.values()}
    assert records["Pinned on my profile."]["pinned"] is True
    quoting = records["Quoting myself."]
    assert (quoting["quote"], quoting["quoted_status_id"]) == (
        f"imported/{by_hand}",
        state[f"imported/{by_hand}"]["status_id"],
    )
    assert records["Quoting a post of the repository."]["quoted_status_id"] == state["p07"]["status_id"]
    assert "quote" not in records["Quoting Amy, who has not approved it yet."]


def test_an_imported_pin_is_managed_by_its_file(account_with_statuses, clock, tmp_path):
    server, config = account_with_statuses
    import_into(tmp_path / "posts" / "imported", config, clock)
    [path] = (tmp_path / "posts" / "imported").glob("*-pinned-on-my-profile.md")
    path.write_text(
        path.read_text(encoding="utf-8").replace("pinned: true", "pinned: false"), encoding="utf-8"
    )

    result = run_sync(config, clock)

    [pinned] = [status for status in server.statuses.values() if status["text"] == "Pinned on my profile."]
    assert [(change.kind.value, change.reason) for change in result.plan.writes] == [("adjust", "unpin it")]
    assert [request.path for request in server.writes()] == [f"/api/v1/statuses/{pinned['id']}/unpin"]
    assert pinned["pinned"] is False


def test_a_quote_of_a_status_no_file_holds_names_its_link(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = make_repo(tmp_path, {}, instance=server.url)
        unkeepable = post_status(server, status="Trailing spaces  \nkept by Mastodon, not by Markdown.")
        post_status(server, status="Quoting a status without a file.", quoted_status_id=unkeepable["id"])
        document, _ = import_into(tmp_path / "posts", config, clock)

        assert len(document["written"]) == 1 and document["unmatched"] == [unkeepable["url"]]
        front = written_front_matter(tmp_path / "posts")
        assert front == {"Quoting a status without a file.": {"quote": unkeepable["url"]}}
        plan = app.make_plan(config, clock=clock).plan
        assert plan.counts()["unchanged"] == 1 and not plan.writes


def test_write_files_outside_the_posts_folder_is_refused(account_with_statuses, clock, tmp_path):
    server, config = account_with_statuses
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


def test_a_file_pointing_at_a_removed_file_is_removed_too(tmp_path, clock):
    pins_marked = {"default.txt.j2": "{{ body }}{% if pinned %} 📌{% endif %}"}
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = make_repo(tmp_path, {}, instance=server.url, templates=pins_marked)
        pinned = post_status(server, status="Pinned.")
        pin(server, pinned["id"])
        quoting = post_status(server, status="Quoting the pinned one.", quoted_status_id=pinned["id"])
        reply = post_status(server, status="A reply to the quote.", in_reply_to_id=quoting["id"])
        document, _ = import_into(tmp_path / "posts", config, clock)

    assert document["written"] == [] and list((tmp_path / "posts").glob("*.md")) == []
    names = [line.split(": ", 1)[0] for line in document["skipped"]]
    assert names[0].endswith("-pinned.md") and document["skipped"] == [
        f"{names[0]}: rendered through the templates, it does not reproduce its status; removed",
        f"{names[1]}: it points at {Path(names[0]).stem}, whose file was removed; removed",
        f"{names[2]}: it points at {Path(names[1]).stem}, whose file was removed; removed",
    ]
    assert document["matched"] == [] and read_state(config)["posts"] == {}
    assert document["unmatched"] == [status["url"] for status in (pinned, quoting, reply)]


@pytest.fixture
def file_server():
    """A plain HTTP server on 127.0.0.1 serving `files` (path -> bytes), as a media host does."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = files.get(self.path)
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", files
    server.shutdown()
    server.server_close()


def test_media_downloads_are_bounded_in_size_and_refuse_other_schemes(file_server):
    from publisher.apply.importer import download_media
    from publisher.errors import NetworkError

    base, files = file_server
    files["/small.png"] = PNG_1PX
    files["/large.bin"] = b"x" * 300_000
    assert download_media(f"{base}/small.png", max_bytes=1000) == PNG_1PX
    with pytest.raises(NetworkError, match="larger than 100,000 bytes"):
        download_media(f"{base}/large.bin", max_bytes=100_000)
    with pytest.raises(NetworkError, match="could not download media"):
        download_media(f"{base}/missing.png")
    with pytest.raises(NetworkError, match="not http"):
        download_media("file:///etc/passwd")
