"""One lane per account: a sync applies each account's writes in plan order, the accounts side by side.

Rate limits are per token, so an account waiting for its window must not hold up the others. A write that
needs a post of another lane first (a reply to it, a quote of it) waits until that lane is done with it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from publisher.mastodon.uploads import UploadPool
from publisher.plan.changes import Change
from publisher.plan.interactions import targets
from publisher.plan.pacing import Budget, requests_by_family


@dataclass
class Lane:
    """One account's writes and what they spend: their own time budget, upload threads and rate limits."""

    account: str
    writes: tuple[Change, ...]
    budget: Budget
    pool: UploadPool
    named: bool  # several lanes: what a lane says of itself carries its account
    files_side_by_side: bool = False  # the server keeps attachments in the order sent (see UploadPool)
    left: dict[str, int] = field(default_factory=dict)  # rate-limited requests still to send, per family
    waits_announced: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self.left = requests_by_family(self.writes)

    @property
    def label(self) -> str:
        """The account, for lane events, when there are several lanes to tell apart."""
        return self.account if self.named else ""


def lanes_of(
    writes: Sequence[Change],
    make_budget: Callable[[], Budget],
    upload_workers: int,
    keep_media_order: Collection[str] = (),
) -> list[Lane]:
    """The writes by account, each account's in plan order; lanes in the order their first write comes.
    `keep_media_order`: the accounts whose servers are known to attach media in the order sent."""
    by_account: dict[str, list[Change]] = {}
    for change in writes:
        by_account.setdefault(change.account, []).append(change)
    named = len(by_account) > 1
    return [
        Lane(
            account,
            tuple(changes),
            make_budget(),
            UploadPool(upload_workers),
            named,
            files_side_by_side=account in keep_media_order,
        )
        for account, changes in by_account.items()
    ]


class Handoffs:
    """Which writes are done, for a write that waits on a post of another lane."""

    def __init__(self, lanes: Sequence[Lane]):
        self._lane_of = {change.post_id: lane.account for lane in lanes for change in lane.writes}
        self._done = {post_id: threading.Event() for post_id in self._lane_of}
        self._left: set[str] = set()  # writes a lane stopped before, in time: the next run makes them

    def account_of(self, post_id: str) -> str:
        """The account whose lane writes `post_id`; "" for a post this run does not write."""
        return self._lane_of.get(post_id, "")

    def wait_for_targets(self, change: Change) -> str | None:
        """Block until every post this one replies to or quotes is done in its own lane; the first one that
        lane left for the next run, if any (one it failed on is found unpublished, and said so). Plan
        order puts targets first, so every wait is for a write earlier in the plan: no circle of waits."""
        if change.desired is None:
            return None
        for target in targets(change.desired):
            if self._lane_of.get(target, change.account) != change.account:
                self._done[target].wait()
                if target in self._left:
                    return target
        return None

    def done(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._done[change.post_id].set()

    def left_for_next_run(self, changes: Sequence[Change]) -> None:
        self._left.update(change.post_id for change in changes)
        self.done(changes)


def run_side_by_side(lanes: Sequence[Lane], run_lane: Callable[[Lane], None], stop: threading.Event) -> None:
    """Each lane on a thread of its own (in this one when there is one). Every lane runs to its end; then the
    first failure is raised. An interrupt sets `stop`, which lanes check between posts, and waits for them."""
    if len(lanes) < 2:
        for lane in lanes:
            run_lane(lane)
        return
    failures: list[BaseException] = []
    ended = [threading.Event() for _ in lanes]

    def guarded(lane: Lane, end: threading.Event) -> None:
        try:
            run_lane(lane)
        except BaseException as exc:
            failures.append(exc)  # list.append is atomic: the order is the order they failed in
        finally:
            end.set()

    started: list[threading.Event] = []
    try:
        for lane, end in zip(lanes, ended, strict=True):
            started.append(end)
            _start(threading.Thread(target=guarded, args=(lane, end), name=f"lane-{lane.account}"), end)
        _wait_all(started)
    except BaseException:  # an interrupt, even while the lanes start: they end between posts, then it goes on
        stop.set()
        _wait_all(started)
        raise
    if failures:
        raise failures[0]


def _wait_all(ended: Sequence[threading.Event]) -> None:
    """Until every lane has ended. Not Thread.join: interrupted, it can take a running thread for ended."""
    for end in ended:
        end.wait()


def _start(thread: threading.Thread, end: threading.Event) -> None:
    try:
        thread.start()
    except Exception:  # no thread to be had: it never ran, so there is nothing to wait for (an interrupt
        end.set()  # is no Exception: the thread runs, and ends between posts)
        raise
