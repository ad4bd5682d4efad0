"""Posts rendered by an earlier run, kept in `.publish-cache/` so an unchanged post is not parsed again.

Every run still reads every post file; a post is parsed and rendered again unless all of these are what they
were when its entry was written:
- the post file's bytes (sha256, on every run: a modification time is never trusted for a post);
- each media file it uses: the same file inside the repository with the same type and digest (hashed again
  only when its size, mtime or inode changed, see MediaDigests);
- the run fingerprint: every file under templates/ (by content), the config the rendering reads ([publish],
  [defaults], the account names), publish's version and the size and mtime of each of its own files (the
  built-in templates among them), the versions of the libraries that parse, render and count, Python's
  version, and CACHE_SCHEMA.
What depends on the server (the limits) is checked on every run; Mastodon's count of each status is kept
per characters_reserved_per_url. Posts with problems are not kept. A missing, unreadable, corrupt or outdated
cache is ignored and written anew: deleting `.publish-cache/` changes nothing but speed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from itertools import chain
from pathlib import Path

from pydantic import TypeAdapter

import publisher
from publisher.clock import Clock, SystemClock
from publisher.source.config import Config, Limits
from publisher.source.confine import Confinement, RefusedPath, read_regular
from publisher.source.desired import DesiredBuilder, Draft, Rendered
from publisher.source.frontmatter import ParsedFile
from publisher.source.limits import InstanceCache, LimitsOf
from publisher.source.media import MediaFileError, file_digest
from publisher.source.models import DesiredStatus, Frozen
from publisher.source.posts import FrontMatter, Post, PostFile

log = logging.getLogger(__name__)

CACHE_SCHEMA = 1  # bump when an entry's meaning changes
# Each file: a header line (schema; for posts also the run fingerprint), then one JSON object of every entry.
POSTS_FILE = "posts.jsonl"
MEDIA_FILE = "media.jsonl"
RENDERING_LIBRARIES = ("markdown-it-py", "Jinja2", "PyYAML", "pydantic-core", "grapheme", "regex")
JSON_SLICE = 500  # entries serialized at a time when writing a cache file
RACY_SECONDS = 2  # a file changed this recently may change again within the same mtime tick


class CachedPost(Frozen):
    """One post file as parsed and rendered: everything a run needs from it but the server's limits."""

    sha256: str  # of the post file's bytes
    id: str
    front: FrontMatter  # without `vars` and the site generators' keys: they only feed templates
    lines: dict[str, int] = {}
    body_line: int = 1
    status: DesiredStatus | None = None  # None for a draft (`draft: true`), which is never rendered
    content_hash: str = ""
    more_texts: tuple[str, ...] = ()
    lengths: dict[int, tuple[int, ...]] = {}  # as Draft.lengths

    def post(self, source: str, file: Path) -> Post:
        """The post as validation and the limits see it; its body and template data are not kept (only the
        rendering reads them), so a recalled post must never be rendered again."""
        return Post(self.id, source, file, self.front, "", ParsedFile({}, "", self.lines, self.body_line))

    def draft(self, post: Post, status: DesiredStatus) -> Draft:
        status.remember_content_hash(self.content_hash)
        return Draft(post, status, status.media, (), self.more_texts, dict(self.lengths))


class MediaStamp(Frozen):
    size: int
    mtime_ns: int
    inode: int
    sha256: str
    head: str  # the first bytes, in hex, for sniffing the type


@functools.cache  # built on first use, like a compiled pattern
def _posts_adapter() -> TypeAdapter[dict[str, CachedPost]]:
    return TypeAdapter(dict[str, CachedPost])


class HelperEntries(Frozen):
    """What a helper process hands back (RenderCache.kept_json): its entries and its media digests."""

    posts: dict[str, CachedPost] = {}
    media: dict[str, MediaStamp] = {}


@functools.cache
def _helper_adapter() -> TypeAdapter[HelperEntries]:
    return TypeAdapter(HelperEntries)


