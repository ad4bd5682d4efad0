from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.source.frontmatter import parse_markdown_file
from publisher.source.markdown_text import markdown_to_text
from publisher.source.models import DesiredStatus
from publisher.source.post_writer import (
    ImportedMedia,
    ImportedStatus,
    UnrepresentableStatus,
    markdown_body,
    post_file_name,
    write_post_file,
)
from publisher.source.posts import THREAD_BREAK
from publisher.source.project import load_project
from tests.helpers import PNG_1PX, make_repo

DEFAULTS = {"visibility": "public", "language": "en", "sensitive": False}
POSTED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

TEXTS = [
    pytest.param("Just words, nothing else.", id="plain"),
    pytest.param("*stars* **strong** _under_ __double__ ***both***", id="emphasis"),
    pytest.param("a*b*c and 2*3*4 = 24", id="stars-inside-words"),
    pytest.param("run `pip install publish` and ``a `tick` b``", id="code-spans"),
    pytest.param("```\nfenced?\n```\n~~~\nalso\n~~~", id="fences"),
    pytest.param("# Not a heading\n## nor this\n###### six\n#", id="heading-like"),
    pytest.param("#hashtag at the start\n#another #and #more", id="hashtag-lines"),
    pytest.param("> not a quote\n>also not\n>", id="quote-like"),
    pytest.param("- not a list\n+ nor this\n* nor this\n-5 degrees\n--flag", id="bullet-like"),
    pytest.param("1. one\n2) two\n10. ten\n2026. What a year\n1.5 million", id="ordered-like"),
    pytest.param("part one\n+++\npart two\n+++", id="thread-break-lines"),
    pytest.param("Title\n---\nmore\n- - -\n***\n___", id="rules-and-setext-dashes"),
    pytest.param("Title\n===\n=", id="setext-equals"),
    pytest.param("Code:\n    four spaces\n  two spaces\n\ttab\n \t mixed", id="indented-lines"),
    pytest.param("first\n    indented continuation", id="indented-continuation"),
    pytest.param("<b>bold</b> <i>it</i> <br> <!-- c --> <?x?> <!X>", id="html-ish"),
    pytest.param("<div>\nblock\n</div>", id="html-block"),
    pytest.param("&amp; &lt;3 &#32; &#x1F600; &copy; & a&b=c &;", id="entities"),
    pytest.param("I <3 you, a < b, b > a", id="angle-brackets"),
    pytest.param("C:\\Users\\me\\ and \\*not\\* and \\\\ and a\\", id="backslashes"),
    pytest.param("ends in a backslash\\\nnext line", id="backslash-before-newline"),
    pytest.param("[link](https://example.org) ![img](x.png) [ref]\n\n[ref]: https://e.org", id="links"),
    pytest.param("<https://example.org/a?b=c> <me@example.org>", id="autolinks"),
    pytest.param("https://example.org/a_b_c/_d_/e__f_?x=_y_ and snake_case_name", id="url-underscores"),
    pytest.param("@some_user@example.social and @_lead and @trail_ hi", id="mentions"),
    pytest.param("~tilde~ ~~strike~~ ~~~three~~~ https://e.org/~user", id="tildes"),
    pytest.param("Grüße 🇩🇪 👩‍👩‍👧‍👦 👍🏽 日本語 e\u0301 مرحبا", id="unicode"),
    pytest.param("日本語_テスト_です and émoji_é_x", id="unicode-around-underscores"),
    pytest.param("one\n\ntwo", id="one-blank-line"),
    pytest.param("one\n\n\ntwo\n\n\n\n\nthree", id="blank-line-runs"),
    pytest.param("a | b | c\n|---|---|\n| 1 | 2 |", id="table-like"),
    pytest.param("line\rwith a lone carriage return", id="lone-cr"),
    pytest.param("\\\rafter a backslash", id="backslash-before-cr"),
    pytest.param("middle\u00a0no-break and\u3000ideographic spaces", id="unicode-spaces-inside"),
    pytest.param("[x]: /url\n[x]", id="reference-definition"),
    pytest.param("{{ jinja }} {% if %} {# c #}", id="jinja-like"),
    pytest.param("---\nfront: matter?\n---", id="front-matter-like"),
    pytest.param("...\nyaml end", id="document-end-like"),
    pytest.param("\ufeffbyte order mark", id="byte-order-mark"),
]

