"""Run the `run:` steps of action.yml on this machine the way a GitHub runner does, with fakes at the edges.

A runner writes each script to a file and runs `bash --noprofile --norc -eo pipefail FILE` in the workspace,
with the step's `env:` (its `${{ }}` expressions evaluated) on top of GITHUB_* variables, and reads
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY afterwards. So does StepRunner. The `publish` it finds is the real one
of this virtualenv; `gh`, `python` and `pip` can be replaced by recording fakes (FAKE_GH below, `fake_tool`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
VENV_BIN = Path(sys.executable).parent  # the real `publish`, `python` with publisher installed
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Variables that libfaketime needs in every child: `.ci/run` runs the suite again a year ahead.
INHERITED = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "FAKETIME_NO_CACHE", "TZ")


def load_yaml(path: Path) -> dict:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the bare key `on` as the boolean True; GitHub reads "on"
        document["on"] = document.pop(True)
    return document


def action_step(key: str) -> dict:
    """A step of action.yml by its id, else by its name."""
    steps = load_yaml(ACTION)["runs"]["steps"]
    return next(step for step in steps if key in (step.get("id"), step.get("name")))


def run_steps(document: dict) -> list[dict]:
    """Every step with a `run:` script, of an action's `runs:` or of a workflow's jobs."""
    if "runs" in document:
        return [step for step in document["runs"]["steps"] if "run" in step]
    jobs = document.get("jobs", {}).values()
    return [step for job in jobs for step in job.get("steps", []) if "run" in step]


def input_defaults() -> dict[str, str]:
    """`inputs.<name>` as the runner gives them when the caller sets nothing."""
    inputs = load_yaml(ACTION)["inputs"]
    return {f"inputs.{name}": str(spec.get("default", "")) for name, spec in inputs.items()}


def evaluate(text: str, context: dict[str, str]) -> str:
    """Replace each `${{ name }}` by context[name]; an expression the test did not give fails loudly."""

    def value(match: re.Match) -> str:
        if match.group(1) not in context:
            raise KeyError(f"the test gives no value for ${{{{ {match.group(1)} }}}}")
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


@dataclass(frozen=True)
class StepResult:
    returncode: int
    log: str  # stdout and stderr as the job log shows them
    outputs: dict[str, str]
    summary: str


@dataclass
class StepRunner:
    """One job's runner: its workspace, temp folder, GITHUB_* variables and the expressions' values."""

    FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")

    root: Path
    context: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    fakes: Path = field(init=False)
    workspace: Path = field(init=False)

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.fakes = self.root / "fake-bin"
        for folder in (self.workspace, self.fakes, self.root / "home", self.root / "runner-temp"):
            folder.mkdir(parents=True, exist_ok=True)
        self.context = {
            **input_defaults(),
            "github.token": "ghs_job_token",
            "github.action_path": str(REPO),
            **self.context,
        }
        self.context["inputs.github-token"] = evaluate(self.context["inputs.github-token"], self.context)

    def base_env(self, files: dict[str, Path]) -> dict[str, str]:
        path = os.pathsep.join(map(str, (self.fakes, VENV_BIN, "/usr/local/bin", "/usr/bin", "/bin")))
        inherited = {name: os.environ[name] for name in INHERITED if name in os.environ}
        return {
            **inherited,
            "PATH": path,
            "HOME": str(self.root / "home"),  # an empty global git config
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": "octo/blog",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "RUNNER_TEMP": str(self.root / "runner-temp"),
            "GIT_CONFIG_NOSYSTEM": "1",
            **{name: str(path) for name, path in files.items()},
        }

    def run(self, step: dict) -> StepResult:
        """The step's script, as `bash --noprofile --norc -eo pipefail` runs it on a runner."""
        assert step.get("shell") == "bash", "a composite step needs `shell: bash`"
        files = {name: self.root / f"{name.lower()}.txt" for name in self.FILES}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        script = self.root / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        step_env = {name: evaluate(str(value), self.context) for name, value in step.get("env", {}).items()}
        process = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env={**self.base_env(files), **self.env, **step_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
        summary = files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        return StepResult(process.returncode, process.stdout, outputs, summary)

    def fake_tool(self, name: str, source: str) -> Path:
        """An executable `name` first on PATH, running `source` with this Python instead of the real tool."""
        path = self.fakes / name
        path.write_text(f"#!{sys.executable}\n{source}", encoding="utf-8")
        path.chmod(0o755)
        return path


# Records each call (the arguments, GH_TOKEN and any `-F body=@file`) to $FAKE_GH_LOG as a JSON line.
# Answers the listing of a pull request's comments from $FAKE_GH_COMMENTS with the ids that the --jq
# filter `.[] | select(.body | startswith("…")) | .id` selects. FAKE_GH_DENY=1: a write fails as with a
# fork's read-only token.
FAKE_GH = r"""
import json, os, re, sys
arguments = sys.argv[1:]
record = {"args": arguments, "token": os.environ.get("GH_TOKEN")}
for position, argument in enumerate(arguments):
    if argument == "-F" and arguments[position + 1].startswith("body=@"):
        with open(arguments[position + 1][len("body=@"):], encoding="utf-8") as handle:
            record["body"] = handle.read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\n")
method = arguments[arguments.index("--method") + 1] if "--method" in arguments else "GET"
if method == "GET":
    query = arguments[arguments.index("--jq") + 1]
    wanted = re.fullmatch(r'\.\[\] \| select\(\.body \| startswith\("(.*)"\)\) \| \.id', query)
    if not wanted:
        sys.exit(f"fake gh: no answer for --jq {query!r}")
    with open(os.environ["FAKE_GH_COMMENTS"], encoding="utf-8") as handle:
        comments = json.load(handle)
    for comment in comments:
        if comment["body"].startswith(wanted.group(1)):
            print(comment["id"])
elif os.environ.get("FAKE_GH_DENY") == "1":
    sys.exit("gh: Resource not accessible by integration (HTTP 403)")
else:
    print("https://github.com/octo/blog/pull/7#issuecomment-42")
"""

# Records its arguments as a JSON line to $FAKE_INSTALL_LOG and succeeds, as `pip install` would offline.
FAKE_INSTALLER = r"""
import json, os, sys
with open(os.environ["FAKE_INSTALL_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\n")
"""


def json_lines(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
