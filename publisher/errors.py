"""The library's own exceptions. Only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

EXIT_OK = 0
EXIT_PUBLISH_FAILED = 1
EXIT_INVALID = 2


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """'did you mean 'x'?' for the closest of `known`, or "" when nothing is close: the start of a hint.

    One typo away (a letter added, dropped, changed or two swapped) always counts: difflib's ratio alone
    finds nothing for a two-letter key (`ix` for `id`)."""
    import difflib

    candidates = list(known)
    close = [name for name in candidates if one_typo_apart(word.lower(), name.lower())]
    close = close or difflib.get_close_matches(word, candidates, n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def one_typo_apart(typed: str, known: str) -> bool:
    """Whether `typed` is `known` with one letter added, dropped, changed, or two neighbours swapped."""
    if typed == known or abs(len(typed) - len(known)) > 1:
        return False
    start = next((i for i, (a, b) in enumerate(zip(typed, known, strict=False)) if a != b), None)
    if start is None:  # one is the other plus a last letter
        return True
    swapped = typed[start : start + 2] == known[start : start + 2][::-1]
    return (
        typed[start + 1 :] == known[start + 1 :]  # changed
        or typed[start:] == known[start + 1 :]  # dropped
        or typed[start + 1 :] == known[start:]  # added
        or (swapped and typed[start + 2 :] == known[start + 2 :])
    )


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as we can."""

    path: str
    line: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class PublishError(Exception):
    """Base of every error the library raises on purpose. `hint`: what to do about it, kept apart from the
    `message` (a JSON document has both) and shown after it: "… (hint: …)"."""

    exit_code = EXIT_PUBLISH_FAILED

    def __init__(self, message: str = "", *, hint: str = ""):
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})" if hint else message)


class InvalidInput(PublishError):
    """Posts, templates, config or state are invalid; nothing was sent."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(sorted(problems, key=lambda p: (p.path, p.line or 0, p.field)))
        super().__init__("\n".join(str(p) for p in self.problems))


class MissingToken(PublishError):
    exit_code = EXIT_INVALID

    def __init__(self, variable: str, account: str):
        self.variable = variable
        super().__init__(
            f"account {account!r}: environment variable {variable} is not set or empty",
            hint=f"export {variable}=<access token>, or store it as a CI secret",
        )


class InvalidToken(PublishError):
    """The token holds characters no access token has: a line break, a space, a control character."""

    exit_code = EXIT_INVALID

    def __init__(self, variable: str | None = None, account: str | None = None):
        self.variable = variable
        holder = f"account {account!r}: environment variable {variable}" if variable else "the access token"
        super().__init__(
            f"{holder} holds characters an access token cannot contain (a line break, space, control or "
            "non-ASCII character); nothing was sent",
            hint="copy the token again, without quotes or line breaks",
        )


class LockTimeout(PublishError):
    exit_code = EXIT_PUBLISH_FAILED


class TimeUp(PublishError):
    """The run's time (--max-duration) ran out during a request or before a wait; a write's outcome may be
    unknown (the next run finds out). Not an ApiError: nothing may catch it and go on."""

    def __init__(self, message: str, *, method: str = "", path: str = ""):
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: {message}" if method else message)


class ApiError(PublishError):
    """The server (or the network in between) refused or failed a request."""

    def __init__(
        self, message: str, *, status: int | None = None, method: str = "", path: str = "", hint: str = ""
    ):
        self.status = status
        self.method = method
        self.path = path
        self.server_message = message
        where = f"{method} {path}: " if method else ""
        code = f"HTTP {status}: " if status else ""
        super().__init__(f"{where}{code}{message}", hint=hint)


class AuthError(ApiError):
    """401 or 403: the token is wrong, revoked or lacks a scope. `hint`: which variable holds the token and
    what to do, kept apart from the server's words (`server_message`)."""


class NotFound(ApiError):
    """404."""


class Unprocessable(ApiError):
    """400 or 422: the server rejected the content; retrying cannot help."""


class RateLimited(ApiError):
    """429, with the moment the limit resets when the server announced it."""

    def __init__(self, message: str, *, reset_at: datetime | None = None, **kwargs):
        self.reset_at = reset_at
        super().__init__(message, **kwargs)


class ServerError(ApiError):
    """5xx, or an answer of the wrong shape: the outcome of a write is unknown."""


class NetworkError(ApiError):
    """Connection refused, reset or timed out: the outcome of a write is unknown."""


class NotConnected(NetworkError):
    """No connection was made (refused, a name that does not resolve, a TLS failure, an address that is no
    URL): nothing reached the server, so even a write may be sent again. `lasting`: another try cannot
    help. The message names the URL and says what to check."""

    def __init__(self, reason: str, *, url: str, hint: str, lasting: bool, method: str = "", path: str = ""):
        self.url = url
        self.lasting = lasting
        super().__init__(reason, method=method, path=path, hint=hint)
        self.message = f"{method} {url}: {reason}" if method else f"{url}: {reason}"  # the URL, not the path
        self.args = (f"{self.message} (hint: {hint})",)


class WaitTooLong(ApiError):
    """The server asked to wait longer than any Mastodon rate-limit window, and no --max-duration allows
    it."""


class MediaProcessingFailed(ApiError):
    """The server could not process an uploaded file, even after a re-upload."""
