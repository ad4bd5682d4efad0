"""Rows (a) to (c) and (f): `publish sync` against fake servers with added latency, big files, rate limits
and several accounts."""

from __future__ import annotations

import math
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from measure import BenchFailure, Measured, best_of, checked, child_env, publish_command, run_measured
from repos import (
    distinct_png,
    image_posts,
    sparse_mp4,
    write_accounts_repo,
    write_manifest,
    write_post,
    write_repo,
)
from rows import FULL, Row, Settings, full_run_target, ratio, seconds

from publisher.sandbox import FakeMastodon, Quirks

MIB = 1024 * 1024
BASELINE = Path(__file__).with_name("baseline.py")
GENEROUS = {"media": (10_000, 1800), "statuses": (10_000, 10_800), "requests": (100_000, 300)}
MEDIA_UPLOAD = "/api/v2/media"


class TimedFake(FakeMastodon):
    """The fake server, also noting when each request was answered and with which status."""

    def __init__(self, **options):
        super().__init__(**options)
        self.answers: list[tuple[float, str, str, int]] = []
        self._answers_lock = threading.Lock()

    def respond(self, request, body_problem):
        response = super().respond(request, body_problem)
        with self._answers_lock:
            self.answers.append(
                (time.time(), request.method, request.path, response.status if response else 0)
            )
        return response

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[3] == status)

    def first_upload_at(self) -> float:
        return min(at for at, method, path, _ in self.answers if method == "POST" and path == MEDIA_UPLOAD)


@contextmanager
def fake_server(
    latency: float, rate_limits: dict = GENEROUS, quirks: Quirks = Quirks()
) -> Iterator[TimedFake]:
    token = secrets.token_urlsafe(18)
    options = {"latency": latency, "media_processing_polls": 0, "rate_limits": rate_limits, "quirks": quirks}
    with TimedFake(token=token, **options) as server:
        yield server


def new_repo(workdir: Path, server: TimedFake, fill: Callable[[Path], object], limits: str = "") -> Path:
    root = Path(tempfile.mkdtemp(dir=workdir))
    config = write_repo(root, server.url, limits=limits)
    fill(root)
    return config


def publish_sync(config: Path, server: TimedFake, *, statuses: int, media: int) -> Measured:
    command = publish_command("sync", "--config", str(config))
    return expect(
        checked(run_measured(command, env=child_env(server.token)), "sync"), server, statuses, media
    )


def expect(measured: Measured, server: TimedFake, statuses: int, media: int) -> Measured:
    """The run, with the number of requests it sent, once the server holds what it should."""
    if (len(server.statuses), len(server.media)) != (statuses, media):
        raise BenchFailure(
            f"expected {statuses} statuses and {media} media, the server has {len(server.statuses)} and "
            f"{len(server.media)}:\n{measured.stdout[-500:]}\n{measured.stderr[-2000:]}"
        )
    return replace(measured, requests=len(server.answers))


# -- (a) 20 posts x 4 images with 50 ms per request --------------------------------------------------


def empty_sync(settings: Settings, workdir: Path) -> Measured:
    """Start-up: a sync with nothing to do, against the same kind of server."""
    with fake_server(settings.latency) as server:
        return publish_sync(new_repo(workdir, server, lambda root: None), server, statuses=0, media=0)


def our_sync(settings: Settings, workdir: Path, quirks: Quirks = Quirks()) -> Measured:
    """`quirks`: the fake server's; by default it announces its Mastodon API version like Mastodon 4.3+."""
    posts, images = settings.sync_posts, settings.images_per_post
    with fake_server(settings.latency, quirks=quirks) as server:
        config = new_repo(workdir, server, lambda root: image_posts(root, posts, images))
        return publish_sync(config, server, statuses=posts, media=posts * images)


def baseline_sync(settings: Settings, workdir: Path) -> Measured:
    posts, images = settings.sync_posts, settings.images_per_post
    with fake_server(settings.latency) as server:
        config = new_repo(workdir, server, lambda root: image_posts(root, posts, images))
        manifest = write_manifest(config, config.with_name("manifest.json"))
        command = [sys.executable, str(BASELINE), server.url, str(manifest)]
        return expect(
            checked(run_measured(command, env=child_env(server.token)), "baseline"),
            server,
            posts,
            posts * images,
        )


STARTUP_TARGET = 0.25  # seconds for a sync with nothing to do
OVER_MINIMUM_TARGET = 1.35
SPEEDUP_TARGET = 3.0


