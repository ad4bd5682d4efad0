"""`publish sync` end to end over real HTTP against the fake server."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from publisher.cli import app as cli
from publisher.clock import FakeClock
from publisher.errors import MissingToken, Unprocessable
from publisher.sandbox import FakeMastodon, Fault, Quirks
from tests.helpers import CliRunner
from tests.sync_support import ENV, TOKEN, example_repo, read_state, run_sync, texts


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def server(clock):
    with FakeMastodon(token=TOKEN, clock=clock, media_processing_polls=2) as fake:
        yield fake


def status_for(server, needle: str) -> dict:
    (match,) = [status for status in server.statuses.values() if needle in status["text"]]
    return match


def test_examples_sync_to_the_server_exactly_as_declared(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    result = run_sync(config, clock)
    assert result.applied
    assert len(server.statuses) == 4 and len(server.scheduled) == 1
    cat = status_for(server, "Saturday means two pictures")
    assert cat["spoiler_text"] == "Cat photos" and cat["sensitive"] is True
    assert cat["visibility"] == "public" and cat["language"] == "en"
    assert [m["description"] for m in cat["media_attachments"]] == [
        "A grey cat asleep on a black keyboard, ears up, paws tucked in.",
        "An orange sun rising over a dark blue sea under a peach sky.",
    ]
    assert [m["meta"]["focus"] for m in cat["media_attachments"]] == [
        {"x": 0.2, "y": -0.1},
        {"x": 0.0, "y": 0.4},
    ]
    bonjour = status_for(server, "Bonjour")
    assert (bonjour["visibility"], bonjour["language"]) == ("unlisted", "fr")
    assert (
        status_for(server, "A thread works too")["in_reply_to_id"]
        == status_for(server, "Hello, fediverse")["id"]
    )


def test_state_records_every_published_post(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    state = read_state(config)
    assert state["pending"] == {}
    ids = {post_id: entry.get("status_id") for post_id, entry in state["posts"].items()}
    assert set(ids) == {"hello-world", "hello-reply", "caturday-keyboard", "bonjour", "2027/advent-of-toots"}
    assert {i for i in ids.values() if i} == set(server.statuses)
    advent = state["posts"]["2027/advent-of-toots"]
    assert advent["scheduled_id"] in server.scheduled and "status_id" not in advent
    cat = state["posts"]["caturday-keyboard"]
    assert [m["media_id"] for m in cat["media"]] == [
        m["id"] for m in server.statuses[cat["status_id"]]["media_attachments"]
    ]


def test_second_sync_sends_no_write_request(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    writes = len(server.writes())
    result = run_sync(config, clock)
    assert not result.applied
    assert len(server.writes()) == writes


def test_what_the_server_received_for_a_status(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    posts = [r for r in server.requests if r.method == "POST" and r.path == "/api/v1/statuses"]
    assert len(posts) == 5
    for request in posts:
        assert request.headers["idempotency-key"].startswith("publish-")
        assert request.headers["user-agent"].startswith("publish/")
        assert {"status", "visibility", "sensitive", "language", "spoiler_text", "media_ids"} <= set(
            request.json
        )
    uploads = [r for r in server.requests if r.path == "/api/v2/media"]
    sent = {r.form["description"][0][:5]: r.form["focus"][0] for r in uploads}  # uploaded in parallel
    assert sent == {"A gre": "0.2,-0.1", "An or": "0,0.4"}
    polls = [r for r in server.requests if r.method == "GET" and r.path.startswith("/api/v1/media/")]
    assert len(polls) == 6  # 206, 206, 200 for each of the two files


def test_503_then_success_publishes_once(tmp_path, server, clock):
    server.add_fault(Fault("POST", "/api/v1/statuses", "status", status=503))
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    assert len(server.statuses) == 4
    assert sorted(texts(server)) == sorted(set(texts(server)))


def test_connection_dropped_after_commit_is_found_on_the_server_not_posted_again(tmp_path, server, clock):
    server.add_fault(Fault("POST", "/api/v1/statuses", "drop_after"))
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    creates = [r for r in server.requests if r.path == "/api/v1/statuses" and r.method == "POST"]
    assert len(creates) == 5  # the dropped one was adopted, not sent twice
    assert any(r.path.endswith("/source") for r in server.requests)
    assert len(server.statuses) == 4 and sorted(texts(server)) == sorted(set(texts(server)))
    assert {e["status_id"] for e in read_state(config)["posts"].values() if "status_id" in e} == set(
        server.statuses
    )


@pytest.mark.parametrize("kind", ["drop_before", "status"])
def test_uncertain_failure_not_on_the_server_is_retried_with_the_same_key(tmp_path, server, clock, kind):
    server.add_fault(Fault("POST", "/api/v1/statuses", kind, status=502))
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    creates = [r for r in server.requests if r.path == "/api/v1/statuses" and r.method == "POST"]
    assert len(creates) == 6
    assert creates[0].headers["idempotency-key"] == creates[1].headers["idempotency-key"]
    assert len(server.statuses) == 4


def test_429_waits_until_the_announced_reset(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock, rate_limits={"statuses": (2, 3600)}) as server:
        config = example_repo(tmp_path, server.url)
        start = clock.now()
        run_sync(config, clock)
        assert len(server.statuses) == 4 and len(server.scheduled) == 1
        assert (clock.now() - start).total_seconds() >= 3600 * 2 - 60  # three windows needed for five creates


def test_validation_422_is_not_retried_and_earlier_posts_stay_recorded(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    calls = []

    def fail_third(event):
        if event.action == "created":
            calls.append(event)
        if len(calls) == 2 and event.action == "created":
            server.add_fault(
                Fault("POST", "/api/v1/statuses", "status", status=422, message="Validation failed: nope")
            )

    with pytest.raises(Unprocessable) as error:
        run_sync(config, clock, events=_Recorder(fail_third))
    assert "Validation failed: nope" in str(error.value)
    assert len([r for r in server.requests if r.path == "/api/v1/statuses" and r.method == "POST"]) == 3
    assert len(read_state(config)["posts"]) == 2


class _Recorder(list):
    def __init__(self, callback):
        super().__init__()
        self.callback = callback

    def append(self, event):
        super().append(event)
        self.callback(event)


def test_missing_token_is_exit_2_naming_the_variable(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    with pytest.raises(MissingToken):
        run_sync(config, clock, env={})
    assert server.requests == []
    result = CliRunner(env={"MASTODON_TOKEN": ""}).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 2
    assert "MASTODON_TOKEN" in result.stderr


def test_bad_token_is_exit_1_without_the_token_in_output(tmp_path, clock):
    with FakeMastodon(token="the-real-token", clock=clock) as server:
        config = example_repo(tmp_path, server.url)
        result = CliRunner(env={"MASTODON_TOKEN": TOKEN}).invoke(cli, ["sync", "--config", str(config), "-v"])
    assert result.exit_code == 1
    assert "401" in result.stderr
    assert TOKEN not in result.output and TOKEN not in result.stderr


def test_cli_sync_publishes_and_prints_one_line_per_post(tmp_path, server, clock):
    config = example_repo(tmp_path, server.url)
    result = CliRunner(env=ENV, clock=clock).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len(server.statuses) == 4
    lines = result.stdout.splitlines()
    assert any(line.startswith("created hello-world -> http://127.0.0.1") for line in lines)
    assert lines[-1].startswith("Done:")
    again = CliRunner(env={}, clock=clock).invoke(cli, ["sync", "--config", str(config), "--dry-run"])
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1].endswith("0 orphaned, 5 unchanged.")


def test_next_posts_media_upload_while_a_status_is_created(tmp_path, server, clock):
    """Pipelining: caturday's files are on their way before bonjour's status (the first post) is answered."""
    import threading

    uploads_seen = threading.Event()
    seen_during_first_create = []

    def observer(phase, request):
        if request.path == "/api/v2/media":
            uploads_seen.set()
        first_create = request.path == "/api/v1/statuses" and not seen_during_first_create
        if phase == "received" and first_create:
            seen_during_first_create.append(uploads_seen.wait(timeout=5))

    server.observers.append(observer)
    run_sync(example_repo(tmp_path, server.url), clock)
    assert seen_during_first_create == [True]


def four_suns_each(config: Path, names: str = "abc") -> None:
    for name in names:
        images = "".join(f"  - {{path: media/sunrise.png, alt: '{name} {n}'}}\n" for n in range(4))
        (config.parent / f"posts/0{name}.md").write_text(f"---\nmedia:\n{images}---\nFour suns, {name}.\n")


def slow_upload(alt: str, seconds: float = 0.2):
    """A server observer: the upload with this alt text takes `seconds` longer (of real time)."""

    def observe(phase, request):
        if phase == "received" and request.path == "/api/v2/media" and request.first("description") == alt:
            time.sleep(seconds)

    return observe


def uploaded_alts(server) -> list[str]:
    return [r.form["description"][0] for r in server.requests if r.path == "/api/v2/media"]


def test_on_a_server_that_may_order_by_id_a_posts_files_go_one_after_another_posts_side_by_side(
    tmp_path, clock
):
    """No announced Mastodon API version: each post's files in front-matter order (their ids too), while
    the next posts' files go up at the same time."""
    with FakeMastodon(token=TOKEN, clock=clock, quirks=Quirks(order_media_by_id=True)) as server:
        server.observers.append(slow_upload("a 1"))
        config = example_repo(tmp_path, server.url)
        four_suns_each(config)
        run_sync(config, clock, upload_workers=4)
    uploads = uploaded_alts(server)
    assert uploads[0] == "a 0"
    for name in "abc":
        assert [alt for alt in uploads if alt[0] == name] == [f"{name} {n}" for n in range(4)]
    assert uploads.index("b 0") < uploads.index("a 2") and uploads.index("c 0") < uploads.index("a 2")


