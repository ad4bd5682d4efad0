"""Load a repository: config, every post, rendered and validated, or every problem at once."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from publisher.errors import InvalidInput, Problem
from publisher.source.config import Config, Limits, load_config
from publisher.source.desired import DesiredBuilder, Draft
from publisher.source.length import compile_url_pattern_in_background
from publisher.source.limits import AccountLimits, EffectiveLimits, InstanceCache, LimitsOf, effective_limits
from publisher.source.load import HELPER_MIN_POSTS, PostStages, render_posts
from publisher.source.models import DesiredStatus
from publisher.source.posts import Post
from publisher.source.quotes import quote_target_problems
from publisher.source.render_cache import RenderCache
from publisher.source.rules import post_problem
from publisher.source.split import thread_replies


@dataclass(frozen=True)
class Project:
    config: Config
    posts: tuple[DesiredStatus, ...]
    drafts: tuple[str, ...] = ()
    limits: EffectiveLimits = EffectiveLimits()  # per account, with where each came from
    warnings: tuple[Problem, ...] = ()  # with `lenient_defaults`: what only Mastodon's default limits forbid


def limits_by_account(project: Project) -> dict[str, Limits]:
    """Each account's effective limits, for counts shown against the right server's maximum."""
    limits_of = project.limits.limits_of(project.config.limits)
    return {name: limits_of(name) for name in project.config.accounts}


def select_account(project: Project, account: str | None) -> Project:
    """Only `account`'s posts (all with None); InvalidInput for an account publish.toml does not name."""
    if account is None:
        return project
    check_account(project.config, account)
    return replace(project, posts=tuple(post for post in project.posts if post.account == account))


def check_account(config: Config, account: str | None) -> None:
    if account is not None and account not in config.accounts:
        known = ", ".join(config.accounts)
        raise InvalidInput(
            [Problem("publish.toml", None, "--account", f"unknown account {account!r}", f"one of: {known}")]
        )


LimitsRefresh = Callable[[Config], None]
"""Brings the cached instance limits up to date (sync); called only when nothing but limits can be wrong."""


def load_project(
    config_path: Path,
    *,
    refresh_limits: LimitsRefresh | None = None,
    lenient_defaults: bool = False,
    helper_min_posts: int = HELPER_MIN_POSTS,
) -> Project:
    """Every post rendered and validated, or InvalidInput with every problem. `lenient_defaults` (check, which
    never asks a server): a problem only against Mastodon's default limits, where nothing says what the
    account's server allows, is a warning; otherwise its hint says where the limit came from. With at least
    `helper_min_posts` posts to render, a helper process renders a share of them (publisher.source.load)."""
    config = load_config(config_path)
    posts_dir = config.path(config.publish.posts, "publish.posts")
    if not posts_dir.is_dir():
        hint = "create it, or set [publish] posts in publish.toml"
        raise InvalidInput(
            [Problem(config_path.name, None, "publish.posts", f"folder not found: {posts_dir.name}", hint)]
        )
    with collector_paused():
        return _load_posts(config, posts_dir, refresh_limits, lenient_defaults, helper_min_posts)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading builds many long-lived objects and next to no garbage cycles, and the cyclic garbage collector
    would scan the growing heap over and over: a fifth of a no-op plan of 10,000 posts."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _load_posts(
    config: Config,
    posts_dir: Path,
    refresh_limits: LimitsRefresh | None,
    lenient_defaults: bool,
    helper_min_posts: int,
) -> Project:
    """The load stage top to bottom: read -> parse -> render (each unchanged post looked up in the render
    cache instead) -> validate across posts -> each server's limits -> split; then the render cache stores
    what was rendered."""
    problems: list[Problem] = []
    warnings: list[Problem] | None = [] if lenient_defaults else None
    cache = RenderCache.for_config(config)
    stages = PostStages(config, posts_dir, DesiredBuilder(config, digest=cache.digests.digest))
    rendered = render_posts(stages, cache, problems, helper_min_posts=helper_min_posts)
    live = [each.post for each in rendered if each.draft is not None]
    problems += duplicate_ids(live) + reply_problems(live) + quote_target_problems(live)
    drafted = [each.draft for each in rendered if each.draft is not None]
    limits = _limits(config, drafted, problems, refresh_limits)
    limits_of = limits.limits_of(config.limits)
    statuses = _fit_all(stages.builder, drafted, limits, limits_of, problems, warnings)
    for each in rendered:
        cache.store(each, limits_of)
    cache.save()
    if problems:
        raise InvalidInput(problems)
    drafts = tuple(each.post.id for each in rendered if each.draft is None)
    # The plan shows character counts against the default account's effective limits.
    shown = config.model_copy(update={"limits": limits_of(config.default_account)})
    return Project(shown, tuple(statuses), drafts, limits, tuple(warnings or ()))


