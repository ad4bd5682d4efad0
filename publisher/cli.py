"""The `publish` command: parse, call one library function, print, map errors to exit codes."""

# No `from __future__ import annotations`: typer reads every command's annotations on each run, and would
# compile and evaluate each one as a string (half of building the command line).
import contextlib
import gc
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from publisher import __version__
from publisher.errors import EXIT_INVALID, EXIT_PUBLISH_FAILED, InvalidInput, PublishError

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


def colour_on_stdout() -> bool:
    from publisher.output import use_colour

    return use_colour(sys.stdout.isatty(), os.environ)


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


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Repository folder (created if missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files with the defaults."),
) -> None:
    """Scaffold publish.toml, posts/, templates/ and a CI workflow; existing files are kept unless --force."""
    from publisher.scaffold.starter import init_report, init_repository

    try:
        result = init_repository(directory, force=force)
    except PublishError as exc:
        raise fail(exc) from None
    typer.echo(init_report(result))


@app.command()
def new(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="Title of the post: its first line and its file name."),
    config: Path = CONFIG,
    posts_dir: Path | None = typer.Option(
        None, "--dir", help="Posts folder (default: [publish] posts of publish.toml, else ./posts)."
    ),
    day: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Day (default: today)."),
    slug: str | None = typer.Option(None, "--slug", help="File name without .md (default: from the title)."),
) -> None:
    """Create a new post file <posts>/<year>/<slug>.md from a template."""
    from publisher.scaffold.starter import new_post

    when = day.date() if day else None
    try:
        path = new_post(config, title, clock=clock_of(ctx), posts_dir=posts_dir, day=when, slug=slug)
    except PublishError as exc:
        raise fail(exc, config) from None
    typer.echo(str(path))


@app.command()
def login(
    ctx: typer.Context,
    instance: str | None = typer.Option(
        None, "--instance", help="e.g. https://mastodon.social (default: the account's in publish.toml)."
    ),
    account: str | None = typer.Option(None, "--account", help="Account in publish.toml the token is for."),
    config: Path = CONFIG,
    website: str | None = typer.Option(None, "--website", help="Link shown with the app name, e.g. a repo."),
) -> None:
    """Register an app on an instance and obtain a token interactively; prints where to store it."""
    from publisher.mastodon.login import login as run_login
    from publisher.mastodon.login import storage_instructions

    def ask_code(url: str) -> str:
        typer.echo(f"Open this address in a browser, sign in and authorize publish:\n\n  {url}\n")
        return typer.prompt("Paste the authorization code")

    setup_logging(False)  # a retry says so on stderr
    try:
        options = {"instance": instance, "account": account, "website": website}
        result = run_login(config, ask_code=ask_code, clock=clock_of(ctx), **options)
    except PublishError as exc:
        raise fail(exc, config) from None
    typer.echo(storage_instructions(result))


@app.command()
def whoami(
    ctx: typer.Context,
    config: Path = CONFIG,
    account: str | None = typer.Option(None, "--account", help="Account in publish.toml (default: first)."),
    json_output: bool = JSON,
) -> None:
    """Verify the configured token and show whose account it opens."""
    setup_logging(False)
    from publisher.mastodon.login import whoami as check_token
    from publisher.output.reports import whoami_json, whoami_text

    try:
        who = check_token(config, account=account, environ=os.environ, clock=clock_of(ctx))
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    typer.echo((whoami_json if json_output else whoami_text)(who), nl=False)


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


@app.command("status")
def status(config: Path = CONFIG, json_output: bool = JSON) -> None:
    """List what the state file knows: post id, status URL, published or scheduled time, last hash."""
    from publisher import app as library
    from publisher.output.status_report import status_json, status_text

    try:
        state = library.recorded_state(config)
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    typer.echo(status_json(state) if json_output else status_text(state), nl=False)


@app.command("import")
def import_command(
    ctx: typer.Context,
    config: Path = CONFIG,
    account: str | None = ACCOUNT,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be recorded and written."),
    write_files: Path | None = typer.Option(
        None, "--write-files", help="Write a post file (and its media) here for each status no file matches."
    ),
    json_output: bool = JSON,
) -> None:
    """Adopt the account's existing statuses into the state by matching post files; nothing is sent."""
    setup_logging(False)
    from publisher.apply.importer import import_statuses
    from publisher.output.imports import import_json, import_text

    work_begins()
    try:
        result = import_statuses(
            config,
            clock=clock_of(ctx),
            environ=os.environ,
            account=account,
            dry_run=dry_run,
            write_files=write_files,
        )
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    typer.echo(import_json(result) if json_output else import_text(result), nl=False)


state_commands = typer.Typer(
    help="What the state file records; `mv` and `rm` change it without touching the server.",
    invoke_without_command=True,
)
app.add_typer(state_commands, name="state")


@state_commands.callback()
def state_list(ctx: typer.Context, config: Path = CONFIG, json_output: bool = JSON) -> None:
    """Without a command: the same as `publish status`."""
    if ctx.invoked_subcommand is None:
        status(config, json_output)


@state_commands.command("mv")
def state_mv(
    old: str = typer.Argument(..., help="The post id the record has."),
    new: str = typer.Argument(..., help="The post id it should have (its file's id now)."),
    config: Path = CONFIG,
) -> None:
    """Move a record to another post id (replies follow); nothing is sent to the server."""
    from publisher.plan.state_edit import move_record

    try:
        record = move_record(config, old, new)
    except PublishError as exc:
        raise fail(exc, config) from None
    typer.echo(f"moved {old} -> {new}" + (f" ({record.url})" if record and record.url else ""))


@state_commands.command("rm")
def state_rm(
    post_id: str = typer.Argument(..., help="The post id to forget."),
    config: Path = CONFIG,
) -> None:
    """Forget a record; its status stays on the server (a later sync may adopt it again)."""
    from publisher.plan.state_edit import remove_record

    try:
        record = remove_record(config, post_id)
    except PublishError as exc:
        raise fail(exc, config) from None
    kept = f"; {record.url} stays on the server" if record and record.url else ""
    typer.echo(f"forgot {post_id}{kept}")


@app.command()
def limits(
    ctx: typer.Context,
    config: Path = CONFIG,
    json_output: bool = JSON,
    account: str | None = ACCOUNT,
    refresh: bool = typer.Option(False, "--refresh", help="Ask each instance now (no token needed)."),
) -> None:
    """Show the limits posts are checked against and where they come from: publish.toml, instance, defaults.

    The instance's own limits are cached in .publish-cache/ beside the state file; `publish sync` refreshes
    them when they are older than a day, `--refresh` does it now.
    """
    from publisher import app as library
    from publisher.output.limits_report import limits_json, limits_text

    clock = clock_of(ctx)
    try:
        if refresh:
            effective = library.refresh_limits(config, clock=clock, account=account)
        else:
            effective = library.limits_in_use(config, account=account)
    except PublishError as exc:
        raise fail(exc, config, json_output) from None
    typer.echo((limits_json if json_output else limits_text)(effective, clock.now()), nl=False)


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
