"""A template runs under a budget of time and output; whatever it gets wrong is a problem, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.cli import app
from publisher.source.confine import Confinement
from publisher.source.render import Renderer, TemplateProblem
from publisher.source.template_bounds import RenderBudget
from tests.helpers import CliRunner, make_repo, write


class Ticker:
    """A time function that moves on by `step` seconds each time it is read: no real time passes."""

    def __init__(self, step: float):
        self.step = step
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now


def renderer(tmp_path: Path, template: str, budget: RenderBudget = RenderBudget()) -> Renderer:
    write(tmp_path / "templates" / "t.j2", template)
    return Renderer(tmp_path / "templates", Confinement(tmp_path), budget)


def problem_of(renderer: Renderer, context: dict | None = None) -> TemplateProblem:
    with pytest.raises(TemplateProblem) as error:
        renderer.render("t.j2", {"body": "hello", **(context or {})})
    return error.value


ENDLESS = [
    ("nested-range", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
    ("reused-range", "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}"),
    ("nested-list", "{% set l = [0] * 100000 %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}"),
    ("in-a-macro", "{% macro m() %}{% for i in range(100000) %}{% endfor %}{% endmacro %}"
     "{% for i in range(100000) %}{{ m() }}{% endfor %}"),
    ("filtered-loop", "{% for i in range(100000) %}{% for j in range(100000) if j < 0 %}{% endfor %}"
     "{% endfor %}"),
]  # fmt: skip


@pytest.mark.parametrize("template", [c[1] for c in ENDLESS], ids=[c[0] for c in ENDLESS])
def test_a_template_that_runs_too_long_stops_naming_the_template(tmp_path, template):
    ticker = Ticker(step=0.001)  # a thousand steps of the template make one second
    problem = problem_of(renderer(tmp_path, template, RenderBudget(seconds=1, time=ticker)))
    assert (problem.template, problem.line, str(problem)) == (
        "templates/t.j2",
        1,
        "rendering took longer than 1 s",
    )
    assert problem.hint.startswith("loop over fewer items")
    assert ticker.reads < 2000


def test_a_quick_template_is_within_its_time(tmp_path):
    ticker = Ticker(step=0.001)
    template = "{% for tag in tags %}#{{ tag }} {% endfor %}{{ body }}"
    text = renderer(tmp_path, template, RenderBudget(seconds=1, time=ticker)).render(
        "t.j2", {"body": "hello", "tags": ["a", "b"]}
    )
    assert text == "#a #b hello"


@pytest.mark.parametrize(
    ("template", "allowed"),
    [
        ("{{ 'x' * 100 }}", True),
        ("{{ 'x' * 101 }}", False),
        ("{{ ['x'] * 101 }}", False),
        ("{{ 101 * 'x' }}", False),
        ("{{ 'x' * 60 + 'y' * 41 }}", False),
        ("{% for i in range(11) %}{{ '0123456789' }}{% endfor %}", False),
        ("{% for i in range(10) %}{{ '0123456789' }}{% endfor %}", True),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            False,
        ),
    ],
)
def test_the_output_budget_is_checked_before_and_while_writing(tmp_path, template, allowed):
    budget = RenderBudget(characters=100)
    if allowed:
        assert len(renderer(tmp_path, template, budget).render("t.j2", {})) <= 100
    else:
        assert str(problem_of(renderer(tmp_path, template, budget))) == "the output is over 100 characters"


@pytest.mark.parametrize("template", ["{{ 2 ** 1000000 }}", "{{ (2 ** 60000) * (2 ** 60000) }}"])
def test_huge_numbers_are_refused_before_they_are_computed(tmp_path, template):
    assert str(problem_of(renderer(tmp_path, template))) == "the number is too large"


RUNTIME_ERRORS = [
    ("recursion", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
     "recursion too deep: a macro, a `recursive` loop, an include or an extends never ends"),
    ("self-include", "{% include 't.j2' %}",
     "recursion too deep: a macro, a `recursive` loop, an include or an extends never ends"),
    ("pop-empty", "{{ [].pop() }}", "IndexError: pop from empty list"),
    ("missing-key", "{{ {'a': 1}.pop('b') }}", "KeyError: 'b'"),
    ("unsafe-attribute", "{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe."),
    ("undefined", "{{ nope }}", "'nope' is undefined"),
    ("type", "{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'"),
    ("zero", "{{ 1 // 0 }}", "integer division or modulo by zero"),
    ("value", "{{ '%d' % 'x' }}", "%d format: a real number is required, not str"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("template", "message"), [c[1:] for c in RUNTIME_ERRORS], ids=[c[0] for c in RUNTIME_ERRORS]
)
def test_a_runtime_error_is_a_problem_with_its_line(tmp_path, template, message):
    problem = problem_of(renderer(tmp_path, "\n" + template))
    assert (problem.template, problem.line, str(problem)) == ("templates/t.j2", 2, message)


def test_a_template_that_is_not_utf8_is_a_problem(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_bytes(b"caf\xe9 {{ body }}")
    problem = problem_of(Renderer(tmp_path / "templates", Confinement(tmp_path)))
    assert (problem.template, str(problem), problem.hint) == (
        "templates/t.j2",
        "not UTF-8 text",
        "save the file as UTF-8",
    )


def test_a_broken_template_is_there_not_missing(tmp_path):
    broken = renderer(tmp_path, "{% for %}")
    (tmp_path / "templates" / "bad.j2").write_bytes(b"\xff")
    assert broken.has_template("t.j2") and broken.has_template("bad.j2")
    assert not broken.has_template("missing.j2")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recursion too deep"),
        ("{{ [].pop() }}", "IndexError: pop from empty list"),
        ("{{ 'x' * 1000001 }}", "the output is over 1,000,000 characters"),
    ],
    ids=["recursion", "pop", "output"],
)
def test_the_command_reports_a_runtime_error_with_exit_2(tmp_path, template, message):
    config = make_repo(tmp_path, {"p.md": "---\ntemplate: t.j2\n---\nhi"}, templates={"t.j2": template})
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"error: posts/p.md:2: template: templates/t.j2:1: {message}" in result.stderr
    assert "Traceback" not in result.output
