"""mastodon-publish installed the way users install it, with no network at all.

pip installs the distribution by name into a fresh venv, and pre-commit installs this repository as a hook
repository; both resolve from a wheelhouse built here (tests/wheelhouse.py) instead of an index, so what
is tested is the wheel and sdist that would be uploaded, not this checkout on sys.path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email import message_from_string
from pathlib import Path

import pytest
import yaml

import publisher
from tests.wheelhouse import Wheelhouse, build_wheelhouse, read_member

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300  # seconds for one command: a hang (say, something waiting for the network) fails, never stalls
INIT_FILES = (
    "publish.toml",
    "posts/hello-world.md",
    "templates/default.txt.j2",
    ".github/workflows/publish.yml",
    ".gitignore",
)


@dataclass(frozen=True)
class Venv:
    """A user's virtualenv with mastodon-publish installed, and the offline environment to run it in."""

    path: Path
    env: dict[str, str]

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    def publish(self, *args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return run([str(self.bin("publish")), *args], cwd=cwd, env=self.env, ok=ok)


def run(
    command: list[str], *, cwd: Path, env: dict[str, str], ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; with ok, a non-zero exit fails the test showing everything it printed."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    if ok and done.returncode:
        printed = f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        pytest.fail(f"{command} exited {done.returncode}\n{printed}")
    return done


def user_env(wheelhouse: Wheelhouse, home: Path) -> dict[str, str]:
    """The offline pip environment, with every cache and data folder (pip, virtualenv, pre-commit) in home,
    so the tests neither read nor write the real user's."""
    env = wheelhouse.pip_env()
    env.update(
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        TMPDIR=str(home / "tmp"),
    )
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """Built once per session: the build and the repacking take a few seconds."""
    scratch = tmp_path_factory.mktemp("distribution")
    return build_wheelhouse(ROOT, scratch / "wheelhouse", scratch)


@pytest.fixture(scope="session")
def user(wheelhouse: Wheelhouse, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`python -m venv` and `pip install mastodon-publish`, as the README tells users, from the wheelhouse."""
    home = tmp_path_factory.mktemp("user")
    env = user_env(wheelhouse, home)
    venv = Venv(home / "venv", env)
    run([sys.executable, "-m", "venv", str(venv.path)], cwd=home, env=env)
    offline = ["--no-index", "--find-links", str(wheelhouse.folder)]
    pip = [str(venv.bin("python")), "-m", "pip", "install", *offline]
    run([*pip, publisher.DISTRIBUTION], cwd=home, env=env)
    return venv


def test_wheel_installs_in_a_fresh_venv_and_runs(user: Venv, tmp_path: Path) -> None:
    """The installed command works on its own: version, init, plan and preview, with files from the wheel."""
    probe = "import importlib.metadata as m, publisher as p; print(p.__file__, m.version(p.DISTRIBUTION))"
    imported, version = run([str(user.bin("python")), "-c", probe], cwd=tmp_path, env=user.env).stdout.split()
    assert Path(imported).is_relative_to(user.path) and not Path(imported).is_relative_to(ROOT)
    assert version == publisher.__version__
    assert user.publish("--version", cwd=tmp_path).stdout.strip() == f"publish {publisher.__version__}"

    repo = tmp_path / "toots"
    repo.mkdir()
    user.publish("init", cwd=repo)
    for name in INIT_FILES:
        assert (repo / name).is_file(), name
    publish_hello_world(repo)

    planned = user.publish("plan", *offline_plan(user, repo), cwd=repo)
    assert "1 to create" in planned.stdout

    user.publish("preview", "--html", "out", cwd=repo)
    page = (repo / "out" / "index.html").read_text(encoding="utf-8")
    assert "Hello, fediverse!" in page
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style and "{" in style.group(1), "the preview's stylesheet (a package template) is missing"


def publish_hello_world(repo: Path) -> None:
    """Drop `draft: true` from the example post, so that plan, preview and check have a post to work on."""
    post = repo / "posts" / "hello-world.md"
    lines = post.read_text(encoding="utf-8").splitlines(keepends=True)
    post.write_text("".join(line for line in lines if not line.startswith("draft:")), encoding="utf-8")


def offline_plan(user: Venv, repo: Path) -> list[str]:
    """`plan --offline` where the command has it; otherwise the instance is moved to a closed loopback port,
    so that the plan cannot reach the network either way."""
    if "--offline" in user.publish("plan", "--help", cwd=repo).stdout:
        return ["--offline"]
    config = repo / "publish.toml"
    loopback = 'instance = "http://127.0.0.1:9"'
    text = re.sub(r'instance = "[^"]*"', loopback, config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    return []


def test_wheel_and_sdist_hold_what_the_commands_need(wheelhouse: Wheelhouse) -> None:
    """Every file of the package (templates, scaffold, preview assets) ships, and PyPI gets the right name."""
    package = package_files()
    assert {"publisher/scaffold/publish.yml", "publisher/output/preview/templates/style.css.j2"} <= package
    with zipfile.ZipFile(wheelhouse.wheel) as wheel:
        assert package - set(wheel.namelist()) == set()
    with tarfile.open(wheelhouse.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    assert (package | {"LICENSE", "README.md", "pyproject.toml"}) - in_sdist == set()

    meta = message_from_string(read_member(wheelhouse.wheel, ".dist-info/METADATA"))
    assert meta["Name"] == publisher.DISTRIBUTION
    assert "MIT" in (meta["License-Expression"], meta["License"])
    assert "publish = publisher.cli:main" in read_member(wheelhouse.wheel, ".dist-info/entry_points.txt")


def package_files() -> set[str]:
    """The files of publisher/ in this checkout, byte-code and hidden files aside."""
    names = set()
    for path in (ROOT / "publisher").rglob("*"):
        relative = path.relative_to(ROOT)
        if path.is_file() and "__pycache__" not in relative.parts and not path.name.startswith("."):
            names.add(relative.as_posix())
    return names


def test_hook_manifest_matches_the_release() -> None:
    """The hook runs `publish check` once on the files it reads, and the documented `rev:` is this release."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    (hook,) = yaml.safe_load(text)
    assert (hook["id"], hook["entry"], hook["language"]) == ("publish-check", "publish check", "python")
    assert hook["pass_filenames"] is False and hook["always_run"] is False
    watched = ("posts/hi.md", "posts/2027/a.yaml", "posts/b.yml", "posts/media/cat.jpg", "templates/x.txt.j2")
    for name in (*watched, "publish.toml"):
        assert re.search(hook["files"], name), name
    for name in ("README.md", "publish.toml.bak", "src/posts/a.md", "publish.state.json"):
        assert not re.search(hook["files"], name), name
    assert f"repo: https://github.com/{publisher.ACTION_REPOSITORY}\n" in text
    assert f"rev: v{publisher.__version__}\n" in text


def test_pre_commit_try_repo_runs_the_hook(user: Venv, wheelhouse: Wheelhouse, tmp_path: Path) -> None:
    """pre-commit installs this repository into its own virtualenv (pip, offline) and its check catches a
    broken post, naming the file."""
    require_tracked_hook_manifest()
    repo = tmp_path / "toots"
    repo.mkdir()
    user.publish("init", cwd=repo)
    publish_hello_world(repo)
    env = user_env(wheelhouse, tmp_path / "home")
    git_commit(repo, env, "posts")

    passed = try_repo(repo, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"publish check\.+Passed", passed.stdout), passed.stdout

    post = repo / "posts" / "hello-world.md"
    post.write_text(post.read_text(encoding="utf-8").replace("visibility: public", "visibility: loud"))
    git_commit(repo, env, "a visibility Mastodon does not have")
    failed = try_repo(repo, env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"publish check\.+Failed", failed.stdout), failed.stdout
    assert "posts/hello-world.md:" in failed.stdout and "visibility" in failed.stdout


def require_tracked_hook_manifest() -> None:
    """pre-commit reads the repository as git has it: an untracked .pre-commit-hooks.yaml is not there."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: pre-commit installs hooks from git repositories only")
    command = ["git", "ls-files", "--error-unmatch", ".pre-commit-hooks.yaml"]
    tracked = run(command, cwd=ROOT, env=dict(os.environ), ok=False)
    assert tracked.returncode == 0, ".pre-commit-hooks.yaml is not tracked by git: pre-commit users lack it"


def git_commit(repo: Path, env: dict[str, str], message: str) -> None:
    """Commit everything in repo as a throwaway identity (pre-commit runs only inside a git repository)."""
    if not (repo / ".git").exists():
        run(["git", "init", "-q"], cwd=repo, env=env)
        for key, value in (("user.name", "Test User"), ("user.email", "test@example.invalid")):
            run(["git", "config", key, value], cwd=repo, env=env)
        run(["git", "config", "commit.gpgsign", "false"], cwd=repo, env=env)
    run(["git", "add", "-A"], cwd=repo, env=env)
    run(["git", "commit", "-q", "-m", message], cwd=repo, env=env)


def try_repo(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this repository> publish-check --all-files`, run in the user's repository."""
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "publish-check", "--all-files"]
    return run([*command, "--color", "never"], cwd=repo, env=env, ok=False)
