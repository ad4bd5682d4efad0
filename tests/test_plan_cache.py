"""The render cache (`.publish-cache/`) never serves stale data: a plan is the same with it, without it,
and after any input changed; it only saves time."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from publisher import app as library
from publisher.clock import FakeClock
from publisher.errors import InvalidInput
from publisher.output import plan_json, plan_markdown, plan_text
from publisher.source.config import Limits, load_config
from publisher.source.desired import DesiredBuilder
from publisher.source.limits import CACHE_DIR
from publisher.source.media import MediaFileError, MediaPaths, resolve_media_path
from publisher.source.models import DesiredStatus
from publisher.source.posts import PostFile, discover, parse_post, post_files, read_bytes
from publisher.source.project import load_project
from publisher.source.render_cache import (
    MEDIA_FILE,
    POSTS_FILE,
    MediaDigests,
    RenderCache,
    run_fingerprint,
    software_fingerprint,
)
from publisher.source.split import split_status
from tests.helpers import CONFIG, JPEG_HEAD, PNG_1PX, copy_example_repo, make_repo, write
from tests.plan_fixture import NOW, every_kind_repo

LONG_AGO = 1_600_000_000  # media mtimes well in the past, so their digests are remembered
TEMPLATES = {
    "default.txt.j2": '{{ body }}{% include "footer.txt.j2" %}\n{%- if tags and part == 1 %}\n\n'
    '{{ tags | map("hashtag") | join(" ") }}{% endif %}',
    "footer.txt.j2": "{% if vars.mood is defined %}\n\n(mood: {{ vars.mood }}){% endif %}",
    "signed.txt.j2": "{{ body }}\n-- {{ params.signature }}",
    "other.txt.j2": "{{ body }} (other)",
}
POSTS = {
    "plain.md": "Just text with a link https://example.org/a?b=1 and @friend@example.social.",
    "extra-key.md": "---\nvars: {mood: sunny}\ntags: [weather]\n---\n*Warm* today.",
    "signed.md": "---\ntemplate: signed.txt.j2\nparams: {signature: Ann}\nlanguage: de\n---\nGuten Tag.",
    "photo.md": """
        ---
        spoiler: "Cat photos"
        media:
          - path: media/cat.png
            alt: "A cat."
            focus: [0.25, -0.5]
          - path: ../shared/sun.jpg
            alt: "The sun."
        ---
        Two pictures.
        """,
    "thread.md": "First part.\n\n+++\n\nSecond part, with https://example.org/x.\n",
    "long.md": "---\nsplit: true\n---\n" + "A sentence that goes on. " * 40,
    "reply.md": "---\nreply_to: plain\npublish_at: 2027-01-01T10:00:00+01:00\n---\nA scheduled reply.",
    "poll.yaml": "body: Tea or coffee?\npoll:\n  options: [Tea, Coffee]\n  expires_in: 3600\n",
    "sub/crlf.md": "---\r\ntags: [windows]\r\n---\r\nLines end\r\nwith CR LF.\r\n",
    "draft.md": "---\ndraft: true\n---\nNot yet.",
}
MEDIA = {"posts/media/cat.png": PNG_1PX + b"cat", "shared/sun.jpg": JPEG_HEAD + b"sun"}


def generated_repo(root: Path) -> Path:
    """Every feature that renders or checks a post: templates with includes and extra keys, media with focus,
    a thread, a split post, a scheduled reply, a poll, a YAML post, CR LF line ends and a draft."""
    config = make_repo(root, POSTS, files=MEDIA, templates=TEMPLATES)
    for name in MEDIA:
        os.utime(root / name, (LONG_AGO, LONG_AGO))
    return config


REPOS: dict[str, Callable[[Path], Path]] = {
    "examples": copy_example_repo,
    "every kind of change": every_kind_repo,
    "generated": generated_repo,
}


def cache_folder(config: Path) -> Path:
    return config.parent / CACHE_DIR


def outputs(config: Path) -> tuple[str, ...]:
    result = library.make_plan(config, clock=FakeClock(NOW))
    limits = result.project.config.limits
    plan = result.plan
    return plan_text(plan, limits, colour=False), plan_json(plan, limits), plan_markdown(plan, limits)


def statuses(config: Path) -> list[tuple[dict, str]]:
    return [(post.model_dump(), post.content_hash) for post in load_project(config).posts]


def fresh_statuses(config: Path) -> list[tuple[dict, str]]:
    """What a run without any cache makes."""
    shutil.rmtree(cache_folder(config), ignore_errors=True)
    return statuses(config)


@pytest.mark.parametrize("make", REPOS.values(), ids=REPOS.keys())
def test_the_plan_is_byte_identical_with_and_without_the_cache(tmp_path, make):
    config = make(tmp_path)
    shutil.rmtree(cache_folder(config), ignore_errors=True)
    cold = outputs(config)
    assert (cache_folder(config) / POSTS_FILE).is_file()
    assert outputs(config) == cold
    shutil.rmtree(cache_folder(config))
    assert outputs(config) == cold


@pytest.mark.parametrize("make", REPOS.values(), ids=REPOS.keys())
def test_every_valid_post_is_recalled_on_the_next_run_as_it_was_made(tmp_path, make):
    config_path = make(tmp_path)
    made = {post.source: post for post in load_project(config_path).posts}
    made = {
        source: post
        for source, post in made.items()
        if post.post_id + "#2" not in {p.post_id for p in made.values()}
    }
    config = load_config(config_path)
    cache = RenderCache.for_config(config)
    builder = DesiredBuilder(config, digest=cache.digests.digest)
    posts_dir = config.path(config.publish.posts)
    for file in discover(posts_dir):
        source = file.relative_to(config.root).as_posix()
        recalled = cache.lookup(PostFile(source, file, file.read_bytes()), builder)
        assert recalled is not None, source
        if (
            recalled.draft is not None
            and not recalled.draft.more_texts
            and len(recalled.draft.status.text) < 500
        ):
            status = recalled.draft.status
            assert status == made[source]
            assert status.content_hash == DesiredStatus.model_validate(status.model_dump()).content_hash
            assert status.content_hash == made[source].content_hash


def edit_post(root: Path) -> None:
    write(root / "posts" / "extra-key.md", "---\nvars: {mood: sunny}\ntags: [weather]\n---\n*Hot* today.")


def touch_post_only(root: Path) -> None:
    os.utime(root / "posts" / "plain.md", (LONG_AGO, LONG_AGO))


def edit_included_template(root: Path) -> None:
    write(root / "templates" / "footer.txt.j2", "{% if vars.mood is defined %}\n\n[{{ vars.mood }}]{% endif %}")


def add_template_that_shadows_the_builtin(root: Path) -> None:
    write(root / "templates" / "signed.txt.j2", "{{ body }}\n~ {{ params.signature }}")


def same_size_media(root: Path) -> None:
    path = root / "posts" / "media" / "cat.png"
    path.write_bytes(PNG_1PX + b"dog")
    os.utime(path, (LONG_AGO + 1, LONG_AGO + 1))


def relink_media(root: Path) -> None:
    """Another file with the same bytes and mtime: only the path the status records differs."""
    shutil.copy2(root / "shared" / "sun.jpg", root / "shared" / "moon.jpg")
    (root / "posts" / "media" / "sky.jpg").symlink_to(root / "shared" / "sun.jpg")
    write(
        root / "posts" / "photo.md",
        (root / "posts" / "photo.md").read_text().replace("../shared/sun", "media/sky"),
    )
    load_project(root / "publish.toml")
    (root / "posts" / "media" / "sky.jpg").unlink()
    (root / "posts" / "media" / "sky.jpg").symlink_to(root / "shared" / "moon.jpg")


def change_defaults(root: Path) -> None:
    config = root / "publish.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "fr"\nsensitive = true'))


def add_first_account(root: Path) -> None:
    config = root / "publish.toml"
    config.write_text(
        config.read_text().replace(
            "[accounts.main]", '[accounts.zero]\ninstance = "https://z.example"\n\n[accounts.main]'
        )
    )


def publish_template_setting(root: Path) -> None:
    config = root / "publish.toml"
    config.write_text(config.read_text().replace("[publish]\n", '[publish]\ntemplate = "other.txt.j2"\n'))


def undraft(root: Path) -> None:
    write(root / "posts" / "draft.md", "Now it is out.")


EDITS = {
    "post edited": edit_post,
    "post touched, bytes the same": touch_post_only,
    "included template edited": edit_included_template,
    "template edited": add_template_that_shadows_the_builtin,
    "media: same size, other bytes, other mtime": same_size_media,
    "media symlink pointed elsewhere": relink_media,
    "publish.toml [defaults]": change_defaults,
    "publish.toml accounts: another default account": add_first_account,
    "publish.toml [publish] template": publish_template_setting,
    "draft published": undraft,
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_any_changed_input_is_rendered_again(tmp_path, edit):
    config = generated_repo(tmp_path)
    before = statuses(config)
    edit(tmp_path)
    after = statuses(config)
    assert after == fresh_statuses(config)
    assert (after != before) == (edit is not touch_post_only)


def test_another_publish_version_or_fingerprint_recalls_nothing(tmp_path):
    config_path = generated_repo(tmp_path)
    load_project(config_path)
    config = load_config(config_path)
    assert software_fingerprint("0.1.0") != software_fingerprint("0.2.0")
    file = config.path("posts/plain.md")
    for software, recalled in ((None, True), (software_fingerprint("99.0"), False)):
        fingerprint = run_fingerprint(config, software)
        digests = MediaDigests(cache_folder(config_path) / MEDIA_FILE, FakeClock())
        cache = RenderCache(cache_folder(config_path), fingerprint, digests)
        result = cache.lookup(
            PostFile("posts/plain.md", file, file.read_bytes()), DesiredBuilder(config, digest=digests.digest)
        )
        assert (result is not None) == recalled


CORRUPTIONS = {
    "not JSON": b"\x00\xff garbage",
    "empty": b"",
    "header only": b'{"schema": 1, "fingerprint": "x"}',
    "truncated": None,  # the real file cut in half
    "entries of the wrong shape": None,  # the real header, then entries that do not validate
}


@pytest.mark.parametrize("name", CORRUPTIONS)
@pytest.mark.parametrize("file", [POSTS_FILE, MEDIA_FILE])
def test_a_corrupt_cache_file_is_ignored_and_written_anew(tmp_path, name, file):
    config = generated_repo(tmp_path)
    expected = statuses(config)
    path = cache_folder(config) / file
    real = path.read_bytes()
    header = real.partition(b"\n")[0] + b"\n"
    corrupt = {
        "truncated": real[: len(real) // 2],
        "entries of the wrong shape": header + b'{"posts/plain.md": [1]}',
    }
    data = CORRUPTIONS[name] if CORRUPTIONS[name] is not None else corrupt[name]
    path.write_bytes(data)
    assert statuses(config) == expected
    assert path.read_bytes() != data
    assert statuses(config) == expected


def test_a_cache_folder_that_cannot_be_used_only_costs_time(tmp_path):
    config = generated_repo(tmp_path)
    expected = fresh_statuses(config)
    shutil.rmtree(cache_folder(config))
    cache_folder(config).write_text("a file where the folder should be")
    assert statuses(config) == expected


def test_a_run_that_changes_nothing_does_not_rewrite_the_cache(tmp_path):
    config = generated_repo(tmp_path)
    load_project(config)
    before = {name: os.stat(cache_folder(config) / name).st_ino for name in (POSTS_FILE, MEDIA_FILE)}
    load_project(config)
    assert {name: os.stat(cache_folder(config) / name).st_ino for name in (POSTS_FILE, MEDIA_FILE)} == before


def test_the_cache_forgets_posts_and_media_files_no_longer_used(tmp_path):
    config = generated_repo(tmp_path)
    load_project(config)
    assert b"cat.png" in (cache_folder(config) / MEDIA_FILE).read_bytes()
    (tmp_path / "posts" / "photo.md").unlink()
    load_project(config)
    assert b"posts/photo.md" not in (cache_folder(config) / POSTS_FILE).read_bytes()
    assert b"cat.png" not in (cache_folder(config) / MEDIA_FILE).read_bytes()
    assert b"posts/plain.md" in (cache_folder(config) / POSTS_FILE).read_bytes()


def test_a_post_with_problems_is_not_kept_and_a_recalled_one_is_checked_again(tmp_path):
    config = generated_repo(tmp_path)
    load_project(config)
    cat = tmp_path / "posts" / "media" / "cat.png"
    cat.unlink()
    with pytest.raises(InvalidInput) as warm:
        load_project(config)
    with pytest.raises(InvalidInput) as cold:
        fresh_statuses(config)
    assert warm.value.problems == cold.value.problems
    assert [str(p) for p in warm.value.problems] == [
        "posts/photo.md:4: media[0].path: file not found: media/cat.png "
        "(hint: check the path, relative to the post file)"
    ]
    cat.write_bytes(PNG_1PX + b"new cat")
    assert statuses(config) == fresh_statuses(config)


def test_problems_between_posts_are_reported_the_same_for_recalled_posts(tmp_path):
    posts = {
        "a.md": "---\npublish_at: 2027-01-01T10:00:00+01:00\n---\nA",
        "b.md": "---\nreply_to: a\npublish_at: 2026-12-31T09:00:00Z\n---\nB",
        "c.md": "---\ntags: [x]\nid: b\n---\nC",
    }
    config = make_repo(tmp_path, posts)
    with pytest.raises(InvalidInput) as cold:
        load_project(config)
    assert (cache_folder(config) / POSTS_FILE).read_bytes().count(b'"sha256"') == 3
    with pytest.raises(InvalidInput) as warm:
        load_project(config)
    assert [str(problem) for problem in warm.value.problems] == [
        str(problem) for problem in cold.value.problems
    ]
    assert "published later (2027-01-01T10:00:00+01:00)" in str(warm.value)


@pytest.mark.parametrize(
    "limits",
    [
        "max_characters = 40",
        "characters_reserved_per_url = 480",
        "max_media_attachments = 1",
        "poll_max_options = 2\npoll_min_expiration = 7200",
    ],
)
def test_the_servers_limits_are_applied_to_recalled_posts_on_every_run(tmp_path, limits):
    config = generated_repo(tmp_path)
    load_project(config)
    config.write_text(config.read_text() + f"\n[limits]\n{limits}\n")
    with pytest.raises(InvalidInput) as warm:
        load_project(config)
    with pytest.raises(InvalidInput) as cold:
        fresh_statuses(config)
    assert warm.value.problems == cold.value.problems


def test_a_count_kept_for_one_url_length_is_not_used_for_another(tmp_path):
    post = "---\nsplit: true\n---\nSee https://example.org/" + "x" * 300 + " " + "word " * 80
    config = make_repo(tmp_path, {"a.md": post})
    short_urls = [status.text for status in load_project(config).posts]
    config.write_text(config.read_text() + "\n[limits]\ncharacters_reserved_per_url = 200\n")
    long_urls = [status.text for status in load_project(config).posts]
    assert long_urls == [status["text"] for status, _ in fresh_statuses(config)]
    assert len(long_urls) > len(short_urls)


# -- the pieces the cache relies on ---------------------------------------------------------------------


def test_media_digests_are_remembered_by_size_mtime_and_inode(tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(PNG_1PX + b"cat")
    os.utime(path, ns=(LONG_AGO * 10**9, LONG_AGO * 10**9))
    digests = MediaDigests(tmp_path / MEDIA_FILE, FakeClock())
    first = digests.digest(path)
    digests.save()
    path.write_bytes(PNG_1PX + b"dog")  # same size; mtime set back below: a change the stamp cannot see
    os.utime(path, ns=(LONG_AGO * 10**9, LONG_AGO * 10**9))
    assert MediaDigests(tmp_path / MEDIA_FILE, FakeClock()).digest(path) == first
    os.utime(path, ns=(LONG_AGO * 10**9, LONG_AGO * 10**9 + 1))
    second = MediaDigests(tmp_path / MEDIA_FILE, FakeClock()).digest(path)
    assert second[0] != first[0] and second[1:] == first[1:]


def test_a_media_file_changed_just_before_hashing_is_hashed_again_next_time(tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(PNG_1PX + b"cat")
    modified = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    digests = MediaDigests(tmp_path / MEDIA_FILE, FakeClock(modified + timedelta(seconds=1)))
    digests.digest(path)
    digests.save()
    assert not (tmp_path / MEDIA_FILE).exists()
    later = MediaDigests(tmp_path / MEDIA_FILE, FakeClock(modified + timedelta(seconds=3)))
    later.digest(path)
    later.save()
    assert (tmp_path / MEDIA_FILE).exists()


def test_discovery_keeps_the_order_and_the_ignore_rules_of_rglob(tmp_path):
    posts = tmp_path / "posts"
    names = ["a-c.md", "a/b.md", "a/B.yml", "b.yaml", "b.txt", "_draft.md", "x/_y/z.md", ".git/c.md", "d.MD",
             "e.md.", "dir.md/f.md", "deep/er/g.yml"]  # fmt: skip
    for name in names:
        write(posts / name, "x")
    (posts / "linked-file.md").symlink_to(posts / "b.yaml")
    (posts / "linked-folder").symlink_to(posts / "a", target_is_directory=True)
    (posts / "dangling.md").symlink_to(posts / "missing.md")
    assert [str(path) for path in discover(posts)] == [str(path) for path in rglob_discover(posts)]
    assert post_files(posts) == [
        "a/B.yml",
        "a/b.md",
        "a-c.md",
        "b.yaml",
        "deep/er/g.yml",
        "dir.md/f.md",
        "linked-file.md",
    ]


def rglob_discover(posts_dir: Path) -> list[Path]:
    """How discovery was written before it was made faster."""
    found = []
    for path in sorted(posts_dir.rglob("*")):
        hidden = any(part.startswith((".", "_")) for part in path.relative_to(posts_dir).parts)
        if path.suffix in (".md", ".yaml", ".yml") and path.is_file() and not hidden:
            found.append(path)
    return found


@pytest.mark.parametrize(
    "data",
    [
        b"---\r\nid: a\r\n---\r\nbody\r\n",
        b"\xef\xbb\xbf---\nid: b\n---\nx\r\ry\r",
        b"caf\xc3\xa9",
        b"\xff\xfe bad",
        b"",
    ],
)
def test_a_post_parsed_from_bytes_read_once_is_the_post_parsed_from_the_file(tmp_path, data):
    file = tmp_path / "posts" / "a.md"
    file.parent.mkdir()
    file.write_bytes(data)
    assert read_bytes(file) == data
    assert parse_post(file, tmp_path, file.parent, read_bytes(file)) == parse_post(
        file, tmp_path, file.parent
    )


def test_a_copy_with_other_fields_has_its_own_content_hash():
    status = DesiredStatus(post_id="a", source="posts/a.md", account="main", text="x " * 400)
    assert status.content_hash  # computed and kept on the original before it is copied
    parts = split_status(status, Limits())
    rebuilt = [DesiredStatus.model_validate(part.model_dump()).content_hash for part in parts]
    assert [part.content_hash for part in parts] == rebuilt
    assert parts[0].content_hash != status.content_hash


def test_the_cache_folder_is_the_instance_caches(tmp_path):
    config = make_repo(
        tmp_path,
        {"a.md": "hi"},
        config=CONFIG.format(instance="https://m.example", schedule="native").replace(
            'state = "publish.state.json"', 'state = "state/publish.state.json"'
        ),
    )
    (tmp_path / "state").mkdir()
    load_project(config)
    assert (tmp_path / "state" / CACHE_DIR / POSTS_FILE).is_file()
    assert not (tmp_path / CACHE_DIR).exists()


def test_media_paths_give_what_resolve_media_path_gives(tmp_path):
    real_root = tmp_path / "repo"
    for name in ("posts/media/a.png", "shared/b.png"):
        write(real_root / name, "x")
    write(tmp_path / "outside.png", "x")
    (real_root / "posts" / "media" / "leaf.png").symlink_to("../../shared/b.png")
    (real_root / "posts" / "media" / "out.png").symlink_to(tmp_path / "outside.png")
    (real_root / "posts" / "linked").symlink_to(real_root / "shared", target_is_directory=True)
    (tmp_path / "via").symlink_to(real_root, target_is_directory=True)
    entries = [
        "media/a.png", "media/leaf.png", "linked/b.png", "../shared/b.png", "media/../media/a.png",
        "./media/a.png", "media/missing.png", "media/out.png", "media", "media/..", "../..",
        "../../outside.png", "/etc/passwd",
    ]  # fmt: skip
    for root in (real_root, tmp_path / "via"):
        paths, post_file = MediaPaths(root), root / "posts" / "p.md"
        for entry in entries:
            expected = outcome(resolve_media_path, entry, post_file, root)
            assert outcome(paths.resolve, entry, post_file) == expected, entry


def outcome(resolve: Callable[..., Path], *args) -> Path | tuple[type, str]:
    try:
        return resolve(*args)
    except MediaFileError as exc:
        return type(exc), str(exc)
