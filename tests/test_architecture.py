"""The architecture stays put: the stages are packages, their imports go one way (pyproject.toml's
import-linter contracts), and no import cycle comes back."""

from __future__ import annotations

import ast

import pytest
from importlinter.cli import lint_imports

from tests.helpers import REPO

PACKAGE = REPO / "publisher"
# The package root holds the entry points and the two modules every stage shares; the rest are stages.
ROOT_MODULES = {"__init__.py", "__main__.py", "cli.py", "app.py", "errors.py", "clock.py"}
STAGES = {"source", "plan", "mastodon", "apply", "output", "sandbox", "scaffold"}


def test_the_import_contracts_hold():
    exit_code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    assert exit_code == 0, "see the broken contract above; ARCHITECTURE.md says which way imports go"


def test_the_package_root_lists_the_stages():
    modules = {path.name for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert modules == ROOT_MODULES
    assert packages == STAGES


@pytest.mark.parametrize("package", sorted(STAGES | {"output/preview"}))
def test_each_package_says_its_job_and_what_it_exports(package: str):
    docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8")))
    assert docstring, f"publisher/{package}/__init__.py needs a docstring"
    job, _, rest = docstring.partition("\n\n")
    assert 1 <= len(job.splitlines()) <= 2, "its job in two lines"
    assert "export" in rest.lower() or "export" in job.lower(), "and what it exports"


def test_every_stage_is_named_in_architecture_md():
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [stage for stage in sorted(STAGES) if f"`{stage}/`" not in text]
    assert missing == []
