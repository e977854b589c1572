"""Where a span goes in the stored order, without renumbering the others.

Spans of an annotation are stored with an `ord` key; loading sorts by it. Keys are spread out
(`GAP` apart) so that a span put back between two others (undo) takes a key between theirs and no
other row is rewritten; only when two neighbours leave no room is the whole list numbered afresh.
Keys stay within a signed 32-bit integer, the column's type on every database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

GAP = 1024
ORD_MIN = -(2**31) + 1
ORD_MAX = 2**31 - 1


def renumbered(count: int) -> list[int]:
    """Keys for a whole list of `count` items: GAP apart from 0, or closer when that would not fit."""
    if count * GAP <= ORD_MAX:
        return [k * GAP for k in range(count)]
    step = (ORD_MAX - ORD_MIN) // (count + 1)
    if step < 1:
        raise OverflowError(f"{count} items cannot be ordered by a 32-bit key")
    return [ORD_MIN + step * (k + 1) for k in range(count)]


def between(count: int, low: int | None, high: int | None) -> list[int] | None:
    """Keys for `count` items that go, in order, after the key `low` and before `high` (None: no
    neighbour on that side); None when there is no room and the list must be renumbered."""
    if low is None and high is None:
        return renumbered(count)
    if high is None:
        assert low is not None
        if low + count * GAP <= ORD_MAX:
            return [low + GAP * (k + 1) for k in range(count)]
        high = ORD_MAX + 1
    elif low is None:
        if high - count * GAP >= ORD_MIN:
            return [high - GAP * (count - k) for k in range(count)]
        low = ORD_MIN - 1
    if high - low < count + 1:
        return None
    step = (high - low) // (count + 1)
    return [low + step * (k + 1) for k in range(count)]


def runs(positions: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs `(first, last)` of the sorted, distinct positions."""
    first = last = None
    for p in sorted(set(positions)):
        if last is not None and p == last + 1:
            last = p
            continue
        if first is not None and last is not None:
            yield first, last
        first = last = p
    if first is not None and last is not None:
        yield first, last
