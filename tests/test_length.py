from __future__ import annotations

import random

import pytest

from publisher.source.length import status_length

LONG_URL = "https://example.com/" + "a" * 80  # 100 characters, counts 23

# Expected numbers worked out by hand from Mastodon's rules (StatusLengthValidator, twitter-text's
# URL extractor with Mastodon's regex overrides, Account::MENTION_RE), not from this implementation.
EXPECTED = [
    # Grapheme clusters
    pytest.param("", "", 0, id="empty"),
    pytest.param("Hello world", "", 11, id="ascii"),
    pytest.param("Grüße", "", 5, id="precomposed-latin"),
    pytest.param("e\u0301", "", 1, id="combining-acute"),
    pytest.param("n\u0303a\u0308o\u0302", "", 3, id="several-combining-marks"),
    pytest.param("日本語のテキスト", "", 8, id="cjk"),
    pytest.param("한국어", "", 3, id="hangul-syllables"),
    pytest.param("\u1100\u1161\u11a8\u1102\u1165", "", 2, id="hangul-jamo"),
    pytest.param("👩\u200d👩\u200d👧\u200d👦", "", 1, id="zwj-family"),
    pytest.param("🧑🏿\u200d💻", "", 1, id="zwj-with-skin-tone"),
    pytest.param("🐦\u200d🔥", "", 1, id="zwj-emoji-15.1"),
    pytest.param("🏳\ufe0f\u200d⚧\ufe0f", "", 1, id="zwj-flag"),
    pytest.param("👍🏽", "", 1, id="skin-tone"),
    pytest.param("🇩🇪", "", 1, id="flag"),
    pytest.param("🇩🇪🇫🇷🇯🇵", "", 3, id="three-flags"),
    pytest.param("🇩🇪🇫", "", 2, id="odd-regional-indicator"),
    pytest.param("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "", 1, id="tag-flag"),
    pytest.param("1\ufe0f\u20e3", "", 1, id="keycap"),
    pytest.param("a\r\nb", "", 3, id="crlf-one-cluster"),
    # Devanagari KA+VIRAMA+SSA: 2 clusters before Unicode 15.1's GB9c, which Ruby 3.4 (Mastodon's) lacks.
    pytest.param("क्ष", "", 2, id="indic-conjunct-pre-gb9c"),
    # URLs with a scheme count 23
    pytest.param("https://example.com", "", 23, id="url-short"),
    pytest.param(LONG_URL, "", 23, id="url-long"),
    pytest.param("http://www.example.org/path/page.html", "", 23, id="url-http"),
    pytest.param("HTTPS://EXAMPLE.COM/UPPER", "", 23, id="url-uppercase"),
    pytest.param("https://example.com/search?q=a&lang=en#top", "", 23, id="url-query-fragment"),
    pytest.param("https://sub.example.co.uk:8080/a/b", "", 23, id="url-port"),
    pytest.param("https://en.wikipedia.org/wiki/Foo_(bar)", "", 23, id="url-balanced-parens"),
    pytest.param("(https://example.com/x)", "", 25, id="url-in-parens"),
    pytest.param("https://example.com/x.", "", 24, id="url-trailing-period"),
    pytest.param("see https://example.com/x, ok", "", 31, id="url-trailing-comma"),
    pytest.param("https://example.com/x?!", "", 25, id="url-trailing-question-bang"),
    pytest.param("https://example.com/x=", "", 24, id="url-trailing-equals"),  # Mastodon's ending rule
    pytest.param("https://ja.wikipedia.org/wiki/日本語", "", 23, id="url-non-latin-path"),
    pytest.param("https://bücher.de/katalog", "", 23, id="url-idn"),
    pytest.param("gemini://example.org/x", "", 23, id="url-gemini-scheme"),
    pytest.param("x https://t.co/abcdefg-xyz", "", 29, id="url-tco-slug-only"),
    pytest.param("https://" + "a" * 64 + ".com/x", "", 78, id="url-label-over-63-not-a-url"),
    pytest.param("https://example.com/" + "a" * 4100, "", 4120, id="url-over-4096-not-a-url"),
    # libidn refuses code points unassigned in Unicode 3.2 (emoji), so this is no URL for Mastodon.
    pytest.param("https://🦊.example.com/some/path", "", 31, id="url-emoji-domain-not-a-url"),
    # ... or not a URL at all
    pytest.param("example.com/some/long/path/here", "", 31, id="no-scheme"),
    pytest.param("www.example.com", "", 15, id="no-scheme-www"),
    pytest.param("https://localhost/api/v1", "", 24, id="no-tld"),
    pytest.param("https://foo.test/abc", "", 20, id="unknown-tld"),
    pytest.param("xhttps://example.com", "", 20, id="scheme-glued-to-word"),
    # Mentions count their local part only
    pytest.param("@alice@example.social", "", 6, id="remote-mention"),
    pytest.param("@Alice@Example.Social", "", 6, id="remote-mention-mixed-case"),
    pytest.param("@alice", "", 6, id="local-mention"),
    pytest.param("hi @bob@mastodon.example.org!", "", 8, id="mention-in-sentence"),
    pytest.param("@alice@example.social.", "", 7, id="mention-trailing-period"),
    pytest.param("@alice@bücher.de", "", 6, id="mention-idn-domain"),
    pytest.param("bob@example.com", "", 15, id="email-is-not-a-mention"),
    pytest.param("=@alice@example.social", "", 22, id="mention-after-equals-sign"),
    pytest.param("@alice@example.social@x", "", 23, id="mention-followed-by-at"),
    pytest.param("@a@" + "d" * 250 + ".com", "", 257, id="mention-domain-over-253"),
    pytest.param("https://example.com/a;@bob@example.org", "", 23, id="mention-inside-url"),
    pytest.param("#hashtag #日本語", "", 13, id="hashtags-count-normally"),
    # Spoiler text and stripping
    pytest.param("body", "CW: food", 12, id="spoiler-added"),
    pytest.param("", "https://example.com/" + "a" * 30, 50, id="spoiler-urls-not-shortened"),
    pytest.param("\u0301", "e", 1, id="spoiler-and-text-counted-together"),
    pytest.param("  hi  \n\n", "", 2, id="text-stripped"),
    pytest.param("hi", " \tcw\n", 4, id="spoiler-stripped"),
    pytest.param("\u3000", "", 0, id="blank-text-counts-zero"),
    pytest.param("line one\n\nline two", "", 18, id="newlines-count"),
]


@pytest.mark.parametrize(("text", "spoiler", "expected"), EXPECTED)
def test_status_length(text: str, spoiler: str, expected: int) -> None:
    assert status_length(text, spoiler) == expected


def test_url_length_is_configurable() -> None:
    assert status_length("see https://example.com/x", url_length=30) == 34
    assert status_length("see https://example.com/x", url_length=0) == 4


def test_560_characters_of_mostly_urls_count_under_500() -> None:
    text = " ".join([LONG_URL] * 5) + " " + "w" * 55
    assert len(text) == 560
    assert status_length(text) == 5 * 23 + 4 + 1 + 55 == 175


def test_long_realistic_toot() -> None:
    text = (
        "New release of publish 🎉\n\n"
        "Changelog: https://example.com/publish/releases/tag/v1.0.0?utm_source=mastodon\n"
        "Thanks @alice@example.social and @bob!\n\n#Python #Mastodon"
    )
    assert len(text) == 162
    # the 67-character URL counts 23; "@alice@example.social" counts as "@alice" (15 fewer)
    assert status_length(text) == 162 - 67 + 23 - 15 == 103


# Cross-check against Mastodon.py's Mastodon.get_status_length, which mirrors the server's count.
# Its simplified regexes part from the server's in places, covered by hand above instead: non-Latin
# or unusual path characters, other schemes, t.co, "=@", "@x" after a mention, IDN mention domains,
# over-long URLs/labels, unstripped whitespace and spoiler/text clusters; this corpus avoids them.
FRAGMENTS = [
    "Hello world",
    "Grüße aus Köln",
    "déjà vu",
    "日本語のテキスト",
    "한국어 문장",
    "\u1100\u1161\u11a8\u1102\u1165",
    "e\u0301",
    "n\u0303a\u0308",
    "👩\u200d👩\u200d👧\u200d👦",
    "🇩🇪",
    "🇩🇪🇫🇷🇯🇵",
    "👍🏽",
    "🧑🏿\u200d💻",
    "🏳\ufe0f\u200d⚧\ufe0f",
    "1\ufe0f\u20e3",
    "❤\ufe0f",
    "🫠",
    "🐦\u200d🔥",
    "🇺🇦🇺🇦",
    "#hashtag",
    "#日本語",
    "#CamelCaseTag",
    "@alice",
    "@alice@example.social",
    "@bob_b@mastodon.example.org",
    "@Carol@Sub.Example.COM",
    "👋 @alice@example.social!",
    "(see @alice@example.social)",
    "https://example.com",
    "https://example.com/",
    "http://www.example.org/path/to/page.html",
    "https://example.com/search?q=mastodon&lang=en#results",
    "https://sub.domain.co.uk:8080/a/b",
    "https://example.com/" + "a" * 150,
    "https://example.org/archive/" + "x" * 500 + "?page=2",
    "https://en.wikipedia.org/wiki/Foo_(bar)",
    "(https://example.com/in/parens)",
    "https://example.com/end.",
    "https://example.com/x, and more",
    "https://example.com/x!",
    "https://example.com/x?",
    "https://bücher.de/katalog",
    "https://xn--bcher-kva.de/",
    "https://example.com/%E2%9C%93",
    "HTTPS://EXAMPLE.COM/UPPER",
    "http://a.b.c.example.net/~user/",
    "😀https://example.com/emoji-before",
    "https://example.com/a_b-c~d",
    "[link](https://example.com/md)",
    "example.com",
    "www.example.com/path",
    "bob@example.com",
    "price: $5 & 10% off",
    "a\tb",
]
SEPARATORS = [" ", "\n", "\n\n", ", ", " — ", " 🎉 "]


def _corpus() -> list[str]:
    rng = random.Random(500)
    mixed = [rng.choice(SEPARATORS).join(rng.sample(FRAGMENTS, rng.randint(2, 6))) for _ in range(100)]
    return FRAGMENTS + mixed


CORPUS = _corpus()


def test_corpus_is_large_and_has_long_statuses() -> None:
    assert len(CORPUS) >= 60
    assert any(len(text) > 500 and status_length(text) < 500 for text in CORPUS)


@pytest.mark.parametrize("text", CORPUS)
def test_matches_mastodon_py(text: str) -> None:
    mastodon = pytest.importorskip("mastodon")
    assert status_length(text) == mastodon.Mastodon.get_status_length(text)


@pytest.mark.parametrize("spoiler", ["CW", "Spoiler: 🇩🇪 politics", "https://example.com/not-shortened"])
def test_matches_mastodon_py_with_spoiler(spoiler: str) -> None:
    mastodon = pytest.importorskip("mastodon")
    for text in CORPUS[:20]:
        assert status_length(text, spoiler) == mastodon.Mastodon.get_status_length(text, spoiler)
