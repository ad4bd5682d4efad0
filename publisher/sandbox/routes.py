"""The routing table: which path does what, which needs the token, and which rate-limit family it spends."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from .inputs import field_values, status_input, text_field
from .media import MediaLibrary, Upload
from .oauth import OAuthDesk
from .pages import status_page
from .paging import PageQuery
from .ratelimit import RateLimiter
from .render import ACCOUNT_ID, credential_account_json, instance_v1_json, instance_v2_json
from .statuses import StatusBook
from .text import to_bool
from .wire import (
    ApiError,
    RecordedRequest,
    Response,
    error_response,
    html_response,
    json_response,
    not_found,
    unprocessable,
)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable[..., Response]
    auth: bool = True
    family: str | None = None


class Api:
    """Turns recorded requests into responses; all state lives in the books it is given."""

    def __init__(
        self,
        token: str,
        clock,
        statuses: StatusBook,
        media: MediaLibrary,
        oauth: OAuthDesk,
        limiter: RateLimiter,
    ):
        self._token = token
        self._clock = clock
        self._statuses = statuses
        self._media = media
        self._oauth = oauth
        self._limiter = limiter
        self._routes = self._table()

    def _table(self) -> list[Route]:
        def route(method: str, path: str, handler: Callable[..., Response], **options) -> Route:
            return Route(method, re.compile(f"^{path}$"), handler, **options)

        ident = r"(?P<ident>[^/]+)"
        return [
            route("GET", "/api/v2/instance", self.instance_v2, auth=False),
            route("GET", "/api/v1/instance", self.instance_v1, auth=False),
            route("POST", "/api/v1/apps", self.create_app, auth=False),
            route("GET", "/api/v1/apps/verify_credentials", self.app_credentials),
            route("GET", "/oauth/authorize", self.authorize, auth=False),
            route("POST", "/oauth/token", self.token, auth=False),
            route("POST", "/oauth/revoke", self.revoke, auth=False),
            route(
                "GET",
                rf"/system/media/{ident}/(?P<variant>original|small)/[^/]+",
                self.media_file,
                auth=False,
            ),
            route("GET", rf"/@[^/]+/{ident}", self.status_page, auth=False),
            route("GET", "/api/v1/accounts/verify_credentials", self.verify_credentials),
            route("GET", rf"/api/v1/accounts/{ident}/statuses", self.account_statuses),
            route("POST", "/api/v1/media", self.upload_v1, family="media"),
            route("POST", "/api/v2/media", self.upload_v2, family="media"),
            route("GET", rf"/api/v1/media/{ident}", self.media_get),
            route("PUT", rf"/api/v1/media/{ident}", self.media_put),
            route("POST", "/api/v1/statuses", self.status_create, family="statuses"),
            route("GET", rf"/api/v1/statuses/{ident}", self.status_get),
            route("GET", rf"/api/v1/statuses/{ident}/source", self.status_source),
            route("GET", rf"/api/v1/statuses/{ident}/history", self.status_history),
            route("PUT", rf"/api/v1/statuses/{ident}", self.status_edit, family="statuses"),
            route("DELETE", rf"/api/v1/statuses/{ident}", self.status_delete, family="deletes"),
            route("GET", "/api/v1/scheduled_statuses", self.scheduled_list),
            route("GET", rf"/api/v1/scheduled_statuses/{ident}", self.scheduled_get),
            route("PUT", rf"/api/v1/scheduled_statuses/{ident}", self.scheduled_put),
            route("DELETE", rf"/api/v1/scheduled_statuses/{ident}", self.scheduled_delete),
            *(route(*spec) for spec in self._statuses.interactions.routes()),  # pins, quotes, search
        ]

    # -- dispatch --------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest, body_problem: ApiError | None = None) -> Response:
        route, params = self._match(request)
        if route is None:
            return error_response(not_found())
        if body_problem is not None:
            return error_response(body_problem)
        if not route.auth:
            return self._call(route, request, params)
        if not self._authorised(request):
            return json_response(401, {"error": "The access token is invalid"})
        verdict = self._limiter.record(route.family, self._clock.now())
        if not verdict.allowed:
            return json_response(429, {"error": "Too many requests"}, verdict.headers)
        return self._call(route, request, params).with_headers(verdict.headers)

    def _match(self, request: RecordedRequest) -> tuple[Route | None, dict[str, str]]:
        method = "GET" if request.method == "HEAD" else request.method
        path = request.path.rstrip("/") or "/"
        for route in self._routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return route, match.groupdict()
        return None, {}

    def _authorised(self, request: RecordedRequest) -> bool:
        token = request.bearer_token()
        return token is not None and hmac.compare_digest(token.encode(), self._token.encode())

    @staticmethod
    def _call(route: Route, request: RecordedRequest, params: dict[str, str]) -> Response:
        try:
            return route.handler(request, **params)
        except ApiError as error:
            return error_response(error)

    # -- instance, apps and OAuth ----------------------------------------------------------------

    def instance_v2(self, request: RecordedRequest) -> Response:
        return json_response(200, instance_v2_json(self._statuses.site, self._statuses.quirks.api_version))

    def instance_v1(self, request: RecordedRequest) -> Response:
        return json_response(200, instance_v1_json(self._statuses.site))

    def create_app(self, request: RecordedRequest) -> Response:
        return json_response(200, self._oauth.register(field_values(request)))

    def app_credentials(self, request: RecordedRequest) -> Response:
        return json_response(200, {"name": "publish", "website": None, "scopes": ["read", "write"]})

    def authorize(self, request: RecordedRequest) -> Response:
        return html_response(200, self._oauth.authorize_page(field_values(request)))

    def token(self, request: RecordedRequest) -> Response:
        return json_response(200, self._oauth.token(field_values(request), self._clock.now()))

    def revoke(self, request: RecordedRequest) -> Response:
        return json_response(200, {})

    # -- accounts --------------------------------------------------------------------------------

    def verify_credentials(self, request: RecordedRequest) -> Response:
        account = credential_account_json(self._statuses.site, self._statuses.count())
        return json_response(200, {**account, "last_status_at": self._statuses.last_status_day()})

    def account_statuses(self, request: RecordedRequest, ident: str) -> Response:
        if ident != ACCOUNT_ID:
            raise not_found()
        query = PageQuery.of(request)
        page = self._statuses.page(query)
        if to_bool(request.first("exclude_replies")):
            page = [status for status in page if status["in_reply_to_id"] is None]
        if to_bool(request.first("only_media")):
            page = [status for status in page if status["media_attachments"]]
        return json_response(200, page, self._link_header(request.path, page, query.limit))

    def _link_header(self, path: str, page: list[dict], limit: int) -> dict[str, str]:
        if not page:
            return {}
        base = f"{self._statuses.site.base_url}{path}"
        following = f"{base}?{urlencode({'limit': limit, 'max_id': page[-1]['id']})}"
        previous = f"{base}?{urlencode({'limit': limit, 'min_id': page[0]['id']})}"
        return {"Link": f'<{following}>; rel="next", <{previous}>; rel="prev"'}

    # -- media -----------------------------------------------------------------------------------

    def upload_v1(self, request: RecordedRequest) -> Response:
        return json_response(*self._media.upload(_upload(request), synchronous=True))

    def upload_v2(self, request: RecordedRequest) -> Response:
        return json_response(*self._media.upload(_upload(request), synchronous=False))

    def media_get(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(*self._media.poll(ident))

    def media_put(self, request: RecordedRequest, ident: str) -> Response:
        description, focus = text_field(request, "description"), text_field(request, "focus")
        return json_response(*self._media.update(ident, description, focus))

    def media_file(self, request: RecordedRequest, ident: str, variant: str) -> Response:
        found = self._media.file(ident, variant)
        if found is None:
            raise not_found()
        return Response(200, found[1], found[0], {"Cache-Control": "public, max-age=31536000"})

    # -- statuses --------------------------------------------------------------------------------

    def status_create(self, request: RecordedRequest) -> Response:
        key = request.headers.get("idempotency-key") or None
        return json_response(200, self._statuses.create(status_input(request), key))

    def status_get(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(200, self._statuses.get(ident))

    def status_source(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(200, self._statuses.source(ident))

    def status_history(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(200, self._statuses.revisions(ident))

    def status_edit(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(200, self._statuses.edit(ident, status_input(request)))

    def status_delete(self, request: RecordedRequest, ident: str) -> Response:
        delete_media = to_bool(field_values(request).get("delete_media"))
        return json_response(200, self._statuses.delete(ident, delete_media))

    def status_page(self, request: RecordedRequest, ident: str) -> Response:
        return html_response(200, status_page(self._statuses.get(ident)))

    # -- scheduled statuses ----------------------------------------------------------------------

    def scheduled_list(self, request: RecordedRequest) -> Response:
        query = PageQuery.of(request)
        page = self._statuses.scheduler.page(query)
        return json_response(200, page, self._link_header(request.path, page, query.limit))

    def scheduled_get(self, request: RecordedRequest, ident: str) -> Response:
        return json_response(200, self._statuses.scheduler.get(ident))

    def scheduled_put(self, request: RecordedRequest, ident: str) -> Response:
        when = text_field(request, "scheduled_at")
        return json_response(200, self._statuses.scheduler.reschedule(ident, when, self._clock.now()))

    def scheduled_delete(self, request: RecordedRequest, ident: str) -> Response:
        self._statuses.scheduler.cancel(ident)
        return json_response(200, {})


def _upload(request: RecordedRequest) -> Upload:
    file = request.files.get("file")
    if file is None:
        raise unprocessable("Validation failed: File can't be blank")
    description = request.first("description") or None
    return Upload(
        file[0], file[1], file[2], description, request.first("focus") or None, request.files.get("thumbnail")
    )
