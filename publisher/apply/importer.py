"""`publish import`: bring an existing account under management, like `terraform import`.

Every status of the account is read once; each post file the state does not know is matched to its status
(the same search as sync's adopt-before-create, without a time bound) and recorded. Nothing is sent. With
`write_files`, each status no file matches gets a post file (and its media) first, so that afterwards the
plan shows only real differences."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from publisher.apply.adopt import Adopter
from publisher.apply.records import attachment_focus
from publisher.clock import Clock, moment_or_none
from publisher.errors import InvalidInput, Problem
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.clients import ClientFactory, default_client_factory, make_clients
from publisher.plan.changes import order_posts
from publisher.plan.state import State, StateStore
from publisher.plan.verify import stored_quote_id, stored_quote_policy
from publisher.source.models import PART_SEPARATOR
from publisher.source.project import Project, load_project, select_account
from publisher.source.untrusted import escape_controls, is_web_link

log = logging.getLogger(__name__)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
IMPORT_PAGES = 250  # 10,000 statuses

Download = Callable[[str], bytes]  # a media file's URL -> its bytes (fetched without the token)


@dataclass(frozen=True)
class Imported:
    post_id: str
    url: str | None
    differs: tuple[str, ...] = ()  # where the status differs from its file: the next sync edits it


@dataclass(frozen=True)
class ImportResult:
    matched: tuple[Imported, ...]
    written: tuple[str, ...]  # post files written (repository-relative), each also in `matched`
    unmatched: tuple[str, ...]  # status links (or ids) left without a file
    skipped: tuple[str, ...]  # statuses that cannot be a post file, with the reason
    requests: int
    dry_run: bool


@dataclass
class _Run:
    project: Project
    state: State
    clients: Mapping[str, MastodonClient]
    now: datetime
    config_path: Path
    account: str | None
    adopter: Adopter = field(init=False)
    matched: list[Imported] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.adopter = Adopter(self.clients, lambda source: EARLIEST, self.now)

    def read_accounts(self) -> None:
        for account in self.clients:
            self.adopter.read_account(
                account, self.state, EARLIEST, with_scheduled=True, max_pages=IMPORT_PAGES
            )

    def match(self, posts) -> None:
        """Each post the state does not know, matched in order (parents first) and recorded."""
        for post in order_posts(posts):
            if post.post_id in self.state.posts or post.account not in self.clients:
                continue
            adoption = self.adopter.adopt(post, self.state)
            if adoption is not None:
                self.state = self.state.with_record(post.post_id, adoption.record)
                differs = tuple(difference.describe() for difference in adoption.differences)
                self.matched.append(Imported(post.post_id, adoption.record.url, differs))

    def unclaimed(self) -> list[tuple[str, dict]]:
        """(account, status) of every status no record holds, oldest first."""
        left = [
            (account, raw)
            for account, copies in self.adopter.copies.items()
            for raw in copies.statuses
            if raw["id"] not in copies.claimed
        ]
        return sorted(left, key=lambda item: (_created(item[1]), item[1]["id"]))


def import_statuses(
    config_path: Path,
    *,
    clock: Clock,
    environ: Mapping[str, str],
    account: str | None = None,
    dry_run: bool = False,
    write_files: Path | None = None,
    client_factory: ClientFactory | None = None,
    download: Download | None = None,
    lock_timeout: float = 60.0,
) -> ImportResult:
    project = select_account(load_project(config_path), account)
    config = project.config
    folder = _files_folder(project, write_files) if write_files else None
    names = [account] if account else list(config.accounts)
    store = StateStore.for_config(project.config)
    with store.lock(lock_timeout):
        clients = make_clients(config, names, environ, client_factory or default_client_factory(clock))
        run = _Run(project, store.load(), clients, clock.now(), config_path, account)
        run.read_accounts()
        run.match(project.posts)
        written, skipped = [], []
        if folder is not None and not dry_run:
            written, skipped = _write_files(run, folder, download or download_media)
        if not dry_run:
            store.save(run.state)
    unmatched = tuple(raw.get("url") or raw["id"] for _, raw in run.unclaimed())
    requests = run.adopter.requests
    return ImportResult(tuple(run.matched), tuple(written), unmatched, tuple(skipped), requests, dry_run)


def _files_folder(project: Project, folder: Path) -> Path:
    """Written post files must be read back as posts: the folder has to be inside the posts folder."""
    config = project.config
    posts = config.path(config.publish.posts, "publish.posts").resolve()
    target = folder.resolve()
    if target != posts and posts not in target.parents:
        hint = f"use a folder inside {config.publish.posts}/, e.g. {config.publish.posts}/imported"
        raise InvalidInput(
            [Problem(str(folder), None, "--write-files", "is not inside the posts folder", hint)]
        )
    return target


def _write_files(run: _Run, folder: Path, download: Download) -> tuple[list[str], list[str]]:
    from publisher.source.post_writer import UnrepresentableStatus, write_post_file

    config = run.project.config
    posts_dir = config.path(config.publish.posts, "publish.posts").resolve()
    defaults = config.defaults.model_dump()
    by_status = {record.status_id: post_id for post_id, record in run.state.posts.items() if record.status_id}
    written, skipped = {}, []
    for account, raw in run.unclaimed():
        link = raw.get("url") or raw["id"]
        status = _imported_status(run, account, raw, by_status, download)
        try:
            if isinstance(status, str):
                raise UnrepresentableStatus(status)
            path = write_post_file(folder, status, defaults)
        except UnrepresentableStatus as exc:
            skipped.append(f"{link}: {exc}")
            continue
        by_status[raw["id"]] = path.relative_to(posts_dir).with_suffix("").as_posix()
        written[by_status[raw["id"]]] = path
    return _kept_if_matched(run, written, skipped), skipped


def _kept_if_matched(run: _Run, written: dict[str, Path], skipped: list[str]) -> list[str]:
    """Written files as the plan will read them; one that does not reproduce its status (a custom default
    template, say) would be posted again by the next sync, so it is removed and reported instead, and so is
    one that replies to or quotes a removed file (its front-matter would name a post that is not there)."""
    run.match(select_account(load_project(run.config_path), run.account).posts)
    root = run.project.config.root.resolve()
    kept, removed = [], set()
    for post_id, path in written.items():  # oldest first: a post before the replies and quotes of it
        record = run.state.posts.get(post_id)
        gone = [target for target in (record.reply_to, record.quote) if target in removed] if record else []
        if record is not None and not gone:
            kept.append(path.relative_to(root).as_posix())
            continue
        why = "rendered through the templates, it does not reproduce its status"
        if record is not None:
            why = f"it points at {gone[0]}, whose file was removed"
            _forget(run, post_id)
        removed.add(post_id)
        for stray in [path, *path.parent.glob(f"media/{path.stem}-*")]:
            stray.unlink(missing_ok=True)
        skipped.append(f"{path.name}: {why}; removed")
    return kept


def _forget(run: _Run, post_id: str) -> None:
    """The record of a written file that is removed again: its status is one without a file once more."""
    record = run.state.posts[post_id]
    run.adopter.copies[record.account].claimed.discard(record.status_id or "")
    run.state = run.state.without(post_id)
    run.matched = [item for item in run.matched if item.post_id != post_id]


def _imported_status(run: _Run, account: str, raw: dict, by_status: dict, download: Download):
    """The status as a post file would hold it, or the reason it cannot be one."""
    from publisher.source.post_writer import ImportedMedia, ImportedStatus

    parent = raw.get("in_reply_to_id")
    if parent is not None and parent not in by_status:
        return "replies to a status no post file holds"
    source = run.adopter.copies[account].source(raw["id"])
    attachments = [item for item in raw["media_attachments"] if isinstance(item, dict)]
    if (
        any(not item.get("description") for item in attachments)
        and run.project.config.publish.require_alt_text
    ):
        return "an attachment has no alt text, and publish.toml says require_alt_text"
    media = tuple(
        ImportedMedia(
            _file_name(item), download(str(item.get("url"))), item.get("description"), attachment_focus(item)
        )
        for item in attachments
    )
    poll = raw.get("poll") if isinstance(raw.get("poll"), dict) else None
    return ImportedStatus(
        status_id=raw["id"],
        created_at=_created(raw),
        text=source["text"].strip(),
        spoiler_text=source["spoiler_text"],
        visibility=raw.get("visibility") or "public",
        sensitive=bool(raw.get("sensitive")),
        language=raw.get("language"),
        media=media,
        reply_to=by_status.get(parent) if parent else None,
        poll_options=tuple(option.get("title", "") for option in (poll or {}).get("options", [])),
        poll_multiple=bool((poll or {}).get("multiple")),
        poll_expires_in=_poll_seconds(poll, raw) if poll else None,
        account=None if account == run.project.config.default_account else account,
        quote=_quoted(raw, by_status),
        # Not written while the account's default policy is unknown (publish reads it nowhere yet).
        quote_policy=stored_quote_policy(raw),
        pinned=raw.get("pinned") is True,
    )


def _quoted(raw: dict, by_status: dict) -> str | None:
    """What `quote:` names: the post id of a quoted status the repository holds (a later part of a thread has
    none), else the quoted status's link. None when it quotes nothing, or the server does not say what (a
    quote pending another server's approval, revoked or deleted has no quoted_status): without `quote` in
    its file, sync leaves the status as it is."""
    quote = raw.get("quote")
    if not isinstance(quote, dict):
        return None
    post_id = by_status.get(stored_quote_id(raw) or "")
    if post_id is not None and PART_SEPARATOR not in post_id:
        return post_id
    quoted = quote.get("quoted_status") if isinstance(quote.get("quoted_status"), dict) else {}
    link = next((link for link in (quoted.get("url"), quoted.get("uri")) if is_web_link(link)), None)
    if link is None:
        shown = escape_controls(str(raw.get("url") or raw["id"]))
        log.warning(
            "%s quotes a status the server does not name (%s): its file leaves `quote` out",
            shown,
            escape_controls(str(quote.get("state")))[:40],
        )
    return link


def _poll_seconds(poll: dict, raw: dict) -> int | None:
    """The poll's duration as it was asked for: from the status's creation to the poll's end."""
    ends = moment_or_none(poll.get("expires_at"))
    return None if ends is None else max(300, round((ends - _created(raw)).total_seconds()))