# Mastodon keeps these, Markdown cannot: the writer refuses them instead of writing a file that differs.
UNKEEPABLE = [
    pytest.param("trailing spaces  \nnext", "line 1 of its text ends in whitespace", id="trailing-spaces"),
    pytest.param("one\n  \ntwo", "line 2 of its text ends in whitespace", id="whitespace-only-line"),
    pytest.param("windows\r\nnewlines", "line 1 of its text ends in a Windows line break", id="crlf"),
    pytest.param("\u3000indented paragraph", "starts or ends with whitespace", id="leading-unicode-space"),
    pytest.param("bell\x07", r"control character U\+0007", id="control-character"),
]


@pytest.mark.parametrize("text", TEXTS)
def test_body_renders_back_to_the_text(text: str) -> None:
    body = markdown_body(text)
    assert markdown_to_text(body) == text
    assert not THREAD_BREAK.search(body)


@pytest.mark.parametrize(("text", "reason"), UNKEEPABLE)
def test_what_markdown_cannot_keep_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(UnrepresentableStatus, match=reason):
        markdown_body(text)


def test_plain_text_stays_readable() -> None:
    text = "Hello @friend@example.social, see https://example.org/a_b?c=1&d=2 #caturday"
    assert markdown_body(text) == text


def test_file_name_is_the_day_and_the_first_words() -> None:
    status = _status("1", "Grüße aus Köln! @someone https://example.org A very long text " + "word " * 20)
    name = post_file_name(status)
    assert name.startswith("2026-11-28-grusse-aus-koln-a-very-long-text-word")
    assert len(name.removeprefix("2026-11-28-")) <= 50


def test_file_name_falls_back_to_the_status_id() -> None:
    assert post_file_name(_status("113000000000000001", "🎉🎉")) == "2026-11-28-113000000000000001"


def test_a_second_write_never_replaces_the_first(tmp_path: Path) -> None:
    status = _status("1", "Same words", media=(_media("a.png", "alt"),))
    first = write_post_file(tmp_path, status, DEFAULTS)
    first_text = first.read_text(encoding="utf-8")
    second = write_post_file(tmp_path, status, DEFAULTS)
    assert (first.name, second.name) == ("2026-11-28-same-words.md", "2026-11-28-same-words-2.md")
    assert first.read_text(encoding="utf-8") == first_text
    assert sorted(path.name for path in (tmp_path / "media").iterdir()) == [
        "2026-11-28-same-words-1.png",
        "2026-11-28-same-words-2-1.png",
    ]


def test_only_what_differs_from_the_defaults_is_written(tmp_path: Path) -> None:
    path = write_post_file(tmp_path, _status("1", "Plain", language="en"), DEFAULTS)
    assert path.read_text(encoding="utf-8") == "Plain\n"
    german = {"visibility": "unlisted", "language": "de", "sensitive": True}
    path = write_post_file(tmp_path, _status("2", "Public", language="en"), german)
    assert path.read_text(encoding="utf-8") == (
        "---\nvisibility: public\nsensitive: false\nlanguage: en\n---\nPublic\n"
    )


def test_a_status_without_language_is_refused_when_the_defaults_set_one(tmp_path: Path) -> None:
    with pytest.raises(UnrepresentableStatus, match="no language"):
        write_post_file(tmp_path, _status("1", "Old status", language=None), DEFAULTS)
    assert not list(tmp_path.iterdir())


def test_a_pin_and_a_quote_are_written(tmp_path: Path) -> None:
    status = _status("1", "Well said.", quote="2026/launch", pinned=True, quote_policy="public")
    path = write_post_file(tmp_path, status, DEFAULTS)
    assert path.read_text(encoding="utf-8") == "---\nquote: 2026/launch\npinned: true\n---\nWell said.\n"


POLICIES = [
    pytest.param("followers", None, "public", None, id="account-default-unknown"),
    pytest.param("public", "public", "public", None, id="the-account-default"),
    pytest.param("followers", "public", "public", "followers", id="other-than-the-default"),
    pytest.param("nobody", "public", "private", None, id="private-always-nobody"),
    pytest.param("public, following", "followers", "public", None, id="no-policy-a-file-can-say"),
]


