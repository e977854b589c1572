"""check_annotation: every rule, each with a case that breaks it and the field the error names."""

from __future__ import annotations

import pytest

from annotator.core.errors import RuleError
from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentStance,
    EntityRef,
    EntitySpan,
    Stance,
    TopicRef,
)
from annotator.core.rules import check_annotation, check_bounds, check_no_overlap
from annotator.core.scheme import LabelScheme

# The fixture document's text (tests/core/conftest.py); its offsets are used below.
TEXT = "Alice Smith met Bob Jones of Acme in Paris today."


def _ent(eid: str, start: int, end: int, label: str = "PERSON") -> EntitySpan:
    return EntitySpan(id=eid, start=start, end=end, label=label)


def _good() -> Annotation:
    return Annotation(
        document_id="doc-1",
        annotator="ann",
        entities=[_ent("alice", 0, 11), _ent("bob", 16, 25), _ent("acme", 29, 33, "ORG"),
                  _ent("paris", 37, 42, "GPE")],
        stances=[
            Stance(id="s1", start=0, end=25, polarity="FAVOR", holder=EntityRef(entity_id="alice"),
                   target=EntityRef(entity_id="bob")),
            Stance(id="s2", start=12, end=15, polarity="NEUTRAL", holder=AUTHOR,
                   target=TopicRef(topic="trade")),
        ],
        doc_stances=[
            DocumentStance(target=EntityRef(entity_id="acme"), polarity="AGAINST"),
            DocumentStance(target=TopicRef(topic="trade"), polarity="FAVOR"),
        ],
    )


def _error(ann: Annotation, document: Document, scheme: LabelScheme) -> RuleError:
    with pytest.raises(RuleError) as info:
        check_annotation(ann, document, scheme)
    return info.value


def test_good_annotation_passes(document: Document, scheme: LabelScheme) -> None:
    assert document.text == TEXT
    check_annotation(_good(), document, scheme)


def test_empty_annotation_passes(document: Document, scheme: LabelScheme) -> None:
    check_annotation(Annotation(document_id="doc-1", annotator="a"), document, scheme)


# -- bounds -----------------------------------------------------------------------------------------


def test_entity_may_end_exactly_at_the_end_of_the_text(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("x", len(TEXT) - 1, len(TEXT))])
    check_annotation(ann, document, scheme)


@pytest.mark.parametrize("start, end", [(40, len(TEXT) + 1), (len(TEXT), len(TEXT) + 5), (100, 200)])
def test_entity_past_the_end_is_refused_naming_its_index(
    document: Document, scheme: LabelScheme, start: int, end: int
) -> None:
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("a", 0, 5), _ent("b", start, end)])
    err = _error(ann, document, scheme)
    assert err.field == "entities[1]"
    assert str(err).startswith("entities[1]: ")
    assert str(len(TEXT)) in err.message


def test_stance_past_the_end_is_refused(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a",
                     stances=[Stance(id="s", start=3, end=len(TEXT) + 1, polarity="FAVOR")])
    assert _error(ann, document, scheme).field == "stances[0]"


def test_span_on_an_empty_text_is_refused(scheme: LabelScheme) -> None:
    doc = Document(id="doc-1", text="")
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("a", 0, 1)])
    assert _error(ann, doc, scheme).field == "entities[0]"


@pytest.mark.parametrize(
    "start, end, ok",
    [(0, 1, True), (0, 4, True), (3, 4, True), (0, 0, False), (2, 1, False), (-1, 2, False), (0, 5, False)],
)
def test_check_bounds(start: int, end: int, ok: bool) -> None:
    if ok:
        check_bounds("f", start, end, "abcd")
    else:
        with pytest.raises(RuleError) as info:
            check_bounds("f", start, end, "abcd")
        assert info.value.field == "f"


def test_bounds_are_checked_even_on_spans_built_without_validation(
    document: Document, scheme: LabelScheme
) -> None:
    # model_construct skips pydantic: the rules must still catch what an unchecked import could bring.
    bad = EntitySpan.model_construct(id="x", start=5, end=5, label="PERSON")
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("a", 0, 3)])
    ann.entities.append(bad)
    assert _error(ann, document, scheme).field == "entities[1]"


# -- scheme membership ------------------------------------------------------------------------------


def test_label_not_in_scheme(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.entities[2] = _ent("acme", 29, 33, "COMPANY")
    err = _error(ann, document, scheme)
    assert err.field == "entities[2].label"
    assert "'COMPANY'" in err.message and "PERSON" in err.message


def test_label_check_is_case_sensitive(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("a", 0, 5, "person")])
    assert _error(ann, document, scheme).field == "entities[0].label"


