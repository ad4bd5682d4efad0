"""Accounts as lanes: each account's writes in order, the accounts side by side, each on its own server
(or sharing one), with replies and quotes across accounts, failures and --max-duration per lane; and a
post's attachments in front-matter order on a server that orders them by media id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from publisher import app
from publisher.apply.events import SyncEvent
from publisher.apply.lanes import Handoffs, lanes_of, run_side_by_side
from publisher.clock import FakeClock, iso_utc
from publisher.errors import PublishError
from publisher.output.text import sync_event_line
from publisher.plan.changes import Change, ChangeKind
from publisher.plan.pacing import Budget
from publisher.plan.safety import SyncOptions
from publisher.sandbox import FakeMastodon, Fault, Quirks
from publisher.source.models import DesiredStatus
from tests.helpers import PNG_1PX, REPO, make_repo
from tests.sync_support import client_factory, read_state, run_sync

STATUSES = "/api/v1/statuses"
WAIT = 5  # seconds a test waits for the other lane before it fails (never reached when lanes run)


def lanes_config(servers: dict[str, FakeMastodon]) -> str:
    accounts = "".join(
        f'\n[accounts.{name}]\ninstance = "{server.url}"\ntoken_env = "TOKEN_{name.upper()}"\n'
        for name, server in servers.items()
    )
    return (
        f'[publish]\nposts = "posts"\nstate = "publish.state.json"\n\n[defaults]\nlanguage = "en"\n{accounts}'
    )


def env_for(servers: dict[str, FakeMastodon]) -> dict[str, str]:
    return {f"TOKEN_{name.upper()}": server.token for name, server in servers.items()}


def post(account: str, text: str, **front: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in {"account": account, **front}.items())
    return f"---\n{lines}---\n{text}\n"


@pytest.fixture
def servers(clock):
    """Start fake servers by account name (each with its own token) on the test's clock."""
    with ExitStack() as running:

        def start(*names: str, **options) -> dict[str, FakeMastodon]:
            return {
                name: running.enter_context(
                    FakeMastodon(token=f"token-{name}-0123456789", clock=clock, **options)
                )
                for name in names
            }

        yield start


def sync_lanes(tmp_path: Path, servers: dict, posts: dict[str, str], clock, **options):
    config = make_repo(tmp_path, posts, config=lanes_config(servers), files={"media/dot.png": PNG_1PX})
    events: list[SyncEvent] = []
    try:
        run_sync(config, clock, env=env_for(servers), events=events, **options)
    except PublishError as exc:
        return config, events, exc
    return config, events, None


def texts(server: FakeMastodon) -> list[str]:
    return sorted(status["text"] for status in server.statuses.values())


def test_each_account_writes_while_another_waits(tmp_path, servers, clock):
    """The first account's server holds its first status until the second's has one: one lane at a time
    would never get there (the test would time out and fail)."""
    running = servers("alice", "bob")
    bob_posted = threading.Event()
    held = []

    def alice_waits(phase, request):
        if phase == "received" and request.path == STATUSES and not held:
            held.append(bob_posted.wait(WAIT))

    def bob_posts(phase, request):
        if phase == "processed" and request.path == STATUSES:
            bob_posted.set()

    running["alice"].observers.append(alice_waits)
    running["bob"].observers.append(bob_posts)
    posts = {"a1.md": post("alice", "Alice one."), "a2.md": post("alice", "Alice two.")}
    posts |= {"b1.md": post("bob", "Bob one.")}
    config, events, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is None and held == [True]
    assert texts(running["alice"]) == ["Alice one.", "Alice two."] and texts(running["bob"]) == ["Bob one."]
    recorded = read_state(config)["posts"]
    assert {post_id: record["account"] for post_id, record in recorded.items()} == {
        "a1": "alice",
        "a2": "alice",
        "b1": "bob",
    }
    assert {event.account for event in events if event.action == "created"} == {"alice", "bob"}


