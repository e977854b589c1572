"""Edits: each applies, says what changed, and has an inverse that restores the annotation exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from annotator.core.edits import (
    EDIT_ADAPTER,
    NO_CHANGES,
    AddEntity,
    AddStance,
    Batch,
    Changes,
    Edit,
    EditContext,
    RelabelEntity,
    RemoveEntity,
    RemoveStance,
    SetDocumentStance,
    SetStanceHolder,
    SetStancePolarity,
    SetStanceTarget,
    SetStatus,
    edit_from_json,
    edit_to_json,
)
from annotator.core.errors import RuleError
from annotator.core.model import (
    AUTHOR,
    UNKNOWN,
    Annotation,
    Document,
    DocumentStance,
    EntityRef,
    EntitySpan,
    Stance,
    Status,
    TopicRef,
)
from annotator.core.rules import check_annotation
from annotator.core.scheme import LabelScheme

ALICE = EntityRef(entity_id="alice")
BOB = EntityRef(entity_id="bob")
ACME = EntityRef(entity_id="acme")
TRADE = TopicRef(topic="trade")


def _ent(eid: str, start: int, end: int, label: str = "PERSON") -> EntitySpan:
    return EntitySpan(id=eid, start=start, end=end, label=label)


@pytest.fixture
def full(annotation: Annotation) -> Annotation:
    """The fixture annotation with entities, stances and article stances that refer to each other."""
    annotation.entities.extend([
        _ent("alice", 0, 11), _ent("bob", 16, 25), _ent("acme", 29, 33, "ORG"), _ent("paris", 37, 42, "GPE"),
    ])
    annotation.stances.extend([
        Stance(id="s1", start=0, end=25, polarity="FAVOR", holder=ALICE, target=BOB),
        Stance(id="s2", start=12, end=15, polarity="NEUTRAL", holder=AUTHOR, target=TRADE),
        Stance(id="s3", start=16, end=42, polarity="AGAINST", holder=BOB, target=ALICE),
        Stance(id="s4", start=0, end=11, polarity="AGAINST", holder=ALICE, target=ALICE),
    ])
    annotation.doc_stances.extend([
        DocumentStance(target=ALICE, polarity="FAVOR"),
        DocumentStance(target=TRADE, polarity="AGAINST"),
        DocumentStance(target=ACME, polarity="NEUTRAL"),
    ])
    annotation.status = Status.IN_PROGRESS
    return annotation


def _dump(ann: Annotation) -> dict[str, Any]:
    return ann.model_dump()


# -- every edit and its inverse ------------------------------------------------------------------------

# (edit, the Changes it must report) on the `full` annotation
EDITS: list[tuple[Edit, Changes]] = [
    (AddEntity(entity=_ent("today", 43, 48, "DATE")), Changes(entities=frozenset({"today"}))),
    (RemoveEntity(entity_id="paris"), Changes(entities=frozenset({"paris"}))),
    (RemoveEntity(entity_id="bob"), Changes(entities=frozenset({"bob"}), stances=frozenset({"s1", "s3"}))),
    (RemoveEntity(entity_id="acme"),
     Changes(entities=frozenset({"acme"}), doc_stances=frozenset({"entity:acme"}))),
    (RemoveEntity(entity_id="alice"),
     Changes(entities=frozenset({"alice"}), stances=frozenset({"s1", "s3", "s4"}),
             doc_stances=frozenset({"entity:alice"}))),
    (RelabelEntity(entity_id="acme", label="NORP"), Changes(entities=frozenset({"acme"}))),
    (AddStance(stance=Stance(id="s5", start=29, end=42, polarity="FAVOR", holder=ALICE, target=TRADE)),
     Changes(stances=frozenset({"s5"}))),
    (RemoveStance(stance_id="s4"), Changes(stances=frozenset({"s4"}))),
    (RemoveStance(stance_id="s2"), Changes(stances=frozenset({"s2"}))),
    (SetStancePolarity(stance_id="s2", polarity="AGAINST"), Changes(stances=frozenset({"s2"}))),
    (SetStanceHolder(stance_id="s2", holder=BOB), Changes(stances=frozenset({"s2"}))),
    (SetStanceHolder(stance_id="s1", holder=UNKNOWN), Changes(stances=frozenset({"s1"}))),
    (SetStanceTarget(stance_id="s2", target=ACME), Changes(stances=frozenset({"s2"}))),
    (SetStanceTarget(stance_id="s1", target=TopicRef(topic="tariffs")), Changes(stances=frozenset({"s1"}))),
    (SetDocumentStance(target=EntityRef(entity_id="paris"), polarity="FAVOR"),
     Changes(doc_stances=frozenset({"entity:paris"}))),
    (SetDocumentStance(target=TRADE, polarity="FAVOR"), Changes(doc_stances=frozenset({"topic:trade"}))),
    (SetDocumentStance(target=ACME, polarity=None), Changes(doc_stances=frozenset({"entity:acme"}))),
    (SetDocumentStance(target=ALICE, polarity=None), Changes(doc_stances=frozenset({"entity:alice"}))),
    (SetStatus(status=Status.DONE), Changes(status=True)),
    (Batch(edits=[AddEntity(entity=_ent("today", 43, 48, "DATE")),
                  SetDocumentStance(target=EntityRef(entity_id="today"), polarity="AGAINST"),
                  SetStatus(status=Status.DONE)]),
     Changes(entities=frozenset({"today"}), doc_stances=frozenset({"entity:today"}), status=True)),
]
EDIT_IDS = [
    "add entity", "remove entity without refs", "remove stance holder/target", "remove article target",
    "remove entity referred to everywhere (first in lists)", "relabel", "add stance",
    "remove last stance", "remove middle stance", "polarity", "holder entity", "holder unknown",
    "target entity", "target topic", "add article stance", "replace article stance",
    "remove last article stance", "remove first article stance", "status", "batch",
]


@pytest.mark.parametrize("edit, expected", EDITS, ids=EDIT_IDS)
def test_edit_reports_what_changed(ctx: EditContext, full: Annotation, edit: Edit, expected: Changes) -> None:
    changes, _ = edit.apply(ctx)
    assert changes == expected
    check_annotation(full, ctx.document, ctx.scheme)


@pytest.mark.parametrize("edit, expected", EDITS, ids=EDIT_IDS)
def test_inverse_restores_the_annotation_exactly(
    ctx: EditContext, full: Annotation, edit: Edit, expected: Changes
) -> None:
    before = _dump(full)
    _, inverse = edit.apply(ctx)
    after = _dump(full)
    assert after != before
    inverse_changes, again = inverse.apply(ctx)
    assert _dump(full) == before
    assert inverse_changes == expected
    # and the inverse of the inverse does the edit again
    again.apply(ctx)
    assert _dump(full) == after


def test_entity_order_is_kept_by_remove_and_undo(ctx: EditContext, full: Annotation) -> None:
    # Narrower than the exact-restore test above: only the order of entities.
    ids = [e.id for e in full.entities]
    _, inverse = RemoveEntity(entity_id="bob").apply(ctx)
    inverse.apply(ctx)
    assert [e.id for e in full.entities] == ids


# -- each edit's effect -------------------------------------------------------------------------------


def test_add_entity(ctx: EditContext, annotation: Annotation) -> None:
    e = _ent("e", 16, 25)
    changes, inverse = AddEntity(entity=e).apply(ctx)
    assert annotation.entities == [e]
    assert changes == Changes(entities=frozenset({"e"}))
    assert inverse == RemoveEntity(entity_id="e")


def test_remove_entity_clears_references_and_article_stances(ctx: EditContext, full: Annotation) -> None:
    RemoveEntity(entity_id="alice").apply(ctx)
    assert full.entity("alice") is None
    s1, s2, s3, s4 = full.stances
    assert (s1.holder, s1.target) == (UNKNOWN, BOB)
    assert (s2.holder, s2.target) == (AUTHOR, TRADE)
    assert (s3.holder, s3.target) == (BOB, UNKNOWN)
    assert (s4.holder, s4.target) == (UNKNOWN, UNKNOWN)
    assert [d.key for d in full.doc_stances] == ["topic:trade", "entity:acme"]
    check_annotation(full, ctx.document, ctx.scheme)


def test_undo_of_remove_entity_brings_back_every_reference(ctx: EditContext, full: Annotation) -> None:
    before = {s.id: (s.holder, s.target) for s in full.stances}
    before_docs = {d.key: d.polarity for d in full.doc_stances}
    before_entity = full.entity("alice")
    _, inverse = RemoveEntity(entity_id="alice").apply(ctx)
    inverse.apply(ctx)
    assert full.entity("alice") == before_entity
    assert {s.id: (s.holder, s.target) for s in full.stances} == before
    assert {d.key: d.polarity for d in full.doc_stances} == before_docs
    check_annotation(full, ctx.document, ctx.scheme)


def test_relabel_entity(ctx: EditContext, full: Annotation) -> None:
    RelabelEntity(entity_id="acme", label="NORP").apply(ctx)
    acme = full.entity("acme")
    assert acme is not None
    assert (acme.label, acme.start, acme.end) == ("NORP", 29, 33)
    assert [e.id for e in full.entities] == ["alice", "bob", "acme", "paris"]


def test_remove_stance_inverse_is_add_stance(ctx: EditContext, full: Annotation) -> None:
    s2 = full.stance("s2")
    _, inverse = RemoveStance(stance_id="s2").apply(ctx)
    assert full.stance("s2") is None
    assert inverse == AddStance(stance=s2, index=1)


def test_stance_setters(ctx: EditContext, full: Annotation) -> None:
    SetStancePolarity(stance_id="s1", polarity="NEUTRAL").apply(ctx)
    SetStanceHolder(stance_id="s1", holder=AUTHOR).apply(ctx)
    SetStanceTarget(stance_id="s1", target=TRADE).apply(ctx)
    s1 = full.stance("s1")
    assert s1 is not None
    assert (s1.polarity, s1.holder, s1.target, s1.start, s1.end) == ("NEUTRAL", AUTHOR, TRADE, 0, 25)


def test_set_document_stance_add_replace_remove(ctx: EditContext, full: Annotation) -> None:
    paris = EntityRef(entity_id="paris")
    SetDocumentStance(target=paris, polarity="FAVOR").apply(ctx)
    assert full.doc_stances[-1] == DocumentStance(target=paris, polarity="FAVOR")
    # replacing keeps the position
    _, inverse = SetDocumentStance(target=TRADE, polarity="FAVOR").apply(ctx)
    assert full.doc_stances[1] == DocumentStance(target=TRADE, polarity="FAVOR")
    assert inverse == SetDocumentStance(target=TRADE, polarity="AGAINST", index=1)
    _, inverse = SetDocumentStance(target=paris, polarity=None).apply(ctx)
    assert full.doc_stance("entity:paris") is None
    assert inverse == SetDocumentStance(target=paris, polarity="FAVOR", index=3)


def test_add_at_an_index(ctx: EditContext, full: Annotation) -> None:
    AddEntity(entity=_ent("met", 12, 15, "MISC"), index=1).apply(ctx)
    assert [e.id for e in full.entities] == ["alice", "met", "bob", "acme", "paris"]
    AddStance(stance=Stance(id="s0", start=0, end=3, polarity="FAVOR"), index=0).apply(ctx)
    assert [s.id for s in full.stances] == ["s0", "s1", "s2", "s3", "s4"]
    SetDocumentStance(target=EntityRef(entity_id="paris"), polarity="FAVOR", index=0).apply(ctx)
    assert [d.key for d in full.doc_stances][:2] == ["entity:paris", "entity:alice"]
    # an existing article stance keeps its place whatever the index says
    SetDocumentStance(target=ACME, polarity="FAVOR", index=0).apply(ctx)
    assert full.doc_stances[3] == DocumentStance(target=ACME, polarity="FAVOR")
    check_annotation(full, ctx.document, ctx.scheme)


def test_negative_index_is_refused() -> None:
    with pytest.raises(ValidationError):
        AddEntity(entity=_ent("x", 0, 1), index=-1)


def test_removing_an_absent_article_stance_changes_nothing(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    _, inverse = SetDocumentStance(target=TopicRef(topic="weather"), polarity=None).apply(ctx)
    assert _dump(full) == before
    inverse.apply(ctx)
    assert _dump(full) == before


def test_set_status(ctx: EditContext, annotation: Annotation) -> None:
    changes, inverse = SetStatus(status=Status.SKIPPED).apply(ctx)
    assert annotation.status is Status.SKIPPED
    assert changes == Changes(status=True)
    assert inverse == SetStatus(status=Status.NOT_STARTED)


# -- a broken rule changes nothing ----------------------------------------------------------------------

BAD: list[tuple[Edit, str]] = [
    (AddEntity(entity=_ent("x", 43, 48, "COMPANY")), "entity.label"),
    (AddEntity(entity=_ent("x", 45, 60, "DATE")), "entity"),
    (AddEntity(entity=_ent("alice", 43, 48, "DATE")), "entity.id"),
    (AddEntity(entity=_ent("x", 5, 20)), "entity"),
    (AddEntity(entity=_ent("x", 0, 11)), "entity"),
    (RemoveEntity(entity_id="ghost"), "entity_id"),
    (RelabelEntity(entity_id="ghost", label="ORG"), "entity_id"),
    (AddStance(stance=Stance(id="x", start=0, end=3, polarity="LOVES")), "stance.polarity"),
    (AddStance(stance=Stance(id="x", start=0, end=99, polarity="FAVOR")), "stance"),
    (AddStance(stance=Stance(id="x", start=0, end=3, polarity="FAVOR", holder=EntityRef(entity_id="ghost"))),
     "stance.holder"),
    (AddStance(stance=Stance(id="x", start=0, end=3, polarity="FAVOR", target=EntityRef(entity_id="ghost"))),
     "stance.target"),
    (AddStance(stance=Stance(id="s1", start=0, end=3, polarity="FAVOR")), "stance.id"),
    (RemoveStance(stance_id="ghost"), "stance_id"),
    (SetStancePolarity(stance_id="s1", polarity="LOVES"), "polarity"),
    (SetStancePolarity(stance_id="ghost", polarity="FAVOR"), "stance_id"),
    (SetStanceHolder(stance_id="s1", holder=EntityRef(entity_id="ghost")), "holder"),
    (SetStanceHolder(stance_id="ghost", holder=AUTHOR), "stance_id"),
    (SetStanceTarget(stance_id="s1", target=EntityRef(entity_id="ghost")), "target"),
    (SetStanceTarget(stance_id="s1", target=TopicRef(topic="  ")), "target"),
    (SetStanceTarget(stance_id="ghost", target=TRADE), "stance_id"),
    (SetDocumentStance(target=EntityRef(entity_id="ghost"), polarity="FAVOR"), "doc_stance.target"),
    (SetDocumentStance(target=TRADE, polarity="LOVES"), "doc_stance.polarity"),
    (SetDocumentStance(target=TopicRef(topic=" "), polarity="FAVOR"), "doc_stance.target"),
    (Batch(edits=[SetStatus(status=Status.DONE), RemoveStance(stance_id="ghost")]), "edits[1].stance_id"),
]


@pytest.mark.parametrize("edit, field", BAD, ids=[f"{type(b[0]).__name__}-{b[1]}" for b in BAD])
def test_broken_rule_changes_nothing(ctx: EditContext, full: Annotation, edit: Edit, field: str) -> None:
    before = _dump(full)
    with pytest.raises(RuleError) as info:
        edit.apply(ctx)
    assert info.value.field == field
    assert _dump(full) == before


def test_relabel_to_a_label_not_in_the_scheme(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    with pytest.raises(RuleError) as info:
        RelabelEntity(entity_id="acme", label="COMPANY").apply(ctx)
    assert _dump(full) == before
    assert "'COMPANY'" in info.value.message
    # The edit's own field is `label`; AddEntity, whose field is `entity`, reports `entity.label`.
    assert info.value.field == "label"


def test_overlap_is_accepted_when_the_scheme_allows(document: Document, full: Annotation,
                                                    scheme: LabelScheme) -> None:
    ctx = EditContext(document, full, scheme.model_copy(update={"allow_overlap": True}))
    AddEntity(entity=_ent("smith", 6, 11)).apply(ctx)
    AddEntity(entity=_ent("alice-bob", 0, 25, "NORP")).apply(ctx)
    assert [e.id for e in full.entities][-2:] == ["smith", "alice-bob"]
    check_annotation(full, document, ctx.scheme)


def test_overlap_is_refused_when_the_scheme_forbids(ctx: EditContext, full: Annotation) -> None:
    with pytest.raises(RuleError) as info:
        AddEntity(entity=_ent("smith", 6, 11)).apply(ctx)
    assert "overlaps" in info.value.message


def test_adjacent_entity_is_not_an_overlap(ctx: EditContext, full: Annotation) -> None:
    AddEntity(entity=_ent("met", 11, 16, "MISC")).apply(ctx)
    check_annotation(full, ctx.document, ctx.scheme)


# -- batches --------------------------------------------------------------------------------------------


def test_batch_is_all_or_nothing_when_a_later_edit_fails(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    batch = Batch(edits=[
        AddEntity(entity=_ent("today", 43, 48, "DATE")),
        SetStancePolarity(stance_id="s1", polarity="AGAINST"),
        SetDocumentStance(target=TRADE, polarity="FAVOR"),
        SetStanceHolder(stance_id="s2", holder=EntityRef(entity_id="today")),
        SetStatus(status=Status.DONE),
        AddEntity(entity=_ent("x", 44, 46, "DATE")),  # overlaps "today", added above
    ])
    with pytest.raises(RuleError) as info:
        batch.apply(ctx)
    assert info.value.field == "edits[5].entity"
    assert _dump(full) == before


def test_batch_rolls_back_a_removal_exactly(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    batch = Batch(edits=[RemoveEntity(entity_id="alice"), RelabelEntity(entity_id="bob", label="NOPE")])
    with pytest.raises(RuleError):
        batch.apply(ctx)
    assert _dump(full) == before


def test_batch_rolls_back_an_article_stance_removal_exactly(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    batch = Batch(edits=[SetDocumentStance(target=TRADE, polarity=None), RemoveStance(stance_id="ghost")])
    with pytest.raises(RuleError):
        batch.apply(ctx)
    assert _dump(full) == before


def test_batch_first_edit_failing_changes_nothing(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    with pytest.raises(RuleError) as info:
        Batch(edits=[RemoveEntity(entity_id="ghost"), SetStatus(status=Status.DONE)]).apply(ctx)
    assert info.value.field == "edits[0].entity_id"
    assert _dump(full) == before


def test_nested_batch_names_the_full_path(ctx: EditContext, full: Annotation) -> None:
    before = _dump(full)
    inner = Batch(edits=[SetStatus(status=Status.DONE), SetStancePolarity(stance_id="s1", polarity="X")])
    with pytest.raises(RuleError) as info:
        Batch(edits=[RemoveStance(stance_id="s4"), inner]).apply(ctx)
    assert info.value.field == "edits[1].edits[1].polarity"
    assert _dump(full) == before


def test_batch_edits_see_earlier_edits(ctx: EditContext, annotation: Annotation) -> None:
    before = _dump(annotation)
    changes, inverse = Batch(edits=[
        AddEntity(entity=_ent("bob", 16, 25)),
        AddStance(stance=Stance(id="s", start=0, end=25, polarity="FAVOR", holder=AUTHOR,
                                target=EntityRef(entity_id="bob"))),
    ]).apply(ctx)
    assert changes == Changes(entities=frozenset({"bob"}), stances=frozenset({"s"}))
    assert isinstance(inverse, Batch)
    assert inverse.edits == [RemoveStance(stance_id="s"), RemoveEntity(entity_id="bob")]
    inverse.apply(ctx)
    assert _dump(annotation) == before


def test_batch_needs_at_least_one_edit() -> None:
    with pytest.raises(ValidationError):
        Batch(edits=[])


# -- Changes -------------------------------------------------------------------------------------------


def test_changes_union_and_truth() -> None:
    assert not NO_CHANGES
    assert Changes(status=True)
    assert Changes(doc_stances=frozenset({"topic:x"}))
    a = Changes(entities=frozenset({"a"}), stances=frozenset({"s"}))
    b = Changes(entities=frozenset({"b"}), doc_stances=frozenset({"topic:x"}), status=True)
    assert a | b == Changes(entities=frozenset({"a", "b"}), stances=frozenset({"s"}),
                            doc_stances=frozenset({"topic:x"}), status=True)
    assert (a | NO_CHANGES) == a


# -- JSON ------------------------------------------------------------------------------------------------

ALL_EDITS: list[Edit] = [e for e, _ in EDITS] + [
    Batch(edits=[Batch(edits=[SetStatus(status=Status.SKIPPED)]), RemoveStance(stance_id="s1")]),
    SetStanceHolder(stance_id="s1", holder=AUTHOR),
    SetStanceTarget(stance_id="s1", target=UNKNOWN),
    AddEntity(entity=_ent("x", 0, 1), index=2),
    AddStance(stance=Stance(id="x", start=0, end=1, polarity="FAVOR"), index=0),
    SetDocumentStance(target=TRADE, polarity="FAVOR", index=1),
]


@pytest.mark.parametrize("edit", ALL_EDITS, ids=lambda e: type(e).__name__)
def test_edit_round_trips_through_json(edit: Edit) -> None:
    text = edit_to_json(edit)
    data = json.loads(text)
    assert data["op"]
    back = edit_from_json(text)
    assert back == edit
    assert type(back) is type(edit)
    assert edit_from_json(text.encode("utf-8")) == edit


def test_every_edit_type_is_covered_by_the_json_test() -> None:
    assert {type(e) for e in ALL_EDITS} == {
        AddEntity, RemoveEntity, RelabelEntity, AddStance, RemoveStance, SetStancePolarity,
        SetStanceHolder, SetStanceTarget, SetDocumentStance, SetStatus, Batch,
    }


def test_batch_json_keeps_nested_types_and_refs() -> None:
    batch = Batch(edits=[
        SetStanceHolder(stance_id="s", holder=EntityRef(entity_id="e")),
        Batch(edits=[SetStanceTarget(stance_id="s", target=TopicRef(topic="tax"))]),
    ])
    back = edit_from_json(edit_to_json(batch))
    assert isinstance(back, Batch)
    assert isinstance(back.edits[0], SetStanceHolder)
    assert isinstance(back.edits[0].holder, EntityRef)
    assert isinstance(back.edits[1], Batch)
    inner = back.edits[1].edits[0]
    assert isinstance(inner, SetStanceTarget) and isinstance(inner.target, TopicRef)


def test_inverses_serialize_too(ctx: EditContext, full: Annotation) -> None:
    _, inverse = RemoveEntity(entity_id="alice").apply(ctx)
    assert isinstance(inverse, Batch)
    assert edit_from_json(edit_to_json(inverse)) == inverse


@pytest.mark.parametrize(
    "data",
    [
        '{"op": "explode"}',
        '{"entity_id": "x"}',
        '{"op": "remove_entity"}',
        '{"op": "remove_entity", "entity_id": "x", "extra": 1}',
        '{"op": "batch", "edits": []}',
        '{"op": "set_stance_holder", "stance_id": "s", "holder": {"kind": "topic", "topic": "x"}}',
        '{"op": "set_document_stance", "target": {"kind": "unknown"}, "polarity": "FAVOR"}',
        "not json",
    ],
)
def test_bad_edit_json_is_refused(data: str) -> None:
    with pytest.raises(ValidationError):
        edit_from_json(data)


def test_edit_adapter_validates_python_data() -> None:
    edit = EDIT_ADAPTER.validate_python({"op": "set_status", "status": "done"})
    assert edit == SetStatus(status=Status.DONE)
