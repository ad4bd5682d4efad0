"""One sandboxed Jinja environment turning a post into its status text."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"


class TemplateProblem(Exception):
    def __init__(self, template: str, line: int | None, message: str):
        self.template = template
        self.line = line
        super().__init__(message)


def builtin_template(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """Only the top-level status templates shipped with publish; the preview's HTML stays out of reach."""
    path = BUILTIN_TEMPLATES / name
    if "/" in name or "\\" in name or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), str(path), lambda: True


def hashtag(tag: str) -> str:
    return "#" + "".join(str(tag).lstrip("#").split())


class Renderer:
    """Templates from the user's folder first, then the built-in default. Compiled templates are cached."""

    def __init__(self, templates_dir: Path):
        self.templates_dir = templates_dir
        loader = jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(templates_dir), jinja2.FunctionLoader(builtin_template)]
        )
        self.env = SandboxedEnvironment(
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
        except jinja2.TemplateSyntaxError:
            return True
        return True

    def render(self, name: str, context: dict) -> str:
        try:
            template = self.env.get_template(name)
            return template.render(context).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(
                self._shown(exc.name or name), exc.lineno, exc.message or str(exc)
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(name, None, f"template not found: {exc.name}") from None
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            shown, line = self._error_location(exc, name)
            raise TemplateProblem(shown, line, str(exc)) from None

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
