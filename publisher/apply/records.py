"""State records built from what the server answered: a created or scheduled status, or an adopted copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from publisher.mastodon.statuses import ScheduledStatus, Status
from publisher.plan.attachments import media_record
from publisher.plan.interactions import quoted_post
from publisher.plan.state import MediaRecord, PendingCreate, StatusRecord
from publisher.plan.verify import stored_quote_id
from publisher.source.models import VISIBILITIES, DesiredStatus, MediaSpec
from publisher.source.untrusted import is_server_id

# The content hash of an adopted copy that differs from its post file: the next plan edits it.
DIFFERS_FROM_FILE = "sha256:adopted-copy-differs-from-the-file"


def status_record(
    desired: DesiredStatus,
    result: Status | ScheduledStatus,
    pending: PendingCreate,
    media: Sequence[MediaRecord],
    recorded_at: datetime,
    targets: Mapping[str, StatusRecord] | None = None,
) -> StatusRecord:
    """`targets`: the state's records, for the statuses of the posts this one replies to and quotes."""
    scheduled = isinstance(result, ScheduledStatus)
    targets = targets or {}
    return StatusRecord(
        source=desired.source,
        account=desired.account,
        status_id=None if scheduled else result.id,
        url=None if scheduled else result.url,
        content_hash=pending.content_hash,
        idempotency_key=pending.idempotency_key,
        text=pending.text,
        spoiler_text=pending.spoiler_text,
        visibility=_visibility(result) or desired.visibility,
        reply_to=desired.reply_to,
        in_reply_to_id=None
        if scheduled
        else _pointer(desired.reply_to, targets, result.raw.get("in_reply_to_id")),
        quote=desired.quote,
        quoted_status_id=_pointer(quoted_post(desired), targets, _quoted_id(result)),
        quote_policy=desired.quote_policy,  # as sent; what the server kept otherwise is a warning
        media=tuple(media),
        published_at=None if scheduled else result.created_at,
        scheduled_id=result.id if scheduled else None,
        scheduled_at=result.scheduled_at if scheduled else None,
        recorded_at=recorded_at,
    )


def _pointer(target: str | None, targets: Mapping[str, StatusRecord], stored: str | None) -> str | None:
    """The status of the post `target` that this one points at, as that post's record names it. Ids are per
    server: for another account's post on another server, this status's own server holds another id."""
    record = targets.get(target) if target else None
    return record.status_id if record is not None and record.status_id else stored


def stored_fields(result: Status | ScheduledStatus) -> dict:
    """What the server holds of a status's settings: a Status's own fields, a ScheduledStatus's `params`."""
    return result.raw.get("params", result.raw) if isinstance(result, ScheduledStatus) else result.raw


def _quoted_id(result: Status | ScheduledStatus) -> str | None:
    """The status it quotes, as the server holds it (none while another server has not approved a quote)."""
    raw = stored_fields(result)
    found = stored_quote_id(raw) if isinstance(raw, dict) else None
    return found if is_server_id(found) else None


def _visibility(result: Status | ScheduledStatus) -> str | None:
    """What the server holds: an adopted copy may have another visibility than the file (a replace)."""
    value = stored_fields(result).get("visibility")
    return value if value in VISIBILITIES else None


def attached_media(specs: Sequence[MediaSpec], found: Status | ScheduledStatus) -> list[MediaRecord] | None:
    """The copy's attachments, in order, as records of the post's files; None when an id is unusable."""
    attachments = found.raw.get("media_attachments") or []
    records = []
    for spec, attachment in zip(specs, attachments, strict=False):
        media_id = attachment.get("id") if isinstance(attachment, dict) else None
        media_id = str(media_id) if isinstance(media_id, int) else media_id
        if not is_server_id(media_id):
            return None
        kept = {"alt": attachment.get("description") or None, "focus": attachment_focus(attachment)}
        records.append(media_record(spec, media_id).model_copy(update=kept))
    return records


def attachment_focus(attachment: dict) -> tuple[float, float] | None:
    focus = (attachment.get("meta") or {}).get("focus") if isinstance(attachment.get("meta"), dict) else None
    if not isinstance(focus, dict):
        return None
    try:
        return float(focus["x"]), float(focus["y"])
    except (KeyError, TypeError, ValueError):
        return None


def media_attributes(item: MediaRecord) -> dict:
    attributes: dict = {"id": item.media_id, "description": item.alt or ""}
    if item.focus is not None:
        attributes["focus"] = f"{item.focus[0]:g},{item.focus[1]:g}"
    return attributes
