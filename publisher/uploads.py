"""Upload a post's media (or reuse what the server already has), in front-matter order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from publisher.errors import MediaProcessingFailed, NotFound
from publisher.mastodon import MastodonClient
from publisher.models import MediaSpec
from publisher.state import MediaRecord

log = logging.getLogger(__name__)


def media_record(spec: MediaSpec, media_id: str) -> MediaRecord:
    return MediaRecord(path=spec.path, sha256=spec.sha256, media_id=media_id, alt=spec.alt, focus=spec.focus)


class MediaUploader:
    def __init__(
        self,
        client: MastodonClient,
        root: Path,
        on_uploaded: Callable[[tuple[MediaRecord, ...]], None] | None = None,
        on_progress: Callable[[str, int, MediaSpec], None] | None = None,
    ):
        self.client = client
        self.root = root
        self.on_uploaded = on_uploaded
        self.on_progress = on_progress or (lambda action, index, spec: None)

    def upload_all(
        self, specs: Sequence[MediaSpec], *, reuse: Sequence[MediaRecord] = (), reuse_by_digest: bool = False
    ) -> list[MediaRecord]:
        """reuse: records of an earlier attempt (unattached: checked on the server) or, with
        reuse_by_digest, of the published status (attached: reused by id, alt and focus edited)."""
        done: list[MediaRecord] = []
        for index, spec in enumerate(specs):
            if reuse_by_digest:
                record = self._attached(spec, reuse, done)
            else:
                record = self._unattached(spec, reuse[index] if index < len(reuse) else None)
            done.append(record or self._upload(spec, index + 1))
            if self.on_uploaded and record is None:
                self.on_uploaded(tuple(done))
        return done

    def _attached(self, spec: MediaSpec, records: Sequence[MediaRecord], used: list[MediaRecord]) -> MediaRecord | None:
        taken = {record.media_id for record in used}
        for record in records:
            if record.sha256 == spec.sha256 and record.media_id not in taken:
                return media_record(spec, record.media_id)
        return None

    def _unattached(self, spec: MediaSpec, earlier: MediaRecord | None) -> MediaRecord | None:
        if earlier is None or earlier.sha256 != spec.sha256 or (earlier.alt, earlier.focus) != (spec.alt, spec.focus):
            return None
        try:
            self.client.wait_until_processed(earlier.media_id)
        except (NotFound, MediaProcessingFailed):
            log.info("media %s of an earlier run is gone; uploading %s again", earlier.media_id, spec.path)
            return None
        log.info("reusing media %s uploaded by an earlier run for %s", earlier.media_id, spec.path)
        return earlier

    def _upload(self, spec: MediaSpec, number: int) -> MediaRecord:
        self.on_progress("uploading", number, spec)
        media = self.client.upload_processed(
            self.root / spec.path, mime_type=spec.mime_type, description=spec.alt, focus=spec.focus_param()
        )
        self.on_progress("uploaded", number, spec)
        return media_record(spec, media.id)
