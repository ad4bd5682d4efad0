"""What a post's pin and quote policy ask of its published status, and which posts it must follow.

Pure comparisons of a rendered post with its state record. The pin and the quote policy are not part of the
content hash: each has a request of its own (POST /api/v1/statuses/:id/pin or /unpin, PUT
/api/v1/statuses/:id/interaction_policy), which neither edits the status nor adds a revision to its history.
"""

from __future__ import annotations

from publisher.plan.state import StatusRecord
from publisher.source.models import DesiredStatus, is_status_url


def wanted_pin(post: DesiredStatus, record: StatusRecord) -> bool | None:
    """True: pin the status; False: unpin it; None: leave it as it is.

    `pinned: true` pins and `pinned: false` unpins (once, whoever pinned it). Without the key, a pin that
    publish made is undone, and one made by hand on the server is left alone."""
    if post.pinned is None:
        return False if record.pinned else None
    return None if record.pinned is post.pinned else post.pinned


def wanted_policy(post: DesiredStatus, record: StatusRecord) -> str | None:
    """The quote policy to set, or None. Without `quote_policy`, the status keeps whatever it has."""
    if post.quote_policy is None or post.quote_policy == record.quote_policy:
        return None
    return post.quote_policy


def adjustments(post: DesiredStatus, record: StatusRecord) -> list[str]:
    """What a sync sets on the published status besides its content, as the plan says it."""
    notes = []
    policy = wanted_policy(post, record)
    if policy is not None:
        notes.append(f"quote policy {record.quote_policy or '(the account default)'} -> {policy}")
    pin = wanted_pin(post, record)
    if pin is not None:
        notes.append("pin it on the profile" if pin else "unpin it")
    return notes


def quoted_post(post: DesiredStatus) -> str | None:
    """The id of the post of the repository that this one quotes, if it quotes one (not a status URL)."""
    return None if is_status_url(post.quote) else post.quote


def targets(post: DesiredStatus) -> tuple[str, ...]:
    """The posts of the repository that must be published before this one: its parent, the post it quotes."""
    return tuple(target for target in (post.reply_to, quoted_post(post)) if target is not None)
