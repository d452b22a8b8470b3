"""Splitting a best-first list at a number of places, without deciding ties."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def split_at_places(
    best_first: Sequence[T], places: int, key: Callable[[T], object]
) -> tuple[list[T], list[T], list[T]]:
    """Return (inside, tied_at_boundary, outside).

    ``tied_at_boundary`` holds the items whose key equals the key of the last place when that
    group straddles the line; the law sends them to a run-off (BJ 28-29) or to the committee,
    so no arbitrary order decides between them.
    """
    items = list(best_first)
    if places <= 0:
        return [], [], items
    if places >= len(items):
        return items, [], []
    boundary = key(items[places - 1])
    if key(items[places]) != boundary:
        return items[:places], [], items[places:]
    group = [i for i, item in enumerate(items) if key(item) == boundary]
    first, last = group[0], group[-1]
    return items[:first], items[first : last + 1], items[last + 1 :]