def test_on_a_server_that_keeps_the_order_sent_a_posts_files_go_up_side_by_side(tmp_path, server, clock):
    """The server announces its Mastodon API version: the server has several of the post's files at once
    (after the first, which goes alone to learn the rate-limit budget), and keeps them in order."""
    in_flight, most, counting = [0], [0], threading.Lock()

    def overlap(phase, request):
        if request.path != "/api/v2/media":
            return
        with counting:
            in_flight[0] += 1 if phase == "received" else -1
            most[0] = max(most[0], in_flight[0])
        if phase == "received":
            time.sleep(0.05)  # time for the others to arrive meanwhile

    server.observers.append(overlap)
    config = example_repo(tmp_path, server.url)
    for other in (tmp_path / "posts").rglob("*.*"):  # alone, so no other post's files take a thread
        if other.suffix in (".md", ".yaml"):
            other.unlink()
    four_suns_each(config, "a")
    run_sync(config, clock, upload_workers=4)
    status = status_for(server, "Four suns, a.")
    assert [media["description"] for media in status["media_attachments"]] == [f"a {n}" for n in range(4)]
    assert most[0] >= 2


def test_media_order_is_the_front_matter_order_whatever_finishes_first(tmp_path, server, clock):
    server.add_fault(Fault("POST", "/api/v2/media", "slow", delay=0.3))  # the first file arrives last
    config = example_repo(tmp_path, server.url)
    run_sync(config, clock)
    cat = status_for(server, "Saturday means two pictures")
    assert [m["description"][:5] for m in cat["media_attachments"]] == ["A gre", "An or"]
    uploads = [r.form["description"][0][:5] for r in server.requests if r.path == "/api/v2/media"]
    assert len(uploads) == 2


