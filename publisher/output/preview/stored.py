"""Preview cards of what the sandbox server stored: its statuses and scheduled statuses, as Mastodon JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from publisher.output.preview.cards import (
    MEDIA_KINDS,
    Card,
    CardMedia,
    MediaFolder,
    focus_position,
    server_poll,
    server_quote_pin,
)
from publisher.plan.state import StatusRecord
from publisher.source.config import Limits
from publisher.source.length import status_length


@dataclass(frozen=True)
class SandboxContents:
    """The server's records after a sync, as plain data (no server object needed to render them)."""

    handle: str  # username@host
    statuses: tuple[dict, ...] = ()  # Status JSON, in creation order
    scheduled: tuple[dict, ...] = ()  # ScheduledStatus JSON
    files: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)  # media id -> (type, bytes)
    posts: Mapping[str, StatusRecord] = field(default_factory=dict)  # the sandbox state: post id -> record


def sandbox_cards(contents: SandboxContents, limits: Limits, folder: MediaFolder) -> list[Card]:
    names = {
        record.status_id or record.scheduled_id: (post_id, record.source)
        for post_id, record in contents.posts.items()
    }
    builder = _CardBuilder(contents, names, limits, folder)
    cards = [builder.status(status) for status in contents.statuses]
    return cards + [builder.scheduled(item) for item in contents.scheduled]


@dataclass(frozen=True)
class _CardBuilder:
    contents: SandboxContents
    names: Mapping[str | None, tuple[str, str]]
    limits: Limits
    folder: MediaFolder

    def status(self, status: dict) -> Card:
        poll = server_poll(status.get("poll"), status.get("created_at"))
        fields = {"when": status.get("created_at"), "poll": poll}  # no url: the server stops after the run
        fields.update(server_quote_pin(status))
        return self._card(status["id"], "published", status, status.get("media_attachments", []), fields)

    def scheduled(self, item: dict) -> Card:
        params = item.get("params", {})
        fields = {"when": item.get("scheduled_at"), "poll": server_poll(params.get("poll"), None)}
        fields.update(server_quote_pin(params))
        return self._card(item["id"], "scheduled", params, item.get("media_attachments", []), fields)

    def _card(self, server_id: str, action: str, body: dict, media: list, fields: dict) -> Card:
        post_id, source = self.names.get(server_id, (f"status {server_id}", ""))
        text, spoiler = body.get("text") or "", body.get("spoiler_text") or ""
        parent = self.names.get(body.get("in_reply_to_id"), (body.get("in_reply_to_id"), ""))[0]
        return Card(
            post_id=post_id,
            action=action,
            author=self.contents.handle.split("@")[0],
            handle=self.contents.handle,
            text=text,
            characters=status_length(text, spoiler, url_length=self.limits.characters_reserved_per_url),
            max_characters=self.limits.max_characters,
            spoiler_text=spoiler,
            visibility=body.get("visibility") or "public",
            language=body.get("language"),
            sensitive=bool(body.get("sensitive")),
            media=tuple(self._media(attachment) for attachment in media),
            source=source,
            note=f"{action} on the sandbox as {server_id}",
            reply_to=parent,
            **fields,
        )

    def _media(self, attachment: dict) -> CardMedia:
        media_id = attachment["id"]
        name = unquote(urlsplit(attachment.get("url") or "").path.rsplit("/", 1)[-1]) or media_id
        stored = self.contents.files.get(media_id)
        src = self.folder.write(stored[1], media_id, name) if stored else None
        focus = (attachment.get("meta") or {}).get("focus")
        position = focus_position((focus["x"], focus["y"]) if focus else None)
        kind = MEDIA_KINDS.get(attachment.get("type", ""), "file")
        return CardMedia(kind, attachment.get("description") or "", name, src, position)


def contents_of(server, posts: Mapping[str, StatusRecord]) -> SandboxContents:
    """A running FakeMastodon's records; its media records keep the uploaded bytes."""
    statuses = tuple(server.statuses.values())
    files = {
        media_id: (record["_content_type"], record["_data"]) for media_id, record in server.media.items()
    }
    user = statuses[0]["account"]["acct"] if statuses else "sandbox"
    handle = f"{user}@{urlsplit(server.url).netloc}"
    return SandboxContents(handle, statuses, tuple(server.scheduled.values()), files, posts)