def sync_rows(settings: Settings, workdir: Path, help_seconds: float) -> tuple[list[Row], Measured]:
    """`help_seconds`: row (e)'s `publish --help`, the start-up in the pipelined minimum."""
    empty = best_of(settings.runs + 1, lambda: empty_sync(settings, workdir))
    ours = best_of(settings.runs, lambda: our_sync(settings, workdir))
    by_id = best_of(settings.runs, lambda: our_sync(settings, workdir, Quirks(order_media_by_id=True)))
    baseline = best_of(settings.runs, lambda: baseline_sync(settings, workdir))
    minimum = (settings.sync_posts + 1) * settings.latency + help_seconds
    latency_ms = settings.latency * 1000
    shape = f"{settings.sync_posts} posts × {settings.images_per_post} images, {latency_ms:g} ms/request"
    speedup, over_minimum = baseline.seconds / ours.seconds, ours.seconds / minimum
    rows = [
        Row(
            "(a) start-up: `publish sync` with nothing to do",
            seconds(empty.seconds),
            sent(empty),
            f"≤ {STARTUP_TARGET:g} s",
            empty.seconds <= STARTUP_TARGET,
        ),
        Row(
            f"(a) naive sequential baseline, {shape}",
            seconds(baseline.seconds),
            sent(baseline),
        ),
        Row(
            f"(a) pipelined minimum, {shape}",
            seconds(minimum),
            f"(posts + 1) × latency + `publish --help` ({seconds(help_seconds)}, row (e))",
        ),
        Row(f"(a) `publish sync`, {shape}", seconds(ours.seconds), sent(ours)),
        Row(
            "(a) the same against a server that may order attachments by id",
            seconds(by_id.seconds),
            "announces no API version: each post's files one after another",
        ),
        Row(
            "(a) speed-up over the baseline",
            ratio(speedup),
            "",
            f"≥ {SPEEDUP_TARGET:g}×",
            speedup >= SPEEDUP_TARGET,
        ),
        Row(
            "(a) time over the pipelined minimum",
            ratio(over_minimum),
            "",
            f"≤ {OVER_MINIMUM_TARGET:g}×",
            over_minimum <= OVER_MINIMUM_TARGET,
        ),
    ]
    return rows, empty


def sent(measured: Measured) -> str:
    return f"{measured.requests} request{'' if measured.requests == 1 else 's'}"


# -- (b) peak memory while uploading one big file ----------------------------------------------------


def one_media_sync(
    workdir: Path, make_media: Callable[[Path], object], limits: str = ""
) -> tuple[Measured, int]:
    """Sync one post with one attachment; also returns the size of what the server stored."""
    with fake_server(0.0) as server:
        config = new_repo(workdir, server, lambda root: write_post(root, 0, [make_media(root)]), limits)
        measured = publish_sync(config, server, statuses=1, media=1)
        (record,) = server.media.values()
        return measured, len(record["_data"])


def memory_rows(settings: Settings, workdir: Path, empty: Measured) -> list[Row]:
    size = settings.big_file_mib * MIB
    small, _ = one_media_sync(workdir, lambda root: distinct_png(root, "small.png", 1))
    big, stored = one_media_sync(
        workdir, lambda root: sparse_mp4(root, "big.mp4", size), f"[limits]\nvideo_size_limit = {2 * size}\n"
    )
    if stored != size:
        raise BenchFailure(f"the server stored {stored} bytes of a {size}-byte file")
    growth = big.max_rss_mib - empty.max_rss_mib
    return [
        Row("(b) peak RSS, `publish sync` with nothing to do", f"{empty.max_rss_mib:.1f} MiB"),
        Row("(b) peak RSS, sync of one 2 KiB image", f"{small.max_rss_mib:.1f} MiB"),
        Row(
            f"(b) peak RSS, sync of one {settings.big_file_mib} MiB video",
            f"{big.max_rss_mib:.1f} MiB",
            f"+{growth:.1f} MiB over nothing to do",
            "≤ +25 MiB",
            growth <= 25,
        ),
    ]


# -- (c) rate limits announced in headers ------------------------------------------------------------


