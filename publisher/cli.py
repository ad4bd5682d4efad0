"""The `publish` command: parse, call one library function, print, map errors to exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from publisher import __version__
from publisher.errors import EXIT_INVALID, InvalidInput, PublishError

app = typer.Typer(
    help="Publish toots declared as files in a git repository to Mastodon.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CONFIG = typer.Option(Path("publish.toml"), "--config", "-c", help="Path to publish.toml.")
JSON = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
ACCOUNT = typer.Option(None, "--account", help="Only posts of this account (a name under [accounts]).")


def fail(exc: PublishError) -> typer.Exit:
    if isinstance(exc, InvalidInput):
        typer.echo(f"error: {len(exc.problems)} problem(s) found; nothing was sent.", err=True)
    for line in str(exc).splitlines():
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(exc.exit_code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"publish {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Publish toots declared as files in a git repository to Mastodon."""


@app.command()
def check(config: Path = CONFIG, json_output: bool = JSON) -> None:
    """Validate posts, templates and config only (no network); for pre-commit hooks."""
    from publisher import app as library

    try:
        project = library.check(config)
    except PublishError as exc:
        raise fail(exc) from None
    if json_output:
        import json

        typer.echo(json.dumps({"valid": True, "posts": len(project.posts), "drafts": len(project.drafts)}))
    else:
        typer.echo(f"ok: {len(project.posts)} posts valid ({len(project.drafts)} drafts skipped)")


@app.command()
def plan(
    config: Path = CONFIG,
    json_output: bool = JSON,
    account: str | None = ACCOUNT,
    prune: bool = typer.Option(False, "--prune", help="Show orphaned posts as deletions."),
) -> None:
    """Render, validate and diff every post against the state; print what `sync` would do."""
    print_plan(config, json_output, account, prune)


def print_plan(config: Path, json_output: bool, account: str | None, prune: bool) -> None:
    from publisher import app as library
    from publisher.clock import SystemClock
    from publisher.output import plan_json, plan_text

    try:
        result = library.make_plan(config, clock=SystemClock(), prune=prune, account=account)
    except PublishError as exc:
        raise fail(exc) from None
    limits = result.project.config.limits
    typer.echo(plan_json(result.plan, limits) if json_output else plan_text(result.plan, limits), nl=False)


@app.command()
def sync(
    config: Path = CONFIG,
    json_output: bool = JSON,
    account: str | None = ACCOUNT,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show the plan (same output as `publish plan`)."),
    prune: bool = typer.Option(False, "--prune", help="Also delete statuses whose post file is gone."),
    force: bool = typer.Option(False, "--force", help="Allow a plan that deletes or replaces many posts."),
    allow_replace: bool = typer.Option(
        False, "--allow-replace", help="Delete and re-create posts whose visibility or account changed."
    ),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="Sync to a built-in local Mastodon-compatible server, with its own state file."
    ),
    lock_timeout: float = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another sync to finish."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request (tokens are never shown)."),
) -> None:
    """Apply the plan: upload media, create, edit or schedule statuses, record each in the state file."""
    from publisher.safety import SyncOptions

    if dry_run:
        print_plan(config, json_output, account, prune)
        return
    setup_logging(verbose)
    options = SyncOptions(
        prune=prune, force=force, allow_replace=allow_replace, account=account, lock_timeout=lock_timeout
    )
    run_sync(config, options, json_output=json_output, sandbox=sandbox)


def run_sync(config: Path, options, *, json_output: bool, sandbox: bool) -> None:
    import os

    from publisher import app as library
    from publisher.clock import SystemClock
    from publisher.output import sync_event_line, sync_json, sync_summary

    on_event = (lambda event: None) if json_output else (lambda event: typer.echo(sync_event_line(event)))
    call = library.sync_sandbox if sandbox else library.sync
    try:
        result = call(config, clock=SystemClock(), environ=os.environ, options=options, on_event=on_event)
    except PublishError as exc:
        raise fail(exc) from None
    limits = result.project.config.limits
    typer.echo(sync_json(result, limits) if json_output else sync_summary(result), nl=False)


def setup_logging(verbose: bool) -> None:
    import logging

    from publisher.http import SecretFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


__all__ = ["app", "main", "EXIT_INVALID"]