def test_stance_polarity_not_in_scheme(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances[1] = ann.stances[1].model_copy(update={"polarity": "SUPPORT"})
    err = _error(ann, document, scheme)
    assert err.field == "stances[1].polarity"
    assert "'SUPPORT'" in err.message and "FAVOR" in err.message


def test_article_stance_polarity_not_in_scheme(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.doc_stances[1] = DocumentStance(target=TopicRef(topic="trade"), polarity="LOVES")
    assert _error(ann, document, scheme).field == "doc_stances[1].polarity"


def test_polarity_added_to_the_scheme_is_accepted(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances[1] = ann.stances[1].model_copy(update={"polarity": "MIXED"})
    check_annotation(ann, document, scheme.with_polarities(["MIXED"]))


# -- references -------------------------------------------------------------------------------------


def test_stance_holder_referring_to_a_missing_entity(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances[0] = ann.stances[0].model_copy(update={"holder": EntityRef(entity_id="ghost")})
    err = _error(ann, document, scheme)
    assert err.field == "stances[0].holder"
    assert "'ghost'" in err.message


def test_stance_target_referring_to_a_missing_entity(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances[1] = ann.stances[1].model_copy(update={"target": EntityRef(entity_id="ghost")})
    assert _error(ann, document, scheme).field == "stances[1].target"


def test_article_stance_target_referring_to_a_missing_entity(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.doc_stances.append(DocumentStance(target=EntityRef(entity_id="ghost"), polarity="FAVOR"))
    assert _error(ann, document, scheme).field == "doc_stances[2].target"


def test_stance_may_not_refer_to_a_stance_id(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances[1] = ann.stances[1].model_copy(update={"target": EntityRef(entity_id="s1")})
    assert _error(ann, document, scheme).field == "stances[1].target"


@pytest.mark.parametrize("topic", [" ", "\t\n"])
def test_blank_topic_is_refused(document: Document, scheme: LabelScheme, topic: str) -> None:
    ann = _good()
    ann.stances[1] = ann.stances[1].model_copy(update={"target": TopicRef(topic=topic)})
    assert _error(ann, document, scheme).field == "stances[1].target"
    ann = _good()
    ann.doc_stances[1] = DocumentStance(target=TopicRef(topic=topic), polarity="FAVOR")
    assert _error(ann, document, scheme).field == "doc_stances[1].target"


# -- ids --------------------------------------------------------------------------------------------


def test_duplicate_entity_ids(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.entities[3] = _ent("bob", 37, 42, "GPE")
    err = _error(ann, document, scheme)
    assert err.field == "entities[3].id"
    assert "'bob'" in err.message


def test_duplicate_stance_ids(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances.append(Stance(id="s1", start=0, end=3, polarity="FAVOR"))
    assert _error(ann, document, scheme).field == "stances[2].id"


def test_an_entity_and_a_stance_may_share_an_id(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances.append(Stance(id="alice", start=0, end=3, polarity="FAVOR"))
    check_annotation(ann, document, scheme)


# -- overlap ----------------------------------------------------------------------------------------

OVERLAPS = [
    ([(0, 11), (6, 15)], "partial"),
    ([(0, 11), (0, 11)], "same range"),
    ([(0, 11), (6, 11)], "nested end"),
    ([(0, 11), (0, 5)], "nested start"),
    ([(0, 25), (6, 11), (16, 19)], "one covers two"),
    ([(16, 25), (0, 5), (20, 30)], "out of order"),
    ([(0, 30), (2, 4), (12, 15), (20, 22)], "long span over many short"),
]


@pytest.mark.parametrize("ranges", [o[0] for o in OVERLAPS], ids=[o[1] for o in OVERLAPS])
def test_overlapping_entities_refused_unless_the_scheme_allows(
    document: Document, scheme: LabelScheme, ranges: list[tuple[int, int]]
) -> None:
    ann = Annotation(document_id="doc-1", annotator="a",
                     entities=[_ent(f"e{i}", s, e) for i, (s, e) in enumerate(ranges)])
    err = _error(ann, document, scheme)
    assert err.field.startswith("entities[")
    assert "overlaps" in err.message
    check_annotation(ann, document, scheme.model_copy(update={"allow_overlap": True}))


def test_overlap_error_names_the_later_entity_in_text_order(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a", entities=[_ent("b", 5, 15), _ent("a", 0, 8)])
    err = _error(ann, document, scheme)
    assert err.field == "entities[0]"
    assert "5-15" in err.message and "0-8" in err.message


def test_touching_entities_do_not_overlap(document: Document, scheme: LabelScheme) -> None:
    ann = Annotation(document_id="doc-1", annotator="a",
                     entities=[_ent("a", 0, 5), _ent("b", 5, 11), _ent("c", 11, 12)])
    check_annotation(ann, document, scheme)


def test_check_no_overlap_ignores_the_entity_itself(scheme: LabelScheme) -> None:
    e = _ent("a", 0, 5)
    check_no_overlap("entity", e, [e], scheme)
    with pytest.raises(RuleError) as info:
        check_no_overlap("entity", e, [e, _ent("b", 4, 6)], scheme)
    assert info.value.field == "entity"


def test_stances_may_overlap_each_other_and_entities(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.stances.append(Stance(id="s3", start=5, end=30, polarity="AGAINST"))
    check_annotation(ann, document, scheme)


# -- article stances and document ---------------------------------------------------------------------


def test_duplicate_article_stance_targets(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.doc_stances.append(DocumentStance(target=EntityRef(entity_id="acme"), polarity="FAVOR"))
    err = _error(ann, document, scheme)
    assert err.field == "doc_stances[2].target"
    assert "entity:acme" in err.message


def test_duplicate_article_stance_topic(document: Document, scheme: LabelScheme) -> None:
    ann = _good()
    ann.doc_stances.append(DocumentStance(target=TopicRef(topic="trade"), polarity="AGAINST"))
    assert _error(ann, document, scheme).field == "doc_stances[2].target"


def test_topic_and_entity_with_the_same_name_are_different_targets(
    document: Document, scheme: LabelScheme
) -> None:
    ann = _good()
    ann.doc_stances.append(DocumentStance(target=TopicRef(topic="acme"), polarity="FAVOR"))
    check_annotation(ann, document, scheme)


def test_document_id_mismatch(document: Document, scheme: LabelScheme) -> None:
    ann = _good().model_copy(update={"document_id": "doc-2"})
    err = _error(ann, document, scheme)
    assert err.field == "document_id"
    assert "'doc-2'" in err.message and "'doc-1'" in err.message
