"""`publish preview --html DIR`: a static, self-contained page showing each post as a Mastodon-like card.

The page loads nothing from elsewhere: styles are inline, media files are copied next to it, and a
Content-Security-Policy forbids any other request. Its own Jinja environment autoescapes (statuses are
plain text, this is HTML)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from publisher.errors import InvalidInput, Problem
from publisher.output.common import iso, summary_line
from publisher.output.preview.cards import Card, MediaFolder, plan_card
from publisher.output.preview.html import status_html
from publisher.output.preview.stored import SandboxContents, sandbox_cards
from publisher.source.config import Limits
from publisher.source.confine import Confinement, RefusedPath
from publisher.source.project import limits_by_account

INDEX = "index.html"


@dataclass(frozen=True)
class Page:
    title: str
    summary: str
    generated: str
    cards: tuple[Card, ...]


def write_preview(result, out_dir: Path) -> Path:
    """The preview of a PlanResult (app.make_plan) as out_dir/index.html; returns its path."""
    config = result.project.config
    instance = {name: account.instance for name, account in config.accounts.items()}

    def cards(folder: MediaFolder) -> list[Card]:
        return [
            plan_card(change, config.root, limits_by_account(result.project), instance, folder)
            for change in result.plan.changes
        ]

    title, summary = "publish preview", summary_line(result.plan)
    page = Page(title, summary, iso(result.plan.now.replace(microsecond=0)) or "", ())
    return _write(Output(out_dir, config.root, "--html"), cards, page)


def write_sandbox_preview(
    contents: SandboxContents, limits: Limits, out_dir: Path, generated: str = "", *, root: Path
) -> Path:
    """The preview of what the sandbox server received, as out_dir/index.html; out_dir is inside root."""
    counts = f"{len(contents.statuses)} published, {len(contents.scheduled)} scheduled on the sandbox server."

    def cards(folder: MediaFolder) -> list[Card]:
        return sandbox_cards(contents, limits, folder)

    page = Page("publish sandbox: what the server received", counts, generated, ())
    return _write(Output(out_dir, root, "--sandbox"), cards, page)


@dataclass(frozen=True)
class Output:
    """Where a preview goes, the repository's root, and the option that chose the folder."""

    folder: Path
    root: Path
    option: str

    def problem(self, message: str, hint: str) -> InvalidInput:
        return InvalidInput([Problem(str(self.folder), None, self.option, message, hint)])


def _write(output: Output, make_cards, page: Page) -> Path:
    out_dir, index = output.folder, output.folder / INDEX
    _stay_inside(output)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        page = replace(page, cards=tuple(make_cards(MediaFolder(out_dir))))
        index.unlink(missing_ok=True)  # a symlink found there is replaced, never written through
        index.write_text(render_page(page), encoding="utf-8")
    except OSError as exc:
        message = f"cannot write the preview: {exc.strerror or exc}"
        raise output.problem(message, "choose a folder you can write to") from None
    return index


def _stay_inside(output: Output) -> None:
    """A preview folder in the repository must not lead out of it through a symlink (a folder given outside
    the repository is the user's own choice)."""
    if not output.folder.absolute().is_relative_to(output.root):
        return
    confinement = Confinement(output.root)
    try:
        for path in (output.folder, MediaFolder(output.folder).folder):
            confinement.real_path(path)
    except RefusedPath as exc:
        raise output.problem(str(exc), exc.hint) from None


def render_page(page: Page) -> str:
    return environment().get_template("page.html.j2").render(page=page)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("publisher.output.preview", "templates"),
        autoescape=True,  # user text is escaped everywhere; status_html returns Markup it escaped itself
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["status_html"] = status_html
    return env
