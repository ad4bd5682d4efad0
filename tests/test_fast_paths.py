"""Shortcuts taken for speed give exactly what the long way gives."""

from __future__ import annotations

import random

import grapheme
import pytest

from publisher import length
from publisher.markdown_text import markdown_to_text, parsed_markdown_to_text

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


@pytest.mark.parametrize("alphabet", [PLAIN, MARKUP], ids=["plain", "markup"])
@pytest.mark.parametrize("seed", range(10))
def test_plain_text_shortcut_matches_the_parser_on_random_text(alphabet, seed):
    rng = random.Random(seed)
    for _ in range(50):
        source = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
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
    rng = random.Random(seed)
    for _ in range(50):
        text = "".join(rng.choice(URL_PIECES) for _ in range(rng.randint(0, 12)))
        whole_text = [match.span("url") for match in length._url_pattern().finditer(text) if match["scheme"]]
        words = [match.span("url") for match in length._url_matches(text) if match["scheme"]]
        assert words == whole_text, repr(text)


@pytest.mark.parametrize("seed", range(10))
def test_cluster_count_shortcut_matches_the_grapheme_library(seed):
    rng = random.Random(seed)
    for _ in range(100):
        text = "".join(rng.choice(CLUSTER_PIECES) for _ in range(rng.randint(0, 12)))
        assert length._grapheme_count(text) == grapheme.length(text), repr(text)
