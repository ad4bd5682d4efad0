"""An unexpected error (a bug) is one line and exit 1; the traceback only with --debug; never a token."""

from __future__ import annotations

import pytest

from publisher.cli import Collaborators, main
from publisher.output.crash import censor, crash_report
from tests.helpers import make_repo

TOKEN = "Zm9vYmFyYmF6cXV4LXRva2VuLXZhbHVlLTEyMzQ1Njc4OTA"


class BrokenClock:
    """A collaborator with a bug: its error message carries the token, as a careless one might."""

    def now(self):
        raise RuntimeError(f"clock exploded near Bearer {TOKEN} and {TOKEN}")

    def sleep(self, seconds: float) -> None:
        raise AssertionError("not reached")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLISH_TEST_TOKEN", TOKEN)
    return make_repo(tmp_path, {"a.md": "hello"})


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_an_unexpected_error_exits_1_with_a_message_and_no_token(project, capsys, debug):
    arguments = ["--debug"] * debug + ["plan", "--offline", "--config", str(project)]
    with pytest.raises(SystemExit) as exited:
        main(arguments, obj=Collaborators(clock=BrokenClock()))
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected RuntimeError: clock exploded near Bearer *** and ***\n")
    assert TOKEN not in err
    assert ("Traceback (most recent call last)" in err) is debug
    assert ("run the command again with --debug" in err) is not debug


def test_a_user_mistake_is_not_reported_as_a_bug(tmp_path, capsys):
    config = make_repo(tmp_path, {"a.md": "---\nvisibility: loud\n---\nx"})
    with pytest.raises(SystemExit) as exited:
        main(["check", "--config", str(config)])
    assert exited.value.code == 2
    assert "unexpected" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("auth Bearer abc.def", {}, "auth Bearer ***"),
        (f"value {TOKEN}!", {"ANY_NAME": TOKEN}, "value ***!"),
        ("short ones stay: abc123", {"X": "abc123"}, "short ones stay: abc123"),
        ("/home/runner/work/repo/posts", {"HOME": "/home/runner/work/repo"}, "/home/runner/work/repo/posts"),
        (f"padded {TOKEN}", {"T": f"  {TOKEN}\n"}, "padded ***"),
    ],
    ids=["bearer", "env-value", "short-value", "path", "whitespace-around-value"],
)
def test_censor(text, environ, expected):
    assert censor(text, environ) == expected


def test_the_report_is_one_line_per_message_even_for_multi_line_errors():
    report = crash_report(ValueError("first line\nsecond line"), {}, debug=False)
    assert report.splitlines()[0] == "error: unexpected ValueError: first line"
    assert "second line" not in report
