"""The display order of positioned rows (artefacts of evidence, sections and items of portfolios):
moving one place up or down, and the position after the last.  Pure: nothing is stored here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Positioned(Protocol):
    """A row shown in the order of its ``position``."""

    position: int


T = TypeVar("T", bound=Positioned)


def move(items: Sequence[T], item: T, direction: str) -> bool:
    """Move ``item`` one place ``up`` or ``down`` among ``items`` (in their display order).

    Positions are renumbered 0, 1, 2, ... as the item moves, so gaps and ties left by deletions
    or old data never make a move do nothing.  Returns False, changing nothing, when the item is
    already at that end or ``direction`` is neither ``up`` nor ``down``.
    """
    ordered = list(items)
    if direction not in ("up", "down") or item not in ordered:
        return False
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    for position, each in enumerate(ordered):
        each.position = position
    ordered[index].position, ordered[other].position = other, index
    return True


def next_position(items: Sequence[Positioned]) -> int:
    """The position after the last of ``items`` (0 when there are none)."""
    return max((each.position for each in items), default=-1) + 1
