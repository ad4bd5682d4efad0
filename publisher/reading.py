"""Every post file read, parsed and (unless a draft post) rendered, or recalled from the render cache.

With thousands of posts to render (a first run, or one after the templates changed), a forked helper process
renders the last share of them on another core and hands back render cache entries; they are then recalled
like entries read from `.publish-cache/`. Posts with problems are not kept, so this process parses those
again and reports them itself: what a run finds and reports never depends on the helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from publisher.config import Config, Limits
from publisher.confine import Confinement, RefusedPath
from publisher.desired import DesiredBuilder, Draft
from publisher.errors import Problem
from publisher.helper_process import Helper, start_helper
from publisher.instance import InstanceCache, effective_limits
from publisher.posts import Post, parse_post, post_files, read_bytes
from publisher.render_cache import RenderCache

HELPER_MIN_POSTS = 1000  # below this, starting a helper costs about what it saves
HELPER_SHARE = 0.5  # both count what they render; this process then recalls what the helper sends
LimitsOf = Callable[[str], Limits]  # an account's name -> its limits


@dataclass(frozen=True)
class Read:
    post: Post
    draft: Draft | None  # None for a draft post (`draft: true`), which is never rendered


class PostReader:
    """One post file at a time: read inside the repository, recalled or parsed, rendered."""

    def __init__(self, config: Config, posts_dir: Path, cache: RenderCache, builder: DesiredBuilder):
        self.config = config
        self.posts_dir = posts_dir
        self.cache = cache
        self.builder = builder
        self.source_of = _source_namer(config.root, posts_dir)
        self._folder = str(posts_dir)
        self._confinement = Confinement(config.root)

    def read(self, relative: str, problems: list[Problem]) -> Read | None:
        file, source = self.posts_dir / relative, self.source_of(relative)
        try:  # a string: a recalled post never needs the Path's own
            data = read_bytes(f"{self._folder}/{relative}", self._confinement)
        except RefusedPath as exc:
            problems.append(Problem(source, None, "", str(exc), exc.hint))
            return None
        known = self.cache.recall(source, file, data, self.builder)
        post = known.post if known else parse_post(file, self.config.root, self.posts_dir, data, source)
        if isinstance(post, list):
            problems.extend(post)
            return None
        if post.front.draft:
            self.cache.keep(post)
            return Read(post, None)
        if known:
            return Read(post, known.draft)
        draft = self.builder.draft(post)
        rendered = post.without_source_text()  # what is left to do never reads the rest: less memory
        return Read(rendered, replace(draft, post=rendered))


def read_posts(
    config: Config,
    posts_dir: Path,
    problems: list[Problem],
    cache: RenderCache,
    builder: DesiredBuilder,
    *,
    helper_min_posts: int = HELPER_MIN_POSTS,
) -> list[Read]:
    """Every post file in order, read, or its problems added to `problems` in the same order."""
    reader = PostReader(config, posts_dir, cache, builder)
    relatives = post_files(posts_dir)
    share = helper_share(reader, relatives, helper_min_posts)
    limits_of = _known_limits(config) if share else None  # read once, here, for both processes
    helper = _start_rendering(reader, share, limits_of) if share else None
    if helper is None:
        return _read_each(reader, relatives, problems)
    with helper:
        first = relatives.index(share[0])
        read = _read_each(reader, relatives[:first], problems)
        _keep_counted(reader, read, limits_of)  # while the helper still renders: less left to do after
        _adopt(cache, helper)
        return read + _read_each(reader, relatives[first:], problems)


def _read_each(reader: PostReader, relatives: list[str], problems: list[Problem]) -> list[Read]:
    return [read for relative in relatives if (read := reader.read(relative, problems)) is not None]


def _adopt(cache: RenderCache, helper: Helper) -> None:
    kept = helper.result()
    if kept is not None:  # else the helper failed: its posts are parsed here like any other
        cache.adopt(kept)


def helper_share(reader: PostReader, relatives: list[str], minimum: int) -> list[str]:
    """The post files a helper would render: the last ones of those the render cache knows nothing of."""
    known = reader.cache.known_sources()
    fresh = [relative for relative in relatives if reader.source_of(relative) not in known]
    if len(fresh) < max(minimum, 1):
        return []
    return fresh[len(fresh) - round(len(fresh) * HELPER_SHARE) :]


def _start_rendering(reader: PostReader, share: list[str], limits_of: LimitsOf) -> Helper | None:
    reader.builder.prepare()  # imported and compiled once, here, for both processes
    return start_helper(lambda: _render_share(reader, share, limits_of))


def _render_share(reader: PostReader, share: list[str], limits_of: LimitsOf) -> bytes:
    """In the helper: render cache entries for `share`."""
    _keep_counted(reader, _read_each(reader, share, []), limits_of)
    return reader.cache.kept_json()


def _keep_counted(reader: PostReader, reads: list[Read], limits_of: LimitsOf) -> None:
    """Render cache entries for rendered posts, each status counted under the limits known now (the
    server's may turn out otherwise after a refresh; then they are counted again)."""
    for read in reads:
        if read.draft is not None:
            reader.cache.keep(read.post, read.draft, limits_of(read.draft.status.account))


def _known_limits(config: Config) -> LimitsOf:
    """Each account's limits as validation will take them if nothing is read from the server."""
    known = effective_limits(config, InstanceCache.for_config(config)).by_account()
    return lambda account: known.get(account, config.limits)


def _source_namer(root: Path, posts_dir: Path) -> Callable[[str], str]:
    """A post's path relative to posts_dir -> relative to the root, as Path.relative_to gives it."""
    try:
        base = posts_dir.relative_to(root).as_posix()
    except ValueError:  # posts outside the repository: the slow way, failing where it always did
        return lambda relative: (posts_dir / relative).relative_to(root).as_posix()
    return lambda relative: relative if base == "." else f"{base}/{relative}"
