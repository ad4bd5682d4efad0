"""`publish init` and `publish new`: write a repository's starting files, never over the user's own.

The files come from the package (publisher/scaffold/, and publisher/source/templates/ for the default
template), so what `init` writes is exactly what ships and what the tests check. The workflow names the
action and the version to install; both are filled in from publisher/__init__.py, the one place that holds
them.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2

from publisher import ACTION_REPOSITORY, __version__
from publisher.clock import Clock
from publisher.errors import EXIT_INVALID, PublishError
from publisher.source.config import load_config

log = logging.getLogger(__name__)

# Local files publish writes beside the repository that must not be committed.
GITIGNORE_ENTRIES = (".publish-cache/", ".publish-sandbox/", "publish.state.json.lock", "*.publish-tmp")
GITIGNORE_HEADER = "# publish: local caches, the sandbox's own state, the sync lock and temp files"
SLUG_MAX_LENGTH = 60
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Letters NFKD does not decompose into ASCII, spelled the way people transliterate them.
TRANSLITERATIONS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "Th",
    }
)


class AlreadyInitialised(PublishError):
    """Every file `init` would write exists; nothing was changed."""

    exit_code = EXIT_INVALID


class PostExists(PublishError):
    exit_code = EXIT_INVALID


class InvalidPostName(PublishError):
    """No usable file name for `publish new`: an empty title, one without ASCII letters, or a bad --slug."""

    exit_code = EXIT_INVALID


@dataclass(frozen=True)
class ScaffoldFile:
    destination: str  # posix path relative to the repository root
    source: Traversable
    filled: bool = False  # placeholders of WORKFLOW_VALUES replaced

    def content(self) -> bytes:
        data = self.source.read_bytes()
        return fill_workflow(data.decode("utf-8")).encode("utf-8") if self.filled else data


# `uses: <action>@v<version>` and `version: <version>` in the workflow: this release's action and package.
WORKFLOW_VALUES = {"__ACTION_REPOSITORY__": ACTION_REPOSITORY, "__VERSION__": __version__}


def fill_workflow(text: str) -> str:
    for placeholder, value in WORKFLOW_VALUES.items():
        text = text.replace(placeholder, value)
    return text


@dataclass(frozen=True)
class InitResult:
    root: Path
    written: tuple[str, ...]
    skipped: tuple[str, ...]  # existed and were left byte for byte as they were
    gitignore: str  # "created", "appended" or "unchanged"


def scaffold_files() -> tuple[ScaffoldFile, ...]:
    package = files("publisher")
    data = package / "scaffold"
    return (
        ScaffoldFile("publish.toml", data / "publish.toml"),
        ScaffoldFile("posts/hello-world.md", data / "hello-world.md"),
        ScaffoldFile("templates/default.txt.j2", package / "source" / "templates" / "default.txt.j2"),
        ScaffoldFile(".github/workflows/publish.yml", data / "publish.yml", filled=True),
    )


def init_repository(root: Path, *, force: bool = False) -> InitResult:
    """Write the scaffold under root; existing files are skipped unless `force`, and if all exist, refuse."""
    scaffold = scaffold_files()
    root.mkdir(parents=True, exist_ok=True)
    existing = [item.destination for item in scaffold if (root / item.destination).exists()]
    if not force and len(existing) == len(scaffold):
        raise AlreadyInitialised(
            f"{root.resolve()} is already initialised, every file exists: {', '.join(existing)}; "
            "nothing was written",
            hint="pass --force to overwrite them with the defaults",
        )
    written = [item.destination for item in scaffold if _write(root, item, force)]
    skipped = tuple(name for name in existing if name not in written)
    return InitResult(root, tuple(written), skipped, update_gitignore(root / ".gitignore"))


def _write(root: Path, item: ScaffoldFile, force: bool) -> bool:
    target = root / item.destination
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x" creates or fails atomically, so a file that appears meanwhile is still never overwritten.
        with target.open("wb" if force else "xb") as handle:
            handle.write(item.content())
    except FileExistsError:
        log.info("%s exists; left as it is", target)
        return False
    return True


def update_gitignore(path: Path) -> str:
    """Append the entries .gitignore lacks (never removes or reorders the user's lines)."""
    if not path.exists():
        path.write_text("\n".join((GITIGNORE_HEADER, *GITIGNORE_ENTRIES)) + "\n", encoding="utf-8")
        return "created"
    text = path.read_text(encoding="utf-8")
    present = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in GITIGNORE_ENTRIES if entry not in present]
    if not missing:
        return "unchanged"
    separator = "" if not text or text.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(separator + "\n".join((GITIGNORE_HEADER, *missing)) + "\n")
    return "appended"


def slugify(title: str) -> str:
    """'Hello Wörld!' -> 'hello-world': ASCII letters and digits joined by hyphens."""
    decomposed = unicodedata.normalize("NFKD", title.translate(TRANSLITERATIONS))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > SLUG_MAX_LENGTH:
        slug = slug[:SLUG_MAX_LENGTH].rsplit("-", 1)[0] or slug[:SLUG_MAX_LENGTH]
    return slug


def posts_folder(config_path: Path) -> Path:
    """The posts folder publish.toml names, or posts/ beside it when there is no publish.toml yet."""
    if not config_path.exists():
        return config_path.parent / "posts"
    return config_path.parent / load_config(config_path).publish.posts


def new_post(
    config_path: Path,
    title: str,
    *,
    clock: Clock,
    posts_dir: Path | None = None,
    day: date | None = None,
    slug: str | None = None,
) -> Path:
    """Write <posts>/<year>/<slug>.md with a commented front-matter skeleton; never overwrite."""
    title = " ".join(title.split())
    slug = _checked_slug(slug, title)
    today = day or clock.now().astimezone().date()  # the user's calendar day, not UTC's
    path = (posts_dir or posts_folder(config_path)) / f"{today.year:04d}" / f"{slug}.md"
    text = _post_template().render(title=title, today=today.isoformat(), post_id=f"{today.year:04d}/{slug}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise PostExists(f"{path} already exists", hint="choose another title, or pass --slug") from None
    return path


def _checked_slug(slug: str | None, title: str) -> str:
    if not title:
        raise InvalidPostName("the title is empty", hint='publish new "Hello world"')
    if slug is not None and not SLUG.fullmatch(slug):
        raise InvalidPostName(
            f"--slug {slug!r}: use lowercase letters, digits and hyphens, e.g. --slug my-post"
        )
    slug = slug or slugify(title)
    if not slug:
        raise InvalidPostName(
            f"no ASCII letters or digits to name a file after in {title!r}", hint="pass --slug"
        )
    return slug


def _post_template() -> jinja2.Template:
    source = (files("publisher") / "scaffold" / "post.md.j2").read_text(encoding="utf-8")
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    environment.filters["yaml_string"] = lambda text: json.dumps(text, ensure_ascii=False)  # JSON is YAML
    return environment.from_string(source)


def init_report(result: InitResult) -> str:
    lines = [f"wrote    {name}" for name in result.written]
    lines += [f"skipped  {name} (exists; --force overwrites it)" for name in result.skipped]
    if result.gitignore != "unchanged":
        lines.append(f"{result.gitignore:8} .gitignore (local files publish must not commit)")
    lines += [
        "",
        "Next: set `instance` in publish.toml, run `publish login` and store the token it prints,",
        "then `publish check` and `publish plan`.",
        "The example post is a draft until you remove `draft: true`.",
    ]
    return "\n".join(lines)
