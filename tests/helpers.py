"""Small builders for test repositories (plain functions, no fixtures, no globals)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

from typer.testing import CliRunner as TyperRunner

from publisher.cli import Collaborators
from publisher.clock import Clock, FakeClock
from publisher.mastodon.instance import InstanceFetch, public_fetch
from publisher.source.config import Account, is_loopback

REPO = Path(__file__).resolve().parent.parent
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f8b0b40000000049454e44ae426082"
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64

CONFIG = """\
[publish]
posts = "posts"
templates = "templates"
state = "publish.state.json"
require_alt_text = true
schedule = "{schedule}"

[defaults]
visibility = "public"
language = "en"

[accounts.main]
instance = "{instance}"
token_env = "PUBLISH_TEST_TOKEN"
"""


def make_repo(
    root: Path,
    posts: dict[str, str],
    *,
    files: dict[str, bytes] | None = None,
    config: str | None = None,
    instance: str = "https://mastodon.example",
    schedule: str = "native",
    templates: dict[str, str] | None = None,
) -> Path:
    """Write publish.toml, posts and media under root; return the config path."""
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / "publish.toml"
    config_path.write_text(
        config if config is not None else CONFIG.format(instance=instance, schedule=schedule)
    )
    (root / "posts").mkdir(exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    for name, text in posts.items():
        write(root / "posts" / name, textwrap.dedent(text).lstrip("\n"))
    for name, data in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for name, text in (templates or {}).items():
        write(root / "templates" / name, text)
    return config_path


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def copy_example_repo(destination: Path) -> Path:
    """The bundled examples (publish.toml, posts/, templates/) copied into destination."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "publish.toml", destination / "publish.toml")
    shutil.copytree(REPO / "posts", destination / "posts")
    shutil.copytree(REPO / "templates", destination / "templates")
    return destination / "publish.toml"


class CliRunner(TyperRunner):
    """typer's runner, with the commands on a fixed clock (FakeClock's start) unless the test gives one.

    No test may depend on the day it runs: `.ci/run` runs the suite again with the clock a year ahead.
    """

    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock or FakeClock()

    def invoke(self, app, args=None, **extra):
        fetch = loopback_only(public_fetch(self.clock, quick=True))
        extra.setdefault("obj", Collaborators(clock=self.clock, instance_fetch=fetch))
        return super().invoke(app, args, **extra)


def loopback_only(fetch: InstanceFetch) -> InstanceFetch:
    """A plan's limits fetch that fails the test instead of reaching for a server off this machine."""

    def guarded(name: str, account: Account):
        host = urlsplit(account.instance).hostname or ""
        assert is_loopback(host), f"a test's plan tried to ask {account.instance} for its limits"
        return fetch(name, account)

    return guarded
