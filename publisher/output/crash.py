"""What `publish` prints when something unexpected happens: one line, and the traceback only on --debug.

Neither may show a token. The token's variable is not known this far out, so every environment value that
could be a credential is censored, and so is anything after "Bearer".
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping

from publisher import ACTION_REPOSITORY
from publisher.source.untrusted import REDACTED, censor_bearer

# Mastodon's tokens are 43 characters of URL-safe base64; other servers' are similar. Paths (with "/") and
# short values stay readable in a traceback.
CREDENTIAL_LIKE = re.compile(r"[A-Za-z0-9_\-.~+=]{20,}")
ISSUES = f"https://github.com/{ACTION_REPOSITORY}/issues"


def crash_report(exc: BaseException, environ: Mapping[str, str], *, debug: bool) -> str:
    summary = f"error: unexpected {type(exc).__name__}: {exc}".splitlines()[0][:500]
    lines = [summary, f"error: this is a bug in publish; nothing more was sent. Please report it: {ISSUES}"]
    if debug:
        lines.append("".join(traceback.format_exception(exc)).rstrip())
    else:
        lines.append("error: run the command again with --debug to see the traceback")
    return censor("\n".join(lines), environ)


def censor(text: str, environ: Mapping[str, str]) -> str:
    """`text` without any environment value long enough to be a token, and without bearer credentials."""
    for value in sorted(_secret_candidates(environ), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return censor_bearer(text)


def _secret_candidates(environ: Mapping[str, str]) -> set[str]:
    return {value.strip() for value in environ.values() if CREDENTIAL_LIKE.fullmatch(value.strip())}