def _file_name(attachment: dict) -> str:
    suffix = PurePosixPath(urlsplit(str(attachment.get("url") or "")).path).suffix.lower()
    return f"{attachment['id']}{suffix if suffix[1:].isalnum() else ''}"


def _created(raw: dict) -> datetime:
    return moment_or_none(raw.get("created_at")) or EARLIEST


MAX_DOWNLOAD = 200 * 1024 * 1024  # larger than any media limit Mastodon has
DOWNLOAD_SECONDS = 600.0  # for all of one file: 200 MiB at 350 KB/s


def download_media(url: str, *, max_bytes: int = MAX_DOWNLOAD, seconds: float = DOWNLOAD_SECONDS) -> bytes:
    """A media file, from wherever the server keeps it (often another host): never with the token; read
    under the same bounds as any answer (transfer.exchange), so a larger file is never held whole."""
    import time

    import requests

    from publisher.errors import NetworkError
    from publisher.mastodon.transfer import TooLarge, TooSlow, exchange

    if urlsplit(url).scheme not in ("http", "https"):
        raise NetworkError(f"refused to download media from a link that is not http(s): {url[:80]}")
    def send() -> requests.Response:
        return requests.get(url, timeout=30, stream=True)

    try:
        received = exchange(send, seconds=seconds, max_bytes=max_bytes, monotonic=time.monotonic)
        received.raw.raise_for_status()
    except TooLarge:
        raise NetworkError(f"media {url[:120]} is larger than {max_bytes:,} bytes") from None
    except TooSlow:
        raise NetworkError(f"could not download media {url[:120]} within {seconds:.0f} s") from None
    except requests.RequestException as exc:
        raise NetworkError(f"could not download media {url[:120]}: {type(exc).__name__}") from None
    return received.content
