"""A killed, interrupted or doubled `publish sync` never posts twice and never loses a post."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from publisher.clock import FakeClock, iso_utc
from publisher.errors import LockTimeout, PublishError
from publisher.plan.state import StateStore
from publisher.sandbox import FakeMastodon, Fault
from tests.exactly_once import check_exactly_once
from tests.helpers import REPO
from tests.sync_support import ENV, TOKEN, example_repo, run_sync

CLEAN = {"duplicates": 0, "lost": 0, "mismatched": 0}


def example_repo_with_only(root, server_url: str, keep: str):
    """The examples with one post left: the faults then hit exactly that post."""
    config = example_repo(root, server_url)
    for post in (
        "bonjour.yaml",
        "hello-world.md",
        "hello-reply.md",
        "caturday.md",
        "2027/advent-of-toots.md",
    ):
        if post != keep:
            (root / "posts" / post).unlink()
    return config


def expected_texts(tmp_path, server_url) -> list[str]:
    """The texts the examples render to, taken from a clean sync on a separate server."""
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock) as reference:
        run_sync(example_repo(tmp_path / "reference", reference.url), clock)
        return sorted(
            [s["text"] for s in reference.statuses.values()]
            + [s["params"]["text"] for s in reference.scheduled.values()]
        )


def requests_of_a_clean_sync(tmp_path) -> int:
    with FakeMastodon(token=TOKEN) as server:
        run_sync(example_repo(tmp_path / "count", server.url), FakeClock())
        return len(server.requests)


def sync_in_subprocess(config) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.publish_at",
            iso_utc(FakeClock().now()),
            "sync",
            "--config",
            str(config),
        ],
        env={**os.environ, **ENV, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_at(server, index: int, phase: str, process_box: list) -> threading.Event:
    """SIGKILL the client when the server is at request `index` in `phase`."""
    killed = threading.Event()

    def observer(seen_phase, request):
        if seen_phase == phase and len(server.requests) == index and not killed.is_set():
            process_box[0].send_signal(signal.SIGKILL)
            process_box[0].wait()
            killed.set()

    server.observers.append(observer)
    return killed


@pytest.fixture(scope="module")
def request_count(tmp_path_factory):
    return requests_of_a_clean_sync(tmp_path_factory.mktemp("count"))


@pytest.mark.parametrize("phase", ["received", "processed"])
def test_sigkill_at_every_request_then_rerun_publishes_each_post_exactly_once(tmp_path, request_count, phase):
    expected = expected_texts(tmp_path, "")
    outcomes = []
    for index in range(1, request_count + 1):
        with FakeMastodon(token=TOKEN) as server:
            config = example_repo(tmp_path / f"{phase}-{index}", server.url)
            box = [None]
            killed = kill_at(server, index, phase, box)
            box[0] = sync_in_subprocess(config)
            box[0].communicate(timeout=60)
            assert killed.is_set(), f"request {index} never came"
            server.observers.clear()
            rerun = sync_in_subprocess(config)
            out, err = rerun.communicate(timeout=60)
            assert rerun.returncode == 0, err.decode()
            outcomes.append(check_exactly_once(server, config, expected))
    assert outcomes == [CLEAN] * request_count


@pytest.mark.parametrize("honour_idempotency", [True, False], ids=["mastodon", "gotosocial-like"])
@pytest.mark.parametrize(
    "fault",
    [
        Fault("POST", "/api/v1/statuses", "drop_after"),
        Fault("POST", "/api/v1/statuses", "drop_after", times=3),
        Fault("POST", "/api/v1/statuses", "drop_before"),
        Fault("POST", "/api/v1/statuses", "status", status=500),
        Fault("POST", "/api/v1/statuses", "html", status=502),
        Fault("POST", "/api/v1/statuses", "status", status=503, times=2),
        Fault("POST", "/api/v1/statuses", "html", status=504),
        Fault("POST", "/api/v1/statuses", "slow", delay=0.6),
        Fault("POST", "/api/v2/media", "drop_after"),
        Fault("POST", "/api/v2/media", "status", status=500),
        Fault("POST", "/api/v2/media", "slow", delay=0.6),
        Fault("*", "/api/v1/", "status", status=429, message="Too many requests", times=2),
    ],
    ids=lambda fault: (
        f"{fault.method}-{fault.path.rsplit('/', 1)[-1]}-{fault.kind}-{fault.status}x{fault.times}"
    ),
)
def test_faults_within_one_run_never_duplicate(tmp_path, fault, honour_idempotency):
    expected = expected_texts(tmp_path, "")
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=honour_idempotency) as server:
        config = example_repo(tmp_path / "repo", server.url)
        server.add_fault(fault)
        from publisher import app
        from publisher.plan.safety import SyncOptions
        from tests.sync_support import client_factory

        app.sync(
            config,
            clock=clock,
            environ=ENV,
            client_factory=client_factory(clock, timeout=0.3),
            options=SyncOptions(),
        )
        assert check_exactly_once(server, config, expected) == CLEAN


@pytest.mark.parametrize("honour_idempotency", [True, False], ids=["mastodon", "gotosocial-like"])
@pytest.mark.parametrize("hours_later", [0, 2], ids=["key-fresh", "key-expired"])
def test_run_that_gave_up_is_reconciled_by_the_next_run(tmp_path, honour_idempotency, hours_later):
    expected = expected_texts(tmp_path, "")
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=honour_idempotency) as server:
        config = example_repo(tmp_path / "repo", server.url)
        server.add_fault(Fault("POST", "/api/v1/statuses", "drop_after", times=1))
        # The search for the status the dropped answer hid fails: it reads the source of the candidate.
        server.add_fault(Fault("GET", "/api/v1/statuses/", "status", status=503, times=100))
        with pytest.raises(PublishError):
            run_sync(config, clock)
        state = StateStore(config.parent / "publish.state.json").load()
        assert "bonjour" in state.pending  # the write-ahead intent survived the failure
        ahead = state.pending.get("caturday-keyboard")  # media uploaded ahead are recorded, to be reused
        assert ahead is None or {m.media_id for m in ahead.media} <= set(server.media)
        server.clear_faults()
        clock.advance(hours_later * 3600)
        run_sync(config, clock)
        assert check_exactly_once(server, config, expected) == CLEAN


def test_unattached_media_of_a_failed_run_is_reused(tmp_path):
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = example_repo_with_only(tmp_path, server.url, "caturday.md")
        server.add_fault(
            Fault("POST", "/api/v1/statuses", "status", status=422, message="Validation failed: x")
        )
        with pytest.raises(PublishError):
            run_sync(config, clock)
        pending = StateStore(config.parent / "publish.state.json").load().pending["caturday-keyboard"]
        assert {m.media_id for m in pending.media} == set(server.media)  # uploaded in parallel, any order
        run_sync(config, clock)
        uploads = [r for r in server.requests if r.path == "/api/v2/media"]
        (status,) = server.statuses.values()
    assert len(uploads) == 2
    assert {m["id"] for m in status["media_attachments"]} == {m.media_id for m in pending.media}


def test_two_concurrent_syncs_on_one_repo_only_one_publishes(tmp_path):
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = example_repo(tmp_path, server.url)
        store = StateStore(config.parent / "publish.state.json")
        with store.lock(timeout=1):
            with pytest.raises(LockTimeout) as error:
                run_sync(config, clock, lock_timeout=0.05)
        assert "another `publish sync`" in str(error.value)
        assert server.writes() == []
        first = sync_in_subprocess(config)
        second = sync_in_subprocess(config)
        outputs = [process.communicate(timeout=60) for process in (first, second)]
        assert [first.returncode, second.returncode] == [0, 0], outputs
    created = [line for out, _ in outputs for line in out.decode().splitlines() if line.startswith("created")]
    assert len(created) == 4 and len(server.statuses) == 4


def test_scheduled_status_survives_time(tmp_path):
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = example_repo(tmp_path, server.url)
        run_sync(config, clock)
        clock.advance(timedelta(days=5).total_seconds())
        result = run_sync(config, clock)
        assert not result.applied


@pytest.mark.parametrize("honour_idempotency", [True, False], ids=["mastodon", "gotosocial-like"])
def test_dropped_scheduled_create_is_found_among_scheduled_statuses(tmp_path, honour_idempotency):
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=honour_idempotency) as server:
        config = example_repo_with_only(tmp_path, server.url, "2027/advent-of-toots.md")
        server.add_fault(Fault("POST", "/api/v1/statuses", "drop_after"))
        run_sync(config, clock)
        assert len(server.scheduled) == 1
        assert any(r.path == "/api/v1/scheduled_statuses" for r in server.requests)
        (record,) = StateStore(config.parent / "publish.state.json").load().posts.values()
        assert record.scheduled_id in server.scheduled


def test_twice_interrupted_create_with_reuploaded_media_is_still_found(tmp_path):
    """Run 1 uploads and fails; its files vanish; run 2 uploads again, creates, and dies unrecorded; run 3 adopts."""
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock, honour_idempotency=False) as server:
        config = example_repo_with_only(tmp_path, server.url, "caturday.md")
        server.add_fault(
            Fault("POST", "/api/v1/statuses", "status", status=422, message="Validation failed: x")
        )
        with pytest.raises(PublishError):
            run_sync(config, clock)
        server.add_fault(
            Fault("GET", "/api/v1/media/", "status", status=404, message="Record not found", times=2)
        )
        server.add_fault(Fault("POST", "/api/v1/statuses", "drop_after"))

        def reads_fail_after_the_create(phase, request):  # so the run cannot find what it created
            if phase == "processed" and request.path == "/api/v1/statuses":
                server.add_fault(Fault("GET", "/api/v1/accounts/", "status", status=503, times=50))

        server.observers.append(reads_fail_after_the_create)
        with pytest.raises(PublishError):
            run_sync(config, clock)
        pending = StateStore(config.parent / "publish.state.json").load().pending["caturday-keyboard"]
        assert len(pending.media) == 4 and pending.media_count == 2
        server.observers.clear()
        server.clear_faults()
        run_sync(config, clock)
        assert len(server.statuses) == 1
