"""The library's entry points: one function per command, collaborators passed in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.clock import Clock
from publisher.config import Account, Config, Limits, load_config
from publisher.errors import InvalidInput, MissingToken, Problem
from publisher.instance import (
    EffectiveLimits,
    InstanceCache,
    InstanceFetch,
    Warn,
    effective_limits,
    public_fetch,
    publishing_fetch,
    refresh_announcements,
    stale_refresher,
)
from publisher.plan import Plan, compute_plan
from publisher.plan_checks import plan_problems
from publisher.project import Project, collector_paused, load_project
from publisher.safety import SyncOptions, check_safety
from publisher.scheduled import adopt_published, due_scheduled, scheduled_accounts
from publisher.state import State, StateStore
from publisher.untrusted import token_from

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the network stack (requests, tenacity) is imported only when a sync sends something
    from publisher.drift import ServerView
    from publisher.mastodon import MastodonClient
    from publisher.sync import SyncEvent


@dataclass(frozen=True)
class PlanResult:
    project: Project
    plan: Plan


def check(config_path: Path) -> Project:
    """Validate config, posts and templates; no network, no state. What fails only against Mastodon's
    default limits, for an account whose server's limits are not known, is in `warnings`."""
    return load_project(config_path, lenient_defaults=True)


def make_plan(
    config_path: Path,
    *,
    clock: Clock,
    prune: bool = False,
    account: str | None = None,
    fetch: InstanceFetch | None = None,
    warn: Warn = log.warning,
    refresh: Refresh | None = None,
) -> PlanResult:
    """Load, validate and diff against the state. With `fetch`, instance limits missing from the cache or
    stale are read first (no token needed); an instance that does not answer leaves the cache or defaults.
    With `refresh`, each recorded status is compared with the server (tokens needed)."""
    limits = stale_refresher(clock, fetch, account, warn) if fetch else None
    project = select_account(load_project(config_path, refresh_limits=limits), account)
    with collector_paused():
        state = project.state_store().load()
    server = refresh.view(project, state, clock) if refresh else None
    plan = compute_plan(
        project.posts,
        state,
        clock.now(),
        schedule=project.config.publish.schedule,
        prune=prune,
        server=server,
        recreate_missing=bool(refresh and refresh.recreate_missing),
    )
    problems = plan_problems(plan, state, limits_by_account(project))
    if problems:
        raise InvalidInput(problems)
    return PlanResult(project, plan)


def limits_by_account(project: Project) -> dict[str, Limits]:
    """Each account's effective limits, for counts shown against the right server's maximum."""
    known = project.limits.by_account()
    return {name: known.get(name, project.config.limits) for name in project.config.accounts}


def recorded_state(config_path: Path) -> State:
    """What the state file knows; no network."""
    config = load_config(config_path)
    return StateStore.for_config(config).load()


def select_account(project: Project, account: str | None) -> Project:
    if account is None:
        return project
    check_account(project.config, account)
    posts = tuple(post for post in project.posts if post.account == account)
    return replace(project, posts=posts)


def check_account(config: Config, account: str | None) -> None:
    if account is not None and account not in config.accounts:
        known = ", ".join(config.accounts)
        raise InvalidInput(
            [Problem("publish.toml", None, "--account", f"unknown account {account!r}", f"one of: {known}")]
        )


def limits_in_use(config_path: Path, *, account: str | None = None) -> EffectiveLimits:
    """The limits offline validation uses for each account, and where each came from; no network."""
    config = load_config(config_path)
    check_account(config, account)
    return effective_limits(config, InstanceCache.for_config(config)).only(account)


def refresh_limits(
    config_path: Path, *, clock: Clock, fetch: InstanceFetch | None = None, account: str | None = None
) -> EffectiveLimits:
    """Ask every account's instance (or `account`'s) for its limits now, cache them, return the result."""
    config = load_config(config_path)
    check_account(config, account)
    cache = InstanceCache.for_config(config)
    names = [account] if account else list(config.accounts)
    fetch = fetch or public_fetch(clock)
    refresh_announcements(config, cache, fetch, clock.now(), accounts=names, force=True)
    return effective_limits(config, cache).only(account)


@dataclass(frozen=True)
class SyncResult:
    project: Project
    plan: Plan
    events: tuple[SyncEvent, ...]
    applied: bool

    @property
    def mismatches(self) -> tuple[SyncEvent, ...]:
        """What the server did not keep of what was sent: a warning each, and exit 1."""
        return tuple(event for event in self.events if event.action == "mismatch")


