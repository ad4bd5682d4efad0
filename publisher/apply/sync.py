"""Apply a Plan through Mastodon clients, saving the state after every server-side change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from publisher.apply.adjust import AdjustSteps
from publisher.apply.adopt import Adopter, Adoption, looks_first
from publisher.apply.edits import EditSteps, iso_or_unknown
from publisher.apply.events import SyncEvent
from publisher.apply.lanes import Handoffs, Lane, lanes_of, run_side_by_side
from publisher.apply.records import media_attributes, status_record
from publisher.clock import Clock, iso_utc
from publisher.errors import PublishError
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.ratelimits import PacingWait
from publisher.mastodon.reconcile import Wanted, find_existing
from publisher.mastodon.statuses import ScheduledStatus, Status, status_params
from publisher.mastodon.uploads import MediaUploader, results
from publisher.plan.attachments import matching_unattached
from publisher.plan.changes import Change, ChangeKind, Plan, idempotency_key
from publisher.plan.pacing import Budget, duration, expected_waits, finish_estimate
from publisher.plan.state import MediaRecord, PendingCreate, State, StateStore
from publisher.source.limits import FAMILY_NOUNS
from publisher.source.models import DesiredStatus, MediaSpec

log = logging.getLogger(__name__)

# How many posts ahead media start uploading while the current status is created. Their write-ahead
# intents are saved first, so an interrupted run finds and reuses what went up, never attaches it twice.
LOOKAHEAD_POSTS = 4
# The rate-limit budgets each finished step has spent (for the estimate shown while waiting for a window).
SPENDS = {
    "uploaded": ("media", "requests"),
    "created": ("statuses", "requests"),
    "scheduled": ("statuses", "requests"),
    "edited": ("statuses", "requests"),
    "deleted": ("deletes", "requests"),
    "rescheduled": ("requests",),
    "pinned": ("requests",),
    "unpinned": ("requests",),
    "policy": ("requests",),
}


class OutOfTime(Exception):
    """A rate-limit window opens after --max-duration: stop between posts instead of waiting for it."""


@dataclass
class SyncRun(EditSteps, AdjustSteps):
    """Applies the writes of one plan, each account's in order in a lane of its own (lanes.py), the
    accounts side by side; `state` is always what the state file holds."""

    state: State
    store: StateStore
    clients: Mapping[str, MastodonClient]
    clock: Clock
    root: Path
    on_event: Callable[[SyncEvent], None] = lambda event: None
    upload_workers: int = 4  # upload threads per account
    max_duration: float | None = None  # seconds; stop between posts when the next would not finish in time
    started_at: datetime | None = None  # when the run began, which --max-duration counts from (else: apply)
    adopter: Adopter | None = None  # looks for a copy of each new post first (None: trusts the state)
    recreate_missing: bool = False  # a status deleted on the server is posted again instead of left alone
    keep_media_order: frozenset[str] = frozenset()  # accounts whose servers attach media in the order sent
    events: list[SyncEvent] = field(default_factory=list)
    _state_lock: threading.Lock = field(default_factory=threading.Lock)
    _save_lock: threading.Lock = field(default_factory=threading.Lock)
    _event_lock: threading.Lock = field(default_factory=threading.Lock)
    _lanes: dict[str, Lane] = field(default_factory=dict)  # by account
    _handoffs: Handoffs | None = None
    _stop: threading.Event = field(default_factory=threading.Event)  # interrupted: lanes end between posts
    _version: int = 0  # changes made to `state`
    _saved_version: int = 0  # how many of them the file holds
    _record_version: int = 0  # the change that holds the last created post's record (media may follow)
    _ahead: dict[str, list[Future]] = field(default_factory=dict)  # post id -> its uploads under way
    _adopted: dict[str, Adoption] = field(default_factory=dict)

    def apply(self, plan: Plan) -> State:
        writes = plan.sends
        budget = partial(Budget, self.clock, self.max_duration, self.started_at)
        lanes = lanes_of(writes, budget, self.upload_workers, self.keep_media_order)
        self._lanes = {lane.account: lane for lane in lanes}
        self._handoffs = Handoffs(lanes)
        for lane in lanes:
            client = self.clients[lane.account]
            client.watch_pacing(partial(self._before_pacing_wait, lane))
            client.finish_by(lane.budget.ends_at)
        for wait in expected_waits(plan):
            self._emit(SyncEvent("pacing", "", detail=wait.describe()))
        try:
            self._before_writing(plan, writes)
            run_side_by_side(lanes, self._run_lane, self._stop)
        finally:
            for lane in lanes:
                lane.pool.close()
            self._save_if_unsaved()
        return self.state

    def _run_lane(self, lane: Lane) -> None:
        """One account's writes in order, until they are done, time is up, one fails or the run is stopped."""
        try:
            for index, change in enumerate(lane.writes):
                if self._stop.is_set():
                    return
                try:
                    self._wait_for_targets(change)
                    self._apply_in_time(lane, index)
                except OutOfTime as late:
                    detail = lane.budget.stop_reason(len(lane.writes) - index, late)
                    self._emit(SyncEvent("stopped", "", detail=detail, account=lane.label))
                    self._handoffs.left_for_next_run(lane.writes[index:])
                    return
                except PublishError as exc:
                    if lane.named:  # the other accounts go on: say it now, not only at the end
                        self._emit(SyncEvent("failed", change.post_id, detail=str(exc)))
                    raise
                finally:
                    self._handoffs.done((change,))
        finally:
            self._handoffs.done(lane.writes)  # what this lane will not write: no other lane waits for it
            lane.pool.close()

    def _wait_for_targets(self, change: Change) -> None:
        """A reply or quote waits for its target's lane; when that lane left the target for the next run
        (out of time), so does this one."""
        left = self._handoffs.wait_for_targets(change)
        if left is not None:
            raise OutOfTime(f"{change.post_id} waits for {left}, which its own lane left for the next run")

    def _before_writing(self, plan: Plan, writes: tuple[Change, ...]) -> None:
        """Tokens checked and copies adopted before any write; renamed posts' records follow their files."""
        if self.adopter is not None:
            self.adopter.prepare(writes, self.state)
            for change in writes:
                self._adopt_if_on_server(change)
        for move in (change for change in plan.changes if change.previous_id is not None):
            self._change_state(
                lambda state, c=move: state.moved(c.previous_id, c.post_id, c.desired.source), save=False
            )
            done = {ChangeKind.MOVE: "nothing sent", ChangeKind.ADJUST: "then adjusted"}
            sent = done.get(move.kind, f"then {move.kind.value}")
            self._emit(SyncEvent("moved", move.post_id, detail=f"from {move.previous_id}; {sent}"))
        self._save_if_unsaved()

    def _adopt_if_on_server(self, change: Change) -> None:
        if not looks_first(change):
            return
        adoption = self.adopter.adopt(change.desired, self.state)
        if adoption is None:
            return
        self._adopted[change.post_id] = adoption
        self._change_state(lambda state: state.with_record(change.post_id, adoption.record), save=False)
        differs = "; ".join(difference.describe() for difference in adoption.differences)
        detail = "found on the server: not posted again" + (f" (differs: {differs})" if differs else "")
        self._emit(SyncEvent("adopted", change.post_id, adoption.record.url, detail))

    def _apply_in_time(self, lane: Lane, index: int) -> None:
        if not lane.budget.fits_another():
            raise OutOfTime()
        # This post's files first: the upload threads take work in the order it is given.
        self._upload_ahead(lane.writes[index : index + 1 + lane.budget.lookahead(LOOKAHEAD_POSTS)])
        if self._record_version > self._saved_version:  # the last post's record, unless an intent saved it
            self._save_if_unsaved()
        with lane.budget.timing():
            self._apply_reporting(lane.writes[index])

    def _before_pacing_wait(self, lane: Lane, wait: PacingWait) -> None:
        """A lane's client is about to wait for a rate-limit window: say so (once), or stop if too late."""
        if lane.budget.ends_before(wait.until):
            raise OutOfTime(f"the {wait.family} rate limit allows more at {iso_utc(wait.until)}")
        with self._event_lock:
            if (wait.family, wait.until) in lane.waits_announced:
                return
            lane.waits_announced.add((wait.family, wait.until))
            left = max(lane.left.get(wait.family, 0), 1)
        last = finish_estimate(left, wait.until, wait.rate_limit)
        detail = (
            f"{FAMILY_NOUNS[wait.family]} limit reached: waiting {duration(wait.seconds)} until "
            f"{iso_utc(wait.until)}; {left} left, the last about {iso_utc(last)}"
        )
        self._emit(SyncEvent("waiting", "", detail=detail, account=lane.label))

    def _apply_reporting(self, change: Change) -> None:
        try:
            self._apply_one(change)
        except PublishError as exc:
            exc.post_id = change.post_id  # type: ignore[attr-defined]
            raise

    def _upload_ahead(self, changes: Sequence[Change]) -> None:
        for change in changes:
            creates = change.kind in (ChangeKind.CREATE, ChangeKind.SCHEDULE)
            if (
                creates
                and change.desired.media
                and not change.uncertain
                and change.post_id not in self._ahead
                and change.post_id not in self._adopted
            ):
                self._ahead[change.post_id] = self._begin_uploads(change.desired, None, _replacing(change))

    def _apply_one(self, change: Change) -> None:
        kind, desired, record = change.kind, change.desired, change.record
        self._emit(SyncEvent("started", change.post_id, detail=kind.value))
        if change.post_id in self._adopted:
            self._edit_adopted(desired, self._adopted[change.post_id])
        elif kind in (ChangeKind.CREATE, ChangeKind.SCHEDULE):
            self._create(desired, schedule=kind == ChangeKind.SCHEDULE, replacing=_replacing(change))
        elif kind == ChangeKind.UPDATE:
            self._edit_or_recreate(desired, record)
        elif kind == ChangeKind.RESCHEDULE:
            self._reschedule(desired, record)
        elif kind == ChangeKind.REPLACE:
            self._recreate(desired, record)
        elif kind == ChangeKind.DELETE:
            self._delete(change.post_id, record)
        if kind == ChangeKind.ADJUST:
            self._adjust(desired, gone=self._gone_on_server)
        elif desired is not None:
            self._adjust(desired)  # the pin and quote policy of a status just created or edited

    def _change_state(self, change: Callable[[State], State], *, save: bool = True) -> None:
        """One change at a time (upload threads record media too); saved at once unless `save=False`."""
        with self._state_lock:
            self.state = change(self.state)
            self._version += 1
        if save:
            self._save_if_unsaved()

    def _save_if_unsaved(self) -> None:
        """Write the latest state unless the file has it already. Upload threads only wait for the state
        lock, never for the disk; a save that finds a newer one written (which holds its change) is done."""
        with self._save_lock:
            with self._state_lock:
                state, version = self.state, self._version
            if version > self._saved_version:
                self.store.save(state)
                self._saved_version = version

    def _emit(self, event: SyncEvent) -> None:
        lane = self._lane_of(event)
        if lane is not None and not event.account:
            event = replace(event, account=lane.account)
        with self._event_lock:
            for family in SPENDS.get(event.action, ()) if lane else ():
                lane.left[family] = lane.left.get(family, 0) - 1
            self.events.append(event)
            self.on_event(event)

    def _lane_of(self, event: SyncEvent) -> Lane | None:
        return self._lanes.get(event.account or self._handoffs.account_of(event.post_id))

    # -- create ------------------------------------------------------------------------------------

    def _create(self, desired: DesiredStatus, *, schedule: bool, replacing: str | None = None) -> None:
        client = self.clients[desired.account]
        uploads = self._ahead.pop(desired.post_id, None)
        if uploads is None:
            pending = self.state.pending.get(desired.post_id)
            if pending is not None and self._adopt_if_published(desired, pending, client):
                return
            uploads = self._begin_uploads(desired, pending, replacing)
        media = results(uploads)
        intent = self.state.pending[desired.post_id]
        params = status_params(
            desired,
            [item.media_id for item in media],
            in_reply_to_id=self._parent_status_id(desired),
            scheduled_at=desired.publish_at if schedule else None,
            quoted_status_id=self._quoted_status_id(desired),
        )
        wanted = Wanted(intent.text, intent.spoiler_text, len(media), intent.started_at)
        result = client.create_status(
            params,
            idempotency_key=intent.idempotency_key,
            find_existing=lambda: find_existing(client, wanted, scheduled=schedule),
        )
        sent = {**params, "media_attributes": [media_attributes(m) for m in media]}
        differs = self._verify(desired.post_id, sent, result)
        self._record(desired, result, self.state.pending[desired.post_id], media, differs)

    def _start_intent(
        self, desired: DesiredStatus, pending: PendingCreate | None, replacing: str | None
    ) -> PendingCreate:
        """Write-ahead: the state says a create is under way before the server hears of it."""
        intent = PendingCreate(
            content_hash=desired.content_hash,
            idempotency_key=idempotency_key(desired, replacing),
            started_at=pending.started_at if pending is not None else self.clock.now(),
            text=desired.text,
            spoiler_text=desired.spoiler_text,
            media_count=len(desired.media),
            media=pending.media if pending is not None else (),
        )
        self._change_state(lambda state: state.with_pending(desired.post_id, intent))
        return intent

    def _begin_uploads(
        self, desired: DesiredStatus, pending: PendingCreate | None, replacing: str | None
    ) -> list[Future]:
        """Save the intent, then start the post's files on the upload threads of its account's lane."""
        intent = self._start_intent(desired, pending, replacing)
        uploader = MediaUploader(self.clients[desired.account], self.root, self._upload_progress(desired))
        earlier = matching_unattached(desired.media, intent.media)
        steps = [
            partial(self._upload_for_create, uploader, desired.post_id, spec, number, reuse)
            for number, (spec, reuse) in enumerate(zip(desired.media, earlier, strict=True), start=1)
        ]
        lane = self._lanes[desired.account]
        return lane.pool.submit(steps, one_after_another=not lane.files_side_by_side)

    def _upload_for_create(
        self, uploader: MediaUploader, post_id: str, spec: MediaSpec, number: int, reuse
    ) -> MediaRecord:
        if reuse is not None and uploader.still_unattached(spec, reuse) is not None:
            return reuse
        record = uploader.upload(spec, number)

        def remember(state: State) -> State:
            intent = state.pending[post_id]
            return state.with_pending(post_id, intent.model_copy(update={"media": (*intent.media, record)}))

        # Saved with the next change (within a round trip) rather than once per file: an uploaded file
        # is only ever reused from the record, so a crash in between costs a re-upload, not a duplicate.
        self._change_state(remember, save=False)
        return record

    def _upload_progress(self, desired: DesiredStatus) -> Callable[[str, int, MediaSpec], None]:
        total = len(desired.media)

        def report(action: str, index: int, spec: MediaSpec) -> None:
            self._emit(SyncEvent(action, desired.post_id, detail=f"media {index}/{total}: {spec.path}"))

        return report

    def _adopt_if_published(
        self, desired: DesiredStatus, pending: PendingCreate, client: MastodonClient
    ) -> bool:
        """An earlier run may have created the status and died before recording it: look first."""
        wanted = Wanted(pending.text, pending.spoiler_text, pending.media_count, pending.started_at)
        found = find_existing(client, wanted, scheduled=desired.publish_at is not None)
        if found is None:
            return False
        self._record_status(desired, found, pending, list(pending.media))
        url = getattr(found, "url", None)
        self._emit(SyncEvent("adopted", desired.post_id, url, "found on the server from an earlier run"))
        if pending.content_hash != desired.content_hash:
            self._edit_or_recreate(desired, self.state.posts[desired.post_id])
        return True

    def _parent_status_id(self, desired: DesiredStatus) -> str | None:
        if desired.reply_to is None:
            return None
        return self._target_status_id(desired, desired.reply_to, "replies to")

    def _record(
        self,
        desired,
        result: Status | ScheduledStatus,
        pending: PendingCreate,
        media,
        differs: tuple[str, ...] | None,
    ) -> None:
        # Saved before the next change is sent, in one write with the next intent when there is one; a
        # crash in between leaves the intent, which the next run resolves by finding this status.
        self._record_status(desired, result, pending, media, differs=differs, save=False)
        self._record_version = self._version
        if isinstance(result, ScheduledStatus):
            self._emit(
                SyncEvent("scheduled", desired.post_id, None, f"for {iso_or_unknown(result.scheduled_at)}")
            )
        else:
            self._emit(SyncEvent("created", desired.post_id, result.url))

    def _record_status(
        self,
        desired: DesiredStatus,
        result,
        pending: PendingCreate,
        media,
        *,
        differs: tuple[str, ...] | None = None,
        save: bool = True,
    ) -> None:
        record = status_record(desired, result, pending, media, self.clock.now(), self.state.posts)
        record = record.model_copy(update={"server_differs": differs})
        self._change_state(lambda state: state.with_record(desired.post_id, record), save=save)


def _replacing(change: Change) -> str | None:
    """The status a create replaces (one deleted on the server): its key must differ from the first one's."""
    record = change.record if change.kind in (ChangeKind.CREATE, ChangeKind.SCHEDULE) else None
    return record.status_id if record is not None else None