def test_max_duration_stops_between_posts_and_the_next_run_continues(tmp_path, clock):
    with FakeMastodon(
        token=TOKEN, clock=clock
    ) as server:  # media ready at once: only the observer moves time
        check_max_duration(tmp_path, server, clock)


def check_max_duration(tmp_path, server, clock):
    def slow_server(phase, request):  # every status takes 10 s of (fake) time
        if phase == "processed" and request.path == "/api/v1/statuses" and request.method == "POST":
            clock.advance(10)

    server.observers.append(slow_server)
    config = example_repo(tmp_path, server.url)
    events = []
    result = run_sync(config, clock, events=events, max_duration=25)
    assert result.applied
    created = [e.post_id for e in events if e.action in ("created", "scheduled")]
    assert created == ["bonjour", "caturday-keyboard"]  # a third would end at 30 s
    (stop,) = [e for e in events if e.action == "stopped"]
    assert "3 change(s) left for the next run" in stop.detail
    assert set(read_state(config)["posts"]) == {"bonjour", "caturday-keyboard"}
    run_sync(config, clock)
    assert len(server.statuses) == 4 and len(server.scheduled) == 1


def test_parallel_uploads_share_the_rate_limit_and_never_collect_a_429(tmp_path, clock):
    images = "".join(f"  - {{path: media/sunrise.png, alt: 'Sun {n}'}}\n" for n in range(4))
    with FakeMastodon(token=TOKEN, clock=clock, rate_limits={"media": (3, 60)}) as server:
        config = example_repo(tmp_path, server.url)
        for name in ("one", "two", "three"):
            (tmp_path / f"posts/{name}.md").write_text(f"---\nmedia:\n{images}---\nFour suns, {name}.\n")
        run_sync(config, clock, upload_workers=4)
        uploads = [r for r in server.requests if r.path == "/api/v2/media"]
    assert len(uploads) == 14  # every upload sent once: none was refused with 429 and retried
    assert len(clock.sleeps) >= 4 and all(
        55 <= s <= 61 for s in clock.sleeps if s > 5
    )  # waited for each window


