"""Post -> DesiredStatus: render, check and hash the media, apply defaults, then the server's limits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import Problem
from publisher.source.config import Config, Limits
from publisher.source.length import status_length
from publisher.source.markdown_text import markdown_to_text
from publisher.source.media import MediaFileError, MediaPaths, file_digest, sniff_mime_type
from publisher.source.models import DesiredStatus, MediaSpec, PollSpec
from publisher.source.posts import MediaEntry, Post
from publisher.source.quotes import quote_problems
from publisher.source.rules import length_problem, limit_problems, post_problem
from publisher.source.split import SplitImpossible, split_status, thread_of

if TYPE_CHECKING:  # Jinja is imported when a post is rendered, not when all come from the render cache
    from publisher.source.render import Renderer


@dataclass(frozen=True)
class Draft:
    """A post rendered, its media found and typed; the server's limits are not applied yet."""

    post: Post
    status: DesiredStatus  # with the text and the media that could be read
    media: tuple[MediaSpec | None, ...]  # one per front-matter media entry; None where the file is unusable
    problems: tuple[Problem, ...]  # what is wrong whatever the server
    more_texts: tuple[str, ...] = ()  # the statuses after the first, for a thread written with `+++`
    # characters_reserved_per_url -> Mastodon's count of each status: from the render cache, or once counted
    lengths: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def counted_lengths(self, limits: Limits) -> tuple[int, ...]:
        """Mastodon's count of the first status, then of each status after it, spoiler included."""
        url_length = limits.characters_reserved_per_url
        if url_length not in self.lengths:  # every part of a thread has the first one's content warning
            texts, spoiler = (self.status.text, *self.more_texts), self.status.spoiler_text
            self.lengths[url_length] = tuple(
                status_length(text, spoiler, url_length=url_length) for text in texts
            )
        return self.lengths[url_length]


@dataclass(frozen=True)
class Rendered:
    """A post parsed and rendered (publisher.source.load), or the same recalled from the render cache; `draft`
    is None for a draft post (`draft: true`), which is never rendered."""

    post: Post
    draft: Draft | None


MediaDigest = Callable[[Path], tuple[str, int, bytes]]
"""A media file -> its sha256, size and first bytes, like publisher.source.media.file_digest."""