def test_a_reply_to_another_servers_account_waits_for_its_parent_and_sends_the_id_known_there(
    tmp_path, servers, clock
):
    running = servers("alice", "bob")
    running["alice"].add_fault(Fault("POST", STATUSES, "slow", delay=0.2))  # bob's lane gets there first
    headers = {"Authorization": f"Bearer {running['bob'].token}"}
    earlier = {"status": "Bob posted this by hand.", "visibility": "direct"}  # so ids differ by server
    requests.post(
        running["bob"].url + STATUSES, json=earlier, headers=headers, timeout=WAIT
    ).raise_for_status()
    posts = {"a.md": post("alice", "The question.", id="question")}
    posts |= {"b.md": post("bob", "The answer.", reply_to="question")}
    config, _, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is None
    question = read_state(config)["posts"]["question"]
    (search,) = [r for r in running["bob"].requests if r.path == "/api/v2/search"]
    assert search.first("q") == question["url"]
    (answer,) = [status for status in running["bob"].statuses.values() if status["text"] == "The answer."]
    query = {"q": question["url"], "resolve": "true"}
    seen = requests.get(running["bob"].url + "/api/v2/search", params=query, headers=headers, timeout=WAIT)
    (on_bob,) = seen.json()["statuses"]
    assert (
        answer["in_reply_to_id"] == on_bob["id"] != question["status_id"] and on_bob["url"] == question["url"]
    )
    again = run_sync(config, clock, env=env_for(running))  # the ids differ by server: still nothing to do
    assert not again.plan.writes and again.plan.counts()["unchanged"] == 2


def test_a_reply_to_an_account_on_the_same_server_sends_the_parents_id_without_a_lookup(tmp_path, clock):
    with FakeMastodon(token="one-token-for-both-0123", clock=clock) as shared:
        running = {"alice": shared, "bob": shared}
        posts = {"a.md": post("alice", "The question.", id="question")}
        posts |= {"b.md": post("bob", "The answer.", reply_to="question")}
        config, _, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is None
    question = read_state(config)["posts"]["question"]
    answer = next(status for status in shared.statuses.values() if status["text"] == "The answer.")
    assert answer["in_reply_to_id"] == question["status_id"]
    assert not [r for r in shared.requests if r.path == "/api/v2/search"]


def test_one_account_failing_leaves_the_others_to_finish_then_the_run_fails(tmp_path, servers, clock):
    running = servers("alice", "bob")
    refusal = Fault("POST", STATUSES, "status", status=422, message="Validation failed: no")
    running["alice"].add_fault(refusal)
    posts = {"a1.md": post("alice", "Alice one."), "a2.md": post("alice", "Alice two.")}
    posts |= {"b1.md": post("bob", "Bob one."), "b2.md": post("bob", "Bob two.")}
    config, events, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is not None and "Validation failed: no" in str(failure)
    (failed,) = [event for event in events if event.action == "failed"]
    assert (failed.post_id, failed.account) == ("a1", "alice") and "Validation failed" in failed.detail
    assert texts(running["alice"]) == [] and texts(running["bob"]) == ["Bob one.", "Bob two."]
    assert set(read_state(config)["posts"]) == {"b1", "b2"}


def test_a_reply_whose_parent_failed_in_another_lane_is_not_sent(tmp_path, servers, clock):
    running = servers("alice", "bob")
    running["alice"].add_fault(Fault("POST", STATUSES, "status", status=422, message="Validation failed"))
    posts = {"a.md": post("alice", "The question.", id="question")}
    posts |= {"b.md": post("bob", "The answer.", reply_to="question")}
    _, events, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is not None
    failed = {event.post_id: event.detail for event in events if event.action == "failed"}
    assert "replies to 'question', which is not published yet" in failed["b"]
    assert not [r for r in running["bob"].requests if r.method == "POST"]


def test_max_duration_stops_each_lane_on_its_own(tmp_path, servers, clock):
    """Alice's statuses take 10 s each (of fake time), Bob's none: Bob's lane ends before Alice's starts
    to take time, so only Alice's stops, and says whose it is."""
    running = servers("alice", "bob")
    bob_done = threading.Event()

    def alice_slow(phase, request):
        if phase == "received" and request.path == STATUSES:
            bob_done.wait(WAIT)
            clock.advance(10)

    running["alice"].observers.append(alice_slow)
    running["bob"].observers.append(lambda phase, request: phase == "processed" and bob_done.set())
    posts = {f"a{n}.md": post("alice", f"Alice {n}.") for n in range(4)}
    posts |= {"b.md": post("bob", "Bob once.")}
    config, events, failure = sync_lanes(tmp_path, running, posts, clock, max_duration=25)
    assert failure is None
    (stopped,) = [event for event in events if event.action == "stopped"]
    assert stopped.account == "alice" and "2 change(s) left for the next run" in stopped.detail
    assert sync_event_line(stopped).startswith("stopped (alice): --max-duration 25 s reached")
    assert set(read_state(config)["posts"]) == {"a0", "a1", "b"}


