"""`publish login` (OAuth out-of-band flow with PKCE) and `publish whoami` (is the configured token good?).

The token obtained by `login` is handed back to the caller only; nothing here writes it anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from pydantic import ValidationError

from publisher.clock import Clock
from publisher.errors import EXIT_INVALID, AuthError, InvalidInput, Problem, PublishError, Unprocessable
from publisher.mastodon.answers import json_object, required_text
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.clients import token_for
from publisher.mastodon.http import HttpClient
from publisher.mastodon.network_errors import SCOPES, TokenSource
from publisher.source.config import Account, Config, is_loopback, load_config
from publisher.source.untrusted import escape_controls

log = logging.getLogger(__name__)

CLIENT_NAME = "publish"
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
DEFAULT_TOKEN_ENV = "MASTODON_TOKEN"


class LoginFailed(PublishError):
    """The server did not accept the authorization code."""

    exit_code = EXIT_INVALID


@dataclass(frozen=True)
class Identity:
    username: str
    instance: str

    @property
    def handle(self) -> str:
        return f"@{self.username}@{urlsplit(self.instance).netloc}"


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Pkce:
    """RFC 7636 S256: the verifier stays here, only its hash travels in the authorization URL."""

    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def generate(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="))


@dataclass(frozen=True)
class LoginTarget:
    """Where to log in and under which variable the token is to be stored."""

    instance: str
    account: str
    token_env: str
    configured_instance: str | None  # the account's instance in publish.toml, when there is one


@dataclass(frozen=True)
class LoginResult:
    target: LoginTarget
    identity: Identity
    scopes: str
    token: str = field(repr=False)


def login(
    config_path: Path,
    *,
    instance: str | None,
    account: str | None,
    ask_code: Callable[[str], str],
    clock: Clock,
    website: str | None = None,
) -> LoginResult:
    """Register an app, let the user authorize it (`ask_code` shows the URL, returns the code), verify."""
    target = login_target(config_path, instance, account)
    pkce = Pkce.generate()
    with HttpClient(target.instance, None, clock=clock) as http:
        app = register_app(http, website)
        code = ask_code(authorization_url(target.instance, app, pkce)).strip()
        if not code:
            raise LoginFailed("no authorization code entered; nothing was changed")
        token, scopes = exchange_code(http, app, code, pkce)
    return LoginResult(target, verify_token(target.instance, token, clock), scopes, token)


def login_target(config_path: Path, instance: str | None, account: str | None) -> LoginTarget:
    """--instance, else the account's instance in publish.toml; the variable name comes from publish.toml."""
    config = load_config(config_path) if config_path.exists() else None
    name = account or (config.default_account if config else "main")
    configured = config.accounts.get(name) if config else None
    if config is not None and configured is None and account is not None:
        raise _unknown_account(config, account)
    chosen = instance or (configured.instance if configured else None)
    if chosen is None:
        hint = "e.g. publish login --instance https://mastodon.social"
        raise InvalidInput(
            [Problem("--instance", None, "--instance", "which instance? none configured", hint)]
        )
    token_env = configured.token_env if configured else DEFAULT_TOKEN_ENV
    return LoginTarget(checked_instance(chosen), name, token_env, configured.instance if configured else None)


def checked_instance(url: str) -> str:
    """A base URL: https://host, plain http only for loopback; a bare host is refused with what to write
    (guessing https:// for a local server that speaks plain http only fails later, on TLS)."""
    url = url.strip()
    if "://" not in url:
        raise InvalidInput(
            [Problem("--instance", None, "--instance", f"{url}: no scheme", _scheme_hint(url))]
        )
    try:
        return Account(instance=url).instance
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput([Problem("--instance", None, "--instance", f"{url}: {message}")]) from None


def _scheme_hint(address: str) -> str:
    hint = f"write https://{address}"
    if is_loopback(urlsplit(f"//{address}").hostname or ""):
        hint += f", or http://{address} if the server on this machine speaks plain http"
    return hint