@functools.cache
def _stamps_adapter() -> TypeAdapter[dict[str, MediaStamp]]:
    return TypeAdapter(dict[str, MediaStamp])


class MediaDigests:
    """file_digest, remembered by path with the file's size, mtime and inode (never in the committed state:
    a checkout resets mtimes). A file modified less than RACY_SECONDS before it was hashed is not
    remembered: another change within the same timestamp tick would go unseen."""

    def __init__(
        self, path: Path, clock: Clock, hash_file: Callable[[Path], tuple[str, int, bytes]] = file_digest
    ):
        self.path = path
        self.clock = clock
        self.hash_file = hash_file
        self._known = _read_entries(path, _stamps_adapter(), {"schema": CACHE_SCHEMA})
        self._adopted: dict[str, MediaStamp] = {}  # hashed this run by a helper process, see `adopt`
        self._kept: dict[str, MediaStamp] = {}  # the files this run used: what `save` writes

    def digest(self, path: Path) -> tuple[str, int, bytes]:
        key, stat = str(path), path.stat()  # stat before hashing: a change while hashing shows next time
        known = self._kept.get(key) or self._known.get(key) or self._adopted.get(key)
        if known is not None and (known.size, known.mtime_ns, known.inode) == _stamp_of(stat):
            self._kept[key] = known
            return known.sha256, known.size, bytes.fromhex(known.head)
        sha256, size, head = self.hash_file(path)
        if size == stat.st_size and stat.st_mtime_ns < (self.clock.now().timestamp() - RACY_SECONDS) * 1e9:
            self._kept[key] = MediaStamp(
                size=size, mtime_ns=stat.st_mtime_ns, inode=stat.st_ino, sha256=sha256, head=head.hex()
            )
        return sha256, size, head

    def kept(self) -> dict[str, MediaStamp]:
        """The digests this run remembers so far, for `adopt` in another process."""
        return self._kept

    def adopt(self, stamps: dict[str, MediaStamp]) -> None:
        """Digests another process of this run made: used like those read from the folder, still checked
        against each file's size, mtime and inode; `save` writes those this run uses."""
        self._adopted.update(stamps)

    def save(self) -> None:
        if self._kept != self._known:
            _write_entries(self.path, _stamps_adapter(), {"schema": CACHE_SCHEMA}, self._kept)
            self._known = dict(self._kept)