def test_media_keep_their_order_on_a_server_that_orders_attachments_by_id(tmp_path, clock):
    """Each post's first upload is the slowest: uploaded side by side, its id would be the post's last."""
    with FakeMastodon(token="token-0123456789", clock=clock, quirks=Quirks(order_media_by_id=True)) as server:
        for _ in range(3):
            server.add_fault(Fault("POST", "/api/v2/media", "slow", delay=0.1))
        images = lambda name: [f"{{path: ../media/dot.png, alt: '{name} {n}'}}" for n in range(4)]  # noqa: E731
        posts = {
            f"{name}.md": post("main", f"Post {name}.", media=f"[{', '.join(images(name))}]")
            for name in "abc"
        }
        config, events, failure = sync_lanes(tmp_path, {"main": server}, posts, clock, upload_workers=3)
    assert failure is None
    for name in "abc":
        status = next(s for s in server.statuses.values() if s["text"] == f"Post {name}.")
        assert [m["description"] for m in status["media_attachments"]] == [f"{name} {n}" for n in range(4)]
    assert not [event for event in events if event.action == "mismatch"]
    recorded = read_state(config)["posts"]["a"]["media"]
    assert [m["alt"] for m in recorded] == [f"a {n}" for n in range(4)]


# -- lanes as plain functions ------------------------------------------------------------------------


def change(post_id: str, account: str, reply_to: str | None = None) -> Change:
    desired = DesiredStatus.model_construct(
        post_id=post_id, account=account, reply_to=reply_to, quote=None, media=()
    )
    return Change(ChangeKind.CREATE, post_id, desired=desired)


def test_lanes_keep_each_accounts_writes_in_plan_order(clock):
    writes = [change("a1", "a"), change("b1", "b"), change("a2", "a"), change("c1", "c"), change("b2", "b")]
    lanes = lanes_of(writes, lambda: Budget(clock, None), upload_workers=1)
    try:
        assert [(lane.account, [c.post_id for c in lane.writes]) for lane in lanes] == [
            ("a", ["a1", "a2"]),
            ("b", ["b1", "b2"]),
            ("c", ["c1"]),
        ]
        assert all(lane.named and lane.label == lane.account for lane in lanes)
        (alone,) = lanes_of(writes[:1], lambda: Budget(clock, None), upload_workers=1)
        assert alone.label == ""  # one lane: its events read as before, without an account
    finally:
        for lane in lanes:
            lane.pool.close()


def test_a_write_waits_only_for_targets_in_another_lane(clock):
    writes = [change("q", "a"), change("same", "b", reply_to="b0"), change("b0", "b"), change("r", "b", "q")]
    handoffs = Handoffs(lanes_of(writes, lambda: Budget(clock, None), upload_workers=1))
    handoffs.wait_for_targets(writes[1])  # its parent is in its own lane: plan order already holds it
    waited = threading.Event()
    waiter = threading.Thread(target=lambda: (handoffs.wait_for_targets(writes[3]), waited.set()))
    waiter.start()
    time.sleep(0.05)  # not waited.wait(0.05): a wait that times out never ends under libfaketime
    assert not waited.is_set()
    handoffs.done(writes[:1])
    assert waited.wait(WAIT)
    waiter.join()


def test_run_side_by_side_lets_every_lane_end_and_raises_the_first_failure(clock):
    writes = [change("a1", "a"), change("b1", "b"), change("c1", "c")]
    lanes = lanes_of(writes, lambda: Budget(clock, None), upload_workers=1)
    finished, b_failed = [], threading.Event()

    def run_lane(lane):
        if lane.account == "b":
            b_failed.set()
            raise PublishError("b broke")
        if lane.account == "c":
            b_failed.wait(WAIT)
            raise PublishError("c broke later")
        finished.append(lane.account)

    with pytest.raises(PublishError, match="b broke"):
        run_side_by_side(lanes, run_lane, threading.Event())
    assert finished == ["a"]
    for lane in lanes:
        lane.pool.close()