def test_audio_goes_up_with_its_thumbnail_and_a_new_thumbnail_uploads_again(tmp_path, clock):
    from tests.helpers import PNG_1PX

    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = example_repo(tmp_path, server.url)
        (tmp_path / "posts/media/song.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200)
        (tmp_path / "posts/media/cover.png").write_bytes(PNG_1PX)
        post = "---\nmedia:\n  - {path: media/song.mp3, alt: 'A song', thumbnail: media/cover.png}\n---\nListen.\n"
        (tmp_path / "posts/song.md").write_text(post)
        run_sync(config, clock)
        (upload,) = [r for r in server.requests if r.path == "/api/v2/media" and "song" in r.files["file"][0]]
        assert upload.files["thumbnail"][1:] == ("image/png", PNG_1PX)
        (tmp_path / "posts/media/cover.png").write_bytes(PNG_1PX + b"\x00")  # a different cover
        run_sync(config, clock)
        uploads = [r for r in server.requests if r.path == "/api/v2/media" and "song" in r.files["file"][0]]
        assert len(uploads) == 2 and [r.method for r in server.writes()][-1] == "PUT"


def _nine_posts_of_four_images(tmp_path):
    for index in range(9):
        images = "".join(f"  - {{path: media/sunrise.png, alt: 'Sun {index}.{n}'}}\n" for n in range(4))
        (tmp_path / f"posts/sun{index}.md").write_text(f"---\nmedia:\n{images}---\nFour suns, {index}.\n")


def test_a_batch_over_the_media_limit_says_what_it_waits_for_and_until_when(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock) as server:  # Mastodon's 30 uploads per 30 minutes
        config = example_repo(tmp_path, server.url)
        _nine_posts_of_four_images(tmp_path)
        events = []
        run_sync(config, clock, events=events)
        uploads = [r for r in server.requests if r.path == "/api/v2/media"]
    assert len(uploads) == 38  # 36 + the examples' 2, each sent once: no 429
    (pacing,) = [e.detail for e in events if e.action == "pacing"]
    assert pacing == "38 media uploads at 30 per 30 min: sync waits at least 30 min"
    (waiting,) = [e.detail for e in events if e.action == "waiting"]  # once, though four threads wait
    assert re.fullmatch(
        r"media uploads limit reached: waiting 30 min until 2026-11-23T12:30:00Z; "
        r"\d+ left, the last about 2026-11-23T12:30:00Z",
        waiting,
    )
    assert len(server.statuses) == 13 and len(server.scheduled) == 1  # the examples and the nine


def test_max_duration_stops_instead_of_waiting_for_a_window_that_opens_too_late(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = example_repo(tmp_path, server.url)
        _nine_posts_of_four_images(tmp_path)
        events = []
        run_sync(config, clock, events=events, max_duration=600)
        (stop,) = [e.detail for e in events if e.action == "stopped"]
        assert "the media rate limit allows more at 2026-11-23T12:30:00Z" in stop
        assert not [seconds for seconds in clock.sleeps if seconds > 60]  # never waited for the window
        published = {status["id"] for status in server.statuses.values()}
        recorded = {post["status_id"] for post in read_state(config)["posts"].values() if "status_id" in post}
        assert published == recorded and len(published) >= 6
        clock.advance(1800)  # the next CI run, in the next window
        run_sync(config, clock)
        sent = sorted(status["text"] for status in server.statuses.values())
    assert len(sent) == len(set(sent)) == 13 and len(server.scheduled) == 1  # every post once
