"""Every malformed input gives exit code 2 and a message naming the file, the line and the field."""

from __future__ import annotations

import itertools
import os

import pytest

from publisher.cli import app
from tests.conftest import FAKE_TOKEN
from tests.helpers import JPEG_HEAD, PNG_1PX, CliRunner, make_repo

IMG = {"posts/a.png": PNG_1PX}
OK = "---\nid: fine\n---\nfine\n"
# Nine levels of ten aliases each: 10**9 values once expanded, from a file of ten lines.
LEVELS = "abcdefghi"
ALIAS_BOMB = (
    "---\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{name}: &{name} [{', '.join(['*' + below] * 10)}]\n" for below, name in itertools.pairwise(LEVELS)
    )
    + "---\nx"
)

# (id, posts, extra files, expected location, expected field)
CASES = [
    ("bad-yaml", {"p.md": "---\nid: [x\n---\nbody"}, {}, "posts/p.md:3", "front-matter"),
    ("unclosed-front-matter", {"p.md": "---\nid: x\nbody"}, {}, "posts/p.md:1", "front-matter"),
    ("front-matter-not-mapping", {"p.md": "---\n- a\n- b\n---\nbody"}, {}, "posts/p.md:2", "front-matter"),
    ("yaml-not-mapping", {"p.yaml": "just text"}, {}, "posts/p.yaml:1", "front-matter"),
    ("unknown-visibility", {"p.md": "---\nvisibility: loud\n---\nx"}, {}, "posts/p.md:2", "visibility"),
    ("sensitive-not-bool", {"p.md": "---\nsensitive: maybe\n---\nx"}, {}, "posts/p.md:2", "sensitive"),
    ("bad-language", {"p.md": "---\nlanguage: English\n---\nx"}, {}, "posts/p.md:2", "language"),
    ("tags-with-space", {"p.md": "---\ntags: [two words]\n---\nx"}, {}, "posts/p.md:2", "tags"),
    ("bad-id", {"p.md": "---\nid: 'has space'\n---\nx"}, {}, "posts/p.md:2", "id"),
    (
        "focus-out-of-range",
        {"p.md": "---\nmedia:\n  - path: a.png\n    alt: x\n    focus: [0, 2]\n---\nx"},
        IMG,
        "posts/p.md:5",
        "media[0].focus",
    ),
    (
        "focus-not-pair",
        {"p.md": "---\nmedia:\n  - path: a.png\n    alt: x\n    focus: [0]\n---\nx"},
        IMG,
        "posts/p.md:5",
        "media[0].focus",
    ),
    ("media-missing-path", {"p.md": "---\nmedia:\n  - alt: x\n---\nx"}, {}, "posts/p.md:3", "media[0].path"),
    (
        "missing-media-file",
        {"p.md": "---\nmedia:\n  - path: nope.png\n    alt: x\n---\nx"},
        {},
        "posts/p.md:3",
        "media[0].path",
    ),
    (
        "media-dotdot-escape",
        {"p.md": "---\nmedia:\n  - path: ../../etc/passwd\n    alt: x\n---\nx"},
        {},
        "posts/p.md:3",
        "media[0].path",
    ),
    (
        "media-absolute",
        {"p.md": "---\nmedia:\n  - path: /etc/hostname\n    alt: x\n---\nx"},
        {},
        "posts/p.md:3",
        "media[0].path",
    ),
    (
        "too-many-media",
        {"p.md": "---\nmedia:\n" + "  - {path: a.png, alt: x}\n" * 5 + "---\nx"},
        IMG,
        "posts/p.md:2",
        "media",
    ),
    ("missing-alt", {"p.md": "---\nmedia:\n  - path: a.png\n---\nx"}, IMG, "posts/p.md:3", "media[0].alt"),
    (
        "blank-alt",
        {"p.md": "---\nmedia:\n  - path: a.png\n    alt: '  '\n---\nx"},
        IMG,
        "posts/p.md:4",
        "media[0].alt",
    ),
    (
        "alt-too-long",
        {"p.md": "---\nmedia:\n  - path: a.png\n    alt: " + "a" * 1501 + "\n---\nx"},
        IMG,
        "posts/p.md:4",
        "media[0].alt",
    ),
    (
        "text-renamed-png",
        {"p.md": "---\nmedia:\n  - path: notes.png\n    alt: x\n---\nx"},
        {"posts/notes.png": b"hello, I am text"},
        "posts/p.md:3",
        "media[0].path",
    ),
    (
        "duplicate-ids",
        {"a.md": "---\nid: same\n---\nx", "b.md": "---\nid: same\n---\ny"},
        {},
        "posts/b.md:2",
        "id",
    ),
    ("duplicate-default-ids", {"a.md": "x", "a.yaml": "body: y"}, {}, "posts/a.yaml", "id"),
    ("bad-publish-at", {"p.md": "---\npublish_at: next tuesday\n---\nx"}, {}, "posts/p.md:2", "publish_at"),
    (
        "naive-publish-at",
        {"p.md": "---\npublish_at: 2026-12-01T09:00:00\n---\nx"},
        {},
        "posts/p.md:2",
        "publish_at",
    ),
    ("unknown-template", {"p.md": "---\ntemplate: nope.j2\n---\nx"}, {}, "posts/p.md:2", "template"),
    (
        "undefined-variable",
        {"p.md": "---\ntemplate: t.j2\n---\nx"},
        {"templates/t.j2": b"{{ missing }}"},
        "templates/t.j2:1",
        "template",
    ),
    (
        "template-syntax",
        {"p.md": "---\ntemplate: t.j2\n---\nx"},
        {"templates/t.j2": b"line\n{% if %}"},
        "templates/t.j2:2",
        "template",
    ),
    (
        "template-unsafe-attribute",
        {"p.md": "---\ntemplate: t.j2\n---\nx"},
        {"templates/t.j2": b"{{ body.__class__.__mro__ }}"},
        "posts/p.md",
        "template",
    ),
    ("unknown-account", {"p.md": "---\naccount: other\n---\nx"}, {}, "posts/p.md:2", "account"),
    ("reply-to-unknown", {"p.md": "---\nreply_to: ghost\n---\nx"}, {}, "posts/p.md:2", "reply_to"),
    (
        "reply-cycle",
        {"a.md": "---\nreply_to: b\n---\nx", "b.md": "---\nreply_to: a\n---\ny"},
        {},
        "posts/a.md:2",
        "reply_to",
    ),
    (
        "reply-to-later-post",
        {"a.md": "---\npublish_at: 2030-01-01T00:00:00Z\n---\nx", "b.md": "---\nreply_to: a\n---\ny"},
        {},
        "posts/b.md:2",
        "reply_to",
    ),
    ("poll-one-option", {"p.md": "---\npoll: {options: [only]}\n---\nx"}, {}, "posts/p.md:2", "poll.options"),
    (
        "poll-with-media",
        {"p.md": "---\npoll: {options: [a, b]}\nmedia:\n  - {path: a.png, alt: x}\n---\nx"},
        IMG,
        "posts/p.md:2",
        "poll",
    ),
    ("not-utf8", {}, {"posts/p.md": b"\xff\xfe\x00bad"}, "posts/p.md", "UTF-8"),
    (
        "typed-by-content-but-no-alt",
        {"p.md": "---\nmedia:\n  - {path: a.bin}\n---\nx"},
        {"posts/a.bin": JPEG_HEAD},
        "posts/p.md:3",
        "media[0].alt",
    ),
    ("empty-text", {"p.md": "---\ntags: []\n---\n"}, {}, "posts/p.md", "body"),
    ("draft-not-bool", {"p.md": "---\ndraft: maybe\n---\nx"}, {}, "posts/p.md:2", "draft"),
    ("media-not-a-list", {"p.md": "---\nmedia: a.png\n---\nx"}, IMG, "posts/p.md:2", "media"),
    ("tags-not-a-list", {"p.md": "---\ntags: caturday\n---\nx"}, {}, "posts/p.md:2", "tags"),
    ("reply-to-itself", {"p.md": "---\nid: me\nreply_to: me\n---\nx"}, {}, "posts/p.md:3", "reply_to"),
    ("visibility-wrong-type", {"p.md": "---\nvisibility: 3\n---\nx"}, {}, "posts/p.md:2", "visibility"),
    (
        "focus-not-numbers",
        {"p.md": "---\nmedia:\n  - {path: a.png, alt: x, focus: [a, b]}\n---\nx"},
        IMG,
        "posts/p.md:3",
        "media[0].focus",
    ),
    (
        "poll-expiry-negative",
        {"p.md": "---\npoll: {options: [a, b], expires_in: -5}\n---\nx"},
        {},
        "posts/p.md:2",
        "poll.expires_in",
    ),
    ("yaml-body-not-text", {"p.yaml": "body: [1, 2]"}, {}, "posts/p.yaml:1", "body"),
    ("spoiler-not-text", {"p.md": "---\ncw: {a: b}\n---\nx"}, {}, "posts/p.md:2", "cw"),
    (
        "media-item-not-mapping",
        {"p.md": "---\nmedia:\n  - just-a-path.png\n---\nx"},
        {},
        "posts/p.md:3",
        "media[0]",
    ),
    (
        "unknown-media-key",
        {"p.md": "---\nmedia:\n  - {path: a.png, alt: x, focal: [0, 0]}\n---\nx"},
        IMG,
        "posts/p.md:3",
        "media[0].focal: unknown key (hint: did you mean 'focus'?)",
    ),
    # Strict YAML: what a YAML parser would quietly resolve is refused.
    (
        "duplicate-key",
        {"p.md": "---\nvisibility: direct\nvisibility: public\n---\nx"},
        {},
        "posts/p.md:3",
        "duplicate key 'visibility'",
    ),
    (
        "duplicate-nested-key",
        {"p.md": "---\npoll:\n  options: [a, b]\n  options: [c, d]\n---\nx"},
        {},
        "posts/p.md:4",
        "duplicate key 'poll.options'",
    ),
    (
        "alias-bomb",
        {"p.md": ALIAS_BOMB},
        {},
        "posts/p.md:",
        "expands to more than 10,000 values",
    ),
    (
        "nul-in-body",
        {"p.md": "---\nid: x\n---\nline\nnul \x00 here"},
        {},
        "posts/p.md:5",
        "control character U+0000",
    ),
    (
        "esc-in-front-matter",
        {"p.md": '---\nid: x\ncw: "\x1b[2J"\n---\nx'},
        {},
        "posts/p.md:3",
        "control character U+001B",
    ),
    (
        "escaped-esc-in-value",
        {"p.md": '---\nid: x\ncw: "\\e[2J"\n---\nx'},
        {},
        "posts/p.md:3",
        "control character U+001B",
    ),
    (
        "c1-in-yaml-post",
        {"p.yaml": 'body: "csi \\x9b here"'},
        {},
        "posts/p.yaml:1",
        "control character U+009B",
    ),
    (
        "impossible-publish-at",
        {"p.md": "---\npublish_at: 2024-02-30T10:00:00Z\n---\nx"},
        {},
        "posts/p.md:2",
        "impossible date",
    ),
    (
        "impossible-date-anywhere",
        {"p.md": "---\nreleased: 2023-13-01\n---\nx"},
        {},
        "posts/p.md:2",
        "impossible date",
    ),
    ("publish-at-number", {"p.md": "---\npublish_at: 20271201\n---\nx"}, {}, "posts/p.md:2", "publish_at"),
    ("publish-at-zero", {"p.md": "---\npublish_at: 0\n---\nx"}, {}, "posts/p.md:2", "publish_at"),
    (
        "publish-at-numeric-string",
        {"p.md": "---\npublish_at: '1796083200'\n---\nx"},
        {},
        "posts/p.md:2",
        "ISO 8601",
    ),
    (
        "publish-at-no-timezone",
        {"p.md": "---\npublish_at: 2027-12-01T10:00:00\n---\nx"},
        {},
        "posts/p.md:2",
        "timezone",
    ),
    (
        "publish-at-date-only",
        {"p.md": "---\npublish_at: 2027-12-01\n---\nx"},
        {},
        "posts/p.md:2",
        "publish_at",
    ),
    ("language-unknown-code", {"p.md": "---\nlanguage: xx\n---\nx"}, {}, "posts/p.md:2", "language"),
    ("language-with-region", {"p.md": "---\nlanguage: en-US\n---\nx"}, {}, "posts/p.md:2", "use 'en'"),
    ("language-wrong-case", {"p.md": "---\nlanguage: zh-tw\n---\nx"}, {}, "posts/p.md:2", "use 'zh-TW'"),
    (
        "file-id-like-a-thread-part",
        {"x.md": "one\n+++\ntwo", "x#2.md": "other"},
        {},
        "posts/x#2.md",
        "contains '#'",
    ),
]


