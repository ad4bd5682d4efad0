"""The rules a post's `quote`, `quote_policy` and `pinned` follow, checked before anything is sent.

`quote:` names a post of the repository by its id (published first, like a reply's parent) or any status by
its URL (sync reads the id from a URL of the account's own server, or asks the server to look it up). Quote
posts came with Mastodon 4.5, which announces `api_versions.mastodon` 7 in /api/v2/instance; an older server
would publish the post without its quote and ignore the policy, so such a post is an error, not a silent drop.
"""

from __future__ import annotations

from publisher.errors import Problem
from publisher.source.config import Limits
from publisher.source.models import is_status_url
from publisher.source.posts import Post
from publisher.source.rules import post_problem

QUOTES_API_VERSION = 7  # api_versions.mastodon of Mastodon 4.5, the first with quote posts
QUOTABLE_BY_OTHERS = ("public", "followers")
UNSUPPORTED_HINT = (
    "remove it, or if the server does support quote posts, set mastodon_api_version = 7 under [limits] "
    "in publish.toml"
)


def quote_problems(post: Post, visibility: str, limits: Limits) -> list[Problem]:
    """What the post's server and Mastodon's own rules refuse of its quote, quote policy and pin;
    `visibility`: the post's own, or `[defaults]`'s."""
    front = post.front
    faults = [*_unsupported(post, limits), *_quote_with_attachments(post)]
    if front.quote_policy in QUOTABLE_BY_OTHERS and visibility in ("private", "direct"):
        message = f"a {visibility} post can be quoted by its author only (Mastodon sets nobody)"
        hint = "remove quote_policy, or make the post public or unlisted"
        faults.append(post_problem(post, "quote_policy", message, hint))
    if front.pinned and visibility == "direct":
        hint = "remove `pinned`, or give the post another visibility"
        faults.append(post_problem(post, "pinned", "Mastodon cannot pin a direct post", hint))
    return faults


def _unsupported(post: Post, limits: Limits) -> list[Problem]:
    if limits.mastodon_api_version >= QUOTES_API_VERSION:
        return []
    message = (
        "quote posts need Mastodon 4.5 (API version 7); "
        f"the server announces Mastodon API version {limits.mastodon_api_version}"
    )
    fields = [field for field in ("quote", "quote_policy") if getattr(post.front, field) is not None]
    return [post_problem(post, field, message, UNSUPPORTED_HINT) for field in fields]


def _quote_with_attachments(post: Post) -> list[Problem]:
    """Mastodon 4.5 takes a quote without media or a poll (docs.joinmastodon.org/client/quotes)."""
    front = post.front
    if front.quote is None or not (front.media or front.poll):
        return []
    what = "media" if front.media else "a poll"
    hint = f"quote in a post of its own, or move {what} to another post"
    return [post_problem(post, "quote", f"Mastodon does not take {what} together with a quote", hint)]


def quote_target_problems(posts: list[Post]) -> list[Problem]:
    """A `quote:` naming a post id must name another post of the repository that can be published first."""
    by_id = {post.id: post for post in posts}
    problems = []
    for post in posts:
        target = post.front.quote
        if target is None or is_status_url(target):
            continue
        message = _target_error(post, by_id.get(target), by_id)
        if message:
            hint = "name a post id of this repository, or a status URL"
            problems.append(post_problem(post, "quote", message, hint))
    return problems


def _target_error(post: Post, target: Post | None, by_id: dict[str, Post]) -> str:
    if target is None:
        return f"unknown post id {post.front.quote!r} (drafts cannot be quoted)"
    if target is post:
        return "a post cannot quote itself"
    if _leads_back(post, target, by_id):
        return f"{target.id!r} quotes or answers this post, so neither could be published first"
    if later := target.published_later_than(post):
        return f"quotes {target.id!r}, which is published later ({later.isoformat()})"
    return ""


def _leads_back(post: Post, start: Post, by_id: dict[str, Post]) -> bool:
    """Whether following replies and quotes from `start` reaches `post`: a cycle no order can publish."""
    seen: set[str] = set()
    waiting = [start]
    while waiting:
        current = waiting.pop()
        if current.id == post.id:
            return True
        if current.id in seen:
            continue
        seen.add(current.id)
        targets = (current.front.reply_to, current.front.quote)
        waiting += [by_id[target] for target in targets if target in by_id]
    return False
