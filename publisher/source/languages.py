"""The language codes a Mastodon server accepts for a status, checked the way Mastodon checks them.

Mastodon's `LanguagesHelper::SUPPORTED_LOCALES` (app/helpers/languages_helper.rb) is every ISO 639-1 code,
a short list of ISO 639-3 codes and four regional Chinese variants. It replaces any other code with its own
guess, so a typo would be published under the wrong language without a word.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from publisher.errors import did_you_mean

# Mastodon's own selections, facts rather than data: the ISO 639-1 codes come from pycountry.
MASTODON_ISO_639_3 = (
    "ast chr ckb cnr jbo kab kmr ldn lfn sco sma smj szl tai tok xal zba zgh".split()
)  # kmr and tai are in Mastodon 4.2, gone later; statuses in them still exist, so both are kept
MASTODON_REGIONAL = ("zh-CN", "zh-HK", "zh-TW", "zh-YUE")


@functools.cache
def supported_languages() -> frozenset[str]:
    return frozenset(iso_639_1_codes()) | frozenset(MASTODON_ISO_639_3) | frozenset(MASTODON_REGIONAL)


def iso_639_1_codes() -> set[str]:
    """The two-letter codes of pycountry's ISO 639-3 table, read straight from its JSON file: importing
    pycountry and building its objects takes 120 ms and 18 MiB on every run; the file alone, 13 ms, 4 MiB."""
    spec = importlib.util.find_spec("pycountry")
    table = Path(spec.origin).parent / "databases" / "iso639-3.json" if spec and spec.origin else None
    if table is None or not table.is_file():  # another layout of the package: its own API
        import pycountry

        return {language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}
    return {entry["alpha_2"] for entry in json.loads(table.read_bytes())["639-3"] if "alpha_2" in entry}


def language_problem(code: str) -> str | None:
    """None when Mastodon accepts `code` as it is; else what is wrong and what to write instead."""
    if code in supported_languages():
        return None
    return f"{code!r} is not a language code Mastodon accepts; {_suggestion(code)}"


def _suggestion(code: str) -> str:
    normalised = code.replace("_", "-").lower()
    by_lower = {supported.lower(): supported for supported in supported_languages()}
    if normalised in by_lower:
        return f"use {by_lower[normalised]!r} (spelled exactly so)"
    base = normalised.split("-", 1)[0]
    if base != code and base in supported_languages():
        return f"use {base!r} (Mastodon keeps only the language, not the region)"
    name_match = _code_for_name(code)
    if name_match:
        return f"use {name_match!r}"
    close = did_you_mean(code.lower(), sorted(supported_languages()))
    return (f"{close} " if close else "") + "use an ISO 639-1 code like en, de or pt"


def _code_for_name(name: str) -> str | None:
    """'english' -> 'en', 'German' -> 'de'."""
    import pycountry

    try:
        language = pycountry.languages.lookup(name)
    except LookupError:
        return None
    code = getattr(language, "alpha_2", None) or getattr(language, "alpha_3", None)
    return code if code in supported_languages() else None


def _accepted(code: str) -> str:
    if problem := language_problem(code):
        raise ValueError(problem)
    return code


LanguageCode = Annotated[str, AfterValidator(_accepted)]  # a field type for the models that carry one
