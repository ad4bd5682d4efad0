"""Rows (d) and (e): a no-op `publish plan` over many posts, and `publish --help`."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from measure import BenchFailure, Measured, best_of, checked, child_env, publish_command, run_measured
from network import fake_server, new_repo
from repos import plan_posts, write_matching_state
from rows import Row, Settings, ratio, seconds

from publisher.instance import CACHE_DIR

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


def plan_rows(settings: Settings, workdir: Path) -> list[Row]:
    small, large = settings.plan_sizes
    runs = settings.runs + 1
    with fake_server(0.0) as server:  # the accounts point at loopback, whatever `plan` may ask the server
        timings = {}
        for posts in (STARTUP_POSTS, small, large):
            config = new_repo(workdir, server, lambda root, posts=posts: plan_posts(root, posts))
            write_matching_state(config)
            if posts == large:
                first_run = publish_plan(config, posts, first_run=True)
            timings[posts] = best_of(runs, lambda config=config, posts=posts: publish_plan(config, posts))
    startup = timings[STARTUP_POSTS]
    marginal = (timings[large].cpu_seconds - timings[small].cpu_seconds) / (large - small) * 1000
    average = timings[large].cpu_seconds / large * 1000
    target = large == 10_000
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
            "≤ 2 s" if target else "",
            timings[large].seconds <= 2.0 if target else None,
        ),
        Row(
            f"(d) no-op `publish plan`, {large:,} posts, first run (no `{CACHE_DIR}/`)",
            seconds(first_run.seconds),
            cpu(first_run),
        ),
        Row(f"(d) CPU per post from {small:,} to {large:,} posts", f"{marginal:.3f} ms", "one more post"),
        Row(f"(d) CPU per post, {large:,} posts overall", f"{average:.3f} ms", "start-up included"),
        Row(
            f"(d) one more post vs the average, {large:,} posts",
            ratio(marginal / average),
            "above 1× would mean worse than linear",
            "≤ 1.25×",
            marginal / average <= 1.25,
        ),
    ]


def cpu(measured: Measured) -> str:
    return f"CPU {seconds(measured.cpu_seconds)}"


def help_rows(settings: Settings) -> list[Row]:
    publish_help = best_of(
        settings.help_runs, lambda: checked(run_measured(publish_command("--help")), "help")
    )
    interpreter = best_of(settings.help_runs, lambda: run_measured([sys.executable, "-c", "pass"]))
    if "Usage:" not in publish_help.stdout:
        raise BenchFailure(f"`publish --help` printed no usage:\n{publish_help.stdout}")
    return [
        Row(
            "(e) `publish --help`",
            seconds(publish_help.seconds),
            f"bare interpreter {seconds(interpreter.seconds)}",
        )
    ]
