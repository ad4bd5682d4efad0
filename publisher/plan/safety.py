"""Refuse plans that would destroy more than the user asked for (octodns' TooMuchChange)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from publisher.errors import InvalidInput, Problem
from publisher.plan.changes import ChangeKind, Plan
from publisher.plan.plan_checks import plan_problems
from publisher.plan.state import State
from publisher.source.config import Config, Limits


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    prune: bool = False
    force: bool = False
    allow_replace: bool = False
    account: str | None = None
    lock_timeout: float = 60.0
    upload_workers: int = 4  # files uploading at once, this post's and the next posts'
    max_duration: float | None = None  # seconds: stop cleanly between posts, the next run continues
    refresh: bool = False  # compare every recorded status with the server before planning
    recreate_missing: bool = False  # post again what was deleted on the server


def check_safety(
    plan: Plan, state: State, config: Config, options: SyncOptions, limits: Mapping[str, Limits]
) -> None:
    """`limits`: each account's effective limits."""
    problems = plan_problems(plan, state, limits)
    if not options.allow_replace:
        problems += [
            Problem(
                change.desired.source,
                None,
                "replace",
                f"{change.reason}: needs delete and re-create",
                "run `publish sync --allow-replace` to delete the old toot and post it again",
            )
            for change in plan.of(ChangeKind.REPLACE)
        ]
    destructive = len(plan.of(ChangeKind.DELETE, ChangeKind.REPLACE))
    published = len(state.posts)
    share = config.publish.max_change_share
    if not options.force and published and destructive / published > share:
        message = f"would delete or replace {destructive} of {published} published posts (over {share:.0%})"
        problems.append(
            Problem(config.publish.state, None, "plan", message, "check the plan, then add --force")
        )
    if problems:
        raise InvalidInput(problems)
