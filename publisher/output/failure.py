"""What a failed command prints: lines for people on stderr and, with --json, a document on stdout.

The document has the same `version` as every other one, an `error` and the `problems` of invalid input:
a script reads why the command failed from stdout whatever the command was."""

from __future__ import annotations

from publisher.errors import EXIT_PUBLISH_FAILED, ApiError, InvalidInput, Problem, PublishError
from publisher.output.document import JSON_VERSION, json_document


def error_lines(exc: PublishError) -> list[str]:
    """The error as stderr shows it, one message a line; invalid input counted first."""
    counted = (
        [f"{len(exc.problems)} problem(s) found; nothing was sent."] if isinstance(exc, InvalidInput) else []
    )
    return counted + str(exc).splitlines()


def failure_json(exc: PublishError) -> str:
    problems = exc.problems if isinstance(exc, InvalidInput) else ()
    document = {
        "version": JSON_VERSION,
        "error": error_dict(exc),
        "problems": [problem_dict(problem) for problem in problems],
    }
    return json_document(document)


def error_dict(exc: PublishError) -> dict:
    message = error_lines(exc)[0] if isinstance(exc, InvalidInput) else exc.message
    return {
        "type": type(exc).__name__,
        "message": message,
        "hint": exc.hint or None,
        "http_status": http_status(exc),
        "exit_code": exc.exit_code,
    }


def http_status(exc: BaseException | None) -> int | None:
    """The server's HTTP status behind the error, also where a friendlier error replaced the ApiError."""
    for _ in range(8):  # a few links of the chain; never round a cycle
        if exc is None or isinstance(exc, ApiError):
            break
        exc = exc.__cause__ or exc.__context__
    return exc.status if isinstance(exc, ApiError) else None


def problem_dict(problem: Problem) -> dict:
    return {
        "path": problem.path,
        "line": problem.line,
        "field": problem.field or None,
        "message": problem.message,
        "hint": problem.hint or None,
    }


def crash_json(report: str) -> str:
    """The document of an unexpected error (a bug), from the censored report's first line."""
    message = report.splitlines()[0].removeprefix("error: ")
    error = {
        "type": "Bug",
        "message": message,
        "hint": "run the command again with --debug to see the traceback, and report it",
        "http_status": None,
        "exit_code": EXIT_PUBLISH_FAILED,
    }
    return json_document({"version": JSON_VERSION, "error": error, "problems": []})
