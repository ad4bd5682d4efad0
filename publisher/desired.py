"""Post -> DesiredStatus: render the text, check and hash the media, apply defaults."""

from __future__ import annotations

from dataclasses import dataclass


from publisher.config import Config
from publisher.errors import Problem
from publisher.markdown_text import markdown_to_text
from publisher.media import MediaFileError, file_digest, media_kind, resolve_media_path, sniff_mime_type
from publisher.models import DesiredStatus, MediaSpec, PollSpec
from publisher.posts import MediaEntry, Post
from publisher.render import Renderer, TemplateProblem


@dataclass(frozen=True)
class DesiredBuilder:
    config: Config
    renderer: Renderer

    def build(self, post: Post) -> DesiredStatus | list[Problem]:
        problems: list[Problem] = []
        media = tuple(self._media(post, index, entry, problems) for index, entry in enumerate(post.front.media))
        text = self._text(post, problems)
        account = post.front.account or self.config.default_account
        if account not in self.config.accounts:
            known = ", ".join(self.config.accounts)
            problems.append(self._problem(post, "account", f"unknown account {account!r}", f"one of: {known}"))
        self._check_limits(post, media, problems)
        if problems:
            return problems
        return self._desired(post, account, text or "", media)

    def _desired(self, post: Post, account: str, text: str, media: tuple) -> DesiredStatus:
        front, defaults = post.front, self.config.defaults
        spoiler = front.spoiler or ""
        poll = front.poll and PollSpec(**front.poll.model_dump())
        return DesiredStatus(
            post_id=post.id,
            source=post.source,
            account=account,
            text=text,
            spoiler_text=spoiler,
            visibility=front.visibility or defaults.visibility,
            # Mastodon marks every status with a content warning as sensitive; mirror it so hashes match.
            sensitive=bool(front.sensitive if front.sensitive is not None else defaults.sensitive) or bool(spoiler),
            language=front.language or defaults.language,
            media=media,
            poll=poll,
            publish_at=front.publish_at,
            reply_to=front.reply_to,
        )

    def _text(self, post: Post, problems: list[Problem]) -> str | None:
        name = post.front.template or self.config.publish.template
        if not self.renderer.has_template(name):
            hint = f"create {self.renderer.templates_dir.name}/{name}, or fix the name"
            problems.append(self._problem(post, "template", f"template not found: {name}", hint))
            return None
        try:
            return self.renderer.render(name, template_context(post))
        except TemplateProblem as exc:
            where = f"{exc.template}:{exc.line}" if exc.line else exc.template
            problems.append(self._problem(post, "template", f"{where}: {exc}"))
            return None

    def _media(self, post: Post, index: int, entry: MediaEntry, problems: list[Problem]) -> MediaSpec | None:
        field = f"media[{index}]"
        if entry.alt is None or not entry.alt.strip():
            if self.config.publish.require_alt_text:
                hint = "describe the image for people who cannot see it, or set require_alt_text = false"
                problems.append(self._problem(post, f"{field}.alt", "alt text is required", hint))
        try:
            real = resolve_media_path(entry.path, post.file, self.config.root)
        except MediaFileError as exc:
            problems.append(self._problem(post, f"{field}.path", str(exc), exc.hint))
            return None
        sha256, size, head = file_digest(real)
        mime = sniff_mime_type(head)
        relative = real.relative_to(self.config.root.resolve()).as_posix()
        if mime is None or mime not in self.config.limits.supported_mime_types:
            what = f"{mime} files are not accepted" if mime else "not an image, video or audio file"
            hint = "Mastodon accepts JPEG, PNG, GIF, WebP, HEIC, AVIF, MP4, WebM, MOV and common audio"
            problems.append(self._problem(post, f"{field}.path", f"{entry.path}: {what} (checked by content)", hint))
            return None
        self._check_size(post, field, entry.path, mime, size, problems)
        return MediaSpec(path=relative, sha256=sha256, size=size, mime_type=mime, alt=entry.alt, focus=entry.focus)

    def _check_size(self, post: Post, field: str, path: str, mime: str, size: int, problems: list[Problem]) -> None:
        limits = self.config.limits
        limit = limits.image_size_limit if media_kind(mime) == "image" else limits.video_size_limit
        if size > limit:
            message = f"{path}: {size:,} bytes is over the server's limit of {limit:,} bytes"
            problems.append(self._problem(post, f"{field}.path", message, "resize or recompress the file"))

    def _check_limits(self, post: Post, media: tuple, problems: list[Problem]) -> None:
        limits = self.config.limits
        if len(media) > limits.max_media_attachments:
            message = f"{len(media)} attachments; the server allows {limits.max_media_attachments}"
            problems.append(self._problem(post, "media", message, "split the post into a thread"))
        for index, entry in enumerate(post.front.media):
            if entry.alt and len(entry.alt) > limits.description_limit:
                message = f"alt text is {len(entry.alt)} characters; the limit is {limits.description_limit}"
                problems.append(self._problem(post, f"media[{index}].alt", message))
        if post.front.poll and media:
            problems.append(self._problem(post, "poll", "a post cannot have both a poll and media"))

    @staticmethod
    def _problem(post: Post, field: str, message: str, hint: str = "") -> Problem:
        return Problem(post.source, post.line_of(field), field, message, hint)


def template_context(post: Post) -> dict:
    """Every front-matter key, plus the body as plain text (`body`) and as written (`body_markdown`)."""
    front = post.front.model_dump(exclude={"body"})
    return {
        **post.front.extra,
        **front,
        "id": post.id,
        "tags": list(post.front.tags),
        "body": markdown_to_text(post.body),
        "body_markdown": post.body,
        "source": post.source,
    }
