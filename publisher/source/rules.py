"""The server's rules, checked before anything is sent: media files, attachments, alt text, polls and length.

Every check takes the effective limits of the post's account (publish.toml, the instance's announcement, or
Mastodon's defaults) and returns Problems; none of them stops at the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grapheme

from publisher.errors import Problem
from publisher.source.config import Limits
from publisher.source.imagesize import image_dimensions
from publisher.source.media import (
    MediaFileError,
    file_digest,
    media_kind,
    resolve_media_path,
    sniff_mime_type,
)
from publisher.source.models import MediaSpec
from publisher.source.posts import MediaEntry, PollEntry, Post

THUMBNAIL_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@dataclass(frozen=True)
class MediaFile:
    """A media file of a post as found on disk: where, what by content, how big."""

    path: Path
    shown: str  # the path as the post wrote it
    mime_type: str
    size: int


def post_problem(post: Post, field: str, message: str, hint: str = "") -> Problem:
    return Problem(post.source, post.line_of(field), field, message, hint)


def length_problem(post: Post, count: int, limits: Limits) -> Problem:
    message = f"{count}/{limits.max_characters} characters by Mastodon's count"
    hint = "shorten it, or add `split: true` to the front-matter to post it as a numbered thread"
    return Problem(post.source, post.parsed.body_line, "text", message, hint)


def limit_problems(
    post: Post, media: tuple[MediaSpec | None, ...], limits: Limits, root: Path
) -> list[Problem]:
    """Everything about a post that depends on the server: media files, attachments, alt text, poll."""
    problems = []
    for index, (entry, spec) in enumerate(zip(post.front.media, media, strict=True)):
        if spec is not None:
            found = MediaFile(root / spec.path, entry.path, spec.mime_type, spec.size)
            problems += media_file_problems(post, f"media[{index}]", entry, found, limits, root)
    problems += attachment_problems(post, limits)
    return [*problems, *poll_problems(post, post.front.poll, limits)]


def media_file_problems(
    post: Post, field: str, entry: MediaEntry, media: MediaFile, limits: Limits, root: Path
) -> list[Problem]:
    if media.mime_type not in limits.supported_mime_types:
        hint = "convert it to a type the server lists (see `publish limits`)"
        message = f"{media.shown}: the server does not accept {media.mime_type} files (checked by content)"
        return [post_problem(post, f"{field}.path", message, hint)]
    return [
        *_size_problems(post, f"{field}.path", media, limits),
        *_dimension_problems(post, f"{field}.path", media, limits),
        *_thumbnail_problems(post, field, entry, media, limits, root),
    ]


def _size_problems(post: Post, field: str, media: MediaFile, limits: Limits) -> list[Problem]:
    limit = limits.image_size_limit if media_kind(media.mime_type) == "image" else limits.video_size_limit
    if media.size <= limit:
        return []
    message = f"{media.shown}: {media.size:,} bytes is over the server's limit of {limit:,} bytes"
    return [post_problem(post, field, message, "resize or recompress the file")]


def _dimension_problems(post: Post, field: str, media: MediaFile, limits: Limits) -> list[Problem]:
    size = image_dimensions(media.path, media.mime_type)
    if size is None or size[0] * size[1] <= limits.image_matrix_limit:
        return []
    width, height = size
    message = (
        f"{media.shown}: {width}x{height} is {width * height:,} pixels, "
        f"over the server's limit of {limits.image_matrix_limit:,} pixels"
    )
    return [post_problem(post, field, message, "scale the image down")]


def _thumbnail_problems(
    post: Post, field: str, entry: MediaEntry, media: MediaFile, limits: Limits, root: Path
) -> list[Problem]:
    if entry.thumbnail is None:
        return []
    field = f"{field}.thumbnail"
    if media_kind(media.mime_type) not in ("audio", "video"):
        hint = "remove it: the server makes the preview of an image itself"
        message = f"only audio and video take a thumbnail, not {media.mime_type}"
        return [post_problem(post, field, message, hint)]
    try:
        real = resolve_media_path(entry.thumbnail, post.file, root)
    except MediaFileError as exc:
        return [post_problem(post, field, str(exc), exc.hint)]
    _, size, head = file_digest(real)
    mime = sniff_mime_type(head)
    if mime not in THUMBNAIL_TYPES:
        what = f"{mime} files" if mime else "files that are not images"
        message = f"{entry.thumbnail}: {what} cannot be thumbnails"
        return [post_problem(post, field, message, "use a JPEG or PNG")]
    return _size_problems(post, field, MediaFile(real, entry.thumbnail, mime, size), limits)


def attachment_problems(post: Post, limits: Limits) -> list[Problem]:
    problems = []
    media = post.front.media
    if len(media) > limits.max_media_attachments:
        message = f"{len(media)} attachments; the server allows {limits.max_media_attachments}"
        problems.append(post_problem(post, "media", message, "split the post into a thread"))
    for index, entry in enumerate(post.front.media):
        if entry.alt and len(entry.alt) > limits.description_limit:
            message = f"alt text is {len(entry.alt)} characters; the limit is {limits.description_limit}"
            problems.append(post_problem(post, f"media[{index}].alt", message, "shorten it"))
    return problems


def poll_problems(post: Post, poll: PollEntry | None, limits: Limits) -> list[Problem]:
    """Mastodon's PollOptionsValidator and PollExpirationValidator, with the instance's numbers."""
    if poll is None:
        return []
    return [post_problem(post, field, message, hint) for field, message, hint in _poll_faults(poll, limits)]


def _poll_faults(poll: PollEntry, limits: Limits) -> list[tuple[str, str, str]]:
    faults = []
    options = [option.strip() for option in poll.options]
    if len(options) > limits.poll_max_options:
        message = f"{len(options)} options; the server allows {limits.poll_max_options}"
        faults.append(("poll.options", message, ""))
    for index, option in enumerate(options):
        length, most = grapheme.length(option), limits.poll_max_characters_per_option
        if length > most or not option:
            message = f"option is {length} characters; it must be 1 to {most}"
            faults.append((f"poll.options[{index}]", message, ""))
    if len(set(options)) != len(options):
        faults.append(("poll.options", "options repeat; each must be different", ""))
    low, high = limits.poll_min_expiration, limits.poll_max_expiration
    if not low <= poll.expires_in <= high:
        hint = "seconds, e.g. 86400 for a day"
        message = f"{poll.expires_in} s is outside the server's {low}..{high} s"
        faults.append(("poll.expires_in", message, hint))
    return faults
