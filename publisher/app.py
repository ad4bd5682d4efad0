"""The library's entry points: one function per command, collaborators passed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from publisher.clock import Clock
from publisher.config import Account, Config
from publisher.errors import InvalidInput, MissingToken, Problem
from publisher.mastodon import MastodonClient
from publisher.plan import Plan, compute_plan
from publisher.project import Project, load_project
from publisher.safety import SyncOptions, check_safety
from publisher.sync import SyncEvent, SyncRun


@dataclass(frozen=True)
class PlanResult:
    project: Project
    plan: Plan


def check(config_path: Path) -> Project:
    """Validate config, posts and templates; no network, no state."""
    return load_project(config_path)


def make_plan(config_path: Path, *, clock: Clock, prune: bool = False, account: str | None = None) -> PlanResult:
    project = select_account(load_project(config_path), account)
    state = project.state_store().load()
    plan = compute_plan(project.posts, state, clock.now(), schedule=project.config.publish.schedule, prune=prune)
    return PlanResult(project, plan)


def select_account(project: Project, account: str | None) -> Project:
    if account is None:
        return project
    if account not in project.config.accounts:
        known = ", ".join(project.config.accounts)
        raise InvalidInput([Problem("publish.toml", None, "--account", f"unknown account {account!r}", f"one of: {known}")])
    posts = tuple(post for post in project.posts if post.account == account)
    return Project(project.config, posts, project.drafts)


@dataclass(frozen=True)
class SyncResult:
    project: Project
    plan: Plan
    events: tuple[SyncEvent, ...]
    applied: bool


ClientFactory = Callable[[str, Account, str], MastodonClient]


def sync(
    config_path: Path,
    *,
    clock: Clock,
    environ: Mapping[str, str],
    client_factory: ClientFactory | None = None,
    options: SyncOptions = SyncOptions(),
    on_event: Callable[[SyncEvent], None] = lambda event: None,
    project: Project | None = None,
) -> SyncResult:
    """Plan under the lock, refuse unsafe plans, then apply, recording every change as it lands."""
    project = select_account(project or load_project(config_path), options.account)
    store = project.state_store()
    with store.lock(options.lock_timeout):
        store.remove_stale_temp_files()
        state = store.load()
        publish = project.config.publish
        plan = compute_plan(project.posts, state, clock.now(), schedule=publish.schedule, prune=options.prune)
        check_safety(plan, state, project.config, options)
        if options.dry_run or not plan.writes:
            return SyncResult(project, plan, (), False)
        factory = client_factory or default_client_factory(clock)
        clients = make_clients(project.config, plan, environ, factory)
        run = SyncRun(state, store, clients, clock, project.config.root, on_event)
        run.apply(plan)
    return SyncResult(project, plan, tuple(run.events), True)


def make_clients(
    config: Config, plan: Plan, environ: Mapping[str, str], factory: ClientFactory
) -> dict[str, MastodonClient]:
    """One client per account the plan writes to; every token is checked before anything is sent."""
    needed = sorted({change_account(change) for change in plan.writes})
    tokens = {name: token_for(name, config.accounts[name], environ) for name in needed}
    return {name: factory(name, config.accounts[name], tokens[name]) for name in needed}


def change_account(change) -> str:
    return change.desired.account if change.desired else change.record.account


def token_for(name: str, account: Account, environ: Mapping[str, str]) -> str:
    token = environ.get(account.token_env, "").strip()
    if not token:
        raise MissingToken(account.token_env, name)
    return token


def default_client_factory(clock: Clock) -> ClientFactory:
    def factory(name: str, account: Account, token: str) -> MastodonClient:
        from publisher.http import HttpClient

        return MastodonClient(HttpClient(account.instance, token, clock=clock), clock)

    return factory


def sync_sandbox(config_path: Path, **kwargs) -> SyncResult:
    from publisher.sandboxed import sync_sandbox as run

    return run(config_path, **kwargs)
