"""The sandbox a status template runs in, with a budget of time and output for each rendering.

Jinja's sandbox caps one range() at 100,000 items, but nested loops still run for ever, and an empty loop body
calls nothing a hook could see. So every `{% for %}` iterates through a guard that checks the clock at each
step, and so does every call and intercepted operator; `*`, `+` and `**` refuse a result over the budget
before making it, `~` right after; and the output is counted as it is produced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

LOOP_GUARD = "_publish_loop_guard"
SIZE_GUARD = "_publish_size_guard"
MAX_NUMBER_BITS = 100_000  # about 30,000 digits: far more than any status shows, quick to compute
SEQUENCES = (str, list, tuple)


class OverBudget(Exception):
    """A rendering took too long, or would produce too much."""

    def __init__(self, message: str, hint: str):
        self.hint = hint
        super().__init__(message)


@dataclass(frozen=True)
class RenderBudget:
    """What one rendering of one status may take; `time` gives seconds (time.monotonic, or a test's clock)."""

    seconds: float = 2.0
    characters: int = 1_000_000
    time: Callable[[], float] = time.monotonic


class Allowance:
    """One rendering's share of the budget: its deadline, and how much it has written."""

    def __init__(self, budget: RenderBudget):
        self.budget = budget
        self.deadline = budget.time() + budget.seconds
        self.written = 0

    def tick(self) -> None:
        if self.budget.time() > self.deadline:
            hint = "loop over fewer items, nest fewer loops, or stop a macro from calling itself"
            raise OverBudget(f"rendering took longer than {self.budget.seconds:g} s", hint)

    def wrote(self, text: str) -> None:
        self.written += len(text)
        self.check_size(self.written)

    def check_size(self, size: int) -> None:
        if size > self.budget.characters:
            hint = "a status is at most a few thousand characters; look for a loop repeating text"
            raise OverBudget(f"the output is over {self.budget.characters:,} characters", hint)


class BoundedEnvironment(SandboxedEnvironment):
    """A SandboxedEnvironment whose renderings each run under a fresh Allowance (one at a time)."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self, budget: RenderBudget, **options: Any):
        super().__init__(**options)
        self.budget = budget
        self.allowance = Allowance(budget)
        self.filters[LOOP_GUARD] = guarded_loop
        self.filters[SIZE_GUARD] = guarded_size

    def render(self, template: jinja2.Template, context: dict) -> str:
        """template.render(context), stopped with OverBudget when it runs out of time or output."""
        self.allowance = allowance = Allowance(self.budget)
        stream = template.generate(context)
        chunks = []
        try:
            for chunk in stream:
                allowance.wrote(chunk)
                chunks.append(chunk)
        finally:
            stream.close()
        return "".join(chunks)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.allowance.tick()
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.allowance.tick()
        self.allowance.check_size(_result_size(operator, left, right))
        if _result_bits(operator, left, right) > MAX_NUMBER_BITS:
            raise OverBudget("the number is too large", "use smaller numbers")
        return super().call_binop(context, operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Jinja's own parse (its internal hook, stable since 2.x), with the loops and joins guarded."""
        return Guards().visit(super()._parse(source, name, filename))


class Guards(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = _filtered(node.iter, LOOP_GUARD)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Expr:
        return _filtered(self.generic_visit(node), SIZE_GUARD)


def _filtered(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


@jinja2.pass_context  # never folded into a constant at compile time: each rendering gets its own steps
def guarded_loop(context: jinja2.runtime.Context, iterable: Iterable) -> Iterator:
    allowance = context.environment.allowance
    for item in iterable:
        allowance.tick()
        yield item


@jinja2.pass_environment
def guarded_size(environment: BoundedEnvironment, text: str) -> str:
    environment.allowance.check_size(len(text))
    return text


def _result_size(operator: str, left: Any, right: Any) -> int:
    """How long a sequence `left operator right` makes, before making it; 0 for numbers."""
    if operator == "*" and isinstance(left, int) and isinstance(right, SEQUENCES):
        left, right = right, left
    if operator == "*" and isinstance(left, SEQUENCES) and isinstance(right, int):
        return len(left) * right
    if operator == "+" and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        return len(left) + len(right)
    return 0


def _result_bits(operator: str, left: Any, right: Any) -> int:
    """About how many bits an integer `left operator right` has, before computing it."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return 0
    if operator == "*":
        return left.bit_length() + right.bit_length()
    if operator == "**" and abs(left) > 1 and right > 0:
        return left.bit_length() * right
    return 0
