"""What the window keeps about one article's suggestions, and the undo order of its actions.

`SuggestionSet` holds the article's stored suggestions that this annotator has not rejected, and
shows those whose span no entity of theirs already covers: accepting a suggestion (with its own
label or another one) hides it, undoing the accept shows it again, without asking the store.

Rejections are saved by `annotator.store.suggestions`, outside the session's undo history;
`UndoLog` records which kind each action was, so that Ctrl+Z undoes the latest one whichever it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from annotator.core.model import Annotation
from annotator.nlp.suggest import Suggestion, SuggestionKey


def suggestion_id(key: SuggestionKey | Suggestion) -> str:
    """A suggestion's id in the views: its span and label (what identifies it within an article)."""
    k = key.key if isinstance(key, Suggestion) else key
    return f"{k.start}:{k.end}:{k.label}"


class Row(NamedTuple):
    """A shown suggestion as the views index it."""

    start: int
    end: int
    id: str
    suggestion: Suggestion


class SuggestionSet:
    def __init__(self, found: Iterable[Suggestion] = (), annotation: Annotation | None = None) -> None:
        self._all: dict[str, Suggestion] = {}
        self._shown: dict[str, Suggestion] = {}
        self._covered: Counter[tuple[int, int]] = Counter()  # entity spans
        self._entity_span: dict[str, tuple[int, int]] = {}
        self._by_span: dict[tuple[int, int], set[str]] = {}
        if annotation is not None:
            for e in annotation.entities:
                self._entity_span[e.id] = (e.start, e.end)
                self._covered[(e.start, e.end)] += 1
        self.reset(found)

    def __len__(self) -> int:
        return len(self._shown)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._shown

    def get(self, item_id: str) -> Suggestion | None:
        """A shown suggestion by id."""
        return self._shown.get(item_id)

    def row(self, item_id: str) -> Row | None:
        s = self._shown.get(item_id)
        return Row(s.start, s.end, item_id, s) if s is not None else None

    def rows(self) -> list[Row]:
        """The shown suggestions in text order."""
        return sorted(Row(s.start, s.end, i, s) for i, s in self._shown.items())

    def shown(self) -> list[Suggestion]:
        return [r.suggestion for r in self.rows()]

    def reset(self, found: Iterable[Suggestion]) -> tuple[set[str], set[str]]:
        """Take a new list from the store; returns the ids no longer shown and the ids newly shown."""
        before = set(self._shown)
        self._all = {}
        self._by_span = {}
        for s in found:
            item_id = suggestion_id(s)
            if item_id not in self._all:
                self._all[item_id] = s
                self._by_span.setdefault((s.start, s.end), set()).add(item_id)
        self._shown = {i: s for i, s in self._all.items() if not self._covered[(s.start, s.end)]}
        after = set(self._shown)
        return before - after, after - before

    def add(self, found: Iterable[Suggestion]) -> set[str]:
        """Take suggestions back (a rejection undone); returns the ids now shown."""
        shown = set()
        for s in found:
            item_id = suggestion_id(s)
            if item_id in self._all:
                continue
            self._all[item_id] = s
            self._by_span.setdefault((s.start, s.end), set()).add(item_id)
            if not self._covered.get((s.start, s.end)):
                self._shown[item_id] = s
                shown.add(item_id)
        return shown

    def remove(self, ids: Iterable[str]) -> set[str]:
        """Forget suggestions (rejected); returns the ids that were shown."""
        gone = set()
        for item_id in ids:
            s = self._all.pop(item_id, None)
            if s is None:
                continue
            self._by_span.get((s.start, s.end), set()).discard(item_id)
            if self._shown.pop(item_id, None) is not None:
                gone.add(item_id)
        return gone

    def entities_changed(
        self, entity_ids: Iterable[str], annotation: Annotation
    ) -> tuple[set[str], set[str]]:
        """Follow entities added, removed or moved: a suggestion is hidden while an entity has its
        exact span, whatever the label. Returns the ids hidden and the ids shown again."""
        spans: set[tuple[int, int]] = set()
        for entity_id in entity_ids:
            old = self._entity_span.pop(entity_id, None)
            if old is not None:
                self._covered[old] -= 1
                if self._covered[old] <= 0:
                    del self._covered[old]
                spans.add(old)
            entity = annotation.entity(entity_id)
            if entity is not None:
                new = (entity.start, entity.end)
                self._entity_span[entity_id] = new
                self._covered[new] += 1
                spans.add(new)
        hidden: set[str] = set()
        shown: set[str] = set()
        for span in spans:
            covered = bool(self._covered.get(span))
            for item_id in self._by_span.get(span, ()):
                if covered and self._shown.pop(item_id, None) is not None:
                    hidden.add(item_id)
                elif not covered and item_id not in self._shown:
                    self._shown[item_id] = self._all[item_id]
                    shown.add(item_id)
        return hidden, shown


# -- undo order ---------------------------------------------------------------------------------------

CORE = "core"  # an edit in the session's own history


@dataclass(frozen=True)
class RejectStep:
    """Suggestions rejected by one gesture (one, or all of the article's)."""

    suggestions: tuple[Suggestion, ...]

    @property
    def keys(self) -> tuple[SuggestionKey, ...]:
        return tuple(s.key for s in self.suggestions)


Step = str | RejectStep


@dataclass
class UndoLog:
    """The kinds of an article's undoable actions, in order. Core steps are undone by the session,
    which keeps the edits themselves; reject steps by taking the rejections back."""

    limit: int = 1000
    done: list[Step] = field(default_factory=list)
    undone: list[Step] = field(default_factory=list)

    def record(self, step: Step) -> None:
        """A new action: what was undone can no longer be redone."""
        self.done.append(step)
        if len(self.done) > self.limit:
            del self.done[: len(self.done) - self.limit]
        self.undone.clear()

    def peek(self, which: str) -> Step | None:
        stack = self.done if which == "undo" else self.undone
        return stack[-1] if stack else None

    def moved(self, which: str) -> None:
        """The step on top of `which` was undone (or redone): move it to the other stack."""
        if which == "undo":
            self.undone.append(self.done.pop())
        else:
            self.done.append(self.undone.pop())

    def drop(self, which: str) -> None:
        """The step on top cannot be taken back any more (the session's history was trimmed)."""
        (self.done if which == "undo" else self.undone).pop()

    @property
    def can_undo(self) -> bool:
        return bool(self.done)

    @property
    def can_redo(self) -> bool:
        return bool(self.undone)
