"""The pipeline's commands: check, plan, sync (and sync --sandbox), preview."""

# No `from __future__ import annotations`: typer reads every command's annotations on each run, and would
# compile and evaluate each one as a string (half of building the command line).
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from publisher.cli.common import (
    ACCOUNT,
    CONFIG,
    JSON,
    MARKDOWN,
    MAX_LENGTH,
    OFFLINE,
    RECREATE_MISSING,
    REFRESH,
    annotate,
    app,
    clock_of,
    colour_on_stdout,
    fail,
    note_limits,
    setup_logging,
    warn,
    work_begins,
)
from publisher.errors import EXIT_INVALID, EXIT_PUBLISH_FAILED, PublishError

if TYPE_CHECKING:
    from publisher.clock import Clock


@app.command()
def check(ctx: typer.Context, config: Path = CONFIG, json_output: bool = JSON) -> None:
    """Validate posts, templates and config only (no network); for pre-commit hooks."""
    from publisher import app as library
    from publisher.output.reports import check_json, check_text

    note_limits(ctx, config)
    try:
        project = library.check(config)
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    for problem in project.warnings:
        warn(str(problem))
    annotate("warning", project.warnings, config)
    typer.echo((check_json if json_output else check_text)(project), nl=False)


@app.command()
def plan(
    ctx: typer.Context,
    config: Path = CONFIG,
    json_output: bool = JSON,
    account: str | None = ACCOUNT,
    prune: bool = typer.Option(False, "--prune", help="Show orphaned posts as deletions."),
    markdown: bool = MARKDOWN,
    offline: bool = OFFLINE,
    max_length: int | None = MAX_LENGTH,
    refresh: bool = REFRESH,
    recreate_missing: bool = RECREATE_MISSING,
) -> None:
    """Render, validate and diff every post against the state; print what `sync` would do."""
    setup_logging(False)  # a retried limits read or --refresh says so on stderr
    print_plan(
        ctx,
        config,
        json_output,
        account,
        prune,
        markdown=markdown,
        offline=offline,
        limit=max_length,
        refresh=refresh or recreate_missing,
        recreate_missing=recreate_missing,
    )


def print_plan(
    ctx: typer.Context,
    config: Path,
    json_output: bool,
    account: str | None,
    prune: bool,
    *,
    markdown: bool = False,
    offline: bool = False,
    limit: int | None = None,
    refresh: bool = False,
    recreate_missing: bool = False,
) -> None:
    from publisher import app as library
    from publisher import output  # each renderer is imported when first used
    from publisher.mastodon.instance import public_fetch

    if json_output and markdown:
        typer.echo("error: choose one of --json and --markdown", err=True)
        raise typer.Exit(EXIT_INVALID)
    clock = clock_of(ctx)
    fetch = None if offline else getattr(ctx.obj, "instance_fetch", None) or public_fetch(clock, quick=True)
    work_begins()
    try:
        compare = library.Refresh(os.environ, recreate_missing=recreate_missing) if refresh else None
        result = library.make_plan(
            config, clock=clock, prune=prune, account=account, fetch=fetch, warn=warn, refresh=compare
        )
    except PublishError as exc:
        note_limits(ctx, config, account)
        raise fail(exc, config, json_output) from None
    note_limits(ctx, config, account)
    plan, limits = result.plan, library.limits_by_account(result.project)
    if json_output:
        typer.echo(output.plan_json(plan, limits), nl=False)
    elif markdown:
        typer.echo(output.plan_markdown(plan, limits, max_length=limit), nl=False)
    else:
        colour = colour_on_stdout()
        shown = output.plan_text(plan, limits, colour=colour)
        typer.echo(shown, nl=False, color=colour)  # else click strips ANSI


