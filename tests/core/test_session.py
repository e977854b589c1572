"""AnnotationSession: undo history, the first-edit status change, versions and the Sink contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from annotator.core.edits import (
    AddEntity,
    Batch,
    Changes,
    Edit,
    RelabelEntity,
    RemoveEntity,
    SetDocumentStance,
    SetStatus,
)
from annotator.core.errors import ConflictError, RuleError
from annotator.core.model import Annotation, Document, EntityRef, EntitySpan, Status
from annotator.core.rules import check_annotation
from annotator.core.scheme import LabelScheme
from annotator.core.session import AnnotationSession, EditKind


def _ent(eid: str, start: int, end: int, label: str = "PERSON") -> EntitySpan:
    return EntitySpan(id=eid, start=start, end=end, label=label)


ALICE = _ent("alice", 0, 11)
BOB = _ent("bob", 16, 25)
ACME = _ent("acme", 29, 33, "ORG")


@dataclass
class Call:
    changes: Changes
    edit: Edit
    kind: EditKind
    expected_version: int
    snapshot: dict[str, Any]


@dataclass
class RecordingSink:
    """Records every call; raises `fail` (once) when set."""

    calls: list[Call] = field(default_factory=list)
    fail: BaseException | None = None

    def persist(self, annotation: Annotation, changes: Changes, edit: Edit, kind: EditKind,
                expected_version: int) -> None:
        if self.fail is not None:
            exc, self.fail = self.fail, None
            raise exc
        self.calls.append(Call(changes, edit, kind, expected_version, annotation.model_dump()))


@pytest.fixture
def session(document: Document, annotation: Annotation, scheme: LabelScheme) -> AnnotationSession:
    return AnnotationSession(document, annotation, scheme)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def saved(document: Document, annotation: Annotation, scheme: LabelScheme,
          sink: RecordingSink) -> AnnotationSession:
    return AnnotationSession(document, annotation, scheme, sink)


def _dump(ann: Annotation) -> dict[str, Any]:
    return ann.model_dump()


def _ids(ann: Annotation) -> list[str]:
    return [e.id for e in ann.entities]


# -- apply, undo, redo ---------------------------------------------------------------------------------


def test_apply_undo_redo(session: AnnotationSession, annotation: Annotation) -> None:
    assert not session.can_undo and not session.can_redo
    assert session.undo() is None
    assert session.redo() is None
    session.apply(AddEntity(entity=ALICE))
    session.apply(AddEntity(entity=BOB))
    assert _ids(annotation) == ["alice", "bob"]
    assert session.can_undo and not session.can_redo

    changes = session.undo()
    assert changes == Changes(entities=frozenset({"bob"}))
    assert _ids(annotation) == ["alice"]
    assert session.can_undo and session.can_redo

    changes = session.redo()
    assert changes == Changes(entities=frozenset({"bob"}))
    assert _ids(annotation) == ["alice", "bob"]
    assert not session.can_redo


def test_undo_all_and_redo_all_restore_each_state(session: AnnotationSession, annotation: Annotation) -> None:
    states = [_dump(annotation)]
    edits: list[Edit] = [
        AddEntity(entity=ALICE), AddEntity(entity=BOB), AddEntity(entity=ACME),
        RelabelEntity(entity_id="acme", label="NORP"),
        SetDocumentStance(target=EntityRef(entity_id="bob"), polarity="FAVOR"),
        SetStatus(status=Status.DONE),
    ]
    for edit in edits:
        session.apply(edit)
        states.append(_dump(annotation))
    without_version = [{k: v for k, v in s.items() if k != "version"} for s in states]

    def now() -> dict[str, Any]:
        return annotation.model_dump(exclude={"version"})

    for expected in reversed(without_version[:-1]):
        session.undo()
        assert now() == expected
    assert not session.can_undo
    for expected in without_version[1:]:
        session.redo()
        assert now() == expected
        check_annotation(annotation, session.document, session.scheme)
    assert not session.can_redo


def test_new_edit_clears_redo(session: AnnotationSession, annotation: Annotation) -> None:
    session.apply(AddEntity(entity=ALICE))
    session.apply(AddEntity(entity=BOB))
    session.undo()
    assert session.can_redo
    session.apply(AddEntity(entity=ACME))
    assert not session.can_redo
    assert session.redo() is None
    assert _ids(annotation) == ["alice", "acme"]


def test_rule_error_changes_nothing_and_keeps_history(
    session: AnnotationSession, annotation: Annotation
) -> None:
    session.apply(AddEntity(entity=ALICE))
    session.apply(AddEntity(entity=BOB))
    session.undo()
    before = _dump(annotation)
    with pytest.raises(RuleError):
        session.apply(AddEntity(entity=_ent("x", 5, 20)))  # overlaps alice
    assert _dump(annotation) == before
    assert session.can_redo  # a refused edit is not a new edit
    session.undo()
    assert _ids(annotation) == []


def test_history_limit(document: Document, annotation: Annotation, scheme: LabelScheme) -> None:
    session = AnnotationSession(document, annotation, scheme, history_limit=2)
    for e in (ALICE, BOB, ACME):
        session.apply(AddEntity(entity=e))
    assert session.undo() and session.undo()
    assert session.undo() is None
    assert _ids(annotation) == ["alice"]


# -- the first edit starts the work ---------------------------------------------------------------------


def test_first_edit_sets_in_progress(session: AnnotationSession, annotation: Annotation) -> None:
    assert annotation.status is Status.NOT_STARTED
    changes = session.apply(AddEntity(entity=ALICE))
    assert annotation.status is Status.IN_PROGRESS
    assert changes == Changes(entities=frozenset({"alice"}), status=True)


def test_undo_takes_back_the_first_edit_and_the_status_in_one_step(
    session: AnnotationSession, annotation: Annotation
) -> None:
    before = annotation.model_dump(exclude={"version"})
    session.apply(AddEntity(entity=ALICE))
    changes = session.undo()
    assert changes == Changes(entities=frozenset({"alice"}), status=True)
    assert annotation.status is Status.NOT_STARTED
    assert annotation.model_dump(exclude={"version"}) == before
    assert not session.can_undo
    session.redo()
    assert annotation.status is Status.IN_PROGRESS
    assert _ids(annotation) == ["alice"]


def test_later_edits_do_not_touch_the_status(session: AnnotationSession, annotation: Annotation) -> None:
    session.apply(AddEntity(entity=ALICE))
    changes = session.apply(AddEntity(entity=BOB))
    assert changes == Changes(entities=frozenset({"bob"}))
    session.undo()
    assert annotation.status is Status.IN_PROGRESS


def test_a_status_edit_first_is_not_wrapped(session: AnnotationSession, annotation: Annotation) -> None:
    changes = session.apply(SetStatus(status=Status.SKIPPED))
    assert changes == Changes(status=True)
    assert annotation.status is Status.SKIPPED
    session.undo()
    assert annotation.status is Status.NOT_STARTED


def test_done_annotation_stays_done(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a", status=Status.DONE)
    AnnotationSession(document, ann, scheme).apply(AddEntity(entity=ALICE))
    assert ann.status is Status.DONE


def test_refused_first_edit_reports_the_same_field_as_a_later_one(session: AnnotationSession) -> None:
    # The status change added to the first edit is an internal detail; the error must not depend on it.
    bad = AddEntity(entity=_ent("x", 0, 5, "COMPANY"))
    with pytest.raises(RuleError) as first:
        session.apply(bad)
    assert session.annotation.status is Status.NOT_STARTED
    session.apply(AddEntity(entity=BOB))
    with pytest.raises(RuleError) as later:
        session.apply(bad)
    assert later.value.field == "entity.label"
    assert first.value.field == later.value.field


# -- versions -------------------------------------------------------------------------------------------


def test_version_counts_do_undo_redo(session: AnnotationSession, annotation: Annotation) -> None:
    assert annotation.version == 0
    session.apply(AddEntity(entity=ALICE))
    assert annotation.version == 1
    session.apply(AddEntity(entity=BOB))
    assert annotation.version == 2
    session.undo()
    assert annotation.version == 3
    session.redo()
    assert annotation.version == 4
    with pytest.raises(RuleError):
        session.apply(AddEntity(entity=ALICE))
    assert annotation.version == 4
    session.undo()
    session.undo()
    assert annotation.version == 6
    assert session.undo() is None
    assert annotation.version == 6


# -- the sink -------------------------------------------------------------------------------------------


def test_sink_receives_each_step_in_order(saved: AnnotationSession, sink: RecordingSink,
                                          annotation: Annotation) -> None:
    first = AddEntity(entity=ALICE)
    second = AddEntity(entity=BOB)
    saved.apply(first)
    saved.apply(second)
    saved.undo()
    saved.redo()
    saved.undo()
    saved.undo()

    kinds = [c.kind for c in sink.calls]
    assert kinds == ["do", "do", "undo", "redo", "undo", "undo"]
    assert [c.expected_version for c in sink.calls] == [0, 1, 2, 3, 4, 5]
    assert annotation.version == 6

    # the first edit was saved together with the status it set
    assert sink.calls[0].edit == Batch(edits=[first, SetStatus(status=Status.IN_PROGRESS)])
    assert sink.calls[0].changes == Changes(entities=frozenset({"alice"}), status=True)
    assert sink.calls[1].edit == second
    assert sink.calls[1].changes == Changes(entities=frozenset({"bob"}))
    assert sink.calls[2].edit == RemoveEntity(entity_id="bob")
    assert sink.calls[3].edit == second
    assert sink.calls[4].edit == RemoveEntity(entity_id="bob")
    assert isinstance(sink.calls[5].edit, Batch)
    assert sink.calls[5].changes == Changes(entities=frozenset({"alice"}), status=True)

    # the sink sees the annotation as it is after the step, before the version moves on
    assert [e["id"] for e in sink.calls[1].snapshot["entities"]] == ["alice", "bob"]
    assert [e["id"] for e in sink.calls[2].snapshot["entities"]] == ["alice"]
    assert sink.calls[5].snapshot["entities"] == []
    assert sink.calls[5].snapshot["status"] == Status.NOT_STARTED
    for call in sink.calls:
        assert call.snapshot["version"] == call.expected_version
        assert call.snapshot["updated_at"] is not None


def test_refused_edit_never_reaches_the_sink(saved: AnnotationSession, sink: RecordingSink) -> None:
    with pytest.raises(RuleError):
        saved.apply(AddEntity(entity=_ent("x", 0, 99)))
    assert sink.calls == []


def _prepare(saved: AnnotationSession) -> None:
    saved.apply(AddEntity(entity=ALICE))
    saved.apply(AddEntity(entity=BOB))
    saved.apply(SetDocumentStance(target=EntityRef(entity_id="alice"), polarity="FAVOR"))
    saved.apply(SetDocumentStance(target=EntityRef(entity_id="bob"), polarity="AGAINST"))


FAILING_EDITS: list[tuple[Edit, str]] = [
    (AddEntity(entity=ACME), "add"),
    (RelabelEntity(entity_id="bob", label="NORP"), "relabel"),
    (SetStatus(status=Status.DONE), "status"),
    (Batch(edits=[AddEntity(entity=ACME), SetStatus(status=Status.DONE)]), "batch"),
    (RemoveEntity(entity_id="bob"), "remove the last entity"),
    (RemoveEntity(entity_id="alice"), "remove the first entity"),
]


@pytest.mark.parametrize("edit", [f[0] for f in FAILING_EDITS], ids=[f[1] for f in FAILING_EDITS])
@pytest.mark.parametrize("error", [OSError("disk full"), ConflictError("saved elsewhere")],
                         ids=["OSError", "ConflictError"])
def test_sink_failure_leaves_the_annotation_as_before(
    saved: AnnotationSession, sink: RecordingSink, annotation: Annotation, edit: Edit, error: Exception
) -> None:
    _prepare(saved)
    saved.undo()  # leaves something to redo
    before = _dump(annotation)
    calls = len(sink.calls)
    sink.fail = error
    with pytest.raises(type(error)):
        saved.apply(edit)
    assert _dump(annotation) == before  # entities, order, status, version and updated_at
    assert len(sink.calls) == calls
    assert saved.can_redo
    # nothing was pushed: undo takes back the step before the failed one
    saved.undo()
    assert [d.key for d in annotation.doc_stances] == []
    assert _ids(annotation) == ["alice", "bob"]


def test_sink_failure_on_the_first_edit_keeps_not_started(saved: AnnotationSession, sink: RecordingSink,
                                                          annotation: Annotation) -> None:
    before = _dump(annotation)
    sink.fail = OSError("disk full")
    with pytest.raises(OSError):
        saved.apply(AddEntity(entity=ALICE))
    assert _dump(annotation) == before
    assert annotation.status is Status.NOT_STARTED
    assert not saved.can_undo
    saved.apply(AddEntity(entity=ALICE))
    assert sink.calls[-1].expected_version == 0
    assert annotation.status is Status.IN_PROGRESS


def test_sink_failure_on_undo_keeps_the_step(saved: AnnotationSession, sink: RecordingSink,
                                             annotation: Annotation) -> None:
    _prepare(saved)
    before = _dump(annotation)
    sink.fail = ConflictError("saved elsewhere")
    with pytest.raises(ConflictError):
        saved.undo()
    assert _dump(annotation) == before
    assert not saved.can_redo
    saved.undo()
    assert annotation.doc_stance("entity:bob") is None
    assert sink.calls[-1].kind == "undo"


def test_sink_failure_on_redo_keeps_the_step(saved: AnnotationSession, sink: RecordingSink,
                                             annotation: Annotation) -> None:
    _prepare(saved)
    saved.undo()
    before = _dump(annotation)
    sink.fail = OSError("disk full")
    with pytest.raises(OSError):
        saved.redo()
    assert _dump(annotation) == before
    assert saved.can_redo
    saved.redo()
    assert annotation.doc_stance("entity:bob") is not None
    assert sink.calls[-1].kind == "redo"


def test_updated_at_moves_forward_when_saved(saved: AnnotationSession, annotation: Annotation) -> None:
    assert annotation.updated_at is None
    saved.apply(AddEntity(entity=ALICE))
    first = annotation.updated_at
    assert first is not None and first.tzinfo is not None
    saved.apply(AddEntity(entity=BOB))
    assert annotation.updated_at is not None and annotation.updated_at >= first
