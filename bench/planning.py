"""Rows (d) and (e): a no-op `publish plan` over many posts, and `publish --help`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from measure import BenchFailure, Measured, best_of, checked, child_env, publish_command, run_measured
from network import fake_server, new_repo
from repos import plan_posts, write_matching_state
from rows import Row, Settings, ratio, seconds

UNCHANGED = re.compile(r"(\d+) unchanged\.")
WRITES = re.compile(r"\b[1-9]\d* to (?:create|edit|replace|delete|schedule)")


def publish_plan(config: Path, posts: int) -> Measured:
    measured = checked(
        run_measured(publish_command("plan", "--config", str(config)), env=child_env()), "plan"
    )
    unchanged = UNCHANGED.search(measured.stdout)
    if unchanged is None or int(unchanged.group(1)) != posts or WRITES.search(measured.stdout):
        raise BenchFailure(
            f"expected a plan with {posts} unchanged posts and nothing else:\n{measured.stdout[-500:]}"
        )
    return measured


def per_post_ms(measured: Measured, empty: Measured, posts: int) -> float:
    """CPU milliseconds per post beyond start-up: wall time would mostly measure other processes."""
    return (measured.cpu_seconds - empty.cpu_seconds) / posts * 1000


def plan_rows(settings: Settings, workdir: Path) -> list[Row]:
    small, large = settings.plan_sizes
    runs = settings.runs + 1
    with fake_server(0.0) as server:  # the accounts point at loopback, whatever `plan` may ask the server
        empty = best_of(runs, lambda: publish_plan(new_repo(workdir, server, lambda root: None), 0))
        timings = {}
        for posts in (small, large):
            config = new_repo(workdir, server, lambda root, posts=posts: plan_posts(root, posts))
            write_matching_state(config)
            timings[posts] = best_of(runs, lambda config=config, posts=posts: publish_plan(config, posts))
    per_small, per_large = (per_post_ms(timings[n], empty, n) for n in (small, large))
    target = large == 10_000
    return [
        Row("(d) no-op `publish plan`, empty repository (start-up)", seconds(empty.seconds), cpu(empty)),
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
        Row(f"(d) CPU per post beyond start-up, {small:,} posts", f"{per_small:.3f} ms"),
        Row(f"(d) CPU per post beyond start-up, {large:,} posts", f"{per_large:.3f} ms"),
        Row(
            f"(d) cost per post, {large:,} vs {small:,} posts",
            ratio(per_large / per_small),
            "1.00× is perfectly linear",
            "≤ 1.25×",
            per_large / per_small <= 1.25,
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
