"""Media attachments: upload, asynchronous processing, editing, and the checks a status makes on them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from .wire import not_found, unprocessable

MIB = 1024 * 1024
IMAGE_SIZE_LIMIT = 16 * MIB
VIDEO_SIZE_LIMIT = 99 * MIB
DESCRIPTION_LIMIT = 1500
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif")
VIDEO_TYPES = ("video/webm", "video/mp4", "video/quicktime", "video/ogg")
AUDIO_TYPES = (
    "audio/wave", "audio/wav", "audio/x-wav", "audio/x-pn-wave", "audio/vnd.wave", "audio/ogg",
    "audio/vorbis", "audio/mpeg", "audio/mp3", "audio/webm", "audio/flac", "audio/aac", "audio/m4a",
    "audio/x-m4a", "audio/mp4", "audio/3gpp", "video/x-ms-asf",
)  # fmt: skip
SUPPORTED_TYPES = IMAGE_TYPES + VIDEO_TYPES + AUDIO_TYPES
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"
PROCESSING_FAILED = "Error processing thumbnail for uploaded media"
IMAGE_BLURHASH = "UFHLh;~q-;xu%MayWBof00M{M{j[xuRjWBof"
_SIGNATURES = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"), (0, b"\xff\xd8\xff", "image/jpeg"), (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"), (8, b"WAVE", "audio/wave"), (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"), (0, b"ID3", "audio/mpeg"), (0, b"fLaC", "audio/flac"),
    (8, b"heic", "image/heic"), (8, b"avif", "image/avif"), (8, b"qt  ", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
)  # fmt: skip


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    description: str | None = None
    focus: str | None = None
    thumbnail: tuple[str, str, bytes] | None = None


def sniff_type(declared: str, data: bytes) -> str:
    """The declared type, unless the client did not know it; then guess from magic bytes like Marcel does."""
    declared = declared.split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    for offset, magic, mime in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return mime
    return declared or "application/octet-stream"


def media_type(mime: str) -> str:
    if mime == "image/gif":
        return "gifv"  # Mastodon turns GIFs into looping videos
    family = mime.split("/")[0]
    if mime == "video/x-ms-asf":
        return "audio"
    return family if family in ("image", "video", "audio") else "unknown"


def parse_focus(value: str) -> dict[str, float]:
    """ "x,y" like Ruby's to_f: unreadable parts become 0.0."""
    parts = (value.split(",") + ["", ""])[:2]
    return {"x": _to_float(parts[0]), "y": _to_float(parts[1])}


def _to_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        return 0.0