ClientFactory = Callable[[str, Account, str], "MastodonClient"]


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
    started = clock.now()  # --max-duration counts from here: reading limits and adopting are part of the run
    made = finishing_by(client_factory or default_client_factory(clock), started, options.max_duration)
    factory = one_client_per_account(made)
    if project is None:
        fetch = publishing_fetch(factory, environ)
        refresh = None if options.dry_run else stale_refresher(clock, fetch, options.account)
        project = load_project(config_path, refresh_limits=refresh)
    project = select_account(project, options.account)
    store = project.state_store()
    with store.lock(options.lock_timeout):
        store.remove_stale_temp_files()
        state = store.load()
        adopted: list[SyncEvent] = []
        if not options.dry_run and due_scheduled(state, clock.now()):
            state = adopt_published(
                state,
                store,
                make_clients(project.config, scheduled_accounts(state), environ, factory),
                clock,
                adopted.append,
            )
        publish = project.config.publish
        refresh = Refresh(environ, factory, options.recreate_missing) if options.refresh else None
        plan = compute_plan(
            project.posts,
            state,
            clock.now(),
            schedule=publish.schedule,
            prune=options.prune,
            server=refresh.view(project, state, clock) if refresh else None,
            recreate_missing=options.recreate_missing,
        )
        check_safety(plan, state, project.config, options, limits_by_account(project))
        if options.dry_run or not plan.writes:
            return SyncResult(project, plan, tuple(adopted), bool(adopted))
        clients = make_clients(project.config, plan.accounts_sent_to, environ, factory)
        from publisher.adopt import Adopter
        from publisher.history import FileHistory
        from publisher.sync import SyncRun

        history = FileHistory(project.config.root, clock.now(), timedelta(days=publish.look_back_days))

        run = SyncRun(
            state,
            store,
            clients,
            clock,
            project.config.root,
            on_event,
            options.upload_workers,
            options.max_duration,
            started_at=started,
            adopter=Adopter(clients, history.first_seen, clock.now()),
            keep_media_order=frozenset(e.account for e in project.limits.accounts if e.keeps_media_order),
            recreate_missing=options.recreate_missing,
        )
        run.apply(plan)
    return SyncResult(project, plan, tuple(adopted + run.events), True)


@dataclass(frozen=True)
class Refresh:
    """How a plan compares the recorded statuses with the server: whose tokens, which clients."""

    environ: Mapping[str, str]
    factory: ClientFactory | None = None
    recreate_missing: bool = False

    def view(self, project: Project, state: State, clock: Clock) -> ServerView:
        from publisher.drift import refresh

        accounts = {record.account for record in state.posts.values()} & set(project.config.accounts)
        factory = self.factory or default_client_factory(clock)
        return refresh(state, make_clients(project.config, accounts, self.environ, factory))


def make_clients(
    config: Config, accounts: Iterable[str], environ: Mapping[str, str], factory: ClientFactory
) -> dict[str, MastodonClient]:
    """One client per account; every token is checked before anything is sent."""
    needed = sorted(set(accounts))
    tokens = {name: token_for(name, config.accounts[name], environ) for name in needed}
    return {name: factory(name, config.accounts[name], tokens[name]) for name in needed}


def token_for(name: str, account: Account, environ: Mapping[str, str]) -> str:
    """The account's token; MissingToken when unset, InvalidToken when it could not go in a header."""
    token = token_from(environ, account.token_env, name)
    if token is None:
        raise MissingToken(account.token_env, name)
    return token


def finishing_by(factory: ClientFactory, started: datetime, max_duration: float | None) -> ClientFactory:
    """`factory`, its clients told the run's end, so no request of theirs outlasts --max-duration."""
    if max_duration is None:
        return factory
    ends_at = started + timedelta(seconds=max_duration)

    def make(name: str, account: Account, token: str) -> MastodonClient:
        client = factory(name, account, token)
        client.finish_by(ends_at)
        return client

    return make


def one_client_per_account(factory: ClientFactory) -> ClientFactory:
    """`factory`, making each account's client once: the run reads the limits, checks the token and publishes
    over one connection per account, and its pacing knows the rate-limit budget from the first answer on."""
    made: dict[tuple[str, str], MastodonClient] = {}

    def make(name: str, account: Account, token: str) -> MastodonClient:
        if (name, token) not in made:
            made[name, token] = factory(name, account, token)
        return made[name, token]

    return make


def default_client_factory(clock: Clock) -> ClientFactory:
    def factory(name: str, account: Account, token: str) -> MastodonClient:
        from publisher.http import HttpClient
        from publisher.mastodon import MastodonClient
        from publisher.network_errors import TokenSource

        source = TokenSource(name, account.token_env)  # so that a 401 names the variable to fix
        return MastodonClient(HttpClient(account.instance, token, clock=clock, token_source=source), clock)

    return factory


def sync_sandbox(config_path: Path, **kwargs) -> SyncResult:
    from publisher.sandboxed import sync_sandbox as run

    return run(config_path, **kwargs)
