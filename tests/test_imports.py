"""Fast start: each command imports only what it needs (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import copy_example_repo

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
print("\\nMODULES " + json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def run_publish(*args: str) -> tuple[str, set[str]]:
    """The output of `publish ARGS` in a new interpreter, and the top-level packages it imported."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args], capture_output=True, text=True, timeout=60
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
