"""The library's entry points: one function per command, collaborators passed in."""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.apply.scheduled import adopt_published, due_scheduled, scheduled_accounts
from publisher.clock import Clock
from publisher.errors import InvalidInput
from publisher.mastodon.clients import (
    ClientFactory,
    default_client_factory,
    finishing_by,
    make_clients,
    one_client_per_account,
)
from publisher.mastodon.instance import (
    InstanceFetch,
    Warn,
    public_fetch,
    publishing_fetch,
    refresh_announcements,
    stale_refresher,
)
from publisher.plan.changes import Plan, compute_plan
from publisher.plan.plan_checks import plan_problems
from publisher.plan.safety import SyncOptions, check_safety
from publisher.plan.state import State, StateStore
from publisher.source.config import Account, load_config
from publisher.source.limits import EffectiveLimits, InstanceCache, effective_limits
from publisher.source.project import (
    Project,
    check_account,
    collector_paused,
    limits_by_account,
    load_project,
    select_account,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the network stack (requests, tenacity) is imported only when a sync sends something
    from publisher.apply.events import SyncEvent
    from publisher.plan.drift import ServerView


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
        state = StateStore.for_config(project.config).load()
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


def recorded_state(config_path: Path) -> State:
    """What the state file knows; no network."""
    config = load_config(config_path)
    return StateStore.for_config(config).load()


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
    store = StateStore.for_config(project.config)
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
        from publisher.apply.adopt import Adopter
        from publisher.apply.history import FileHistory
        from publisher.apply.sync import SyncRun

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
        from publisher.mastodon.refresh import refresh

        # The accounts of the plan's posts and of their records (a post moved to another account); another
        # account's records are orphans of this plan (--account), their tokens not needed.
        recorded = {record.account for record in state.posts.values()} & set(project.config.accounts)
        posts = {post.post_id: post.account for post in project.posts}
        accounts = recorded & {*posts.values(), *(state.posts[i].account for i in posts if i in state.posts)}
        factory = self.factory or default_client_factory(clock)
        return refresh(state, make_clients(project.config, accounts, self.environ, factory))


# -- `publish sync --sandbox`: the whole sync against the built-in local server, never the real state --

SANDBOX_DIR = ".publish-sandbox"
SANDBOX_TOKEN_ENV = "PUBLISH_SANDBOX_TOKEN"
PREVIEW_DIR = f"{SANDBOX_DIR}/preview"


class SandboxClock:
    """Real time, but waits shortened: the sandbox finishes processing on the next poll anyway."""

    MAX_WAIT = 0.05

    def __init__(self, clock: Clock):
        self.clock = clock

    def now(self):
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(min(seconds, self.MAX_WAIT))


def preview_index(root: Path) -> Path:
    """Where `sync --sandbox` writes the HTML preview of what the sandbox server received."""
    return root / PREVIEW_DIR / "index.html"


def sandbox_project(project: Project, server_url: str) -> Project:
    """The same posts, every account pointed at the sandbox, and a state file of its own."""
    config = project.config
    accounts = {name: Account(instance=server_url, token_env=SANDBOX_TOKEN_ENV) for name in config.accounts}
    publish = config.publish.model_copy(update={"state": f"{SANDBOX_DIR}/publish.state.json"})
    sandboxed = config.model_copy(update={"accounts": accounts, "publish": publish})
    return Project(sandboxed, project.posts, project.drafts)


def sync_sandbox(
    config_path: Path,
    *,
    clock: Clock,
    environ: Mapping[str, str],
    options: SyncOptions = SyncOptions(),
    on_event: Callable[[SyncEvent], None] = lambda event: None,
) -> SyncResult:
    from publisher.sandbox import FakeMastodon

    project = load_project(config_path)
    folder = project.config.path(SANDBOX_DIR, "--sandbox")
    folder.mkdir(exist_ok=True)
    (folder / "publish.state.json").unlink(missing_ok=True)  # a fresh server knows nothing yet
    shutil.rmtree(project.config.path(PREVIEW_DIR, "--sandbox"), ignore_errors=True)
    token = secrets.token_urlsafe(24)
    clock = SandboxClock(clock)
    with FakeMastodon(token=token, media_processing_polls=1, clock=clock) as server:  # one time for both
        sandboxed = sandbox_project(project, server.url)
        result = sync(
            config_path,
            clock=clock,
            environ={SANDBOX_TOKEN_ENV: token},
            options=options,
            on_event=on_event,
            project=sandboxed,
        )
        write_received_preview(server, sandboxed, clock)
        return result


def write_received_preview(server, project: Project, clock: Clock) -> Path:
    from publisher.output import iso
    from publisher.output.preview.page import write_sandbox_preview
    from publisher.output.preview.stored import contents_of

    contents = contents_of(server, StateStore.for_config(project.config).load().posts)
    out_dir = preview_index(project.config.root).parent
    generated = iso(clock.now().replace(microsecond=0)) or ""
    limits, root = project.config.limits, project.config.root
    return write_sandbox_preview(contents, limits, out_dir, generated, root=root)