@pytest.mark.parametrize(("policy", "default", "visibility", "written"), POLICIES)
def test_a_quote_policy_is_written_only_when_the_account_default_gives_another(
    tmp_path: Path, policy: str, default: str | None, visibility: str, written: str | None
) -> None:
    status = _status(
        "1", "Quotable?", quote_policy=policy, default_quote_policy=default, visibility=visibility
    )
    path = write_post_file(tmp_path, status, {**DEFAULTS, "visibility": visibility})
    front = parse_markdown_file(path.read_text(encoding="utf-8")).data
    assert front.get("quote_policy") == written


def test_a_quote_with_media_is_refused(tmp_path: Path) -> None:
    status = _status("1", "Look", quote="https://example.social/@a/1", media=(_media("a.png", "alt"),))
    with pytest.raises(UnrepresentableStatus, match="quotes a status and has media or a poll"):
        write_post_file(tmp_path, status, DEFAULTS)
    assert not list(tmp_path.iterdir())


def test_written_posts_load_as_their_statuses(tmp_path: Path) -> None:
    statuses = _statuses()
    config_path = make_repo(tmp_path, {})
    first = write_post_file(tmp_path / "posts", statuses[0], DEFAULTS)
    statuses[2] = replace(statuses[2], reply_to=first.stem)  # a reply to a post written before it
    written = [first] + [write_post_file(tmp_path / "posts", status, DEFAULTS) for status in statuses[1:]]
    loaded = {post.source: post for post in load_project(config_path).posts}
    assert len(loaded) == len(statuses)
    for path, status in zip(written, statuses, strict=True):
        _assert_same(loaded[path.relative_to(tmp_path).as_posix()], status)


def _assert_same(desired: DesiredStatus, status: ImportedStatus) -> None:
    assert desired.text == status.text
    assert desired.spoiler_text == status.spoiler_text
    assert desired.visibility == status.visibility
    assert desired.sensitive == status.sensitive
    assert desired.language == status.language
    assert desired.reply_to == status.reply_to
    assert desired.quote == status.quote
    assert desired.pinned is (True if status.pinned else None)
    assert [(media.alt, media.focus) for media in desired.media] == [
        (media.alt, media.focus) for media in status.media
    ]
    if status.poll_options:
        assert desired.poll is not None
        assert desired.poll.options == status.poll_options
        assert desired.poll.multiple == status.poll_multiple
        assert desired.poll.expires_in == status.poll_expires_in
    else:
        assert desired.poll is None


def _statuses() -> list[ImportedStatus]:
    photos = (
        _media("1.png", "Boats in the harbour", (0.5, -0.25)),
        _media("2.PNG", "Gulls: 'yes', no", (0, 1)),
    )
    return [
        _status(
            "101",
            "Two pictures of the *harbour*:\n\n- the boats\n- the gulls\n\n\nBye #photography",
            media=photos,
        ),
        _status(
            "102",
            "Ein Spoiler.\n+++\n# kein Titel\n    eingerückt",
            spoiler_text="Achtung: Katzen",
            visibility="unlisted",
            sensitive=True,
            language="de",
        ),
        _status(
            "103",
            "Which one? <b>vote</b> &amp; 1. tell",
            poll_options=("Yes", "No", "2026-01-01", "~~maybe~~"),
            poll_multiple=True,
            poll_expires_in=3600,
        ),
        _status("104", "Nur ein Foto", language="no", sensitive=True, media=(_media("x.png", "A fjord"),)),
        _status("105", "\ufeff+++ a byte order mark, and no front-matter at all"),
        _status("106", "Pinned, quoting a link", quote="https://example.social/@amy/42", pinned=True),
    ]


def _status(status_id: str, text: str, **fields) -> ImportedStatus:
    return ImportedStatus(status_id=status_id, created_at=POSTED, text=text, **{"language": "en", **fields})


def _media(name: str, alt: str | None, focus: tuple[float, float] | None = None) -> ImportedMedia:
    return ImportedMedia(file_name=name, data=PNG_1PX, alt=alt, focus=focus)
