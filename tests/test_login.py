"""`publish login` and `publish whoami` on the fake server: minimal scopes, PKCE, the token shown once."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.cli import app
from publisher.clock import FakeClock
from publisher.errors import InvalidInput
from publisher.mastodon.login import OUT_OF_BAND, SCOPES, checked_instance, login
from publisher.sandbox.faults import Fault
from tests.conftest import FAKE_TOKEN
from tests.helpers import CliRunner, make_repo

TOKEN_ENV = "PUBLISH_TEST_TOKEN"


@pytest.fixture
def runner():
    return CliRunner(env={TOKEN_ENV: None})


def requests_to(server, method: str, path: str) -> list:
    return [request for request in server.requests if (request.method, request.path) == (method, path)]


def authorization_url(output: str) -> str:
    return re.search(r"https?://\S+/oauth/authorize\?\S+", output).group(0)


def files_containing(root: Path, secret: str) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def run_login(runner, fake_server, tmp_path, code: str = "sandbox-code", *extra: str):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    return runner.invoke(app, ["login", "--config", str(config), *extra], input=f"{code}\n")


def test_login_registers_with_minimal_scopes_and_prints_the_token_once(runner, fake_server, tmp_path):
    result = run_login(runner, fake_server, tmp_path)
    assert result.exit_code == 0, result.output
    (registration,) = requests_to(fake_server, "POST", "/api/v1/apps")
    assert registration.form["client_name"] == ["publish"]
    assert registration.form["scopes"] == [SCOPES]
    assert registration.form["redirect_uris"] == [OUT_OF_BAND]
    (app_record,) = fake_server.apps.values()
    assert app_record["scopes"] == [
        "write:statuses", "write:media", "write:accounts", "read:statuses", "read:search", "profile"
    ]  # fmt: skip
    (verify,) = requests_to(fake_server, "GET", "/api/v1/accounts/verify_credentials")
    assert verify.bearer_token() == FAKE_TOKEN
    assert result.stdout.count(FAKE_TOKEN) == 1
    assert f"export {TOKEN_ENV}='{FAKE_TOKEN}'" in result.stdout
    assert f"add a repository secret named {TOKEN_ENV}" in result.stdout
    host = urlsplit(fake_server.url).netloc
    assert f"Logged in as @sandbox@{host} (account main; scopes: {SCOPES})." in result.stdout
    assert files_containing(tmp_path, FAKE_TOKEN) == []


def test_login_uses_pkce_and_the_out_of_band_code(runner, fake_server, tmp_path):
    result = run_login(runner, fake_server, tmp_path)
    query = parse_qs(urlsplit(authorization_url(result.stdout)).query)
    (exchange,) = requests_to(fake_server, "POST", "/oauth/token")
    form = {name: values[0] for name, values in exchange.form.items()}
    assert form["grant_type"] == "authorization_code" and form["code"] == "sandbox-code"
    assert form["redirect_uri"] == OUT_OF_BAND == query["redirect_uri"][0]
    assert query["client_id"] == [form["client_id"]] and form["client_id"] in fake_server.apps
    assert query["scope"] == [SCOPES] and query["response_type"] == ["code"]
    digest = hashlib.sha256(form["code_verifier"].encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).decode().rstrip("=")]
    assert query["code_challenge_method"] == ["S256"]
    assert form["code_verifier"] not in result.stdout


def test_the_authorization_url_opens_the_servers_consent_page(fake_server, tmp_path):
    def follow(url: str) -> str:
        page = requests.get(url, timeout=5).text
        return re.search(r'<code id="code">([^<]+)</code>', page).group(1)

    config = make_repo(tmp_path, {}, instance=fake_server.url)
    result = login(config, instance=None, account=None, ask_code=follow, clock=FakeClock())
    assert result.token == FAKE_TOKEN and result.identity.username == "sandbox"
    assert result.target.token_env == TOKEN_ENV
    assert FAKE_TOKEN not in repr(result)


def test_login_without_publish_toml_needs_only_the_instance(runner, fake_server, tmp_path):
    arguments = ["login", "--instance", fake_server.url, "--config", str(tmp_path / "publish.toml")]
    result = runner.invoke(app, arguments, input=f"{fake_server.issue_auth_code()}\n")
    assert result.exit_code == 0, result.output
    assert f"export MASTODON_TOKEN='{FAKE_TOKEN}'" in result.stdout
    assert files_containing(tmp_path, FAKE_TOKEN) == [] and not (tmp_path / "publish.toml").exists()


@pytest.mark.parametrize("code", ["wrong-code", "   "])
def test_a_rejected_or_empty_code_fails_without_a_token(runner, fake_server, tmp_path, code):
    result = run_login(runner, fake_server, tmp_path, code)
    assert result.exit_code == 2
    assert FAKE_TOKEN not in result.output
    assert requests_to(fake_server, "GET", "/api/v1/accounts/verify_credentials") == []


def test_a_rejected_code_says_what_to_do(runner, fake_server, tmp_path):
    result = run_login(runner, fake_server, tmp_path, "wrong-code")
    assert "the authorization code was not accepted: invalid_grant" in result.output
    assert "run `publish login` again" in result.output


def test_login_tells_when_publish_toml_points_elsewhere(runner, fake_server, tmp_path):
    config = make_repo(tmp_path, {})  # instance = https://mastodon.example
    arguments = ["login", "--config", str(config), "--instance", fake_server.url]
    result = runner.invoke(app, arguments, input="sandbox-code\n")
    assert result.exit_code == 0, result.output
    assert 'publish.toml has instance = "https://mastodon.example"' in result.stdout


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://mastodon.social/", "https://mastodon.social"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://localhost:3000/", "http://localhost:3000"),
    ],
)
def test_checked_instance(given, expected):
    assert checked_instance(given) == expected


@pytest.mark.parametrize("given", ["http://mastodon.social", "ftp://mastodon.social", "https://"])
def test_checked_instance_refuses_plain_http_and_non_urls(given):
    with pytest.raises(InvalidInput):
        checked_instance(given)


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("mastodon.social", "write https://mastodon.social)"),
        ("127.0.0.1:8080", "write https://127.0.0.1:8080, or http://127.0.0.1:8080 if the server"),
        ("localhost", "or http://localhost if"),
    ],
)
def test_checked_instance_refuses_an_address_without_scheme_saying_what_to_write(given, hint):
    with pytest.raises(InvalidInput, match="no scheme") as raised:
        checked_instance(given)
    assert hint in str(raised.value)


def test_login_refuses_plain_http_to_a_remote_host(runner, tmp_path):
    arguments = ["login", "--instance", "http://mastodon.example", "--config", str(tmp_path / "publish.toml")]
    result = runner.invoke(app, arguments, input="x\n")
    assert result.exit_code == 2 and "must use https" in result.output
    assert "/oauth/authorize" not in result.output


def test_whoami_prints_the_account_the_token_opens(runner, fake_server, tmp_path):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    result = runner.invoke(app, ["whoami", "--config", str(config)], env={TOKEN_ENV: FAKE_TOKEN})
    assert result.exit_code == 0, result.output
    assert result.stdout == f"@sandbox@{urlsplit(fake_server.url).netloc} (account main)\n"
    (verify,) = requests_to(fake_server, "GET", "/api/v1/accounts/verify_credentials")
    assert verify.bearer_token() == FAKE_TOKEN


def test_whoami_without_the_variable_names_it_and_sends_nothing(runner, fake_server, tmp_path):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    result = runner.invoke(app, ["whoami", "--config", str(config)])
    assert result.exit_code == 2
    assert f"environment variable {TOKEN_ENV} is not set" in result.output
    assert fake_server.requests == []


def test_whoami_with_a_rejected_token_exits_1(runner, fake_server, tmp_path):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    result = runner.invoke(app, ["whoami", "--config", str(config)], env={TOKEN_ENV: "revoked-token-XYZ"})
    assert result.exit_code == 1
    assert f"rejected the token in {TOKEN_ENV}" in result.output and "HTTP 401" in result.output
    assert "revoked-token-XYZ" not in result.output


def test_whoami_refuses_an_unknown_account(runner, fake_server, tmp_path):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    result = runner.invoke(app, ["whoami", "--config", str(config), "--account", "other"])
    assert result.exit_code == 2 and "unknown account 'other'" in result.output


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/apps", b'{"id": "1"}'),
        ("/api/v1/apps", b'["client_id"]'),
        ("/api/v1/apps", b'{"client_id": 7, "client_secret": "s"}'),
        ("/oauth/token", b'{"token_type": "Bearer"}'),
        ("/oauth/token", b"<html>oops</html>"),
        ("/oauth/token", b'{"access_token": ""}'),
    ],
    ids=[
        "apps-no-client",
        "apps-a-list",
        "apps-id-a-number",
        "token-missing",
        "token-not-json",
        "token-empty",
    ],
)
def test_a_malformed_login_answer_is_a_server_error_naming_the_endpoint(
    runner, fake_server, tmp_path, path, body
):
    fake_server.add_fault(Fault("POST", path, "body", status=200, body=body))
    result = run_login(runner, fake_server, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"POST {path}: HTTP 200: malformed answer" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "export" not in result.stdout


def test_control_characters_in_the_granted_scopes_are_made_inert(runner, fake_server, tmp_path):
    answer = b'{"access_token": "%s", "scope": "read \\u001b[2J"}' % FAKE_TOKEN.encode()
    fake_server.add_fault(Fault("POST", "/oauth/token", "body", status=200, body=answer))
    result = run_login(runner, fake_server, tmp_path)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "scopes: read \\x1b[2J)" in result.stdout
