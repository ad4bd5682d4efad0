from __future__ import annotations

import pytest

from publisher.source.markdown_text import markdown_to_text

UNICODE_SAMPLE = "Grüße aus Köln 🇩🇪 👩‍👩‍👧‍👦 👍🏽 🏳️‍⚧️ 日本語 한국어 e\u0301 مرحبا"

CASES = [
    # Paragraphs and line breaks
    pytest.param("one\n\n\n\ntwo", "one\n\ntwo", id="paragraphs-one-blank-line"),
    pytest.param("first line\nsecond line", "first line\nsecond line", id="soft-break-kept"),
    pytest.param("first  \nsecond", "first\nsecond", id="hard-break-spaces"),
    pytest.param("first\\\nsecond", "first\nsecond", id="hard-break-backslash"),
    pytest.param("\n\n  \nbody\n\n\n", "body", id="no-leading-or-trailing-blank-lines"),
    pytest.param("one\r\ntwo\r\n\r\nthree", "one\ntwo\n\nthree", id="crlf-line-endings"),
    # Inline markup
    pytest.param("*em* _em_ **strong** __strong__", "em em strong strong", id="emphasis-dropped"),
    pytest.param("***both*** and **nested _em_**", "both and nested em", id="nested-emphasis"),
    pytest.param("~~gone~~ but kept", "gone but kept", id="strikethrough"),
    pytest.param("run `pip install publish` now", "run pip install publish now", id="inline-code"),
    pytest.param("``a `tick` b``", "a `tick` b", id="inline-code-with-backtick"),
    pytest.param(r"\*not em\* and 1\. not a list", "*not em* and 1. not a list", id="escapes"),
    pytest.param("Tom &amp; Jerry &lt;3 &copy; &#x1F600;", "Tom & Jerry <3 © 😀", id="entities"),
    # Links and images
    pytest.param("[the docs](https://example.com/docs)", "the docs https://example.com/docs", id="link"),
    pytest.param('[docs](https://example.com "Title")', "docs https://example.com", id="link-title-dropped"),
    pytest.param("[https://example.com](https://example.com)", "https://example.com", id="link-text-is-url"),
    pytest.param("<https://example.com/a?b=c>", "https://example.com/a?b=c", id="autolink"),
    pytest.param("<me@example.com>", "me@example.com", id="email-autolink"),
    pytest.param(
        "[Straße](https://de.wikipedia.org/wiki/Straße)",
        "Straße https://de.wikipedia.org/wiki/Straße",
        id="link-url-not-percent-encoded",
    ),
    pytest.param("[](https://example.com)", "https://example.com", id="link-empty-text"),
    pytest.param("[docs][1]\n\n[1]: https://ex.com/d", "docs https://ex.com/d", id="reference-link"),
    pytest.param("![a cat](https://example.com/cat.png)", "a cat https://example.com/cat.png", id="image"),
    pytest.param("![](https://example.com/cat.png)", "https://example.com/cat.png", id="image-no-alt"),
    pytest.param(
        "see https://example.com/a_b_c and www.example.org",
        "see https://example.com/a_b_c and www.example.org",
        id="bare-urls-as-typed",
    ),
    # Lists
    pytest.param("- one\n- two\n* three", "- one\n- two\n- three", id="bullet-lists"),
    pytest.param("+ plus\n+ items", "- plus\n- items", id="plus-bullets"),
    pytest.param("1. one\n2. two\n3. three", "1. one\n2. two\n3. three", id="ordered-list"),
    pytest.param("7. seven\n8. eight", "7. seven\n8. eight", id="ordered-list-start"),
    pytest.param("1) paren\n2) style", "1) paren\n2) style", id="ordered-list-paren"),
    pytest.param("- a\n  - b\n    - c\n- d", "- a\n  - b\n    - c\n- d", id="nested-bullets"),
    pytest.param("1. a\n   - b\n2. c", "1. a\n  - b\n2. c", id="nested-in-ordered"),
    pytest.param("- a\n\n- b", "- a\n\n- b", id="loose-list"),
    pytest.param("-\n- x", "-\n- x", id="empty-list-item"),
    pytest.param("- a\n- b\n\n- c", "- a\n- b\n\n- c", id="list-keeps-typed-blank-lines"),
    pytest.param("- a\n\n  more a\n- b", "- a\n\n  more a\n- b", id="item-with-two-paragraphs"),
    pytest.param("Changes:\n- one\n- two", "Changes:\n- one\n- two", id="list-right-under-intro-line"),
    pytest.param("Changes:\n\n- one", "Changes:\n\n- one", id="list-after-blank-line"),
    pytest.param("- first\n  more\n- **bold** item", "- first\n  more\n- bold item", id="list-soft-break"),
    # Block structure
    pytest.param("> quoted\n> text", "> quoted\n> text", id="blockquote"),
    pytest.param("> a\n>\n> b", "> a\n>\n> b", id="blockquote-paragraphs"),
    pytest.param("> outer\n>\n> > inner", "> outer\n>\n> > inner", id="nested-blockquote"),
    pytest.param("> - quoted item", "> - quoted item", id="list-in-blockquote"),
    pytest.param("she said:\n> hello", "she said:\n> hello", id="blockquote-right-under-line"),
    pytest.param("# Title\nbody", "Title\n\nbody", id="atx-heading"),
    pytest.param("## *Styled* title ##", "Styled title", id="heading-markup-dropped"),
    pytest.param("Title\n=====\nbody", "Title\n\nbody", id="setext-heading"),
    pytest.param("intro\n# Title", "intro\n\nTitle", id="heading-own-paragraph"),
    pytest.param("```py\ndef f():\n    return 1\n```", "def f():\n    return 1", id="fenced-code-verbatim"),
    pytest.param("```\n*not em* [x](y)\n```", "*not em* [x](y)", id="fenced-code-keeps-markup"),
    pytest.param("text\n\n    code\n      more", "text\n\ncode\n  more", id="indented-code"),
    pytest.param("above\n\n---\n\nbelow", "above\n\n———\n\nbelow", id="horizontal-rule"),
    pytest.param("* * *", "———", id="horizontal-rule-stars"),
    pytest.param("<div>\n<b>hi</b>\n</div>", "<div>\n<b>hi</b>\n</div>", id="html-block-literal"),
    pytest.param("a <b>bold</b> move", "a <b>bold</b> move", id="inline-html-literal"),
    # Toot content
    pytest.param("#python #Mastodon rocks", "#python #Mastodon rocks", id="hashtags-untouched"),
    pytest.param("#tag\n\nbody", "#tag\n\nbody", id="hashtag-not-heading"),
    pytest.param(
        "hi @alice@example.social and @bob_smith",
        "hi @alice@example.social and @bob_smith",
        id="mentions-untouched",
    ),
    pytest.param(UNICODE_SAMPLE, UNICODE_SAMPLE, id="unicode-and-emoji"),
    pytest.param("**Wow** 🎉 _so_ ✨", "Wow 🎉 so ✨", id="emoji-next-to-markup"),
    pytest.param("trailing   \nspaces\t\n\nend  ", "trailing\nspaces\n\nend", id="trailing-whitespace"),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_markdown_to_text(source: str, expected: str) -> None:
    assert markdown_to_text(source) == expected


REALISTIC_TOOT = """\
**Release day!** 🎉 *publish* 1.0 is out.

What's new:
- declarative posts in `posts/`
- [changelog](https://example.com/publish/CHANGELOG.md)
- thanks to @alice@example.social

Docs: https://example.com/publish/docs

#Python #Mastodon #FOSS
"""

REALISTIC_TEXT = """\
Release day! 🎉 publish 1.0 is out.

What's new:
- declarative posts in posts/
- changelog https://example.com/publish/CHANGELOG.md
- thanks to @alice@example.social

Docs: https://example.com/publish/docs

#Python #Mastodon #FOSS"""


def test_realistic_toot() -> None:
    assert markdown_to_text(REALISTIC_TOOT) == REALISTIC_TEXT


@pytest.mark.parametrize(
    "plain",
    [
        "Just a plain sentence.",
        "Line one\nLine two\n\nNew paragraph with a URL https://example.com/path?q=1 and #hashtag",
        "Prices: 5 € or 6 $, 50% off — today only!",
        "@alice@example.social 👋 ça va ? 你好",
        "",
    ],
)
def test_plain_text_passes_through_unchanged(plain: str) -> None:
    assert markdown_to_text(plain) == plain


def test_result_has_no_trailing_whitespace_on_any_line() -> None:
    text = markdown_to_text("- a  \n\n  - b\n\n> q  \n>\n\n```\ncode   \n```\n")
    assert all(line == line.rstrip() for line in text.split("\n"))
    assert not text.startswith("\n") and not text.endswith("\n")


def test_the_tree_rendered_is_the_one_markdown_it_builds():
    """The renderer's own nodes (no links back to parents) nest tokens as markdown-it's SyntaxTreeNode."""
    import random

    from markdown_it.tree import SyntaxTreeNode

    from publisher.source.markdown_text import _markdown, _tree

    def shape(node) -> tuple:
        return (
            node.type,
            node.map and tuple(node.map),
            node.markup,
            node.content,
            [shape(c) for c in node.children],
        )

    pieces = ["*", "**", "_", "`", "~~", "[a](b)", "![i](s)", "<x>", "&amp;", "\\", "# ", "- ", "1. ", "> "]
    pieces += ["\n", "\n\n", "    ", "word", "https://e.org", "---", "```\n"]
    rng = random.Random(7)
    for _ in range(300):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        tokens = _markdown().parse(source)
        assert [shape(n) for n in _tree(tokens)] == [shape(n) for n in SyntaxTreeNode(tokens).children]
