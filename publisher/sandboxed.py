"""`publish sync --sandbox`: the whole sync against the built-in local server, never the real state."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from publisher.clock import Clock
from publisher.config import Account
from publisher.project import Project, load_project
from publisher.safety import SyncOptions
from publisher.sync import SyncEvent

SANDBOX_DIR = ".publish-sandbox"
SANDBOX_TOKEN_ENV = "PUBLISH_SANDBOX_TOKEN"


def sandbox_project(project: Project, server_url: str) -> Project:
    """The same posts, every account pointed at the sandbox, and a state file of its own."""
    config = project.config
    accounts = {name: Account(instance=server_url, token_env=SANDBOX_TOKEN_ENV) for name in config.accounts}
    publish = config.publish.model_copy(update={"state": f"{SANDBOX_DIR}/publish.state.json"})
    sandboxed = config.model_copy(update={"accounts": accounts, "publish": publish})
    return Project(sandboxed, project.posts, project.drafts)


def sync_sandbox(
    config_path: Path,
    *,
    clock: Clock,
    environ: Mapping[str, str],
    options: SyncOptions = SyncOptions(),
    on_event: Callable[[SyncEvent], None] = lambda event: None,
):
    from publisher.app import sync
    from publisher.sandbox import FakeMastodon

    project = load_project(config_path)
    folder = project.config.root / SANDBOX_DIR
    folder.mkdir(exist_ok=True)
    (folder / "publish.state.json").unlink(missing_ok=True)  # a fresh server knows nothing yet
    token = secrets.token_urlsafe(24)
    with FakeMastodon(token=token, media_processing_polls=1) as server:
        sandboxed = sandbox_project(project, server.url)
        return sync(
            config_path,
            clock=clock,
            environ={SANDBOX_TOKEN_ENV: token},
            options=options,
            on_event=on_event,
            project=sandboxed,
        )