def limits_allow(first_upload: float, launched: float, uploads: int, settings: Settings) -> float:
    """Seconds from launch until the last upload may be accepted (fixed windows aligned like Mastodon's),
    plus one round trip for the status that follows it."""
    limit, period = settings.media_limit
    window_start = math.floor(first_upload / period) * period
    last_upload = max(first_upload, window_start + ((uploads - 1) // limit) * period)
    return last_upload - launched + settings.latency


def start_of_next_window(period: float) -> None:
    """Sleep until a window begins, so the first upload (a second after launch) is not in the last round trip
    of a window: the rest of it would go unused, since its budget is only learnt from an answer that arrives
    after it ended. Against 4-second windows that costs a whole window (1.9x) for about 2% of starts; against
    Mastodon's 30-minute windows the same tenth of a second is 0.005% of them."""
    now = time.time()
    start = math.floor(now / period) * period + period
    time.sleep(start - now)


def rate_limited_rows(settings: Settings, workdir: Path) -> list[Row]:
    posts, images = settings.limited_posts, settings.images_per_post
    limit, period = settings.media_limit
    with fake_server(settings.latency, {**GENEROUS, "media": (limit, period)}) as server:
        config = new_repo(workdir, server, lambda root: image_posts(root, posts, images))
        start_of_next_window(period)
        run = publish_sync(config, server, statuses=posts, media=posts * images)
        refused = server.count(429)
        allowed = limits_allow(server.first_upload_at(), run.started_at, posts * images, settings)
    shape = f"{posts * images} uploads at {limit} per {period} s"
    # with fewer posts (--quick) the fixed cost after the last window weighs more: a full-run target
    within = full_run_target(posts == FULL.limited_posts, "≤ 1.1×", run.seconds <= 1.1 * allowed)
    return [
        Row(f"(c) 429 answers, {shape}", str(refused), "", "0", refused == 0),
        Row(
            f"(c) `publish sync`, {shape}", seconds(run.seconds), f"limits allow {seconds(allowed)}", *within
        ),
        Row("(c) time over what the limits allow", ratio(run.seconds / allowed)),
    ]


# -- (f) four accounts as parallel lanes, each on its own rate-limited server -------------------------

LANES_TARGET = 1.2  # all accounts in one sync, over the slowest account synced alone
LANE_TOKEN_ENV = "PUBLISH_BENCH_TOKEN_{}"


@dataclass(frozen=True)
class LaneRun:
    measured: Measured
    allowed: float  # what the limits allow: the latest of the servers' (see limits_allow)
    refused: int  # 429 answers from all servers


def account_name(lane: int) -> str:
    return f"lane{lane + 1}"


def lanes_sync(settings: Settings, workdir: Path, lanes: Sequence[int]) -> LaneRun:
    """One `publish sync` of a fresh repository holding the accounts `lanes` and only their posts, each
    account on a fresh server of its own (own token, own limits), launched as a rate-limit window begins."""
    posts, images = settings.account_posts, settings.images_per_post
    limit, period = settings.media_limit
    with ExitStack() as stack:
        servers = {
            lane: stack.enter_context(fake_server(settings.latency, {**GENEROUS, "media": (limit, period)}))
            for lane in lanes
        }
        accounts = {
            account_name(lane): (server.url, LANE_TOKEN_ENV.format(lane + 1))
            for lane, server in servers.items()
        }
        root = Path(tempfile.mkdtemp(dir=workdir))
        config = write_accounts_repo(root, accounts)
        for lane in lanes:
            image_posts(root, posts, images, first_index=lane * posts, account=account_name(lane))
        env = child_env()
        env.update({LANE_TOKEN_ENV.format(lane + 1): server.token for lane, server in servers.items()})
        command = publish_command("sync", "--config", str(config))
        start_of_next_window(period)
        measured = checked(run_measured(command, env=env), "sync")
        for lane, server in servers.items():
            try:
                expect(measured, server, posts, posts * images)
            except BenchFailure as failure:
                raise BenchFailure(f"account {account_name(lane)}: {failure}") from None
        allowed = max(
            limits_allow(server.first_upload_at(), measured.started_at, posts * images, settings)
            for server in servers.values()
        )
        refused = sum(server.count(429) for server in servers.values())
        requests = sum(len(server.answers) for server in servers.values())
    return LaneRun(replace(measured, requests=requests), allowed, refused)


def parallel_lanes_rows(settings: Settings, workdir: Path) -> list[Row]:
    lanes = range(settings.accounts)
    alone = [lanes_sync(settings, workdir, [lane]) for lane in lanes]
    together = lanes_sync(settings, workdir, lanes)
    slowest = max(alone, key=lambda run: run.measured.seconds)
    over = together.measured.seconds / slowest.measured.seconds
    refused = together.refused + sum(run.refused for run in alone)
    limit, period = settings.media_limit
    uploads = settings.account_posts * settings.images_per_post
    shape = (
        f"{settings.account_posts} posts × {settings.images_per_post} images per account, "
        f"{uploads} uploads at {limit} per {period} s per server"
    )
    each = ", ".join(f"{run.measured.seconds:.2f}" for run in alone)
    full_size = settings.account_posts == FULL.account_posts and settings.accounts == FULL.accounts
    target, passed = full_run_target(full_size, f"≤ {LANES_TARGET:g}×", over <= LANES_TARGET)
    return [
        Row(
            f"(f) slowest single account, {shape}",
            seconds(slowest.measured.seconds),
            f"each alone: {each} s; limits allow {seconds(slowest.allowed)}",
        ),
        Row(
            f"(f) all {settings.accounts} accounts in one `publish sync`",
            seconds(together.measured.seconds),
            f"{sent(together.measured)}; limits allow {seconds(together.allowed)}",
        ),
        Row("(f) 429 answers, every run of (f)", str(refused), "", "0", refused == 0),
        Row(
            f"(f) all {settings.accounts} accounts over the slowest single account",
            ratio(over),
            "",
            target,
            passed,
        ),
    ]