@dataclass(frozen=True)
class DesiredBuilder:
    config: Config
    renderer: Renderer | None = None  # None: one for the config's templates folder, made on first use
    digest: MediaDigest = file_digest

    @functools.cached_property
    def media_paths(self) -> MediaPaths:
        return MediaPaths(self.config.root)

    @functools.cached_property
    def templates(self) -> Renderer:
        if self.renderer is not None:
            return self.renderer
        from publisher.source.render import Renderer

        templates = self.config.path(self.config.publish.templates, "publish.templates")
        return Renderer(templates, self.media_paths.confinement)

    def prepare(self) -> None:
        """Import and build now what rendering needs (the parsers, the default template), before a helper
        process is forked: then both have it, made once."""
        from publisher.source.frontmatter import post_loader
        from publisher.source.markdown_text import prepare_parser

        post_loader()
        prepare_parser()
        self.templates.has_template(self.config.publish.template)

    def draft(self, post: Post) -> Draft:
        """Everything about a post that does not depend on the server; then `fit` applies its limits."""
        problems: list[Problem] = []
        account = post.front.account or self.config.default_account
        if account not in self.config.accounts:
            known = ", ".join(self.config.accounts)
            problems.append(
                self._problem(post, "account", f"unknown account {account!r}", f"one of: {known}")
            )
        media = tuple(
            self._media(post, index, entry, problems) for index, entry in enumerate(post.front.media)
        )
        if post.front.poll and post.front.media:  # no server takes both, whatever its limits
            problems.append(self._problem(post, "poll", "a post cannot have both a poll and media"))
        texts = self._texts(post, problems)
        if texts and not texts[0].strip() and not post.front.media and not post.front.poll:
            hint = "write a body, or add media or a poll"
            problems.append(
                Problem(post.source, post.parsed.body_line, "body", "the status text is empty", hint)
            )
        first = texts[0] if texts else ""
        status = self._desired(post, account, first, tuple(spec for spec in media if spec is not None))
        return Draft(post, status, media, tuple(problems), tuple(texts[1:]))

    def fit(self, draft: Draft, limits: Limits) -> tuple[DesiredStatus, ...] | list[Problem]:
        """The status (or, with `split: true`, the thread) a post becomes, or every problem it has."""
        post, desired = draft.post, draft.status
        problems = [*draft.problems, *limit_problems(post, draft.media, limits, self.config.root)]
        problems += quote_problems(post, desired.visibility, limits)
        if draft.more_texts:
            return problems or self._thread(draft, limits)
        count = draft.counted_lengths(limits)[0]
        if count > limits.max_characters and not post.front.split:
            problems.append(length_problem(post, count, limits))
        if problems:
            return problems
        if count <= limits.max_characters:
            return (desired,)
        try:
            return split_status(desired, limits)
        except SplitImpossible as exc:
            message = f"cannot split into parts of {limits.max_characters}: {exc}"
            return [self._problem(post, "split", message)]

    def _thread(self, draft: Draft, limits: Limits) -> tuple[DesiredStatus, ...] | list[Problem]:
        """A thread written part by part: each part must fit on its own (`split` cuts single bodies only)."""
        parts = thread_of(draft.status, [draft.status.text, *draft.more_texts])
        problems = []
        for number, count in enumerate(draft.counted_lengths(limits), start=1):
            if count > limits.max_characters:
                message = f"part {number}: {count}/{limits.max_characters} characters by Mastodon's count"
                problems.append(
                    self._problem(draft.post, "body", message, "shorten it, or cut it with another +++ line")
                )
        return problems or parts

    def _desired(self, post: Post, account: str, text: str, media: tuple) -> DesiredStatus:
        front, defaults = post.front, self.config.defaults
        spoiler = front.spoiler or ""
        poll = front.poll and PollSpec(**front.poll.model_dump())
        return DesiredStatus(
            post_id=post.id,
            source=post.source,
            account=account,
            text=text,
            title=front.title,
            spoiler_text=spoiler,
            visibility=front.visibility or defaults.visibility,
            # Mastodon marks every status with a content warning as sensitive; mirror it so hashes match.
            sensitive=bool(front.sensitive if front.sensitive is not None else defaults.sensitive)
            or bool(spoiler),
            language=front.language or defaults.language,
            media=media,
            poll=poll,
            publish_at=front.publish_at,
            reply_to=front.reply_to,
            quote=front.quote,
            quote_policy=front.quote_policy,
            pinned=front.pinned,
        )

    def _texts(self, post: Post, problems: list[Problem]) -> list[str]:
        """The rendered text of each status of the post (one, unless the body is cut with `+++`)."""
        from publisher.source.render import TemplateProblem

        name = post.front.template or self.config.publish.template
        if not self.templates.has_template(name):
            hint = f"create {self.templates.templates_dir.name}/{name}, or fix the name"
            problems.append(self._problem(post, "template", f"template not found: {name}", hint))
            return []
        bodies = post.thread_bodies
        try:
            return [
                self.templates.render(name, template_context(post, body, n, len(bodies)))
                for n, body in enumerate(bodies, 1)
            ]
        except TemplateProblem as exc:
            where = f"{exc.template}:{exc.line}" if exc.line else exc.template
            problems.append(self._problem(post, "template", f"{where}: {exc}", exc.hint))
            return []

    def _media(self, post: Post, index: int, entry: MediaEntry, problems: list[Problem]) -> MediaSpec | None:
        key = f"media[{index}]"
        if entry.alt is None or not entry.alt.strip():
            if self.config.publish.require_alt_text:
                hint = "describe the image for people who cannot see it, or set require_alt_text = false"
                problems.append(self._problem(post, f"{key}.alt", "alt text is required", hint))
        try:
            return self.media_spec(entry, post.file)
        except MediaFileError as exc:
            problems.append(self._problem(post, f"{key}.path", str(exc), exc.hint))
            return None

    def media_spec(self, entry: MediaEntry, post_file: Path) -> MediaSpec:
        """The attachment a media entry becomes; MediaFileError when its file cannot be used."""
        real = self.media_paths.resolve(entry.path, post_file)
        sha256, size, head = self.digest(real)
        mime = sniff_mime_type(head)
        if mime is None:
            hint = "Mastodon accepts JPEG, PNG, GIF, WebP, HEIC, AVIF, MP4, WebM, MOV and common audio"
            message = f"{entry.path}: not an image, video or audio file (checked by content)"
            raise MediaFileError(message, hint)
        relative = real.relative_to(self.media_paths.real_root).as_posix()
        spec = MediaSpec(
            path=relative, sha256=sha256, size=size, mime_type=mime, alt=entry.alt, focus=entry.focus
        )
        return self._with_thumbnail(spec, entry, post_file) if entry.thumbnail else spec

    def _with_thumbnail(self, spec: MediaSpec, entry: MediaEntry, post_file: Path) -> MediaSpec:
        """The preview image goes up with its file; an unusable one is reported by the limits checks."""
        try:
            real = self.media_paths.resolve(entry.thumbnail, post_file)
        except MediaFileError:
            return spec
        sha256, _size, head = self.digest(real)
        update = {
            "thumbnail": real.relative_to(self.media_paths.real_root).as_posix(),
            "thumbnail_sha256": sha256,
            "thumbnail_mime_type": sniff_mime_type(head),
        }
        return spec.model_copy(update=update)

    @staticmethod
    def _problem(post: Post, field: str, message: str, hint: str = "") -> Problem:
        return post_problem(post, field, message, hint)


def template_context(post: Post, body: str | None = None, part: int = 1, parts: int = 1) -> dict:
    """Every front-matter key (`vars` also as `params`), plus the body as plain text (`body`) and as written
    (`body_markdown`), and for a thread the number of this status (`part`) and of all (`parts`)."""
    front = post.front.model_dump(exclude={"body", "site_keys", "vars"})
    body = post.body if body is None else body
    return {
        **post.front.template_data(),
        **front,
        "id": post.id,
        "tags": list(post.front.tags),
        "body": markdown_to_text(body),
        "body_markdown": body,
        "source": post.source,
        "part": part,
        "parts": parts,
    }
