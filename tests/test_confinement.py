"""Every file publish reads or writes for a repository resolves inside it; a symlink may only point inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.cli import app
from publisher.errors import InvalidInput
from publisher.plan.state import StateStore
from publisher.source.confine import Confinement, RefusedPath
from publisher.source.render_cache import folder_digest
from tests.conftest import FAKE_TOKEN
from tests.helpers import PNG_1PX, CliRunner, make_repo, write

SECRET = "OUTSIDE-SECRET-4242"
SYNC_ENV = {"PUBLISH_TEST_TOKEN": FAKE_TOKEN}
POST_WITH = "---\ntemplate: {template}\n---\nhello\n"

USES_MAIN = {"p.md": POST_WITH.format(template="main.j2")}

# (case, posts, templates, symlinks: link in the repository -> target in tmp_path, where the problem is)
ESCAPES = [
    ("template", {"p.md": POST_WITH.format(template="env.j2")}, {}, {"templates/env.j2": "outside.txt"},
     "templates/env.j2"),
    ("include", USES_MAIN, {"main.j2": "{% include 'env.j2' %}"}, {"templates/env.j2": "outside.txt"},
     "templates/env.j2"),
    ("extends", USES_MAIN, {"main.j2": "{% extends 'base.j2' %}"}, {"templates/base.j2": "outside.txt"},
     "templates/base.j2"),
    ("import", USES_MAIN, {"main.j2": "{% import 'macros.j2' as m %}{{ body }}"},
     {"templates/macros.j2": "outside.txt"}, "templates/macros.j2"),
    ("template-folder", {"p.md": POST_WITH.format(template="parts/env.j2")}, {},
     {"templates/parts": "outside"}, "templates/parts/env.j2"),
    ("post", {}, {}, {"posts/leak.md": "outside.txt"}, "posts/leak.md"),
]  # fmt: skip


def repo_with_links(tmp_path: Path, posts, templates, links, instance="https://mastodon.example") -> Path:
    """A repository in tmp_path/repo, and outside it tmp_path/outside.txt and tmp_path/outside/env.j2."""
    write(tmp_path / "outside.txt", f"{SECRET}\n")
    write(tmp_path / "outside" / "env.j2", f"{SECRET}\n")
    config = make_repo(
        tmp_path / "repo", {"ok.md": "fine\n", **posts}, templates=templates, instance=instance
    )
    for link, target in links.items():
        (tmp_path / "repo" / link).symlink_to(tmp_path / target)
    return config


@pytest.mark.parametrize(
    ("posts", "templates", "links", "shown"), [c[1:] for c in ESCAPES], ids=[c[0] for c in ESCAPES]
)
def test_a_symlink_out_of_the_repository_is_refused_and_nothing_is_sent(
    tmp_path, fake_server, posts, templates, links, shown
):
    config = repo_with_links(tmp_path, posts, templates, links, instance=fake_server.url)
    result = CliRunner(env=SYNC_ENV).invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"{shown}: points outside the repository (to {tmp_path.resolve()}/outside" in result.stderr
    assert fake_server.requests == []
    assert SECRET not in result.output
    assert not (tmp_path / "repo" / "publish.state.json").exists()


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", [["check"], ["plan", "--offline"]])
def test_the_environment_of_the_process_is_never_included(tmp_path, command):
    config = make_repo(tmp_path, USES_MAIN, templates={"main.j2": "{% include 'env.j2' %}"})
    (tmp_path / "templates" / "env.j2").symlink_to("/proc/self/environ")
    first_variable = Path("/proc/self/environ").read_bytes().split(b"\0")[0].decode()
    result = CliRunner().invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    where = "posts/p.md:2: template: templates/env.j2"
    assert (
        f"{where}: points outside the repository (to /proc/" in result.stderr
    )  # ": template: templates/env.j2: points outside the repository (to /proc/" in result.stderr
    assert first_variable not in result.output


INSIDE = [
    ("template", {"p.md": POST_WITH.format(template="alias.j2")}, {},
     {"templates/alias.j2": "shared/status.j2"}),
    ("include", USES_MAIN, {"main.j2": "{% include 'part.j2' %}"}, {"templates/part.j2": "shared/status.j2"}),
    ("template-folder", {"p.md": POST_WITH.format(template="linked/status.j2")}, {},
     {"templates/linked": "shared"}),
    ("post", {}, {}, {"posts/p.md": "shared/post.md"}),
]  # fmt: skip


@pytest.mark.parametrize(("posts", "templates", "links"), [c[1:] for c in INSIDE], ids=[c[0] for c in INSIDE])
def test_a_symlink_that_stays_inside_the_repository_works(tmp_path, fake_server, posts, templates, links):
    config = make_repo(tmp_path, posts, templates=templates, instance=fake_server.url)
    write(tmp_path / "shared" / "status.j2", "shared: {{ body }}")
    write(tmp_path / "shared" / "post.md", "---\ntemplate: alias.j2\n---\nlinked post\n")
    write(tmp_path / "templates" / "alias.j2", "alias: {{ body }}")
    for link, target in links.items():
        (tmp_path / link).unlink(missing_ok=True)
        (tmp_path / link).symlink_to(tmp_path / target)
    result = CliRunner(env=SYNC_ENV).invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    (status,) = fake_server.statuses.values()
    assert status["text"] in ("shared: hello", "alias: linked post")


MEDIA = "---\nmedia:\n  - path: {path}\n    alt: a picture\n---\nx\n"


@pytest.mark.parametrize(
    ("entry", "make", "message"),
    [
        ("loop.png", lambda posts: (posts / "loop.png").symlink_to("loop.png"), "is a symlink loop"),
        ("a.png", lambda p: (p / "a.png").symlink_to("b.png") or (p / "b.png").symlink_to("a.png"),
         "is a symlink loop"),
        ("x" * 300 + ".png", lambda posts: None, "the path is too long"),
        ("/".join(["deep"] * 1500) + "/a.png", lambda posts: None, "the path is too long"),
        ("linked/a.png", lambda posts: (posts / "linked").symlink_to("/etc"),
         "points outside the repository (to /etc/a.png)"),
    ],
    ids=["self-loop", "two-link-loop", "long-name", "long-path", "folder-outside"],
)  # fmt: skip
def test_unusable_media_paths_are_problems_not_tracebacks(tmp_path, entry, make, message):
    config = make_repo(tmp_path, {"p.md": MEDIA.format(path=entry)})
    make(tmp_path / "posts")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"posts/p.md:3: media[0].path: {message}" in result.stderr


def test_media_symlinked_inside_the_repository_is_used(tmp_path):
    config = make_repo(tmp_path, {"p.md": MEDIA.format(path="alias.png")}, files={"images/a.png": PNG_1PX})
    (tmp_path / "posts" / "alias.png").symlink_to(tmp_path / "images" / "a.png")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output


def config_with(setting: str, value: str) -> str:
    return f'[publish]\n{setting} = "{value}"\n[accounts.main]\ninstance = "https://mastodon.example"\n'


@pytest.mark.parametrize("setting", ["posts", "templates", "state"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../elsewhere", "is outside the repository"),
        ("/tmp", "is outside the repository"),
        ("posts/../../x", "is outside the repository"),
        ("linked-out", "points outside the repository"),
    ],
)
def test_a_path_setting_leading_out_of_the_repository_is_refused(tmp_path, setting, value, message):
    (tmp_path / "outside").mkdir()
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"}, config=config_with(setting, value))
    (tmp_path / "repo" / "linked-out").symlink_to(tmp_path / "outside")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"publish.toml:2: publish.{setting}: {message}" in result.stderr


def test_a_posts_folder_symlinked_inside_the_repository_is_used(tmp_path):
    config = make_repo(tmp_path, {}, config=config_with("posts", "linked"))
    write(tmp_path / "content" / "a.md", "hello")
    (tmp_path / "linked").symlink_to(tmp_path / "content")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "ok: 1 file valid (1 status)" in result.stdout


@pytest.mark.parametrize(
    ("link", "where"),
    [("publish.state.json", "publish.toml:4"), ("publish.state.json.lock", "publish.state.json.lock")],
)
def test_a_state_or_lock_file_symlinked_out_of_the_repository_is_left_untouched(
    tmp_path, fake_server, link, where
):
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"}, instance=fake_server.url)
    write(tmp_path / "precious.txt", SECRET)
    (tmp_path / "repo" / link).symlink_to(tmp_path / "precious.txt")
    result = CliRunner(env=SYNC_ENV).invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"error: {where}: publish.state: points outside the repository" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == SECRET
    assert fake_server.writes() == []


@pytest.mark.parametrize(
    ("folder", "command"), [("publish.state.json", "plan"), ("publish.state.json.lock", "sync")]
)
def test_a_state_or_lock_path_that_is_a_folder_is_exit_2(tmp_path, fake_server, folder, command):
    config = make_repo(tmp_path, {"ok.md": "fine"}, instance=fake_server.url)
    (tmp_path / folder).mkdir()
    result = CliRunner(env=SYNC_ENV).invoke(app, [command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"error: {folder}: publish.state: is a folder, not a file" in result.stderr
    assert fake_server.writes() == []


def test_a_lock_file_that_cannot_be_created_is_invalid_input(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = StateStore(tmp_path / "file" / "publish.state.json", "file/publish.state.json")
    with pytest.raises(InvalidInput) as error, store.lock(timeout=1):
        pass
    message = "file/publish.state.json.lock: publish.state: cannot create the lock file: File exists"
    assert str(error.value).startswith(message)


def test_a_cache_folder_symlinked_out_of_the_repository_is_refused(tmp_path):
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"})
    (tmp_path / "outside").mkdir()
    (tmp_path / "repo" / ".publish-cache").symlink_to(tmp_path / "outside")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "error: .publish-cache: publish.state: points outside the repository" in result.stderr
    assert list((tmp_path / "outside").iterdir()) == []


@pytest.mark.parametrize("name", ["posts.jsonl", "media.jsonl"])
def test_a_pipe_where_a_cache_file_belongs_is_ignored_not_waited_on(tmp_path, name):
    config = make_repo(tmp_path, {"ok.md": "fine"})
    (tmp_path / ".publish-cache").mkdir()
    os.mkfifo(tmp_path / ".publish-cache" / name)
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output


def test_a_pipe_as_a_template_is_not_read(tmp_path):
    config = make_repo(tmp_path, {"p.md": POST_WITH.format(template="pipe.j2")})
    os.mkfifo(tmp_path / "templates" / "pipe.j2")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "posts/p.md:2: template: template not found: pipe.j2" in result.stderr


def test_the_templates_fingerprint_reads_nothing_outside_the_repository(tmp_path):
    write(tmp_path / "outside" / "big.j2", "x")
    write(tmp_path / "repo" / "templates" / "a.j2", "a")
    write(tmp_path / "repo" / "shared" / "b.j2", "b")
    templates = tmp_path / "repo" / "templates"
    (templates / "out").symlink_to(tmp_path / "outside")
    (templates / "file-out.j2").symlink_to(tmp_path / "outside" / "big.j2")
    (templates / "in").symlink_to(tmp_path / "repo" / "shared")
    os.mkfifo(templates / "pipe.j2")
    digest = dict(folder_digest(templates, tmp_path / "repo"))
    assert sorted(digest) == ["a.j2", "file-out.j2", "in/b.j2", "pipe.j2"]
    assert digest["file-out.j2"].startswith("unusable: points outside the repository")
    assert digest["pipe.j2"] == "unusable: is not a regular file"


def test_the_sandbox_folder_symlinked_out_of_the_repository_is_refused_untouched(tmp_path):
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"})
    write(tmp_path / "outside" / "preview" / "keep.txt", SECRET)
    (tmp_path / "repo" / ".publish-sandbox").symlink_to(tmp_path / "outside")
    result = CliRunner().invoke(app, ["sync", "--sandbox", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "error: .publish-sandbox: --sandbox: points outside the repository" in result.stderr
    assert (tmp_path / "outside" / "preview" / "keep.txt").read_text() == SECRET


def test_a_preview_folder_in_the_repository_may_not_lead_out_of_it(tmp_path):
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"})
    (tmp_path / "outside").mkdir()
    (tmp_path / "repo" / "preview").symlink_to(tmp_path / "outside")
    result = CliRunner().invoke(app, ["preview", "--html", str(tmp_path / "repo/preview"), "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "--html: points outside the repository" in result.stderr
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_symlink_planted_in_the_preview_folder_is_replaced_not_written_through(tmp_path):
    config = make_repo(tmp_path / "repo", {"ok.md": "fine"})
    write(tmp_path / "precious.txt", SECRET)
    (tmp_path / "repo" / "preview").mkdir()
    (tmp_path / "repo" / "preview" / "index.html").symlink_to(tmp_path / "precious.txt")
    result = CliRunner().invoke(app, ["preview", "--html", str(tmp_path / "repo/preview"), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "precious.txt").read_text() == SECRET
    assert not (tmp_path / "repo" / "preview" / "index.html").is_symlink()


# -- the rule itself --------------------------------------------------------------------------------


def confined_repo(tmp_path: Path) -> Confinement:
    write(tmp_path / "repo" / "a.txt", "a")
    write(tmp_path / "outside.txt", "o")
    (tmp_path / "repo" / "in.txt").symlink_to(tmp_path / "repo" / "a.txt")
    (tmp_path / "repo" / "out.txt").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "repo" / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(tmp_path / "repo" / "pipe.txt")
    (tmp_path / "repo" / "folder").mkdir()
    return Confinement(tmp_path / "repo")


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("a.txt", b"a"),
        ("in.txt", b"a"),
        ("out.txt", "points outside the repository"),
        ("loop.txt", "is a symlink loop"),
        ("pipe.txt", "is not a regular file"),
        ("folder", "is not a regular file"),
        ("missing.txt", "cannot be read: No such file or directory"),
        ("x" * 300, "the path is too long"),
    ],
)
def test_reading_a_file_follows_only_symlinks_that_stay_inside(tmp_path, name, outcome):
    confinement = confined_repo(tmp_path)
    for path in (tmp_path / "repo" / name, str(tmp_path / "repo" / name)):
        assert read_outcome(confinement, path) == outcome


def read_outcome(confinement: Confinement, path) -> bytes | str:
    try:
        return confinement.read_bytes(path)
    except RefusedPath as exc:
        return str(exc).split(" (to ")[0]


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("posts", True), ("./posts/../templates", True), ("a/b/c.json", True), (".", True), ("..", False),
     ("../repo/posts", False), ("/etc", False), ("a/../../b", False), ("out.txt", False)],
)  # fmt: skip
def test_a_setting_is_a_relative_path_that_resolves_inside(tmp_path, value, allowed):
    confinement = confined_repo(tmp_path)
    try:
        assert confinement.setting(value) == tmp_path / "repo" / value
        assert allowed
    except RefusedPath:
        assert not allowed
