"""The access token never appears in output, logs, errors, JSON or files, whatever fails."""

from __future__ import annotations

import pytest

from publisher.cli import app
from publisher.sandbox import FakeMastodon, Fault
from tests.helpers import CliRunner
from tests.sync_support import ENV, TOKEN, example_repo

SCENARIOS = {
    "clean": [],
    "validation-422": [
        Fault("POST", "/api/v1/statuses", "status", status=422, message="Validation failed: x")
    ],
    "dropped-after-commit": [Fault("POST", "/api/v1/statuses", "drop_after")],
    "proxy-413": [Fault("POST", "/api/v2/media", "html", status=413)],
    "forbidden": [
        Fault("*", "/api/", "status", status=403, message="This action is outside the authorized scopes")
    ],
    "not-found": [
        Fault("GET", "/api/v1/statuses/", "status", status=404),
        Fault("POST", "/api/v1/statuses", "drop_after"),
    ],
}


def files_under(root):
    return [path for path in root.rglob("*") if path.is_file() and path.suffix not in (".png", ".jpg")]


@pytest.mark.parametrize(
    "flags", [["-v"], ["--json"], ["-v", "--json"]], ids=["verbose", "json", "verbose-json"]
)
@pytest.mark.parametrize("faults", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_token_never_leaks(tmp_path, faults, flags):
    with FakeMastodon(token=TOKEN) as server:
        config = example_repo(tmp_path, server.url)
        for fault in faults:
            server.add_fault(fault)
        result = CliRunner(env=ENV).invoke(app, ["sync", "--config", str(config), *flags])
    assert result.exit_code in (0, 1), result.output
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    if "-v" in flags:
        assert (
            "/api/v1/statuses" in result.stderr or "/api/v2/media" in result.stderr
        )  # the log was really on
    for path in files_under(tmp_path):
        assert TOKEN not in path.read_text(errors="replace"), path


def test_bad_token_message_names_the_problem_not_the_token(tmp_path):
    with FakeMastodon(token="another-token") as server:
        config = example_repo(tmp_path, server.url)
        result = CliRunner(env=ENV).invoke(app, ["sync", "--config", str(config), "-v"])
    assert result.exit_code == 1
    assert "The access token is invalid" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
