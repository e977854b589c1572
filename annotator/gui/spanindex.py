"""Spans kept sorted by start, to find the ones touching a stretch of text with two bisects.

The highlighter asks for every block it paints, so a lookup must not scan all spans: spans are
sorted by start, and any span touching `lo..hi` starts after `lo - longest` and before `hi`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable

Item = tuple[int, int, str]  # start, end, id


class SpanIndex:
    __slots__ = ("_by_id", "_items", "_longest", "_starts")

    def __init__(self, spans: Iterable[Item] = ()) -> None:
        self._items: list[Item] = sorted(spans)
        self._starts = [s for s, _, _ in self._items]
        self._by_id = {i: (s, e) for s, e, i in self._items}
        self._longest = max((e - s for s, e, _ in self._items), default=0)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, span_id: str) -> bool:
        return span_id in self._by_id

    def get(self, span_id: str) -> tuple[int, int] | None:
        return self._by_id.get(span_id)

    def add(self, span_id: str, start: int, end: int) -> None:
        if span_id in self._by_id:
            self.remove(span_id)
        item = (start, end, span_id)
        i = bisect_left(self._items, item)
        self._items.insert(i, item)
        self._starts.insert(i, start)
        self._by_id[span_id] = (start, end)
        self._longest = max(self._longest, end - start)

    def remove(self, span_id: str) -> tuple[int, int] | None:
        """Forget a span; returns where it was. (The longest length is not shrunk: lookups only
        become a little wider.)"""
        where = self._by_id.pop(span_id, None)
        if where is None:
            return None
        item = (where[0], where[1], span_id)
        i = bisect_left(self._items, item)
        if i < len(self._items) and self._items[i] == item:
            del self._items[i]
            del self._starts[i]
        return where

    def overlapping(self, lo: int, hi: int) -> list[Item]:
        """Spans with at least one character in `lo..hi` (end exclusive), by start."""
        first = bisect_right(self._starts, lo - self._longest)
        last = bisect_left(self._starts, hi)
        return [it for it in self._items[first:last] if it[1] > lo]

    def covering(self, cp: int) -> list[Item]:
        """Spans that hold the character at `cp`, shortest first."""
        found = self.overlapping(cp, cp + 1)
        return sorted(found, key=lambda it: it[1] - it[0])

    def after(self, cp: int) -> Item | None:
        """The first span starting after `cp`."""
        i = bisect_right(self._starts, cp)
        return self._items[i] if i < len(self._items) else None

    def before(self, cp: int) -> Item | None:
        """The last span starting before `cp`."""
        i = bisect_left(self._starts, cp) - 1
        return self._items[i] if i >= 0 else None

    def items(self) -> list[Item]:
        return list(self._items)