def _limits(
    config: Config, drafted: list[Draft], problems: list[Problem], refresh_limits: LimitsRefresh | None
) -> EffectiveLimits:
    """Each account's limits: read from its server first (sync) when nothing but the limits can be wrong."""
    if refresh_limits is not None and drafted and not problems and not any(d.problems for d in drafted):
        if any(_counts_urls(draft) for draft in drafted):
            compile_url_pattern_in_background()  # while the limits are read from the server
        refresh_limits(config)
    return effective_limits(config, InstanceCache.for_config(config))


def _fit_all(
    builder: DesiredBuilder,
    drafted: list[Draft],
    limits: EffectiveLimits,
    limits_of: LimitsOf,
    problems: list[Problem],
    warnings: list[Problem] | None,
) -> list[DesiredStatus]:
    """Each rendered post checked against its account's limits; a split post becomes several statuses."""
    entries = {entry.account: entry for entry in limits.accounts}
    fitted = []
    for draft in drafted:
        entry = entries.get(draft.status.account)
        result = builder.fit(draft, limits_of(draft.status.account))
        if isinstance(result, list) and entry is not None and entry.guessed:
            result = _on_default_limits(builder, draft, result, entry, warnings)
        fitted.append(result)
    built = [result for result in fitted if _keep(result, problems)]
    return thread_replies([status for statuses in built for status in statuses])


# Limits no server sets: what fails only against Mastodon's defaults passes under these.
UNBOUNDED = Limits(
    max_characters=10**9,
    max_media_attachments=10**6,
    image_size_limit=2**62,
    video_size_limit=2**62,
    description_limit=10**9,
    image_matrix_limit=2**62,
    video_matrix_limit=2**62,
    poll_max_options=10**6,
    poll_max_characters_per_option=10**9,
    poll_min_expiration=0,
    poll_max_expiration=2**62,
)


def _on_default_limits(
    builder: DesiredBuilder,
    draft: Draft,
    problems: list[Problem],
    entry: AccountLimits,
    warnings: list[Problem] | None,
):
    """A post checked against Mastodon's defaults because nothing is known of its server. With `warnings`
    (check), what only those defaults forbid is a warning; else such a problem's hint says so."""
    relaxed = builder.fit(draft, UNBOUNDED)
    real = relaxed if isinstance(relaxed, list) else []
    stays = {(p.path, p.line, p.field) for p in real}  # messages quote the limit, so they differ
    guessed = [p for p in problems if (p.path, p.line, p.field) not in stays]
    note = (
        f"that is Mastodon's default limit: nothing is cached of {entry.host}'s own; "
        "`publish limits --refresh` or `publish plan` reads it"
    )
    noted = {p: replace(p, hint=f"{p.hint}; {note}" if p.hint else note) for p in guessed}
    if warnings is None:
        return [noted.get(problem, problem) for problem in problems]
    warnings.extend(noted.values())
    return real or relaxed


def _counts_urls(draft: Draft) -> bool:
    """Whether fitting it will count a URL (not recalled with its lengths from the render cache)."""
    return not draft.lengths and any("://" in text for text in (draft.status.text, *draft.more_texts))


def _keep(result, problems: list[Problem]) -> bool:
    if isinstance(result, list):
        problems.extend(result)
        return False
    return True


def duplicate_ids(posts: list[Post]) -> list[Problem]:
    by_id: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_id[post.id].append(post)
    problems = []
    for post_id, same in by_id.items():
        for post in same[1:] if len(same) > 1 else ():
            others = ", ".join(other.source for other in same if other is not post)
            hint = "give one of them a different `id:`"
            problems.append(
                Problem(
                    post.source, post.line_of("id"), "id", f"duplicate id {post_id!r} (also {others})", hint
                )
            )
    return problems


def reply_problems(posts: list[Post]) -> list[Problem]:
    """reply_to must name another post of the repo, without cycles, not published later than the reply."""
    by_id = {post.id: post for post in posts}
    problems = []
    for post in posts:
        target = post.front.reply_to
        if target is None:
            continue
        parent = by_id.get(target)
        message = _reply_error(post, parent, by_id)
        if message:
            problems.append(post_problem(post, "reply_to", message))
    return problems


def _reply_error(post: Post, parent: Post | None, by_id: dict[str, Post]) -> str:
    if parent is None:
        return f"unknown post id {post.front.reply_to!r} (drafts cannot be replied to)"
    if _in_cycle(post, by_id):
        return "replies form a cycle"
    if later := parent.published_later_than(post):
        return f"replies to {parent.id!r}, which is published later ({later.isoformat()})"
    return ""


def _in_cycle(post: Post, by_id: dict[str, Post]) -> bool:
    seen = {post.id}
    current = by_id.get(post.front.reply_to or "")
    while current is not None:
        if current.id in seen:
            return True
        seen.add(current.id)
        current = by_id.get(current.front.reply_to or "")
    return False
