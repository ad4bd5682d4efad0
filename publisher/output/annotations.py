"""GitHub Actions workflow commands (`::error file=…,line=…::…`), so problems show on a pull request's diff.

GitHub reads them from a step's output, stdout and stderr alike; `publish` writes them to stderr, where they
never mix with a plan or a JSON document on stdout.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from publisher.errors import Problem


def in_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def workflow_commands(
    kind: str, problems: Iterable[Problem], root: Path, environ: Mapping[str, str]
) -> list[str]:
    """Each problem as a workflow command in a GitHub Actions job; nothing elsewhere."""
    return [annotation(kind, problem, root) for problem in problems] if in_github_actions(environ) else []


def annotation(kind: str, problem: Problem, root: Path) -> str:
    """`::error …::` (or `::warning`) for one problem; paths are made relative to the working directory,
    which is the repository's root in a workflow, whatever folder publish.toml is in."""
    properties = {"file": _relative(root / problem.path)}
    if problem.line:
        properties["line"] = str(problem.line)
    properties["title"] = f"publish: {problem.field}" if problem.field else "publish"
    text = f"{problem.field}: {problem.message}" if problem.field else problem.message
    if problem.hint:
        text += f" (hint: {problem.hint})"
    listed = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    return f"::{kind} {listed}::{_escape_data(text)}"


def _relative(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
