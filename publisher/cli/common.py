"""What every command shares: the typer app and its options, the collaborators a caller may pass in, and
how errors, warnings, logging and colour reach the terminal."""

# No `from __future__ import annotations`: typer reads every command's annotations on each run, and would
# compile and evaluate each one as a string (half of building the command line).
import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from publisher import __version__
from publisher.errors import InvalidInput, PublishError

if TYPE_CHECKING:
    from publisher.clock import Clock
    from publisher.mastodon.instance import InstanceFetch

app = typer.Typer(
    help="Publish toots declared as files in a git repository to Mastodon.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help and errors: rendering them with rich triples `publish --help`'s time
    # Wide terminals show each command's whole summary; every subcommand inherits -h.
    context_settings={"max_content_width": 120, "help_option_names": ["-h", "--help"]},
)


CONFIG = typer.Option(Path("publish.toml"), "--config", "-c", help="Path to publish.toml.")
JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
ACCOUNT = typer.Option(None, "--account", help="Only posts of this account (a name under [accounts]).")
MARKDOWN = typer.Option(False, "--markdown", help="The plan as Markdown, e.g. for a pull-request comment.")
MAX_LENGTH = typer.Option(
    None,
    "--max-length",
    min=1000,
    help="With --markdown: shorten a longer plan to N characters (GitHub comments hold 65,536).",
)
REFRESH = typer.Option(
    False,
    "--refresh",
    help="Also compare each recorded status with the server (deleted or edited there): 1 request a post.",
)
RECREATE_MISSING = typer.Option(
    False, "--recreate-missing", help="Post again what was deleted on the server (with --refresh)."
)
OFFLINE = typer.Option(
    False,
    "--offline",
    help="Do not ask the servers for their limits; use the cache, else Mastodon's defaults.",
)


@dataclass(frozen=True)
class Collaborators:
    """What a caller may hand the commands as `app(obj=Collaborators(...))`; tests fix the time this way."""

    clock: "Clock | None" = None
    instance_fetch: "InstanceFetch | None" = None  # how plans read a server's limits


def clock_of(ctx: typer.Context) -> "Clock":
    """The clock passed in through `obj`, else the system's."""
    given = getattr(ctx.obj, "clock", None)
    if given is not None:
        return given
    from publisher.clock import SystemClock

    return SystemClock()


def fail(exc: PublishError, config: Path | None = None, json_output: bool = False) -> typer.Exit:
    """Print the error (each problem, annotated for GitHub in a workflow; with --json a document too)."""
    from publisher.output.failure import error_lines, failure_json

    if json_output:
        typer.echo(failure_json(exc), nl=False)
    for line in error_lines(exc):
        typer.echo(f"error: {line}", err=True)
    if isinstance(exc, InvalidInput) and config is not None:
        annotate("error", exc.problems, config)
    return typer.Exit(exc.exit_code)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def annotate(kind: str, problems, config: Path) -> None:
    """In a GitHub Actions job, each problem again as a workflow command, shown on the pull request's diff."""
    from publisher.output.annotations import workflow_commands

    for line in workflow_commands(kind, problems, config.parent, os.environ):
        typer.echo(line, err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"publish {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On an unexpected error, print the traceback too (tokens censored)."
    ),
) -> None:
    """Publish toots declared as files in a git repository to Mastodon."""


def colour_on_stdout() -> bool:
    from publisher.output import use_colour

    return use_colour(sys.stdout.isatty(), os.environ)


def setup_logging(verbose: bool) -> None:
    """Warnings (each retry, each wait) on stderr as `warning: …`; with --verbose every request too, each
    line with its level and module."""
    import logging

    from publisher.mastodon.http_words import Prefixed, SecretFilter

    handler = logging.StreamHandler(sys.stderr)
    if verbose:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(Prefixed("%(message)s"))
    handler.addFilter(SecretFilter())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)


def note_limits(ctx: typer.Context, config: Path, account: str | None = None) -> None:
    """Say on stderr which limits validation uses; a broken config is for the command itself to report."""
    from publisher import app as library
    from publisher.output.limits_report import limits_note

    try:
        effective = library.limits_in_use(config, account=account)
    except PublishError:
        return
    typer.echo(limits_note(effective, clock_of(ctx).now()), err=True)


# Start-up (parsing, imports, pydantic's schemas) builds objects that live until exit and next to no garbage,
# and the collector would scan them over and over (0.013 s of an empty sync's 0.2). `main` pauses it until the
# command's work begins; whatever start-up built is then frozen, so no collection ever scans it again.


def work_begins() -> None:
    """Called by each command whose work grows with the posts or the account (sync, plan, preview, import)
    once it has imported what it needs: the collector `main` paused runs again (the others end first)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