def public_view(record: dict) -> dict:
    """The MediaAttachment JSON: the record without its internal underscore fields."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


class MediaLibrary:
    """Every uploaded attachment, keyed by id; internal fields start with "_"."""

    def __init__(self, lock: threading.RLock, next_id: Callable[[], str], processing_polls: int):
        self.records: dict[str, dict] = {}
        self.base_url = ""
        self._lock = lock
        self._next_id = next_id
        self._processing_polls = processing_polls
        self._failures_pending = 0

    def fail_next_processing(self, count: int) -> None:
        with self._lock:
            self._failures_pending += count

    def upload(self, upload: Upload, synchronous: bool) -> tuple[int, dict]:
        """v1 (synchronous) answers 200 or 422; v2 answers 200 when processed, 202 with url null when not."""
        with self._lock:
            mime = self._validate(upload)
            failed = self._take_failure()
            if failed and synchronous:
                raise unprocessable(PROCESSING_FAILED)
            polls = 0 if synchronous else self._processing_polls
            record = self._store(upload, mime, polls, failed)
            return (200 if record["url"] else 202), public_view(record)

    def _take_failure(self) -> bool:
        if self._failures_pending <= 0:
            return False
        self._failures_pending -= 1
        return True

    def _validate(self, upload: Upload) -> str:
        mime = sniff_type(upload.content_type, upload.data)
        if mime not in SUPPORTED_TYPES:
            raise unprocessable("Validation failed: File content type is invalid, File is invalid")
        limit = IMAGE_SIZE_LIMIT if mime.startswith("image/") else VIDEO_SIZE_LIMIT
        if len(upload.data) > limit:
            raise unprocessable(f"Validation failed: File file size must be less than {limit // MIB} MB")
        _check_description(upload.description)
        return mime

    def _store(self, upload: Upload, mime: str, polls: int, failed: bool) -> dict:
        media_id = self._next_id()
        file_url = f"{self.base_url}/system/media/{media_id}/original/{quote(upload.filename or 'file')}"
        ready = polls == 0 and not failed
        kind = media_type(mime)
        record = {
            "id": media_id, "type": kind, "url": file_url if ready else None,
            "preview_url": self._preview_url(media_id, upload, file_url) if ready else None,
            "remote_url": None, "text_url": None, "meta": {}, "description": upload.description,
            "blurhash": IMAGE_BLURHASH if kind in ("image", "gifv") else None,
            "_filename": upload.filename, "_content_type": mime, "_data": upload.data,
            "_thumbnail": upload.thumbnail, "_file_url": file_url, "_polls_left": polls, "_failed": failed,
            "_status_id": None, "_scheduled_id": None,
        }  # fmt: skip
        if upload.focus:
            record["meta"]["focus"] = parse_focus(upload.focus)
        self.records[media_id] = record
        return record

    def _preview_url(self, media_id: str, upload: Upload, file_url: str) -> str:
        if upload.thumbnail:
            return (
                f"{self.base_url}/system/media/{media_id}/small/{quote(upload.thumbnail[0] or 'thumbnail')}"
            )
        return file_url

    def poll(self, media_id: str) -> tuple[int, dict]:
        """GET /api/v1/media/:id: 206 while processing, 422 when it failed, 200 when ready."""
        with self._lock:
            record = self._unattached(media_id)
            if record["_polls_left"] > 0:
                record["_polls_left"] -= 1
                self._finish_if_done(record)
                return 206, {**public_view(record), "url": None, "preview_url": None}
            if record["_failed"]:
                raise unprocessable(PROCESSING_FAILED)
            self._finish_if_done(record)
            return 200, public_view(record)

    def _finish_if_done(self, record: dict) -> None:
        if record["_polls_left"] == 0 and not record["_failed"] and record["url"] is None:
            record["url"] = record["_file_url"]
            upload = Upload(record["_filename"], record["_content_type"], b"", thumbnail=record["_thumbnail"])
            record["preview_url"] = self._preview_url(record["id"], upload, record["_file_url"])

    def update(self, media_id: str, description: str | None, focus: str | None) -> tuple[int, dict]:
        """PUT /api/v1/media/:id, only before the media is attached to a status."""
        with self._lock:
            record = self._unattached(media_id)
            self.apply_attributes(record, description, focus)
            return (206 if record["url"] is None else 200), public_view(record)

    def apply_attributes(self, record: dict, description: str | None, focus: str | None) -> bool:
        """Set alt text and focus when given; True when something changed."""
        before = (record["description"], record["meta"].get("focus"))
        if description is not None:
            _check_description(description)
            record["description"] = description
        if focus is not None:
            record["meta"]["focus"] = parse_focus(focus)
        return before != (record["description"], record["meta"].get("focus"))

    def _unattached(self, media_id: str) -> dict:
        record = self.records.get(media_id)
        if record is None or record["_status_id"] is not None:
            raise not_found()
        return record

    def check_attachable(
        self, ids: Iterable[str], limit: int, has_poll: bool, owner: str | None = None
    ) -> list[dict]:
        """The records a status may attach, in order, or the 422 Mastodon gives (same checks, same order)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        if len(ids) > limit or has_poll:
            raise unprocessable(f"Cannot attach more than {limit} files")
        missing = [media_id for media_id in ids if not self._free_for(media_id, owner)]
        if missing:
            raise unprocessable(f"Media {', '.join(missing)} not found or already attached to another post")
        records = [self.records[media_id] for media_id in ids]
        if len(records) > 1 and any(r["type"] in ("video", "audio") for r in records):
            raise unprocessable("Cannot attach a video to a post that already contains images")
        if any(r["_polls_left"] > 0 or r["_failed"] for r in records):
            raise unprocessable(NOT_READY)
        return records

    def _free_for(self, media_id: str, owner: str | None) -> bool:
        record = self.records.get(media_id)
        if record is None or record["_scheduled_id"] is not None:
            return False
        return record["_status_id"] is None or (owner is not None and record["_status_id"] == owner)

    def file(self, media_id: str, variant: str) -> tuple[str, bytes] | None:
        """(content type, bytes) served at the media's url or preview_url."""
        with self._lock:
            record = self.records.get(media_id)
        if record is None:
            return None
        if variant == "small" and record["_thumbnail"]:
            return record["_thumbnail"][1], record["_thumbnail"][2]
        return record["_content_type"], record["_data"]


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > DESCRIPTION_LIMIT:
        raise unprocessable(
            f"Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
        )
