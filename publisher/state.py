"""publish.state.json: what is already on the server. Stable, pretty, written atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import ValidationError

from publisher import DISTRIBUTION
from publisher.errors import InvalidInput, LockTimeout, Problem
from publisher.models import Frozen

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TEMP_PREFIX = ".publish-state-"
TEMP_SUFFIX = ".publish-tmp"


class MediaRecord(Frozen):
    path: str
    sha256: str
    media_id: str
    alt: str | None = None
    focus: tuple[float, float] | None = None
    thumbnail_sha256: str | None = None


class StatusRecord(Frozen):
    """A post as published: enough to diff, edit, delete and reconcile it."""

    source: str
    account: str
    status_id: str | None = None
    url: str | None = None
    content_hash: str
    idempotency_key: str
    text: str
    spoiler_text: str = ""
    visibility: str = "public"
    reply_to: str | None = None  # the post id it answers, as in the front-matter
    in_reply_to_id: str | None = None
    media: tuple[MediaRecord, ...] = ()
    published_at: datetime | None = None
    scheduled_id: str | None = None
    scheduled_at: datetime | None = None
    recorded_at: datetime

    @property
    def waiting_on_server(self) -> bool:
        """Scheduled on the server and not published yet: there is a scheduled id, no status id."""
        return self.status_id is None and bool(self.scheduled_id) and self.scheduled_at is not None


class PendingCreate(Frozen):
    """Write-ahead intent: a status is being created with this key; the outcome is not known yet."""

    content_hash: str
    idempotency_key: str
    started_at: datetime
    text: str = ""
    spoiler_text: str = ""
    media_count: int = 0  # attachments the status is created with (media may list more: earlier tries)
    media: tuple[MediaRecord, ...] = ()


class State(Frozen):
    version: int = SCHEMA_VERSION
    posts: dict[str, StatusRecord] = {}
    pending: dict[str, PendingCreate] = {}

    def with_record(self, post_id: str, record: StatusRecord) -> State:
        pending = {key: value for key, value in self.pending.items() if key != post_id}
        return self.model_copy(update={"posts": {**self.posts, post_id: record}, "pending": pending})

    def with_pending(self, post_id: str, intent: PendingCreate) -> State:
        return self.model_copy(update={"pending": {**self.pending, post_id: intent}})

    def without(self, post_id: str) -> State:
        posts = {key: value for key, value in self.posts.items() if key != post_id}
        pending = {key: value for key, value in self.pending.items() if key != post_id}
        return self.model_copy(update={"posts": posts, "pending": pending})


class StateStore:
    """Loads and atomically saves one state file; `lock()` keeps two syncs from overlapping."""

    def __init__(self, path: Path, shown: str | None = None):
        self.path = path
        self.shown = shown or path.name
        self._texts = SerializedRecords()

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockTimeout(
                f"another `publish sync` holds {self.shown}.lock; waited {timeout:g} s "
                "(hint: wait for it to finish; in CI use a `concurrency:` group)"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def load(self) -> State:
        if not self.path.exists():
            return State()
        data = self.path.read_bytes()
        try:  # the fast path (pydantic's own JSON parser); anything odd takes the path with the good messages
            state = State.model_validate_json(data)
            if state.version <= SCHEMA_VERSION:
                return state
        except ValidationError:
            pass
        try:
            raw = json.loads(data.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise self._invalid(line, f"not valid JSON ({exc})") from None
        return self._validate(raw)

    def save(self, state: State) -> None:
        """Write to a temp file in the same folder, fsync, then rename over the old file."""
        data = self._texts.serialize(state).encode("utf-8")
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._fsync_folder()
        log.debug("state saved: %s posts, %s pending", len(state.posts), len(state.pending))

    def _validate(self, raw: object) -> State:
        version = raw.get("version") if isinstance(raw, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            hint = f"upgrade publish (pip install -U {DISTRIBUTION}); the file was written by a newer version"
            raise self._invalid(None, f"schema version {version} is newer than {SCHEMA_VERSION}", hint)
        try:
            return State.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise self._invalid(None, f"{where}: {first['msg']}") from None

    def _invalid(self, line: int | None, message: str, hint: str = "") -> InvalidInput:
        hint = (
            hint or "restore it from git (git checkout -- the file); publish never overwrites a broken state"
        )
        return InvalidInput([Problem(self.shown, line, "state", message, hint)])

    def remove_stale_temp_files(self) -> None:
        """A crash between write and rename leaves a temp file; it never holds the only copy.

        Call only while holding the sync lock, so no other run is between its write and rename."""
        if self.path.parent.is_dir():
            for stale in self.path.parent.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
                stale.unlink(missing_ok=True)

    def _fsync_folder(self) -> None:
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def serialize(state: State) -> str:
    payload = state.model_dump(mode="json", exclude_none=True)
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class SerializedRecords:
    """serialize(state), byte for byte, re-encoding only the records that changed since the last call.

    A sync saves after every change; with 10,000 published posts, encoding them all each time took 0.25 s."""

    def __init__(self) -> None:
        self._lines: dict[str, tuple[Frozen, str]] = {}  # key -> (record, its line in the file)

    def serialize(self, state: State) -> str:
        kept: dict[str, tuple[Frozen, str]] = {}
        pending, posts = self._section(state.pending, kept), self._section(state.posts, kept)
        self._lines = kept
        return f'{{\n  "pending": {pending},\n  "posts": {posts},\n  "version": {state.version}\n}}\n'

    def _section(self, records: dict[str, Frozen], kept: dict[str, tuple[Frozen, str]]) -> str:
        if not records:
            return "{}"
        return "{\n" + ",\n".join(self._line(key, records[key], kept) for key in sorted(records)) + "\n  }"

    def _line(self, key: str, record: Frozen, kept: dict[str, tuple[Frozen, str]]) -> str:
        known = self._lines.get(key)
        if known is not None and known[0] is record:  # records are frozen: the same object, the same JSON
            line = known[1]
        else:
            payload = record.model_dump(mode="json", exclude_none=True)
            # Two levels deep in the file; JSON strings hold no raw newline, so every newline is indentation.
            text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n    ")
            line = f"    {json.dumps(key, ensure_ascii=False)}: {text}"
        kept[key] = (record, line)
        return line