def test_the_limits_of_several_instances_are_read_side_by_side(tmp_path, servers, clock):
    """Alice's server holds its /api/v2/instance answer until Bob's has been asked."""
    running = servers("alice", "bob")
    bob_asked, held = threading.Event(), []

    def alice_waits(phase, request):
        if phase == "received" and request.path == "/api/v2/instance":
            held.append(bob_asked.wait(WAIT))

    def bob_answers(phase, request):
        if phase == "received" and request.path == "/api/v2/instance":
            bob_asked.set()

    running["alice"].observers.append(alice_waits)
    running["bob"].observers.append(bob_answers)
    posts = {"a.md": post("alice", "Alice once."), "b.md": post("bob", "Bob once.")}
    config, _, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is None and held == [True]
    assert len(list((config.parent / ".publish-cache").glob("instance-*.json"))) == 2


def test_each_account_has_one_client_for_limits_token_check_and_publishing(tmp_path, servers, clock):
    running = servers("alice", "bob")
    config = make_repo(
        tmp_path,
        {"a.md": post("alice", "Alice once."), "b.md": post("bob", "Bob once.")},
        config=lanes_config(running),
    )
    made = []

    def counting(name, account, token):
        made.append(name)
        return client_factory(clock)(name, account, token)

    options = SyncOptions()
    app.sync(config, clock=clock, environ=env_for(running), client_factory=counting, options=options)
    assert sorted(made) == ["alice", "bob"]
    for server in running.values():
        paths = [request.path for request in server.requests]
        assert paths[0] == "/api/v2/instance" and STATUSES in paths


# -- a kill while two lanes are in flight ------------------------------------------------------------

KILL_POSTS = {
    "a1.md": post("alice", "Alice one.", media="[{path: ../media/dot.png, alt: 'A dot'}]"),
    "a2.md": post("alice", "Alice two."),
    "b1.md": post("bob", "Bob one.", media="[{path: ../media/dot.png, alt: 'B dot'}]"),
    "b2.md": post("bob", "Bob two.", reply_to="a1"),
    "b3.md": post("bob", "Bob three."),
}


