"""Which media a status can keep: an earlier upload of the same file, or an attachment its edit keeps.

Pure functions of the post's media and the state's records: the plan's rate-limit estimate counts with them,
and the uploader reuses what they find."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.plan.state import MediaRecord
from publisher.source.models import MediaSpec


def media_record(spec: MediaSpec, media_id: str) -> MediaRecord:
    return MediaRecord(
        path=spec.path,
        sha256=spec.sha256,
        media_id=media_id,
        alt=spec.alt,
        focus=spec.focus,
        thumbnail_sha256=spec.thumbnail_sha256,
    )


def matching_unattached(
    specs: Sequence[MediaSpec], earlier: Sequence[MediaRecord]
) -> list[MediaRecord | None]:
    """For each file, an earlier upload of the same bytes, alt text and focus (each used once)."""
    left = list(earlier)
    found: list[MediaRecord | None] = []
    for spec in specs:
        wanted = (spec.sha256, spec.alt, spec.focus, spec.thumbnail_sha256)
        match = next((r for r in left if (r.sha256, r.alt, r.focus, r.thumbnail_sha256) == wanted), None)
        if match is not None:
            left.remove(match)
        found.append(match)
    return found


def matching_attached(
    specs: Sequence[MediaSpec], attached: Sequence[MediaRecord]
) -> list[MediaRecord | None]:
    """For an edit: the published status's media with the same bytes keep their id; alt and focus are edited.
    A new thumbnail cannot be set by an edit, so the file goes up again with it."""
    left = list(attached)
    found: list[MediaRecord | None] = []
    for spec in specs:
        same = (spec.sha256, spec.thumbnail_sha256)
        match = next((record for record in left if (record.sha256, record.thumbnail_sha256) == same), None)
        if match is not None:
            left.remove(match)
        found.append(media_record(spec, match.media_id) if match else None)
    return found