@app.command()
def sync(
    ctx: typer.Context,
    config: Path = CONFIG,
    json_output: bool = JSON,
    account: str | None = ACCOUNT,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only show the plan (same output as `publish plan`)."
    ),
    prune: bool = typer.Option(False, "--prune", help="Also delete statuses whose post file is gone."),
    force: bool = typer.Option(False, "--force", help="Allow a plan that deletes or replaces many posts."),
    allow_replace: bool = typer.Option(
        False, "--allow-replace", help="Delete and re-create posts whose visibility or account changed."
    ),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Sync to a built-in local Mastodon-compatible server, with its own state file.",
    ),
    lock_timeout: float = typer.Option(
        60.0, "--lock-timeout", help="Seconds to wait for another sync to finish."
    ),
    max_duration: float | None = typer.Option(
        None, "--max-duration", min=0, help="Seconds: stop cleanly between posts so a CI job ends in time."
    ),
    parallel_uploads: int = typer.Option(
        4,
        "--parallel-uploads",
        min=1,
        max=16,
        help="Files uploading at once, per account (see README, Pipelined uploads).",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log every request (tokens are never shown)."
    ),
    markdown: bool = typer.Option(False, "--markdown", help="With --dry-run: the plan as Markdown."),
    offline: bool = OFFLINE,
    max_length: int | None = MAX_LENGTH,
    refresh: bool = REFRESH,
    recreate_missing: bool = RECREATE_MISSING,
) -> None:
    """Apply the plan: upload media, create, edit or schedule statuses, record each in the state file."""
    from publisher.plan.safety import SyncOptions

    if dry_run:
        shown = (markdown, offline, max_length, refresh, recreate_missing)
        plan(ctx, config, json_output, account, prune, *shown)
        return
    if markdown:
        typer.echo("error: --markdown shows a plan; use it with --dry-run (or `publish plan`)", err=True)
        raise typer.Exit(EXIT_INVALID)
    setup_logging(verbose)
    options = SyncOptions(
        prune=prune,
        force=force,
        allow_replace=allow_replace,
        account=account,
        lock_timeout=lock_timeout,
        upload_workers=parallel_uploads,
        max_duration=max_duration,
        refresh=refresh or recreate_missing,
        recreate_missing=recreate_missing,
    )
    run_sync(config, options, clock=clock_of(ctx), json_output=json_output, sandbox=sandbox)


def run_sync(config: Path, options, *, clock: "Clock", json_output: bool, sandbox: bool) -> None:
    from publisher import app as library
    from publisher import output  # each renderer is imported when first used
    from publisher.output.progress import sync_progress

    call = library.sync_sandbox if sandbox else library.sync
    live = not json_output and sys.stdout.isatty()
    echo = None if json_output else typer.echo
    work_begins()
    try:
        with sync_progress(live=live, colour=colour_on_stdout(), echo=echo) as on_event:
            result = call(config, clock=clock, environ=os.environ, options=options, on_event=on_event)
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    limits = library.limits_by_account(result.project)
    typer.echo(output.sync_json(result, limits) if json_output else output.sync_summary(result), nl=False)
    if sandbox:
        from publisher.app import preview_index

        index = preview_index(result.project.config.root)
        typer.echo(f"Preview of what the sandbox received: {index}", err=json_output)
    for event in result.mismatches:
        warn(f"{event.post_id}: the server did not keep what was sent: {event.detail}")
    if result.mismatches:
        raise typer.Exit(EXIT_PUBLISH_FAILED)


@app.command()
def preview(
    ctx: typer.Context,
    html: Path = typer.Option(..., "--html", help="Folder to write index.html and the media it shows into."),
    config: Path = CONFIG,
    account: str | None = ACCOUNT,
) -> None:
    """Write a static HTML preview of the posts as they would appear (no network, nothing sent)."""
    from publisher import app as library
    from publisher.output.preview.page import write_preview

    work_begins()
    try:
        index = write_preview(library.make_plan(config, clock=clock_of(ctx), account=account), html)
    except PublishError as exc:
        raise fail(exc, config) from None
    typer.echo(f"Preview written: {index}")