def _stamp_of(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


class RenderCache:
    """One run's view: entries read at the start, recalled or replaced post by post, saved at the end."""

    def __init__(self, folder: Path, fingerprint: str, digests: MediaDigests):
        self.path = folder / POSTS_FILE
        self.fingerprint = fingerprint
        self.digests = digests
        self._old = _read_entries(self.path, _posts_adapter(), self._header())
        self._new: dict[str, CachedPost] = {}
        self._adopted: dict[str, CachedPost] = {}  # made this run by a helper process, see `adopt`
        self._hashes: dict[str, str] = {}  # source -> sha256 of the bytes read this run
        self._recalled: dict[str, CachedPost] = {}  # source -> the entry its post and draft came from
        # One set for the entries made here: which fields were set only matters to exclude_unset, never used
        # on them, and a set per entry would take more memory than most of its fields.
        self._fields_set = set(CachedPost.model_fields)
        self._changed = False

    @classmethod
    def for_config(cls, config: Config, clock: Clock | None = None) -> RenderCache:
        folder = InstanceCache.for_config(config).folder
        return cls(folder, run_fingerprint(config), MediaDigests(folder / MEDIA_FILE, clock or SystemClock()))

    def lookup(self, file: PostFile, builder: DesiredBuilder) -> Rendered | None:
        """The post and its draft as an earlier run made them; None when anything they came from changed."""
        source = file.source
        self._hashes[source] = sha256 = hashlib.sha256(file.data).hexdigest()
        entry = self._old.get(source)
        if entry is None or entry.sha256 != sha256:
            entry = self._adopted.get(source)
        if entry is None or entry.sha256 != sha256:
            return None
        post = entry.post(source, file.path)
        if post.front.draft:
            self._recalled[source] = entry
            return Rendered(post, None)
        if entry.status is None or not self._same_media(post, entry.status, builder):
            return None
        self._recalled[source] = entry
        return Rendered(post, entry.draft(post, entry.status))

    def _same_media(self, post: Post, status: DesiredStatus, builder: DesiredBuilder) -> bool:
        try:
            return tuple(builder.media_spec(entry, post.file) for entry in post.front.media) == status.media
        except (MediaFileError, OSError):
            return False

    def store(self, rendered: Rendered, limits_of: LimitsOf) -> None:
        """Remember a post that parsed (and, unless a draft post, rendered) without problems, with Mastodon's
        count of its statuses under its account's limits."""
        post, draft = rendered.post, rendered.draft
        sha256 = self._hashes.get(post.source)
        if sha256 is None or (draft is not None and draft.problems):
            return
        limits = limits_of(draft.status.account) if draft is not None else None
        entry = self._recalled.get(post.source)
        if entry is None:
            entry = self._entry(sha256, post, draft, limits)
        elif draft is not None:
            entry = self._with_lengths(entry, draft, limits)
        self._changed |= entry is not self._old.get(post.source)
        self._new[post.source] = entry

    def known_sources(self) -> set[str]:
        """The post files an entry was read for (whether still up to date or not)."""
        return set(self._old)

    def kept_json(self) -> bytes:
        """The entries kept so far and the media digests they used, for `adopt` in another process (there,
        the files need not be hashed again to be found unchanged)."""
        handed = HelperEntries.model_construct(posts=self._new, media=self.digests.kept())
        return _helper_adapter().dump_json(handed, exclude_defaults=True)

    def adopt(self, kept_json: bytes) -> None:
        """Entries another process of this run made (`kept_json`): recalled like those read from the folder,
        but new, so `save` writes them."""
        handed = _helper_adapter().validate_json(kept_json)
        self._adopted.update(handed.posts)
        self.digests.adopt(handed.media)

    def _entry(self, sha256: str, post: Post, draft: Draft | None, limits: Limits | None) -> CachedPost:
        """What `store` remembers of a post, built from parts that are valid already: no validation."""
        values = {
            "sha256": sha256,
            "id": post.id,
            "front": _known_keys(post.front),
            "lines": post.parsed.lines,
            "body_line": post.parsed.body_line,
        }
        if draft is not None:
            status = draft.status
            values.update(status=status, content_hash=status.content_hash, more_texts=draft.more_texts)
            values["lengths"] = {limits.characters_reserved_per_url: draft.counted_lengths(limits)}
        return CachedPost.model_construct(self._fields_set, **values)

    def _with_lengths(self, entry: CachedPost, draft: Draft, limits: Limits) -> CachedPost:
        """The entry, knowing Mastodon's count of each of its statuses under these limits."""
        url_length = limits.characters_reserved_per_url
        if url_length in entry.lengths:
            return entry
        lengths = {**entry.lengths, url_length: draft.counted_lengths(limits)}
        return CachedPost.model_construct(self._fields_set, **{**entry.__dict__, "lengths": lengths})

    def adopted(self) -> frozenset[str]:
        """The post files whose entries came from another process (`adopt`)."""
        return frozenset(self._adopted)

    def save(self) -> None:
        """Write what changed (a temporary file renamed over the old one); a failure only costs speed."""
        try:
            if self._changed or self._new.keys() != self._old.keys():
                # In the order of their paths: the same file whichever process kept which entry first.
                entries = {source: self._new[source] for source in sorted(self._new)}
                _write_entries(self.path, _posts_adapter(), self._header(), entries)
            self.digests.save()
        except OSError as exc:
            log.info("could not write the render cache in %s: %s", self.path.parent, exc)

    def _header(self) -> dict:
        return {"schema": CACHE_SCHEMA, "fingerprint": self.fingerprint}


def _known_keys(front: FrontMatter) -> FrontMatter:
    """The front-matter without the data only templates read: their output is kept."""
    if not front.vars and not front.site_keys:
        return front
    return front.model_copy(update={"vars": {}, "site_keys": {}})


def _read_entries(path: Path, adapter: TypeAdapter[dict], header: dict) -> dict:
    """A cache file's entries, validated; none when the file is missing, unusable or written with another
    header (another schema, or for other templates, config or software): never an error."""
    try:
        first, _, entries = read_regular(path).partition(b"\n")
        if json.loads(first) != header:
            log.debug("%s was written for other software, templates or config: starting afresh", path)
            return {}
        return adapter.validate_json(entries)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RefusedPath) as exc:  # pydantic's ValidationError is a ValueError
        log.warning("ignoring unreadable cache file %s: %s", path, exc)
        return {}


