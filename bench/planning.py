"""Rows (d) and (e): a no-op `publish plan` over many posts, and `publish --help`."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from measure import (
    BenchFailure,
    Measured,
    best_of,
    checked,
    child_env,
    fastest,
    publish_command,
    run_measured,
)
from network import fake_server, new_repo
from repos import plan_posts, write_matching_state
from rows import FULL, Row, Settings, full_run_target, ratio, seconds

from publisher.source.limits import CACHE_DIR

UNCHANGED = re.compile(r"(\d+) unchanged\.")
WRITES = re.compile(r"\b[1-9]\d* to (?:create|edit|replace|delete|schedule)")


def publish_plan(config: Path, posts: int, *, first_run: bool = False) -> Measured:
    """`first_run`: as after a fresh checkout, without `.publish-cache/`: every post parsed and rendered."""
    if first_run:
        shutil.rmtree(config.parent / CACHE_DIR, ignore_errors=True)
    measured = checked(
        run_measured(publish_command("plan", "--config", str(config)), env=child_env()), "plan"
    )
    unchanged = UNCHANGED.search(measured.stdout)
    if unchanged is None or int(unchanged.group(1)) != posts or WRITES.search(measured.stdout):
        raise BenchFailure(
            f"expected a plan with {posts} unchanged posts and nothing else:\n{measured.stdout[-500:]}"
        )
    return measured


STARTUP_POSTS = 10  # enough to pay every one-time cost (imports, compiled patterns and templates) once
BARE = Path(__file__).with_name("bare_frontmatter.py")
WARM_TARGET = 1.0  # seconds for the no-op plan of 10,000 posts
COLD_OVER_BARE_TARGET = 5.0
COLD_RSS_TARGET_MB = 150  # megabytes of 1,000,000 bytes (ru_maxrss is read in MiB of 1,048,576 bytes)
MB_PER_MIB = 1024 * 1024 / 1_000_000
LINEARITY_TARGET = 1.25


def bare_parse(root: Path, posts: int) -> Measured:
    """bench/bare_frontmatter.py over the same post files: read each, parse its front-matter with libyaml."""
    command = [sys.executable, str(BARE), str(root / "posts")]
    measured = checked(run_measured(command, env=child_env()), "bare parse")
    if measured.stdout.strip() != str(posts):
        raise BenchFailure(f"the bare parse read {measured.stdout.strip()} front-matters, not {posts}")
    return measured


def first_runs(config: Path, posts: int, runs: int) -> Measured:
    """The fastest of `runs` runs without `.publish-cache/` (least CPU time), with the highest peak RSS."""
    measured = [publish_plan(config, posts, first_run=True) for _ in range(runs)]
    return replace(fastest(measured), max_rss_mib=max(run.max_rss_mib for run in measured))


def plan_rows(settings: Settings, workdir: Path) -> list[Row]:
    small, large = settings.plan_sizes
    runs = settings.runs + 1
    with fake_server(0.0) as server:  # the accounts point at loopback, whatever `plan` may ask the server
        timings = {}
        for posts in (STARTUP_POSTS, small, large):
            config = new_repo(workdir, server, lambda root, posts=posts: plan_posts(root, posts))
            write_matching_state(config)
            if posts == large:  # side by side: the bare parse of the same files, then publish's first run
                bare = best_of(runs, lambda config=config, posts=posts: bare_parse(config.parent, posts))
                first_run = first_runs(config, posts, settings.runs)
            timings[posts] = best_of(runs, lambda config=config, posts=posts: publish_plan(config, posts))
    startup = timings[STARTUP_POSTS]
    marginal = (timings[large].cpu_seconds - timings[small].cpu_seconds) / (large - small) * 1000
    average = timings[large].cpu_seconds / large * 1000
    full_size = large == FULL.plan_sizes[1]
    warm = full_run_target(full_size, f"≤ {WARM_TARGET:g} s", timings[large].seconds <= WARM_TARGET)
    over_bare = first_run.seconds / bare.seconds
    cold = full_run_target(full_size, f"≤ {COLD_OVER_BARE_TARGET:g}×", over_bare <= COLD_OVER_BARE_TARGET)
    rss_mb = first_run.max_rss_mib * MB_PER_MIB
    rss = full_run_target(full_size, f"< {COLD_RSS_TARGET_MB} MB", rss_mb < COLD_RSS_TARGET_MB)
    no_cache = f"first run (no `{CACHE_DIR}/`)"
    return [
        Row(
            f"(d) no-op `publish plan`, {STARTUP_POSTS} posts (start-up)",
            seconds(startup.seconds),
            cpu(startup),
        ),
        Row(
            f"(d) no-op `publish plan`, {small:,} posts", seconds(timings[small].seconds), cpu(timings[small])
        ),
        Row(
            f"(d) no-op `publish plan`, {large:,} posts",
            seconds(timings[large].seconds),
            cpu(timings[large]),
            *warm,
        ),
        Row(
            f"(d) no-op `publish plan`, {large:,} posts, {no_cache}",
            seconds(first_run.seconds),
            cpu(first_run),
        ),
        Row(
            f"(d) bare parse of the same {large:,} files: read, YAML front-matter with `yaml.CSafeLoader`",
            seconds(bare.seconds),
            f"{cpu(bare)}; `bench/{BARE.name}`",
        ),
        Row(f"(d) {no_cache} over the bare parse, {large:,} posts", ratio(over_bare), "", *cold),
        Row(
            f"(d) peak RSS, {no_cache}, {large:,} posts",
            f"{rss_mb:.0f} MB",
            f"{first_run.max_rss_mib:.1f} MiB",
            *rss,
        ),
        Row(f"(d) CPU per post from {small:,} to {large:,} posts", f"{marginal:.3f} ms", "one more post"),
        Row(f"(d) CPU per post, {large:,} posts overall", f"{average:.3f} ms", "start-up included"),
        Row(
            f"(d) one more post vs the average, {large:,} posts",
            ratio(marginal / average),
            "above 1× would mean worse than linear",
            f"≤ {LINEARITY_TARGET:g}×",
            marginal / average <= LINEARITY_TARGET,
        ),
    ]


def cpu(measured: Measured) -> str:
    return f"CPU {seconds(measured.cpu_seconds)}"


def help_rows(settings: Settings) -> tuple[list[Row], Measured]:
    """Row (e), and the `publish --help` run itself: row (a)'s pipelined minimum starts with it."""
    publish_help = best_of(
        settings.help_runs, lambda: checked(run_measured(publish_command("--help")), "help")
    )
    interpreter = best_of(settings.help_runs, lambda: run_measured([sys.executable, "-c", "pass"]))
    if "Usage:" not in publish_help.stdout:
        raise BenchFailure(f"`publish --help` printed no usage:\n{publish_help.stdout}")
    row = Row(
        "(e) `publish --help`",
        seconds(publish_help.seconds),
        f"bare interpreter {seconds(interpreter.seconds)}",
    )
    return [row], publish_help
