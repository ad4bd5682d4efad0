"""Shortcuts taken for speed give exactly what the long way gives."""

from __future__ import annotations

import random

import grapheme
import pytest

from publisher.source import length
from publisher.source.markdown_text import markdown_to_text, parsed_markdown_to_text
from publisher.source.simple_markdown import simple_markdown_text

# Characters that matter to CommonMark at a line start or inline, and ones that do not.
MARKUP = list("ab cd ef\t\n\n\n  #-*_=+>|1.)") + [
    "\xa0", "\u3000", "é", "🐈", "&amp;", "\\", "`", "[x](y)", "~~", "<b>",
]  # fmt: skip
PLAIN = list("ab cd ef\t\n\n\n   #:/.!@()?,'\"$%^{}1") + [
    "2. ", "3)  ", "\xa0", "\u3000", "\u2028", "\x0b", "é", "🐈", "ﬁ",
]  # fmt: skip
PLAIN_LOOKING = [
    "",
    "Hello",
    "Hello\nworld",
    "One.\n\nTwo.",
    "One.  \nhard break by spaces\n\n\n\nafter many blank lines",
    "#caturday #cats",
    "Trailing spaces   \n   \t\nnext paragraph after a line of blanks\t",
    "A line with a tab\tinside and ☕ and @user@example.org and https://example.org/path?q=1",
    "ends with a non-breaking space\xa0\nand an ideographic one\u3000",
    "# heading",
    "#",
    "##tag",
    "- list",
    "1. ordered",
    "1.   ordered, spaced",
    "07)\tordered, tabbed",
    "2026 was a year",
    "    indented code",
    "\tindented with a tab",
    "\xa0leading no-break space",
    "Title\n===",
    "Title\n---",
    "> quote",
    "a\r\nb",
    "tab at the end\t\n\nx",
]


@pytest.mark.parametrize("source", PLAIN_LOOKING)
def test_plain_text_shortcut_matches_the_parser(source):
    assert markdown_to_text(source) == parsed_markdown_to_text(source)


def random_texts(seed: int, pieces: list[str], count: int, most: int, least: int = 0) -> list[str]:
    """`count` texts of `least` to `most` pieces each, the same ones for the same seed."""
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(least, most))) for _ in range(count)]


@pytest.mark.parametrize("alphabet", [PLAIN, MARKUP], ids=["plain", "markup"])
@pytest.mark.parametrize("seed", range(10))
def test_plain_text_shortcut_matches_the_parser_on_random_text(alphabet, seed):
    for source in random_texts(seed, alphabet, 50, 40):
        assert markdown_to_text(source) == parsed_markdown_to_text(source), repr(source)


# -- status length -------------------------------------------------------------------------------------

URL_PIECES = [
    "https://example.com/a", "http://x.org", "example.com", "foo.com/https://bar.com", "(https://a.io/x_(y))",
    " ", "\n", "\t", "\xa0", "\u3000", "word", "@a@b.social", ".", "?q=1&r=é", "#", "🐈", "://", "https://",
    "xhttps://z.de",
]  # fmt: skip
CLUSTER_PIECES = [
    "a", "é", "\r\n", "\r", "\n", "—", "€", "e\u0301", "👍🏽", "🇩🇪", "\u1100\u1161", "\u200d", "\u00ad", "ǅ",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(10))
def test_url_scan_of_words_with_a_scheme_matches_the_whole_text_scan(seed):
    for text in random_texts(seed, URL_PIECES, 50, 12):
        whole_text = [match.span("url") for match in length._url_pattern().finditer(text) if match["scheme"]]
        words = [(start, start + len(url)) for start, url, scheme, _ in length._found_urls(text) if scheme]
        assert words == whole_text, repr(text)


@pytest.mark.parametrize("seed", range(10))
def test_cluster_count_shortcut_matches_the_grapheme_library(seed):
    for text in random_texts(seed, CLUSTER_PIECES, 100, 12):
        assert length._grapheme_count(text) == grapheme.length(text), repr(text)


