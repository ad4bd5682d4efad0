"""Fast start: each command imports only what it needs (checked in a fresh interpreter)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from publisher.cli import main
from publisher.clock import FakeClock
from tests.conftest import FAKE_TOKEN
from tests.helpers import copy_example_repo, make_repo

NETWORK_STACK = {"requests", "urllib3", "tenacity"}
RENDERING = {"jinja2", "markdown_it", "yaml", "rich"}

RUN_AND_LIST_MODULES = """
import json, sys
from publisher.cli import main
sys.argv = ["publish", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""
# What a sync prints when it has nothing to do needs neither the sync's machinery nor the other renderers.
SYNC_MACHINERY = {
    "publisher.apply.sync",
    "publisher.mastodon.uploads",
    "publisher.plan.pacing",
    "publisher.apply.adopt",
}
OTHER_RENDERERS = {"publisher.output.document", "publisher.output.markdown"}


def run_publish(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """The output of `publish ARGS` in a new interpreter, and the modules it imported (packages and all)."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    output, _, modules = result.stdout.rpartition("\nMODULES ")
    return output, set(json.loads(modules))


def test_importing_the_cli_loads_neither_network_nor_rendering_libraries():
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys, publisher.cli; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {name.split(".")[0] for name in json.loads(result.stdout)}

    assert "publisher" in modules
    assert not modules & (NETWORK_STACK | RENDERING)


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"], ["--version"]])
def test_help_loads_neither_network_nor_rendering_libraries(args):
    output, modules = run_publish(*args)

    assert output.startswith(("Usage: publish", "publish "))
    assert not modules & (NETWORK_STACK | RENDERING)


def test_check_renders_posts_without_the_network_stack(tmp_path):
    config = copy_example_repo(tmp_path)

    output, modules = run_publish("check", "--config", str(config))

    assert output.startswith("ok: ")
    assert {"jinja2", "markdown_it", "yaml"} <= modules  # it did render and validate the posts
    assert not modules & (NETWORK_STACK | {"rich"})


def test_a_sync_with_nothing_to_do_loads_no_renderer_and_none_of_the_sync_machinery(tmp_path, fake_server):
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    env = {**os.environ, "PUBLISH_TEST_TOKEN": FAKE_TOKEN, "NO_PROXY": "127.0.0.1"}

    output, modules = run_publish("sync", "--config", str(config), env=env)

    assert output.startswith("Nothing to do: ")
    assert not modules & (RENDERING | SYNC_MACHINERY | OTHER_RENDERERS)


def test_the_collector_pauses_for_start_up_only(tmp_path, fake_server, monkeypatch):
    monkeypatch.setenv("PUBLISH_TEST_TOKEN", FAKE_TOKEN)
    config = make_repo(tmp_path, {}, instance=fake_server.url)
    collecting: list[bool] = []

    class Watching(FakeClock):
        def now(self):
            collecting.append(gc.isenabled())
            return super().now()

    class Collaborator:  # what `obj` may be: sync asks it for its clock once the command line is read
        @property
        def clock(self):
            collecting.append(gc.isenabled())
            return Watching()

    with pytest.raises(SystemExit) as exited:
        main(["sync", "--config", str(config)], obj=Collaborator())

    assert exited.value.code == 0
    assert collecting[:2] == [False, True]  # paused while parsing and importing; running once the work began
    assert gc.isenabled()
