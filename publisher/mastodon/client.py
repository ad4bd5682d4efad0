"""The Mastodon endpoints the publisher uses, as typed calls over the one HttpClient.

Every id goes into a path checked and quoted; every answer is checked (answers.py) before it is read."""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from publisher.clock import Clock, iso_utc
from publisher.errors import (
    ApiError,
    MediaProcessingFailed,
    NetworkError,
    NotConnected,
    NotFound,
    ServerError,
    Unprocessable,
)
from publisher.mastodon.answers import (
    checked_media,
    checked_scheduled,
    checked_status,
    json_object,
    json_objects,
    mapping,
    server_id,
    shown_text,
    typed_texts,
)
from publisher.mastodon.http import HttpClient, Response
from publisher.mastodon.ratelimits import PacingWait
from publisher.mastodon.retry import is_retryable, retry_line, surely_unprocessed
from publisher.mastodon.status_actions import StatusActions
from publisher.mastodon.statuses import (
    Account,
    Media,
    ScheduledStatus,
    Status,
    api_path,
    day_of,
    media_path,
    parse_media,
    parse_scheduled,
    parse_status,
    scheduled_path,
    status_path,
)

log = logging.getLogger(__name__)

MEDIA_POLL_FIRST_DELAY = 1.0
MEDIA_POLL_MAX_DELAY = 10.0
NOT_READY_WAIT_SECONDS = 2.0
UNCERTAIN_MAX_DELAY = 30.0
NOT_READY_MESSAGE = "not finished processing"


