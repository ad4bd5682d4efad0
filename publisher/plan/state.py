"""publish.state.json: what is already on the server. Stable, pretty, written atomically."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from filelock import FileLock, Timeout
from pydantic import AfterValidator, ValidationError

from publisher import DISTRIBUTION
from publisher.errors import InvalidInput, LockTimeout, Problem
from publisher.source.confine import Confinement, RefusedPath
from publisher.source.models import Frozen
from publisher.source.untrusted import checked_id, checked_link

if TYPE_CHECKING:
    from publisher.source.config import Config

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TEMP_PREFIX = ".publish-state-"
TEMP_SUFFIX = ".publish-tmp"

# The state file is edited by hand and committed by CI: an id from it goes into a URL path with the token.
ServerId = Annotated[str, AfterValidator(checked_id)]
WebLink = Annotated[str, AfterValidator(checked_link)]


class MediaRecord(Frozen):
    path: str
    sha256: str
    media_id: ServerId
    alt: str | None = None
    focus: tuple[float, float] | None = None
    thumbnail_sha256: str | None = None


class StatusRecord(Frozen):
    """A post as published: enough to diff, edit, delete and reconcile it."""

    source: str
    account: str
    status_id: ServerId | None = None
    url: WebLink | None = None
    content_hash: str
    idempotency_key: str
    text: str
    spoiler_text: str = ""
    visibility: str = "public"
    reply_to: str | None = None  # the post id it answers, as in the front-matter
    in_reply_to_id: ServerId | None = None  # the parent's status when sent, as the parent's record names it
    quote: str | None = None  # what it quotes, as the front-matter named it (a post id or a status URL)
    quoted_status_id: ServerId | None = None  # the same for the status it quotes (ids are per server)
    quote_policy: str | None = None  # the quote policy publish set; None: never set (the account's default)
    pinned: bool | None = None  # True: pinned by publish; False: unpinned by publish; None: never either
    media: tuple[MediaRecord, ...] = ()
    published_at: datetime | None = None
    scheduled_id: ServerId | None = None
    scheduled_at: datetime | None = None
    recorded_at: datetime
    server_differs: tuple[str, ...] | None = None  # what the server did not keep of what was sent

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

    def moved(self, old: str, new: str, source: str | None = None) -> State:
        """The record of `old` under `new` (with its new source file), and every reply to or quote of `old`
        re-pointed; an intent of `old` (an interrupted create) becomes `new`'s."""
        record = self.posts.get(old)
        if record is not None and source is not None:
            record = record.model_copy(update={"source": source})
        posts = {key: _pointing_at(value, old, new) for key, value in self.posts.items() if key != old}
        if record is not None:
            posts[new] = record
        pending = {new if key == old else key: value for key, value in self.pending.items()}
        return self.model_copy(update={"posts": posts, "pending": pending})

    def without(self, post_id: str) -> State:
        posts = {key: value for key, value in self.posts.items() if key != post_id}
        pending = {key: value for key, value in self.pending.items() if key != post_id}
        return self.model_copy(update={"posts": posts, "pending": pending})


class StateStore:
    """Loads and atomically saves one state file; `lock()` keeps two syncs from overlapping."""

    def __init__(self, path: Path, shown: str | None = None, confinement: Confinement | None = None):
        """`confinement`: the repository's, which the state file and its lock file must resolve inside."""
        self.path = path
        self.shown = shown or path.name
        self.confinement = confinement
        self._texts = SerializedRecords()

    @classmethod
    def for_config(cls, config: Config) -> StateStore:
        state = config.publish.state
        return cls(config.path(state, "publish.state"), state, Confinement(config.root))

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        shown = f"{self.shown}.lock"
        lock = FileLock(str(self._usable(Path(f"{self.path}.lock"), shown)))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockTimeout(
                f"another `publish sync` holds {shown}; waited {timeout:g} s",
                hint="wait for it to finish; in CI use a `concurrency:` group",
            ) from None
        except OSError as exc:
            hint = "check that the state file's folder exists and can be written"
            raise self._refused(shown, f"cannot create the lock file: {exc.strerror or exc}", hint) from None
        try:
            yield
        finally:
            lock.release()

    def load(self) -> State:
        if not self._usable(self.path, self.shown).exists():
            return State()
        data = self._read()
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
        except RecursionError:  # publish writes three levels; thousands are no state of ours
            raise self._invalid(None, "nested too deeply to be a state file") from None
        return self._validate(raw, data)

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

    def _validate(self, raw: object, data: bytes = b"") -> State:
        version = raw.get("version") if isinstance(raw, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            hint = f"upgrade publish (pip install -U {DISTRIBUTION}); the file was written by a newer version"
            raise self._invalid(None, f"schema version {version} is newer than {SCHEMA_VERSION}", hint)
        try:
            return State.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            raise self._invalid(key_line(data, first["loc"]), f"{where}: {message}") from None

    def _usable(self, path: Path, shown: str) -> Path:
        """path, known to resolve inside the repository and not to be a folder."""
        try:
            if self.confinement is not None:
                self.confinement.real_path(path)
        except RefusedPath as exc:
            raise self._refused(shown, str(exc), exc.hint) from None
        if path.is_dir():
            hint = "remove the folder, or set [publish] state in publish.toml to a file"
            raise self._refused(shown, "is a folder, not a file", hint)
        return path

    def _read(self) -> bytes:
        if self.confinement is None:
            return self.path.read_bytes()
        try:
            return self.confinement.read_bytes(self.path)
        except RefusedPath as exc:
            raise self._refused(self.shown, str(exc), exc.hint) from None

    @staticmethod
    def _refused(shown: str, message: str, hint: str) -> InvalidInput:
        return InvalidInput([Problem(shown, None, "publish.state", message, hint)])

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


def key_line(data: bytes, loc: tuple) -> int | None:
    """The line of the key a validation error is about: each key of `loc` looked for after the one before
    (the n-th occurrence for a list index). Best effort: None when a key is not found as written."""
    text = data.decode("utf-8", errors="replace")
    position, index = 0, 0
    for part in loc:
        if isinstance(part, int):
            index = part
            continue
        key = re.compile(re.escape(json.dumps(part, ensure_ascii=False)) + r"\s*:")
        for _ in range(index + 1):
            found = key.search(text, position)
            if found is None:
                return None
            position = found.end()
        index = 0
    return text.count("\n", 0, position) + 1 if loc else None


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


def _pointing_at(record: StatusRecord, old: str, new: str) -> StatusRecord:
    """`record`, its reply target and its quote re-pointed from post `old` to `new`."""
    update = {field: new for field in ("reply_to", "quote") if getattr(record, field) == old}
    return record.model_copy(update=update) if update else record