def _write_entries(path: Path, adapter: TypeAdapter[dict], header: dict, entries: dict) -> None:
    _write_atomically(path, chain([json.dumps(header).encode() + b"\n"], _json_object(adapter, entries)))


def _json_object(adapter: TypeAdapter[dict], entries: dict) -> Iterator[bytes]:
    """adapter.dump_json(entries), byte for byte, made a slice of entries at a time: the whole of 10,000
    posts' entries is megabytes, and pydantic's buffer for it about twice that."""
    if not entries:
        yield adapter.dump_json(entries, exclude_defaults=True)
        return
    names = list(entries)
    for start in range(0, len(names), JSON_SLICE):
        part = {name: entries[name] for name in names[start : start + JSON_SLICE]}
        members = adapter.dump_json(part, exclude_defaults=True)[1:-1]  # without the braces
        yield (b"{" if start == 0 else b",") + members
    yield b"}"


def _write_atomically(path: Path, parts: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            for part in parts:
                stream.write(part)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_fingerprint(config: Config, software: str | None = None) -> str:
    """Everything a rendering reads besides the post file and its media; a change makes every entry stale."""
    inputs = {
        "schema": CACHE_SCHEMA,
        "software": software_fingerprint() if software is None else software,
        "publish": config.publish.model_dump(mode="json"),
        "defaults": config.defaults.model_dump(mode="json"),
        "accounts": list(config.accounts),  # the first is the default account
        "templates": folder_digest(config.path(config.publish.templates, "publish.templates"), config.root),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def software_fingerprint(version: str = publisher.__version__) -> str:
    """publish's version and the size and mtime of its files, built-in templates included (an editable
    install changes without a new version), the libraries that parse, render and count, and Python."""
    libraries = [(name, _installed_version(name)) for name in RENDERING_LIBRARIES]
    return json.dumps([version, sys.version, libraries, _installed_files(Path(publisher.__file__).parent)])


def _installed_files(package: Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every file of the package but compiled bytecode."""
    found = []
    for folder, folders, names in os.walk(package):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            stat = os.stat(path)
            found.append((os.path.relpath(path, package), stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def _installed_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def folder_digest(folder: Path, root: Path) -> list[tuple[str, str]]:
    """(path relative to folder, sha256) of every file below it, each folder once, following symlinks that
    stay inside the repository at root; nothing outside it is read (a template leading there is refused)."""
    found, seen, confinement = [], set(), Confinement(root)
    for current, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in seen or not Path(real).is_relative_to(confinement.real_root):
            folders.clear()
            continue
        seen.add(real)
        for name in files:
            path = Path(current, name)
            found.append((path.relative_to(folder).as_posix(), _file_sha256(path, confinement)))
    return sorted(found)


def _file_sha256(path: Path, confinement: Confinement) -> str:
    try:
        return hashlib.sha256(confinement.read_bytes(path)).hexdigest()
    except RefusedPath as exc:  # e.g. a dangling symlink: only a post that uses it fails, and it is not kept
        return f"unusable: {exc}"
