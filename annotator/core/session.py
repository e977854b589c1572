"""An annotator working on one document: apply edits, persist each one, undo and redo.

The session owns the undo history (the GUI's undo actions only call it). Every edit is handed to a
`Sink` (the store) before the call returns; if saving fails the edit is taken back in memory too, so
what is shown is always what is stored.
"""

from __future__ import annotations

from typing import Literal, Protocol

from annotator.core.edits import Batch, Changes, Edit, EditContext, SetStatus
from annotator.core.errors import RuleError
from annotator.core.model import Annotation, Document, Status, utcnow
from annotator.core.scheme import LabelScheme

EditKind = Literal["do", "undo", "redo"]


class Sink(Protocol):
    def persist(
        self, annotation: Annotation, changes: Changes, edit: Edit, kind: EditKind, expected_version: int
    ) -> None:
        """Save the annotation's changed parts in one transaction, or raise (ConflictError if
        the stored version is not `expected_version`)."""


class AnnotationSession:
    def __init__(
        self,
        document: Document,
        annotation: Annotation,
        scheme: LabelScheme,
        sink: Sink | None = None,
        *,
        history_limit: int = 1000,
    ) -> None:
        self.document = document
        self.annotation = annotation
        self.scheme = scheme
        self.sink = sink
        self.history_limit = history_limit
        # Each entry is (edit as done, its inverse).
        self._undo: list[tuple[Edit, Edit]] = []
        self._redo: list[tuple[Edit, Edit]] = []

    @property
    def context(self) -> EditContext:
        return EditContext(self.document, self.annotation, self.scheme)

    def apply(self, edit: Edit) -> Changes:
        """Apply and save one edit as one undo step. Raises RuleError (nothing changed) or the
        sink's error (nothing changed, in memory or stored)."""
        if self.annotation.status == Status.NOT_STARTED and not isinstance(edit, SetStatus):
            # The first edit starts the work: one step, so that undo takes both back.
            wrapped = Batch(edits=[edit, SetStatus(status=Status.IN_PROGRESS)])
            try:
                changes, inverse = self._run(wrapped, "do")
            except RuleError as exc:
                field = exc.field.removeprefix("edits[0].").removeprefix("edits[0]")
                raise RuleError(field, exc.message) from None
            edit = wrapped
        else:
            changes, inverse = self._run(edit, "do")
        self._undo.append((edit, inverse))
        if len(self._undo) > self.history_limit:
            del self._undo[: len(self._undo) - self.history_limit]
        self._redo.clear()
        return changes

    def undo(self) -> Changes | None:
        if not self._undo:
            return None
        edit, inverse = self._undo[-1]
        changes, _ = self._run(inverse, "undo")
        self._undo.pop()
        self._redo.append((edit, inverse))
        return changes

    def redo(self) -> Changes | None:
        if not self._redo:
            return None
        edit, _ = self._redo[-1]
        changes, inverse = self._run(edit, "redo")
        self._redo.pop()
        self._undo.append((edit, inverse))
        return changes

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _run(self, edit: Edit, kind: EditKind) -> tuple[Changes, Edit]:
        ctx = self.context
        changes, inverse = edit.apply(ctx)
        if self.sink is not None:
            previous = self.annotation.updated_at
            self.annotation.updated_at = utcnow()
            try:
                self.sink.persist(self.annotation, changes, edit, kind, self.annotation.version)
            except BaseException:
                self.annotation.updated_at = previous
                inverse.apply(ctx)
                raise
        self.annotation.version += 1
        return changes, inverse
