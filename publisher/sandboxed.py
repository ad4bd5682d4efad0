"""`publish sync --sandbox`: the whole sync against the built-in local server, never the real state."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from publisher.clock import Clock
from publisher.config import Account
from publisher.project import Project, load_project
from publisher.safety import SyncOptions
from publisher.sync import SyncEvent

SANDBOX_DIR = ".publish-sandbox"
SANDBOX_TOKEN_ENV = "PUBLISH_SANDBOX_TOKEN"
PREVIEW_DIR = f"{SANDBOX_DIR}/preview"


class SandboxClock:
    """Real time, but waits shortened: the sandbox finishes processing on the next poll anyway."""

    MAX_WAIT = 0.05

    def __init__(self, clock: Clock):
        self.clock = clock

    def now(self):
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(min(seconds, self.MAX_WAIT))


def preview_index(root: Path) -> Path:
    """Where `sync --sandbox` writes the HTML preview of what the sandbox server received."""
    return root / PREVIEW_DIR / "index.html"


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
    folder = project.config.path(SANDBOX_DIR, "--sandbox")
    folder.mkdir(exist_ok=True)
    (folder / "publish.state.json").unlink(missing_ok=True)  # a fresh server knows nothing yet
    shutil.rmtree(project.config.path(PREVIEW_DIR, "--sandbox"), ignore_errors=True)
    token = secrets.token_urlsafe(24)
    clock = SandboxClock(clock)
    with FakeMastodon(token=token, media_processing_polls=1, clock=clock) as server:  # one time for both
        sandboxed = sandbox_project(project, server.url)
        result = sync(
            config_path,
            clock=clock,
            environ={SANDBOX_TOKEN_ENV: token},
            options=options,
            on_event=on_event,
            project=sandboxed,
        )
        write_received_preview(server, sandboxed, clock)
        return result


def write_received_preview(server, project: Project, clock: Clock) -> Path:
    from publisher.output import iso
    from publisher.preview import write_sandbox_preview
    from publisher.preview_sandbox import contents_of

    contents = contents_of(server, project.state_store().load().posts)
    out_dir = preview_index(project.config.root).parent
    generated = iso(clock.now().replace(microsecond=0)) or ""
    limits, root = project.config.limits, project.config.root
    return write_sandbox_preview(contents, limits, out_dir, generated, root=root)
