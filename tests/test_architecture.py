"""The architecture stays put: the stages are packages, their imports go one way (pyproject.toml's
import-linter contracts), and no import cycle comes back."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "publisher"
# The package root holds the entry points (the cli package, app.py) and the two modules every stage shares.
ROOT_MODULES = {"__init__.py", "__main__.py", "app.py", "errors.py", "clock.py"}
STAGES = {"source", "plan", "mastodon", "apply", "output", "sandbox", "scaffold"}


# In a process of its own: import-linter configures logging (dictConfig), which would silence the loggers of
# every module already imported here for the rest of the suite.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"


def test_the_import_contracts_hold():
    run = subprocess.run([sys.executable, "-c", LINT_IMPORTS], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr  # ARCHITECTURE.md says which way imports go
    assert "BROKEN" not in run.stdout and run.stdout.count("KEPT") == 4


def test_the_package_root_lists_the_stages():
    modules = {path.name for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert modules == ROOT_MODULES
    assert packages == STAGES | {"cli"}


@pytest.mark.parametrize("package", sorted(STAGES | {"cli", "output/preview"}))
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
