"""The commands that set up and look after a repository: init, new, login, whoami, status, state, import,
limits."""

# No `from __future__ import annotations`: typer reads every command's annotations on each run, and would
# compile and evaluate each one as a string (half of building the command line).
import os
from datetime import datetime
from pathlib import Path

import typer

from publisher.cli.common import ACCOUNT, CONFIG, JSON, app, clock_of, fail, setup_logging, work_begins
from publisher.errors import PublishError


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