def sync_subprocess(config: Path, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.publish_at", iso_utc(FakeClock().now()), "sync", "--config"]
    return subprocess.Popen(
        [*command, str(config)],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_on(server: FakeMastodon, index: int, box: list) -> threading.Event:
    """SIGKILL the client once `server` has committed its request number `index` (lanes elsewhere go on)."""
    killed = threading.Event()

    def observer(phase, request):
        if phase == "processed" and len(server.requests) == index and not killed.is_set():
            box[0].send_signal(signal.SIGKILL)
            box[0].wait()
            killed.set()

    server.observers.append(observer)
    return killed


@pytest.mark.parametrize("index", [3, 4, 5, 6, 7])
def test_a_kill_while_lanes_are_in_flight_then_a_rerun_publishes_each_post_once(tmp_path, index):
    """Killed when Bob's server commits its request `index` (after instance, token check, statuses), while
    Alice's lane is somewhere in its own posts: the next run leaves each server with each post once."""
    with ExitStack() as running:
        servers = {
            name: running.enter_context(FakeMastodon(token=f"token-{name}-0123456789"))
            for name in ("alice", "bob")
        }
        config = make_repo(
            tmp_path, KILL_POSTS, config=lanes_config(servers), files={"media/dot.png": PNG_1PX}
        )
        box: list = [None]
        killed = kill_on(servers["bob"], index, box)
        box[0] = sync_subprocess(config, env_for(servers))
        box[0].communicate(timeout=60)
        assert killed.is_set(), f"request {index} never came"
        servers["bob"].observers.clear()
        rerun = sync_subprocess(config, env_for(servers))
        _, err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, err.decode()
        assert texts(servers["alice"]) == ["Alice one.", "Alice two."]
        assert texts(servers["bob"]) == ["Bob one.", "Bob three.", "Bob two."]
        state = read_state(config)
        assert not state.get("pending")
        for name, server in servers.items():
            recorded = {r["status_id"] for r in state["posts"].values() if r["account"] == name}
            assert recorded == set(server.statuses)


def test_an_interrupt_stops_every_lane_between_posts_and_waits_for_them(clock):
    """Ctrl-C reaches the main thread only: it sets `stop`, which each lane sees, and waits until they end."""
    lanes = lanes_of([change("a1", "a"), change("b1", "b")], lambda: Budget(clock, None), upload_workers=1)
    stop, ended, both_running = threading.Event(), [], threading.Barrier(2)

    def run_lane(lane):
        both_running.wait(WAIT)
        if lane.account == "a":  # as Ctrl-C does: SIGINT to the main thread, which waits for the lanes
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        ended.append((lane.account, stop.wait(WAIT)))

    with pytest.raises(KeyboardInterrupt):
        run_side_by_side(lanes, run_lane, stop)
    assert sorted(ended) == [("a", True), ("b", True)]
    for lane in lanes:
        lane.pool.close()


def test_a_reply_whose_parent_was_left_for_the_next_run_is_left_too(tmp_path, servers, clock):
    """Alice's statuses take 10 s each (of fake time) and --max-duration is 15 s: her second post, the
    question, is left for the next run, and so is Bob's answer to it: stopped, not failed."""
    running = servers("alice", "bob")

    def alice_slow(phase, request):
        if phase == "received" and request.path == STATUSES:
            clock.advance(10)

    running["alice"].observers.append(alice_slow)
    posts = {"a1.md": post("alice", "Alice first."), "a2.md": post("alice", "The question.", id="question")}
    posts |= {"b.md": post("bob", "The answer.", reply_to="question")}
    config, events, failure = sync_lanes(tmp_path, running, posts, clock, max_duration=15)
    assert failure is None and not [event for event in events if event.action == "failed"]
    stopped = {event.account: event.detail for event in events if event.action == "stopped"}
    assert set(stopped) == {"alice", "bob"}
    assert "b waits for question, which its own lane left for the next run" in stopped["bob"]
    assert set(read_state(config)["posts"]) == {"a1"} and not running["bob"].statuses
    run_sync(config, clock, env=env_for(running))  # the next run goes on
    assert set(read_state(config)["posts"]) == {"a1", "question", "b"}


def test_a_post_moved_to_another_account_is_deleted_on_the_old_and_posted_on_the_new(
    tmp_path, servers, clock
):
    running = servers("alice", "bob")
    config, _, failure = sync_lanes(tmp_path, running, {"a.md": post("alice", "Hello.")}, clock)
    assert failure is None and texts(running["alice"]) == ["Hello."]
    (tmp_path / "posts/a.md").write_text(post("bob", "Hello."))
    moved = run_sync(config, clock, env=env_for(running), allow_replace=True, force=True)
    assert [event.action for event in moved.events if event.post_id == "a"][-2:] == ["deleted", "created"]
    assert texts(running["alice"]) == [] and texts(running["bob"]) == ["Hello."]
    token_checks = [r for r in running["alice"].requests if r.path == "/api/v1/accounts/verify_credentials"]
    assert len(token_checks) == 2, "the old account's token is checked before anything is sent"
    assert read_state(config)["posts"]["a"]["account"] == "bob"


def test_refresh_for_one_account_asks_only_that_accounts_server(tmp_path, servers, clock):
    """`plan --refresh --account alice` compares alice's statuses: bob's token is not needed, bob's server
    not asked (his records are not part of that plan)."""
    running = servers("alice", "bob")
    posts = {"a.md": post("alice", "Alice."), "b.md": post("bob", "Bob.")}
    config, _, failure = sync_lanes(tmp_path, running, posts, clock)
    assert failure is None
    before = len(running["bob"].requests)
    only_alice = {key: value for key, value in env_for(running).items() if key == "TOKEN_ALICE"}

    refresh = app.Refresh(only_alice, client_factory(clock))
    plan = app.make_plan(config, clock=clock, account="alice", refresh=refresh).plan

    assert [(c.post_id, c.kind.value) for c in plan.changes] == [("a", "unchanged"), ("b", "orphan")]
    assert len(running["bob"].requests) == before
