"""Requests to several servers or accounts at once: each answers at its own pace, under its own limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def side_by_side(work: Callable[[Item], Result], items: Sequence[Item], name: str) -> list[Result]:
    """`work` on each item, a thread each when there are several; the results in order. Every item is
    worked on to its end, then the first item's failure (in item order) is raised."""
    if len(items) < 2:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # not at start-up: most commands never need it

    with ThreadPoolExecutor(len(items), thread_name_prefix=name) as executor:
        return list(executor.map(work, items))
