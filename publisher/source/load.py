"""The load stage, one post file at a time: read -> parse -> render. The render cache wraps the stage: a
lookup before it (an unchanged post is recalled, not parsed), a store after it (publisher.source.project).

With thousands of posts to render (a first run, or one after the templates changed), a forked helper process
renders the last share of them on another core and hands back render cache entries; the lookup then finds
them like entries read from `.publish-cache/`. Posts with problems are not kept, so this process parses those
again and reports them itself: what a run finds and reports never depends on the helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from publisher.errors import Problem
from publisher.source.config import Config
from publisher.source.confine import Confinement, RefusedPath
from publisher.source.desired import DesiredBuilder, Rendered
from publisher.source.helper_process import Helper, start_helper
from publisher.source.limits import InstanceCache, LimitsOf, effective_limits
from publisher.source.posts import Post, PostFile, parse_post, post_files, read_bytes
from publisher.source.render_cache import RenderCache

HELPER_MIN_POSTS = 1000  # below this, starting a helper costs about what it saves
HELPER_SHARE = 0.5  # both count what they render; this process then recalls what the helper sends


class PostStages:
    """read -> parse -> render for one post file; the render cache is none of its business."""

    def __init__(self, config: Config, posts_dir: Path, builder: DesiredBuilder):
        self.config = config
        self.posts_dir = posts_dir
        self.builder = builder
        self.source_of = _source_namer(config.root, posts_dir)
        self._folder = str(posts_dir)
        self._confinement = Confinement(config.root)

    def read(self, relative: str) -> PostFile | list[Problem]:
        source = self.source_of(relative)
        try:  # a string: a recalled post never needs the Path's own
            data = read_bytes(f"{self._folder}/{relative}", self._confinement)
        except RefusedPath as exc:
            return [Problem(source, None, "", str(exc), exc.hint)]
        return PostFile(source, self.posts_dir / relative, data)

    def parse(self, file: PostFile) -> Post | list[Problem]:
        return parse_post(file.path, self.config.root, self.posts_dir, file.data, file.source)

    def render(self, post: Post) -> Rendered:
        if post.front.draft:
            return Rendered(post, None)
        draft = self.builder.draft(post)
        rendered = post.without_source_text()  # what is left to do never reads the rest: less memory
        return Rendered(rendered, replace(draft, post=rendered))

    def parse_and_render(self, file: PostFile) -> Rendered | list[Problem]:
        post = self.parse(file)
        return post if isinstance(post, list) else self.render(post)


def render_posts(
    stages: PostStages,
    cache: RenderCache,
    problems: list[Problem],
    *,
    helper_min_posts: int = HELPER_MIN_POSTS,
) -> list[Rendered]:
    """Every post file in order, read, then looked up in the render cache or parsed and rendered; or its
    problems added to `problems` in the same order."""
    relatives = post_files(stages.posts_dir)
    share = helper_share(stages, cache, relatives, helper_min_posts)
    limits_of = _known_limits(stages.config) if share else None  # read once, here, for both processes
    helper = _start_rendering(stages, cache, share, limits_of) if share else None
    if helper is None:
        return _render_each(stages, cache, relatives, problems)
    with helper:
        first = relatives.index(share[0])
        rendered = _render_each(stages, cache, relatives[:first], problems)
        _count(rendered, limits_of)  # while the helper still renders: less left to do after
        _adopt(cache, helper)
        return rendered + _render_each(stages, cache, relatives[first:], problems)


def _render_each(
    stages: PostStages, cache: RenderCache, relatives: list[str], problems: list[Problem]
) -> list[Rendered]:
    rendered = []
    for relative in relatives:
        file = stages.read(relative)
        result = (
            file
            if isinstance(file, list)
            else cache.lookup(file, stages.builder) or stages.parse_and_render(file)
        )
        if isinstance(result, list):
            problems.extend(result)
        else:
            rendered.append(result)
    return rendered


def _adopt(cache: RenderCache, helper: Helper) -> None:
    kept = helper.result()
    if kept is not None:  # else the helper failed: its posts are parsed here like any other
        cache.adopt(kept)


def helper_share(stages: PostStages, cache: RenderCache, relatives: list[str], minimum: int) -> list[str]:
    """The post files a helper would render: the last ones of those the render cache knows nothing of."""
    known = cache.known_sources()
    fresh = [relative for relative in relatives if stages.source_of(relative) not in known]
    if len(fresh) < max(minimum, 1):
        return []
    return fresh[len(fresh) - round(len(fresh) * HELPER_SHARE) :]


def _start_rendering(
    stages: PostStages, cache: RenderCache, share: list[str], limits_of: LimitsOf
) -> Helper | None:
    stages.builder.prepare()  # imported and compiled once, here, for both processes
    return start_helper(lambda: _render_share(stages, cache, share, limits_of))


def _render_share(stages: PostStages, cache: RenderCache, share: list[str], limits_of: LimitsOf) -> bytes:
    """In the helper: the load stage for `share`, stored in the render cache, whose new entries go back."""
    for rendered in _render_each(stages, cache, share, []):
        cache.store(rendered, limits_of)
    return cache.kept_json()


def _count(rendered: list[Rendered], limits_of: LimitsOf) -> None:
    """Mastodon's count of each status under the limits known now, kept with its draft (the server's may
    turn out otherwise after a refresh; then they are counted again)."""
    for each in rendered:
        if each.draft is not None:
            each.draft.counted_lengths(limits_of(each.draft.status.account))


def _known_limits(config: Config) -> LimitsOf:
    """Each account's limits as validation will take them if nothing is read from the server."""
    return effective_limits(config, InstanceCache.for_config(config)).limits_of(config.limits)


def _source_namer(root: Path, posts_dir: Path) -> Callable[[str], str]:
    """A post's path relative to posts_dir -> relative to the root, as Path.relative_to gives it."""
    try:
        base = posts_dir.relative_to(root).as_posix()
    except ValueError:  # posts outside the repository: the slow way, failing where it always did
        return lambda relative: (posts_dir / relative).relative_to(root).as_posix()
    return lambda relative: relative if base == "." else f"{base}/{relative}"