def register_app(http: HttpClient, website: str | None) -> AppCredentials:
    """POST /api/v1/apps with the out-of-band redirect and the minimal scopes."""
    fields = {"client_name": CLIENT_NAME, "redirect_uris": OUT_OF_BAND, "scopes": SCOPES}
    if website:
        fields["website"] = website
    response = http.request("POST", "/api/v1/apps", data=fields, auth=False)
    body = json_object(response)
    log.debug("registered app %s", escape_controls(str(body.get("id"))))
    return AppCredentials(*(required_text(response, body, key) for key in ("client_id", "client_secret")))


def authorization_url(instance: str, app: AppCredentials, pkce: Pkce) -> str:
    query = {
        "client_id": app.client_id,
        "scope": SCOPES,
        "redirect_uri": OUT_OF_BAND,
        "response_type": "code",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    return f"{instance}/oauth/authorize?{urlencode(query, quote_via=quote)}"


def exchange_code(http: HttpClient, app: AppCredentials, code: str, pkce: Pkce) -> tuple[str, str]:
    """POST /oauth/token: (access token, granted scopes). Not retried: a code can be redeemed only once."""
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": OUT_OF_BAND,
        "code_verifier": pkce.verifier,
        "scope": SCOPES,
    }
    try:
        response = http.request("POST", "/oauth/token", data=fields, retry=False, auth=False)
    except (AuthError, Unprocessable) as exc:
        hint = "run `publish login` again and paste the code the page shows right after you authorize"
        raise LoginFailed(
            f"the authorization code was not accepted: {exc.server_message}", hint=hint
        ) from None
    body = json_object(response)
    scopes = body.get("scope")  # shown to the user
    granted = escape_controls(scopes) if isinstance(scopes, str) and scopes else SCOPES
    return required_text(response, body, "access_token"), granted


def verify_token(instance: str, token: str, clock: Clock, source: TokenSource | None = None) -> Identity:
    """GET /api/v1/accounts/verify_credentials with the token; a refusal names `source` in its hint."""
    with HttpClient(instance, token, clock=clock, token_source=source) as http:
        account = MastodonClient(http, clock).verify_credentials()
    return Identity(account.username, instance)


@dataclass(frozen=True)
class WhoAmI:
    account: str
    token_env: str
    identity: Identity


def whoami(config_path: Path, *, account: str | None, environ: Mapping[str, str], clock: Clock) -> WhoAmI:
    """Verify the token of one account of publish.toml (the default account unless named)."""
    config = load_config(config_path)
    name = account or config.default_account
    if name not in config.accounts:
        raise _unknown_account(config, name)
    settings = config.accounts[name]
    token = token_for(name, settings, environ)
    identity = verify_token(settings.instance, token, clock, TokenSource(name, settings.token_env))
    return WhoAmI(name, settings.token_env, identity)


def _unknown_account(config: Config, name: str) -> InvalidInput:
    known = ", ".join(config.accounts)
    return InvalidInput(
        [Problem("publish.toml", None, "--account", f"unknown account {name!r}", f"one of: {known}")]
    )


def storage_instructions(result: LoginResult) -> str:
    """What `publish login` prints after success: the one and only place the token is shown, once."""
    target = result.target
    variable = target.token_env
    lines = [
        f"Logged in as {result.identity.handle} (account {target.account}; scopes: {result.scopes}).",
        "",
        "This is the only time publish shows the access token; it is not saved anywhere. Store it now:",
        f"  in a shell:  export {variable}='{result.token}'",
        f"  in CI:       add a repository secret named {variable} (`gh secret set {variable}`, paste it)",
    ]
    configured = target.configured_instance
    if configured and configured != target.instance:
        lines += [
            "",
            f'note: publish.toml has instance = "{configured}" for account {target.account};',
            f'      set it to "{target.instance}" to publish there.',
        ]
    return "\n".join(lines)
