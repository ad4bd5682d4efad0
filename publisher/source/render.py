"""One bounded, sandboxed Jinja environment turning a post into its status text."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

from publisher.source.confine import Confinement, RefusedPath, read_regular, utf8_text
from publisher.source.template_bounds import BoundedEnvironment, OverBudget, RenderBudget

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"


class TemplateProblem(Exception):
    def __init__(self, template: str, line: int | None, message: str, hint: str = ""):
        self.template = template
        self.line = line
        self.hint = hint
        super().__init__(message)


class TemplateFileError(jinja2.TemplateError):
    """A template file that may not or cannot be used: outside the repository, a loop, not UTF-8."""

    def __init__(self, path: Path, message: str, hint: str):
        self.path = path
        self.hint = hint
        super().__init__(message)


class ConfinedLoader(jinja2.BaseLoader):
    """The user's templates folder, like FileSystemLoader, but a template (an include, an import, a parent it
    extends) that resolves outside the repository is refused, never read."""

    def __init__(self, folder: Path, confinement: Confinement):
        self.folder = folder
        self.confinement = confinement

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))  # refuses `..`
        data = self._read(path)
        if data is None:
            raise jinja2.TemplateNotFound(template)
        return _decoded(data, path), str(path), lambda: True

    def _read(self, path: Path) -> bytes | None:
        """The file's bytes; None when there is no such file (or a folder, a pipe): then the built-in."""
        try:
            real = self.confinement.real_path(path)
            return read_regular(real) if self.confinement.is_regular_file(real) else None
        except RefusedPath as exc:
            raise TemplateFileError(path, str(exc), exc.hint) from None
        except OSError as exc:
            message = f"cannot be read: {exc.strerror or exc}"
            raise TemplateFileError(path, message, "check the file's permissions") from None


def _decoded(data: bytes, path: Path) -> str:
    try:
        return utf8_text(data)
    except UnicodeDecodeError:
        raise TemplateFileError(path, "not UTF-8 text", "save the file as UTF-8") from None


def builtin_template(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """Only the top-level status templates shipped with publish; the preview's HTML stays out of reach."""
    path = BUILTIN_TEMPLATES / name
    if "/" in name or "\\" in name or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), str(path), lambda: True


def runtime_message(exc: Exception) -> str:
    """What went wrong while rendering, in the words of Jinja or Python."""
    if isinstance(exc, RecursionError):
        return "recursion too deep: a macro, a `recursive` loop, an include or an extends never ends"
    if isinstance(exc, (jinja2.TemplateError, OverBudget, TypeError, ValueError, ArithmeticError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def hashtag(tag: str) -> str:
    return "#" + "".join(str(tag).lstrip("#").split())


class Renderer:
    """Templates from the user's folder first, then the built-in default. Compiled templates are cached.

    `confinement`: the repository's; `budget`: what one rendering may take (time, output)."""

    def __init__(self, templates_dir: Path, confinement: Confinement, budget: RenderBudget = RenderBudget()):
        self.templates_dir = templates_dir
        loader = jinja2.ChoiceLoader(
            [ConfinedLoader(templates_dir, confinement), jinja2.FunctionLoader(builtin_template)]
        )
        self.env = BoundedEnvironment(
            budget,
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # statuses are plain text; the HTML preview escapes on its own
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,
        )
        self.env.filters["hashtag"] = hashtag

    def has_template(self, name: str) -> bool:
        try:
            self.env.get_template(name)
        except jinja2.TemplateNotFound:
            return False
        except Exception:  # noqa: BLE001 - it is there but broken: render says how
            return True
        return True

    def render(self, name: str, context: dict) -> str:
        try:
            return self.env.render(self.env.get_template(name), context).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(
                self._shown(exc.name or name), exc.lineno, exc.message or str(exc)
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(name, None, f"template not found: {exc.name}") from None
        except TemplateFileError as exc:
            raise TemplateProblem(self._shown(str(exc.path)), None, str(exc), exc.hint) from None
        except Exception as exc:  # noqa: BLE001 - a template is the user's code: what it raises is theirs to fix
            shown, line = self._error_location(exc, name)
            raise TemplateProblem(shown, line, runtime_message(exc), getattr(exc, "hint", "")) from None

    def _error_location(self, exc: Exception, name: str) -> tuple[str, int | None]:
        """Jinja rewrites tracebacks so template frames carry the template file and line."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2") or frame.filename == "<template>":
                return self._shown(frame.filename), frame.lineno
        return self._shown(name), None

    def _shown(self, name: str) -> str:
        path = Path(name)
        for base in (self.templates_dir, BUILTIN_TEMPLATES):
            if path.is_absolute() and path.is_relative_to(base):
                return (base.name / path.relative_to(base)).as_posix()
        if path.is_absolute():
            return path.name
        return f"{self.templates_dir.name}/{name}"
