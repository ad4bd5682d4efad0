"""Media for a status: reuse what the server already has, upload the rest on a few threads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import MediaProcessingFailed, NotFound
from publisher.plan.attachments import media_record
from publisher.plan.state import MediaRecord
from publisher.source.models import MediaSpec

if TYPE_CHECKING:
    from publisher.mastodon.client import MastodonClient

log = logging.getLogger(__name__)

Progress = Callable[[str, int, MediaSpec], None]


class MediaUploader:
    """One file at a time: upload it and wait until processed, or find a reusable copy."""

    def __init__(self, client: MastodonClient, root: Path, on_progress: Progress | None = None):
        self.client = client
        self.root = root
        self.on_progress = on_progress or (lambda action, number, spec: None)

    def upload(self, spec: MediaSpec, number: int) -> MediaRecord:
        self.on_progress("uploading", number, spec)
        thumbnail = (self.root / spec.thumbnail, spec.thumbnail_mime_type) if spec.thumbnail else None
        media = self.client.upload_processed(
            self.root / spec.path,
            mime_type=spec.mime_type,
            description=spec.alt,
            focus=spec.focus_param(),
            thumbnail=thumbnail,
        )
        self.on_progress("uploaded", number, spec)
        return media_record(spec, media.id)

    def still_unattached(self, spec: MediaSpec, earlier: MediaRecord) -> MediaRecord | None:
        """A file an interrupted run uploaded: reusable while the server keeps it (a day, unattached)."""
        try:
            self.client.wait_until_processed(earlier.media_id)
        except (NotFound, MediaProcessingFailed):
            log.info("media %s of an earlier run is gone; uploading %s again", earlier.media_id, spec.path)
            return None
        log.info("reusing media %s uploaded by an earlier run for %s", earlier.media_id, spec.path)
        return earlier


class UploadPool:
    """Files go up a few at a time over the shared keep-alive session, in the order they are given."""

    def __init__(self, workers: int):
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="upload")

    def submit(self, steps: Sequence[Callable[[], MediaRecord]], *, one_after_another: bool) -> list[Future]:
        """One post's uploads; `results` gives their records in order. One after another for a server that
        may order a status's attachments by media id (Mastodon before 3.5): their ids then follow the
        front-matter's order. Several posts still upload side by side, so the throughput stays."""
        if one_after_another:
            return [self._executor.submit(lambda: [step() for step in steps])]
        return [self._executor.submit(lambda step=step: [step()]) for step in steps]

    def close(self) -> None:
        """Uploads not started yet are dropped; the running ones finish (their files are only recorded)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def results(futures: Sequence[Future]) -> list[MediaRecord]:
    return [record for future in futures for record in future.result()]
