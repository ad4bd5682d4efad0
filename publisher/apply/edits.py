"""The steps of a sync that change a published status: edit, move in time, re-create, delete.

A part of SyncRun (sync.py), which provides the clients, the state and the event stream they use."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from publisher.apply.events import SyncEvent
from publisher.apply.records import media_attributes
from publisher.clock import iso_utc
from publisher.errors import NotFound
from publisher.mastodon.statuses import ScheduledStatus, Status, status_params
from publisher.mastodon.uploads import MediaUploader
from publisher.plan.attachments import matching_attached
from publisher.plan.state import MediaRecord, StatusRecord
from publisher.plan.verify import stored_differences
from publisher.source.models import DesiredStatus

if TYPE_CHECKING:
    from publisher.apply.adopt import Adoption

log = logging.getLogger(__name__)


class EditSteps:
    def _update(self, desired: DesiredStatus, record: StatusRecord) -> None:
        """PUT the full new state: Mastodon clears every field an edit leaves out."""
        client = self.clients[desired.account]
        media = self._media_for_edit(
            desired, record, MediaUploader(client, self.root, self._upload_progress(desired))
        )
        params = status_params(desired, [item.media_id for item in media])
        params.pop("visibility", None)  # cannot be edited; changing it is a Replace (so is the quote)
        params["media_attributes"] = [media_attributes(item) for item in media]
        try:
            result = client.edit_status(record.status_id, params)
        except NotFound:
            self._gone_on_server(desired, record)
            return
        differs = self._verify(desired.post_id, params, result)
        updated = record.model_copy(
            update={
                "content_hash": desired.content_hash,
                "text": desired.text,
                "spoiler_text": desired.spoiler_text,
                "media": tuple(media),
                "quote_policy": desired.quote_policy or record.quote_policy,  # the edit carried it
                "source": desired.source,
                "url": result.url or record.url,
                "recorded_at": self.clock.now(),
                "server_differs": differs,
            }
        )
        self._change_state(lambda state: state.with_record(desired.post_id, updated))
        self._emit(SyncEvent("edited", desired.post_id, updated.url))

    def _gone_on_server(self, desired: DesiredStatus, record: StatusRecord) -> None:
        if self.recreate_missing:
            self._create(desired, schedule=False, replacing=record.status_id)
            return
        detail = "deleted on the server, so not edited; `publish sync --recreate-missing` posts it again"
        self._emit(SyncEvent("gone", desired.post_id, record.url, detail))

    def _edit_adopted(self, desired: DesiredStatus, adoption: Adoption) -> None:
        """The file wins: a copy found on the server that differs from it is edited (or re-scheduled)."""
        if adoption.needs_edit:
            self._edit_or_recreate(desired, self.state.posts[desired.post_id])

    def _edit_or_recreate(self, desired: DesiredStatus, record: StatusRecord) -> None:
        """The status made what the file says: edited, or re-created if scheduled (Mastodon can only move a
        scheduled status in time)."""
        if record.status_id is None:
            self._recreate(desired, record)
        else:
            self._update(desired, record)

    def _verify(self, post_id: str, sent: dict, result: Status | ScheduledStatus) -> tuple[str, ...] | None:
        """Some servers drop what they do not support without an error: say what they did not keep, and
        return it for the record (None when they kept everything)."""
        differences = stored_differences(sent, result.raw)
        for difference in differences:
            self._emit(SyncEvent("mismatch", post_id, detail=difference.describe()))
        return tuple(difference.describe() for difference in differences) or None

    def _media_for_edit(
        self, desired: DesiredStatus, record: StatusRecord, uploader: MediaUploader
    ) -> list[MediaRecord]:
        """The files the status keeps, and the new ones uploaded one after another (see UploadPool)."""
        kept = matching_attached(desired.media, record.media)
        return [
            reuse if reuse is not None else uploader.upload(spec, number)
            for number, (spec, reuse) in enumerate(zip(desired.media, kept, strict=True), start=1)
        ]

    def _reschedule(self, desired: DesiredStatus, record: StatusRecord) -> None:
        result = self.clients[desired.account].reschedule(record.scheduled_id, desired.publish_at)
        updated = record.model_copy(
            update={"scheduled_at": result.scheduled_at, "recorded_at": self.clock.now()}
        )
        self._change_state(lambda state: state.with_record(desired.post_id, updated))
        self._emit(
            SyncEvent("rescheduled", desired.post_id, None, f"for {iso_or_unknown(result.scheduled_at)}")
        )

    def _recreate(self, desired: DesiredStatus, record: StatusRecord) -> None:
        self._delete(desired.post_id, record)
        future = desired.publish_at is not None and desired.publish_at > self.clock.now()
        self._create(desired, schedule=future, replacing=record.status_id or record.scheduled_id)

    def _delete(self, post_id: str, record: StatusRecord) -> None:
        client = self.clients[record.account]
        try:
            if record.status_id is not None:
                client.delete_status(record.status_id)
            elif record.scheduled_id is not None:
                client.delete_scheduled(record.scheduled_id)
        except NotFound:
            log.info("%s: already gone from the server", post_id)
        self._change_state(lambda state: state.without(post_id))
        self._emit(SyncEvent("deleted", post_id, record.url))


def iso_or_unknown(moment) -> str:
    return iso_utc(moment) if moment else "?"