SIMPLE_URL_PIECES = [
    "https://", "http://", "HTTPS://", "ftp://", "example", "a-b", "-", ".", ".org", ".com", ".co.uk", ".ORG",
    ".invalid", ".xn--p1ai", "/", "/notes/0", "_", "~", "?q=1", ":8080", "(", ")", ".", ",", "é", "ſ",
    "\u212a", "1", "t.co/abc", "x" * 70,
]  # fmt: skip


@pytest.mark.parametrize("seed", range(10))
def test_plain_url_shortcut_matches_the_url_pattern(seed):
    for word in random_texts(seed, SIMPLE_URL_PIECES, 200, 8, least=1):
        text = f"see {word}"
        simple = length._simple_url(text, 4, len(text))
        if simple is None:
            continue
        found = length._word_matches(text, 4, len(text))
        matches = [(m.start("url"), m["url"], m["scheme"], m["domain"]) for m in found]
        assert matches == [(4, *simple)], repr(word)


def test_plain_urls_take_the_shortcut():
    for url in ("https://example.org/notes/0", "http://a-b.example.co.uk/", "https://X.ORG/A_b-c"):
        assert length._simple_url(url, 0, len(url)) is not None, url


# -- Markdown with emphasis and bullet items only ----------------------------------------------------

SIMPLE_WORDS = ["a", "bc", "é", "1", "x2", "word", "Ünï", "²", "ß", "日本", "https://e.org/a_b"]
SIMPLE_ENDS = ["", "", "", ".", ",", "!", "?", ":", ";", ")", "'", "-", "—"]
SIMPLE_PREFIXES = ["", "", "", "- ", "- ", " ", "  ", "   ", "    ", "-", "* ", "+ ", "\t"]


def _simple_word(rng: random.Random) -> str:
    word, chance = rng.choice(SIMPLE_WORDS), rng.random()
    if chance < 0.15:
        delimiter = rng.choice(["*", "**", "_", "__", "***"])
        word = delimiter + word + rng.choice([delimiter, delimiter, "", "*", "_"])
    elif chance < 0.2:
        word = rng.choice(["*", "**", "_"]) + word
    elif chance < 0.25:
        word += rng.choice(["*", "**", "_"])
    return word + rng.choice(SIMPLE_ENDS)


def _simple_line(rng: random.Random) -> str:
    words = [_simple_word(rng) for _ in range(rng.randint(1, 6))]
    spaces = rng.choice([" ", " ", " ", "  ", "\t", "\n"])
    return rng.choice(SIMPLE_PREFIXES) + spaces.join(words) + rng.choice(["", "", " ", "  ", "\t"])


@pytest.mark.parametrize("seed", range(10))
def test_simple_markdown_shortcut_matches_the_parser(seed):
    rng = random.Random(seed)
    taken = 0
    for _ in range(2000):
        breaks = rng.choice(["\n", "\n", "\n\n", "\n \n", "\n\n\n"])
        source = breaks.join(_simple_line(rng) for _ in range(rng.randint(1, 7)))
        simple = simple_markdown_text(source)
        if simple is not None:
            taken += 1
            assert simple == parsed_markdown_to_text(source), repr(source)
    assert taken > 20  # the shortcut is really tried


@pytest.mark.parametrize(
    "source",
    [
        "Post *number* 0: some **strong** text.\n\n- a\n- **the**\n\n the end, see https://e.org/0",
        "__init__ and _this_, *that*; **those**!",
        "x *a\nb* y",
        "- *a*\n- b\n\nafter",
    ],
)
def test_simple_markdown_shortcut_is_taken(source):
    assert simple_markdown_text(source) == parsed_markdown_to_text(source)


@pytest.mark.parametrize(
    "source",
    ["a*b*", "*a **b** c*", "***a***", "- a\n\n  b", "- a\nb", "* a", "*a*b", "_a_b_", "1. a", "    code"],
)
def test_markup_beyond_simple_goes_to_the_parser(source):
    assert simple_markdown_text(source) is None
