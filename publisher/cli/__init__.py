"""The `publish` command: parse, call one library function, print, map errors to exit codes.

Exports `main` (the console script), `app` (the typer app, for tests' CliRunner) and `Collaborators` (a
fixed clock or limits fetch, passed in as `obj`). The commands live in `pipeline` and `repository`; what they
share in `common`.
"""

# No `from __future__ import annotations`: typer reads every command's annotations on each run, and would
# compile and evaluate each one as a string (half of building the command line).
import contextlib
import gc
import os
import sys

import typer

from publisher.cli import pipeline, repository  # noqa: F401 - importing them registers their commands
from publisher.cli.common import Collaborators, app
from publisher.errors import EXIT_INVALID, EXIT_PUBLISH_FAILED


def main(args: list[str] | None = None, obj: Collaborators | None = None) -> None:
    """The console script; `args` and `obj` are for callers that fix the clock (tests)."""
    # publish uses no pydantic plugins; looking for them reads the metadata of every installed package.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    arguments = sys.argv[1:] if args is None else args
    collecting = gc.isenabled()
    gc.disable()
    try:
        app(arguments, prog_name="publish", obj=obj)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a raw traceback
        from publisher.output.crash import crash_report

        report = crash_report(exc, os.environ, debug="--debug" in arguments)
        typer.echo(report, err=True)
        with contextlib.suppress(ImportError):  # a document too, unless what broke is publish's own code
            if "--json" in arguments:
                from publisher.output.failure import crash_json

                typer.echo(crash_json(report), nl=False)
        sys.exit(EXIT_PUBLISH_FAILED)
    finally:
        # The interpreter's last garbage collection would walk every object of the run (pydantic's
        # schemas, every post) only to free them at exit anyway: about 0.2 s. Frozen objects are skipped.
        gc.freeze()
        if collecting:
            gc.enable()
        else:  # as the caller had it
            gc.disable()


__all__ = ["app", "main", "Collaborators", "EXIT_INVALID"]