# Cases that only break a limit a server may set higher than Mastodon's defaults.
ONLY_AGAINST_DEFAULTS = {"too-many-media", "alt-too-long"}


@pytest.fixture(autouse=True)
def no_token(monkeypatch):
    monkeypatch.delenv("PUBLISH_TEST_TOKEN", raising=False)


@pytest.mark.parametrize("command", ["check", "plan"])
@pytest.mark.parametrize(("case", "posts", "files", "location", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_post_exits_2_naming_file_line_and_field(tmp_path, case, posts, files, location, field, command):
    config = make_repo(tmp_path, {**posts, "ok.md": OK}, files=files)
    result = CliRunner().invoke(app, [command, "--config", str(config)])
    if command == "check" and case in ONLY_AGAINST_DEFAULTS:
        # Nothing is known of the server: its limits may be higher, so check (offline) only warns.
        assert result.exit_code == 0, result.output
        assert any(line.startswith(f"warning: {location}: {field}") for line in result.stderr.splitlines())
        return
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if location in line]
    assert lines, result.stderr
    assert any(field in line for line in lines), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("posts", "files", "location", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_post_makes_sync_send_nothing(tmp_path, fake_server, posts, files, location, field):
    config = make_repo(tmp_path, {**posts, "ok.md": OK}, files=files, instance=fake_server.url)
    result = CliRunner(env={"PUBLISH_TEST_TOKEN": FAKE_TOKEN}).invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert location in result.stderr and field in result.stderr, result.stderr
    # At most the public instance limits are read, when a post breaks only limits the server may set higher.
    public_reads = [
        r for r in fake_server.requests if r.path == "/api/v2/instance" and "authorization" not in r.headers
    ]
    assert fake_server.requests == public_reads
    assert not (tmp_path / "publish.state.json").exists()


def test_symlink_escaping_the_repository_is_rejected(tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG_1PX)
    config = make_repo(tmp_path / "repo", {"p.md": "---\nmedia:\n  - {path: link.png, alt: x}\n---\nx"})
    os.symlink(outside, tmp_path / "repo" / "posts" / "link.png")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert "posts/p.md:3: media[0].path: points outside the repository" in result.stderr


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    posts = {
        "a.md": "---\nvisibility: loud\nlanguage: English\n---\nx",
        "b.md": "---\nreply_to: ghost\n---\ny",
    }
    config = make_repo(tmp_path, posts)
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert "3 problem(s)" in result.stderr
    for expected in ("posts/a.md:2: visibility", "posts/a.md:3: language", "posts/b.md:2: reply_to"):
        assert expected in result.stderr


CONFIG_CASES = [
    ("not-toml", "[publish\nposts=1", "publish.toml:1", ""),
    (
        "unknown-key",
        '[publish]\nshedule = "ci"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:2",
        "did you mean 'schedule'",
    ),
    (
        "unknown-section",
        '[publsh]\nposts = "p"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:1",
        "publsh",
    ),
    ("http-instance", '[accounts.main]\ninstance = "http://a.example"', "publish.toml:2", "https"),
    ("not-a-url", '[accounts.main]\ninstance = "mastodon"', "publish.toml:2", "instance"),
    ("no-accounts", '[publish]\nposts = "posts"', "publish.toml", "accounts"),
    (
        "token-in-config",
        '[accounts.main]\ninstance = "https://a.example"\ntoken_env = "abc.def-123/xyz"',
        "publish.toml:3",
        "token_env",
    ),
    (
        "bad-schedule",
        '[publish]\nschedule = "cron"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:2",
        "schedule",
    ),
    (
        "bad-default-visibility",
        '[defaults]\nvisibility = "loud"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:2",
        "visibility",
    ),
    (
        "missing-posts-folder",
        '[publish]\nposts = "nowhere"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml",
        "publish.posts",
    ),
    (
        "default-language-a-name",
        '[defaults]\nlanguage = "english"\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:2",
        "use 'en'",
    ),
    (
        "negative-limit",
        '[limits]\nmax_characters = -1\n[accounts.main]\ninstance = "https://a.example"',
        "publish.toml:2",
        "max_characters",
    ),
]


@pytest.mark.parametrize(
    ("text", "location", "needle"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config_exits_2(tmp_path, text, location, needle):
    config = make_repo(tmp_path, {"ok.md": OK}, config=text)
    result = CliRunner().invoke(app, ["plan", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert location in result.stderr and needle in result.stderr, result.stderr


def test_config_that_is_not_utf8_exits_2_naming_the_line(tmp_path):
    config = make_repo(tmp_path, {"ok.md": OK})
    config.write_bytes(config.read_bytes() + b"# caf\xe9\n")
    lines = config.read_bytes().count(b"\n")
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"publish.toml:{lines}: not UTF-8 text (hint: save the file as UTF-8)" in result.stderr


def test_missing_config_file_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["plan", "--config", str(tmp_path / "publish.toml")])
    assert result.exit_code == 2
    assert "publish.toml: config file not found" in result.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 99, "posts": {}}', "newer than"),
        ('{"version": 1, "posts": {"x": {"status_id": 3}}}', "posts.x"),
        ("[]", "state"),
        ('{"version": 1, "posts": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
    ids=["corrupt", "newer-version", "wrong-shape", "not-object", "deeply-nested"],
)
def test_bad_state_file_exits_2_and_is_left_alone(tmp_path, content, needle):
    config = make_repo(tmp_path, {"ok.md": OK})
    (tmp_path / "publish.state.json").write_text(content)
    result = CliRunner().invoke(app, ["plan", "--config", str(config)])
    assert result.exit_code == 2
    assert "publish.state.json" in result.stderr and needle in result.stderr, result.stderr
    assert (tmp_path / "publish.state.json").read_text() == content


def test_preview_html_templates_are_not_post_templates(tmp_path):
    config = make_repo(tmp_path, {"p.md": "---\ntemplate: preview/page.html.j2\n---\nx"})
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert "posts/p.md:2: template: template not found: preview/page.html.j2" in result.stderr
