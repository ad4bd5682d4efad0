"""The steps of a sync around a status rather than in it: which status it quotes, its pin, its quote policy.

A part of SyncRun (sync.py), which provides the clients, the state and the event stream they use. Each
request's answer is compared with what was asked (verify.py), and the state records it at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from publisher.apply.events import SyncEvent
from publisher.errors import NotFound, PublishError, Unprocessable
from publisher.plan.interactions import wanted_pin, wanted_policy
from publisher.plan.state import StatusRecord
from publisher.source.models import DesiredStatus, is_status_url

if TYPE_CHECKING:
    from publisher.mastodon.client import MastodonClient

log = logging.getLogger(__name__)

Gone = Callable[[DesiredStatus, StatusRecord], None]


def id_seen_from(client: MastodonClient, account: str, record: StatusRecord) -> str:
    """The id `record`'s status has on `account`'s server. Ids are per server, so a status of another
    account is found by its URL: read from the URL when both share a server, else looked up (fetched)."""
    if record.account == account or not record.url:
        return record.status_id
    return client.resolve_status(record.url)


class AdjustSteps:
    def _quoted_status_id(self, desired: DesiredStatus) -> str | None:
        """The id to send as quoted_status_id: the quoted post's status, or the status a URL names."""
        if desired.quote is None:
            return None
        if is_status_url(desired.quote):
            return self.clients[desired.account].resolve_status(desired.quote)
        return self._target_status_id(desired, desired.quote, "quotes")

    def _target_status_id(self, desired: DesiredStatus, target: str, relation: str) -> str:
        """The id on `desired`'s server of the post it replies to or quotes, which is published first."""
        record = self.state.posts.get(target)
        if record is None or record.status_id is None:
            raise PublishError(f"{desired.post_id}: {relation} {target!r}, which is not published yet")
        return id_seen_from(self.clients[desired.account], desired.account, record)

    def _adjust(self, desired: DesiredStatus, gone: Gone | None = None) -> None:
        """Set the quote policy and the pin the post asks for on its published status (nothing for a status
        still scheduled: it is adjusted once the server has published it). `gone`: what to do when the
        status was deleted on the server (else the step that found that out has said so already)."""
        record = self.state.posts.get(desired.post_id)
        if record is None or record.status_id is None:
            return
        try:
            policy = wanted_policy(desired, record)
            if policy is not None:
                record = self._set_policy(desired, record, policy)
            pin = wanted_pin(desired, record)
            if pin is not None:
                self._set_pin(desired, record, pin)
        except NotFound:
            if gone is not None:
                gone(desired, record)

    def _set_policy(self, desired: DesiredStatus, record: StatusRecord, policy: str) -> StatusRecord:
        result = self.clients[desired.account].set_quote_policy(record.status_id, policy)
        differs = self._verify(desired.post_id, {"quote_approval_policy": policy}, result)
        updated = self._adjusted(desired.post_id, record, differs, quote_policy=policy)
        self._emit(SyncEvent("policy", desired.post_id, record.url, f"who may quote it: {policy}"))
        return updated

    def _set_pin(self, desired: DesiredStatus, record: StatusRecord, pin: bool) -> None:
        client = self.clients[desired.account]
        try:
            result = client.pin_status(record.status_id) if pin else client.unpin_status(record.status_id)
        except Unprocessable:
            result = client.get_status(record.status_id)  # pinned already (an interrupted run)? else raise
            if result.raw.get("pinned") is not True or not pin:
                raise
        differs = self._verify(desired.post_id, {"pinned": pin}, result)
        self._adjusted(desired.post_id, record, differs, pinned=pin if pin else desired.pinned)
        self._emit(SyncEvent("pinned" if pin else "unpinned", desired.post_id, record.url))

    def _adjusted(
        self, post_id: str, record: StatusRecord, differs: tuple[str, ...] | None, **changes: object
    ) -> StatusRecord:
        """The record with `changes`, and what the server did not keep of them (`differs`), saved at once."""
        if differs:
            changes["server_differs"] = (*(record.server_differs or ()), *differs)
        updated = record.model_copy(update={**changes, "recorded_at": self.clock.now()})
        self._change_state(lambda state: state.with_record(post_id, updated))
        return updated
