"""Language codes are checked the way Mastodon checks them, from pycountry's table."""

from __future__ import annotations

import pycountry
import pytest

from publisher.source.languages import iso_639_1_codes, language_problem


def test_the_codes_read_from_pycountrys_file_are_the_ones_its_api_gives():
    assert iso_639_1_codes() == {lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    assert len(iso_639_1_codes()) == 184  # ISO 639-1, as in Mastodon's LanguagesHelper::ISO_639_1


@pytest.mark.parametrize("code", ["en", "de", "pt", "no", "zh", "tok", "ckb", "zh-CN", "zh-YUE"])
def test_codes_mastodon_accepts(code):
    assert language_problem(code) is None


@pytest.mark.parametrize(
    ("code", "suggestion"),
    [
        ("english", "use 'en'"),
        ("German", "use 'de'"),
        ("deu", "use 'de'"),
        ("en-US", "use 'en' (Mastodon keeps only the language"),
        ("en_GB", "use 'en' (Mastodon keeps only the language"),
        ("EN", "use 'en' (spelled exactly so)"),
        ("zh-tw", "use 'zh-TW' (spelled exactly so)"),
        ("xx", "use an ISO 639-1 code like en, de or pt"),
    ],
)
def test_codes_mastodon_would_replace_get_a_suggestion(code, suggestion):
    assert suggestion in language_problem(code)