class MastodonClient(StatusActions):
    def __init__(
        self,
        http: HttpClient,
        clock: Clock,
        *,
        processing_deadline: float = 600.0,
        not_ready_retries: int = 8,
        uncertain_retries: int = 6,
    ):
        self._http = http
        self._clock = clock
        self._processing_deadline = processing_deadline
        self._not_ready_retries = not_ready_retries
        self._uncertain_retries = uncertain_retries

    def watch_pacing(self, listener: Callable[[PacingWait], None]) -> None:
        """Call `listener` before each wait for a rate-limit window; if it raises, the request is not sent."""
        self._http.on_pacing_wait = listener

    def finish_by(self, moment: datetime | None) -> None:
        """The run's end (--max-duration): no request, retry, poll or wait of this client goes past it."""
        self._http.run_ends_at = moment

    # -- media -------------------------------------------------------------------------------------

    def upload_media(
        self,
        path: pathlib.Path,
        *,
        mime_type: str,
        description: str | None,
        focus: str | None,
        thumbnail: tuple[pathlib.Path, str] | None = None,
    ) -> Media:
        """POST /api/v2/media, streaming the file; `processed` is decided on `url`, not the status code.

        `thumbnail` (path, MIME type): the preview image of an audio or video file."""
        fields = {name: value for name, value in (("description", description), ("focus", focus)) if value}
        with ExitStack() as files_open:
            files = {"file": (path.name, files_open.enter_context(path.open("rb")), mime_type)}
            if thumbnail is not None:
                files["thumbnail"] = (
                    thumbnail[0].name,
                    files_open.enter_context(thumbnail[0].open("rb")),
                    thumbnail[1],
                )
            response = self._http.request("POST", "/api/v2/media", data=fields, files=files)
        media = parse_media(checked_media(response, json_object(response)))
        log.debug("uploaded %s as media %s (processed: %s)", path.name, media.id, media.processed)
        return media

    def wait_until_processed(self, media_id: str) -> Media:
        """Poll until the server has processed the media; MediaProcessingFailed on failure or deadline."""
        media = self._await_media(media_id)
        if media is None:
            raise MediaProcessingFailed(
                f"the server could not process media {media_id}",
                status=422,
                method="GET",
                path=media_path(media_id),
            )
        return media

    def upload_processed(self, path: pathlib.Path, **upload: Any) -> Media:
        """`upload_media` (same arguments), then wait for processing; a file the server fails to process is
        uploaded once more."""
        for attempt in (1, 2):
            media = self.upload_media(path, **upload)
            ready = media if media.processed else self._await_media(media.id)
            if ready is not None:
                return ready
            log.warning("server failed to process %s (media %s, upload %d of 2)", path, media.id, attempt)
        raise MediaProcessingFailed(
            f"the server could not process {path} ({upload.get('mime_type')}), even after a re-upload; "
            "check that the file is valid and within the server's limits",
            status=422,
            method="POST",
            path="/api/v2/media",
        )

    def _await_media(self, media_id: str) -> Media | None:
        """The processed media, or None when the server reports that processing failed."""
        deadline = self._clock.now().timestamp() + self._processing_deadline
        delay = MEDIA_POLL_FIRST_DELAY
        while True:
            try:
                response = self._http.request("GET", media_path(media_id))
            except Unprocessable:
                return None
            body = mapping(response.body)
            if response.status == 200 and body.get("url") is not None:
                return parse_media(checked_media(response, body))
            self._sleep_before_next_poll(media_id, delay, deadline)
            delay = min(delay * 2, MEDIA_POLL_MAX_DELAY)

    def _sleep_before_next_poll(self, media_id: str, delay: float, deadline: float) -> None:
        left = deadline - self._clock.now().timestamp()
        if left <= 0:
            raise MediaProcessingFailed(
                f"media {media_id} still processing after {self._processing_deadline:g} s",
                method="GET",
                path=media_path(media_id),
            )
        log.debug("media %s still processing; next poll in %g s", media_id, min(delay, left))
        self._pause(min(delay, left))

    # -- statuses ----------------------------------------------------------------------------------

    def create_status(
        self,
        params: dict[str, Any],
        *,
        idempotency_key: str,
        find_existing: Callable[[], Status | None] | None = None,
    ) -> Status | ScheduledStatus:
        """POST /api/v1/statuses as JSON; every retry carries the same Idempotency-Key.

        With `find_existing`, a timeout or 5xx (outcome unknown) is not blindly retried: servers that
        ignore the key (GoToSocial) would post twice. The caller looks for the status first."""
        headers = {"Idempotency-Key": idempotency_key}
        not_ready_waits = uncertain = 0
        retry_if = is_retryable if find_existing is None else surely_unprocessed
        while True:
            try:
                response = self._http.request(
                    "POST", "/api/v1/statuses", json=params, headers=headers, retry_if=retry_if
                )
                return self._status_or_scheduled(response)
            except Unprocessable as exc:
                if NOT_READY_MESSAGE not in exc.server_message or not_ready_waits >= self._not_ready_retries:
                    raise
                not_ready_waits += 1
                log.info("attached media not processed yet; posting again in %g s", NOT_READY_WAIT_SECONDS)
                self._pause(NOT_READY_WAIT_SECONDS)
            except NotConnected:
                raise  # nothing reached the server: nothing to look for, and its retries are spent
            except (NetworkError, ServerError) as exc:
                found = self._after_uncertain(exc, find_existing, uncertain)
                if found is not None:
                    return found
                uncertain += 1

    def _after_uncertain(self, exc: ApiError, find_existing, attempts: int) -> Status | None:
        if find_existing is None or not is_retryable(exc) or attempts + 1 >= self._uncertain_retries:
            raise exc
        found = find_existing()
        if found is None:
            delay = min(UNCERTAIN_MAX_DELAY, 2.0**attempts)
            line = retry_line("POST /api/v1/statuses", delay, exc, attempts + 2, self._uncertain_retries)
            log.warning("%s; the status was looked for and is not on the server", line)
            self._pause(delay)
        return found

    def _pause(self, seconds: float) -> None:
        """Sleep, but not past the run's end: the next request then says the time is up."""
        left = self._http.time_left()
        self._clock.sleep(seconds if left is None else max(0.0, min(seconds, left)))

    def _status(self, response: Response) -> Status:
        return parse_status(checked_status(response, json_object(response), self._http.base_url))

    def _scheduled(self, response: Response) -> ScheduledStatus:
        return parse_scheduled(checked_scheduled(response, json_object(response)))

    def _status_or_scheduled(self, response: Response) -> Status | ScheduledStatus:
        # A scheduled_at in the past is ignored and the status published at once: look at what came back.
        body = json_object(response)
        if "scheduled_at" in body and "params" in body:
            return self._scheduled(response)
        return self._status(response)

    def edit_status(self, status_id: str, params: dict[str, Any]) -> Status:
        """PUT the full new state: any field left out is cleared by the server."""
        response = self._http.request("PUT", status_path(status_id), json=params)
        return self._status(response)

    def delete_status(self, status_id: str) -> dict[str, Any]:
        """The deleted status, with its source text. NotFound may mean an earlier try succeeded."""
        return mapping(self._http.request("DELETE", status_path(status_id)).body)

    def get_status(self, status_id: str) -> Status:
        return self._status(self._http.request("GET", status_path(status_id)))

    def status_source(self, status_id: str) -> dict[str, Any]:
        """GET /api/v1/statuses/:id/source: the plain text and spoiler as they were sent."""
        response = self._http.request("GET", status_path(status_id) + "/source")
        source = json_object(response)
        return {**source, **typed_texts(source, "text", "spoiler_text")}

    def account_statuses(self, account_id: str, *, limit: int = 40, max_id: str | None = None) -> list[dict]:
        """A page of the account's statuses, newest first, each checked (answers.checked_status)."""
        params = _page(limit, max_id)
        path = api_path("/api/v1/accounts/{}/statuses", account_id)
        response = self._http.request("GET", path, params=params)
        return [checked_status(response, raw, self._http.base_url) for raw in json_objects(response)]

    # -- scheduled statuses ------------------------------------------------------------------------

    def scheduled_statuses(self, *, limit: int = 40, max_id: str | None = None) -> list[dict]:
        """A page of the account's scheduled statuses, each checked (answers.checked_scheduled)."""
        params = _page(limit, max_id)
        response = self._http.request("GET", "/api/v1/scheduled_statuses", params=params)
        return [checked_scheduled(response, raw) for raw in json_objects(response)]

    def get_scheduled(self, scheduled_id: str) -> ScheduledStatus:
        return self._scheduled(self._http.request("GET", scheduled_path(scheduled_id)))

    def reschedule(self, scheduled_id: str, scheduled_at: datetime) -> ScheduledStatus:
        body = {"scheduled_at": iso_utc(scheduled_at)}
        return self._scheduled(self._http.request("PUT", scheduled_path(scheduled_id), json=body))

    def delete_scheduled(self, scheduled_id: str) -> None:
        self._http.request("DELETE", scheduled_path(scheduled_id))

    # -- account and instance ----------------------------------------------------------------------

    def verify_credentials(self) -> Account:
        response = self._http.request("GET", "/api/v1/accounts/verify_credentials")
        body = json_object(response)
        count = body.get("statuses_count")
        return Account(
            id=server_id(response, body.get("id")),
            username=shown_text(response, body, "username"),
            acct=shown_text(response, body, "acct"),
            statuses_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
            last_status_day=day_of(body.get("last_status_at")),
        )

    def instance(self) -> dict[str, Any]:
        """GET /api/v2/instance without auth, or /api/v1/instance on servers that lack v2."""
        try:
            return self._http.request("GET", "/api/v2/instance", auth=False).body
        except NotFound:
            log.debug("no /api/v2/instance; falling back to /api/v1/instance")
            return self._http.request("GET", "/api/v1/instance", auth=False).body


def _page(limit: int, max_id: str | None) -> dict[str, Any]:
    """Query parameters of one page, newest first, older than `max_id` when given."""
    return {"limit": limit} if max_id is None else {"limit": limit, "max_id": max_id}
