"""A helper process rendering a share of the posts changes nothing but speed: the same statuses, hashes,
problems (in the same order, with the same lines) and render cache as rendering them all in this process."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from publisher.clock import SystemClock
from publisher.errors import InvalidInput
from publisher.source.config import load_config
from publisher.source.desired import DesiredBuilder
from publisher.source.helper_process import can_fork, start_helper
from publisher.source.limits import CACHE_DIR
from publisher.source.load import PostStages, render_posts
from publisher.source.media import file_digest
from publisher.source.project import load_project
from publisher.source.render_cache import MEDIA_FILE, POSTS_FILE, MediaDigests, RenderCache, run_fingerprint
from tests.helpers import PNG_1PX, make_repo
from tests.test_plan_cache import REPOS

needs_fork = pytest.mark.skipif(not can_fork(), reason="no helper process here: one core, or not Linux")

BROKEN_POSTS = {
    "a.md": "---\nid: same\n---\nFirst.",
    "b.md": "---\ntags: [fine]\n---\n*Fine* with https://example.org/b.",
    "c.md": "---\nvisibility: everyone\n---\nBad visibility.",
    "d.md": "---\nmedia:\n  - path: media/missing.png\n    alt: Gone.\n---\nNo file.",
    "e.md": "---\nid: same\n---\nDuplicate id.",
    "f.md": "---\ntemplate: nowhere.txt.j2\n---\nNo template.",
    "g.md": "---\ndraft: true\n---\nA draft.",
    "h.md": "---\nmedia:\n  - path: media/cat.png\n---\nNo alt text.",
    "i.md": "---\nbroken: [\n---\nNot YAML.",
    "j.md": "- a list\n- **bold**\n\nand a [link](https://example.org/j).",
}


def broken_repo(root: Path) -> Path:
    return make_repo(root, BROKEN_POSTS, files={"posts/media/cat.png": PNG_1PX})


def outcome(config: Path, **options) -> tuple:
    """The statuses with their hashes, or the problems; and the render cache written."""
    shutil.rmtree(config.parent / CACHE_DIR, ignore_errors=True)
    try:
        result = [(post.model_dump(), post.content_hash) for post in load_project(config, **options).posts]
    except InvalidInput as exc:
        result = [str(problem) for problem in exc.problems]
    return result, (config.parent / CACHE_DIR / POSTS_FILE).read_bytes()


@needs_fork
@pytest.mark.parametrize("make", [*REPOS.values(), broken_repo], ids=[*REPOS.keys(), "broken"])
def test_a_helper_process_changes_nothing_but_speed(tmp_path, make):
    config = make(tmp_path)
    assert outcome(config, helper_min_posts=1) == outcome(config)


@needs_fork
def test_the_helper_renders_the_last_share_and_this_process_recalls_it(tmp_path):
    config = load_config(broken_repo(tmp_path))
    posts_dir = config.root / "posts"

    def read(helper_min_posts: int) -> tuple[list, list, RenderCache]:
        cache = RenderCache.for_config(config)
        problems = []
        stages = PostStages(config, posts_dir, DesiredBuilder(config, digest=cache.digests.digest))
        read = render_posts(stages, cache, problems, helper_min_posts=helper_min_posts)
        drafts = [(each.post.id, each.draft and each.draft.status.content_hash) for each in read]
        return drafts, problems, cache

    alone, alone_problems, cache = read(helper_min_posts=len(BROKEN_POSTS) + 1)
    assert cache.adopted() == frozenset()
    helped, helped_problems, cache = read(helper_min_posts=1)
    assert helped == alone
    assert helped_problems == alone_problems
    assert cache.adopted() == {"posts/g.md", "posts/j.md"}  # the others of the last half have problems


@needs_fork
def test_a_helper_hands_back_what_its_work_returns():
    with start_helper(lambda: b"x" * 300_000) as helper:
        assert helper.result() == b"x" * 300_000


@needs_fork
def test_a_failed_helper_gives_nothing_and_is_reaped():
    def fail() -> bytes:
        raise RuntimeError("boom")

    with start_helper(fail) as helper:
        assert helper.result() is None


@needs_fork
def test_a_helper_whose_result_is_never_asked_for_is_ended():
    with start_helper(lambda: b"never read" * 100_000) as helper:
        pid = helper._pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_no_helper_is_forked_while_other_threads_run():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_helper(lambda: b"") is None
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("count", [0, 1, 499, 500, 501, 1201])
def test_a_cache_file_written_a_slice_at_a_time_is_the_one_written_at_once(count):
    from publisher.source.render_cache import MediaStamp, _json_object, _stamps_adapter

    adapter = _stamps_adapter()
    entries = {
        f"media/{n}.png": MediaStamp(size=n, mtime_ns=n * 7, inode=n, sha256=f"{n:064x}", head="89504e47")
        for n in range(count)
    }
    assert b"".join(_json_object(adapter, entries)) == adapter.dump_json(entries, exclude_defaults=True)


@needs_fork
def test_media_the_helper_hashed_are_not_hashed_again_here(tmp_path):
    posts = {
        f"p{n}.md": f"---\nmedia:\n  - {{path: media/{n}.png, alt: Picture {n}}}\n---\nPost {n}."
        for n in range(8)
    }
    files = {f"posts/media/{n}.png": PNG_1PX + bytes([n]) for n in range(8)}
    config = load_config(make_repo(tmp_path, posts, files=files))
    an_hour_ago = time.time() - 3600  # older than RACY_SECONDS: digests of these files are remembered
    for name in files:
        os.utime(config.root / name, (an_hour_ago, an_hour_ago))
    hashed_here: list[str] = []

    def hash_here(path: Path) -> tuple[str, int, bytes]:
        hashed_here.append(path.name)  # in the helper, this list is the forked copy's
        return file_digest(path)

    folder = config.root / CACHE_DIR
    digests = MediaDigests(folder / MEDIA_FILE, SystemClock(), hash_file=hash_here)
    cache = RenderCache(folder, run_fingerprint(config), digests)
    stages = PostStages(config, config.root / "posts", DesiredBuilder(config, digest=digests.digest))
    problems: list = []
    rendered = render_posts(stages, cache, problems, helper_min_posts=1)

    assert problems == [] and len(rendered) == 8
    assert cache.adopted() == {f"posts/p{n}.md" for n in range(4, 8)}  # the helper rendered the last half
    assert sorted(hashed_here) == [f"{n}.png" for n in range(4)]  # this process: only its own half
