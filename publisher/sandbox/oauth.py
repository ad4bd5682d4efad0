"""The OAuth dance `publish login` performs: register an app, authorise, exchange the code for the token."""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from .wire import ApiError

FIXED_CODE = "sandbox-code"
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
DEFAULT_SCOPES = "read"


def _invalid_grant() -> ApiError:
    description = (
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
        "used in the authorization request, or was issued to another client."
    )
    return ApiError(400, "invalid_grant", error_description=description)


class OAuthDesk:
    def __init__(self, lock: threading.RLock, next_id: Callable[[], str], token: str):
        self.apps: dict[str, dict] = {}  # client_id -> Application JSON with its secret
        self._codes: set[str] = set()
        self._lock = lock
        self._next_id = next_id
        self._token = token

    def register(self, fields: dict[str, object]) -> dict:
        """POST /api/v1/apps."""
        name = str(fields.get("client_name") or "").strip()
        uris = fields.get("redirect_uris") or OUT_OF_BAND
        if not name:
            raise ApiError(422, "Validation failed: Application name can't be blank")
        uris = [str(uri) for uri in uris] if isinstance(uris, list) else str(uris).split()
        app = {
            "id": self._next_id(),
            "name": name,
            "website": fields.get("website") or None,
            "scopes": str(fields.get("scopes") or DEFAULT_SCOPES).split(),
            "redirect_uri": "\n".join(uris),
            "redirect_uris": uris,
            "client_id": secrets.token_urlsafe(32),
            "client_secret": secrets.token_urlsafe(32),
            "vapid_key": None,
        }
        with self._lock:
            self.apps[app["client_id"]] = app
        return app

    def issue_code(self) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes.add(code)
        return code

    def authorize_page(self, query: dict[str, object]) -> str:
        """GET /oauth/authorize: no login here; the page shows the code and links to the redirect URI."""
        code = self.issue_code()
        redirect = str(query.get("redirect_uri") or OUT_OF_BAND)
        state = query.get("state")
        link = ""
        if redirect != OUT_OF_BAND:
            params = {"code": code, **({"state": state} if state else {})}
            target = html.escape(f"{redirect}?{urlencode(params)}")
            link = f'<p><a id="authorize" href="{target}">Authorize</a></p>'
        return (
            "<!DOCTYPE html><html><head><title>Authorize - Publish sandbox</title></head><body>"
            f"<h1>Authorize {html.escape(self._app_name(query))}</h1>"
            f'<p>Copy this authorization code:</p><p><code id="code">{code}</code></p>{link}</body></html>'
        )

    def _app_name(self, query: dict[str, object]) -> str:
        app = self.apps.get(str(query.get("client_id") or ""))
        return app["name"] if app else "application"

    def token(self, fields: dict[str, object], now: datetime) -> dict:
        """POST /oauth/token (authorization_code); any PKCE verifier is accepted."""
        grant = fields.get("grant_type")
        if grant not in ("authorization_code", "client_credentials"):
            raise ApiError(
                400,
                "unsupported_grant_type",
                error_description="The authorization grant type is not supported.",
            )
        self._check_client(fields)
        if grant == "authorization_code":
            self._redeem(str(fields.get("code") or ""))
        scope = str(fields.get("scope") or DEFAULT_SCOPES)
        return {
            "access_token": self._token,
            "token_type": "Bearer",
            "scope": scope,
            "created_at": int(now.timestamp()),
        }

    def _check_client(self, fields: dict[str, object]) -> None:
        """Unknown clients are let through (tests may skip registration); a known one must send its secret."""
        app = self.apps.get(str(fields.get("client_id") or ""))
        if app is not None and fields.get("client_secret") != app["client_secret"]:
            description = (
                "Client authentication failed due to unknown client, no client authentication included, "
                "or unsupported authentication method."
            )
            raise ApiError(401, "invalid_client", error_description=description)

    def _redeem(self, code: str) -> None:
        with self._lock:
            if code == FIXED_CODE:
                return
            if code not in self._codes:
                raise _invalid_grant()
            self._codes.discard(code)
