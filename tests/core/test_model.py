"""The pydantic model: span validation, discriminated references and JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from annotator.core.model import (
    AUTHOR,
    UNKNOWN,
    Annotation,
    AuthorRef,
    Document,
    DocumentMeta,
    DocumentStance,
    DocumentTarget,
    EntityRef,
    EntitySpan,
    Holder,
    SpanSource,
    Stance,
    Status,
    Target,
    TopicRef,
    UnknownRef,
    new_id,
    target_key,
)

# -- spans ------------------------------------------------------------------------------------------


def test_entity_span_accepts_a_valid_span() -> None:
    e = EntitySpan(start=0, end=1, label="PERSON")
    assert (e.start, e.end, e.label) == (0, 1, "PERSON")
    assert e.id
    assert e.source == SpanSource(kind="manual")


@pytest.mark.parametrize("start, end", [(5, 5), (6, 5), (-1, 3), (0, -1), (-2, -1)])
def test_entity_span_refuses_bad_offsets(start: int, end: int) -> None:
    with pytest.raises(ValidationError):
        EntitySpan(start=start, end=end, label="PERSON")


@pytest.mark.parametrize("start, end", [(5, 5), (6, 5), (-1, 3)])
def test_stance_refuses_bad_offsets(start: int, end: int) -> None:
    with pytest.raises(ValidationError):
        Stance(start=start, end=end, polarity="FAVOR")


def test_start_equal_end_error_names_both() -> None:
    with pytest.raises(ValidationError) as info:
        EntitySpan(start=4, end=4, label="PERSON")
    assert "start (4) must be less than end (4)" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": 0, "end": 1, "label": ""},
        {"start": 0, "end": 1},
        {"start": 0, "end": 1, "label": "X", "id": ""},
        {"start": 0, "end": 1, "label": "X", "colour": "#fff"},
        {"start": "a", "end": 1, "label": "X"},
        {"start": 0, "end": 1, "label": "X", "source": {"kind": "guessed"}},
    ],
    ids=["empty label", "no label", "empty id", "unknown key", "non-int start", "bad source kind"],
)
def test_entity_span_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EntitySpan(**kwargs)


def test_spans_are_frozen() -> None:
    e = EntitySpan(start=0, end=1, label="PERSON")
    with pytest.raises(ValidationError):
        e.start = 3  # type: ignore[misc]
    s = Stance(start=0, end=1, polarity="FAVOR")
    with pytest.raises(ValidationError):
        s.polarity = "AGAINST"  # type: ignore[misc]


def test_new_ids_differ() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert len({EntitySpan(start=0, end=1, label="X").id for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": 0, "end": 1, "polarity": ""},
        {"start": 0, "end": 1},
        {"start": 0, "end": 1, "polarity": "FAVOR", "holder": {"kind": "topic", "topic": "x"}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "author"}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "entity"}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "entity", "entity_id": ""}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "topic", "topic": ""}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "nobody"}},
        {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"entity_id": "e1"}},
    ],
    ids=[
        "empty polarity",
        "no polarity",
        "topic cannot hold a stance",
        "author cannot be a target",
        "entity ref without id",
        "entity ref with empty id",
        "empty topic",
        "unknown kind",
        "missing kind",
    ],
)
def test_stance_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Stance(**kwargs)


def test_stance_defaults_to_unknown_holder_and_target() -> None:
    s = Stance(start=0, end=1, polarity="FAVOR")
    assert s.holder == UNKNOWN
    assert s.target == UNKNOWN


@pytest.mark.parametrize(
    "target",
    [{"kind": "unknown"}, {"kind": "author"}, None],
    ids=["unknown", "author", "missing"],
)
def test_document_stance_needs_an_entity_or_topic_target(target: dict[str, str] | None) -> None:
    kwargs: dict[str, Any] = {"polarity": "FAVOR"}
    if target is not None:
        kwargs["target"] = target
    with pytest.raises(ValidationError):
        DocumentStance(**kwargs)


def test_document_stance_needs_a_polarity() -> None:
    with pytest.raises(ValidationError):
        DocumentStance(target=TopicRef(topic="tax"), polarity="")


def test_document_stance_key() -> None:
    assert DocumentStance(target=EntityRef(entity_id="e1"), polarity="FAVOR").key == "entity:e1"
    assert DocumentStance(target=TopicRef(topic="tax"), polarity="FAVOR").key == "topic:tax"
    assert target_key(UNKNOWN) == "unknown"


# -- references round trip --------------------------------------------------------------------------

HOLDERS = [EntityRef(entity_id="e1"), AuthorRef(), UnknownRef()]
TARGETS = [EntityRef(entity_id="e1"), TopicRef(topic="tariffs"), UnknownRef()]


@pytest.mark.parametrize("holder", HOLDERS, ids=lambda h: h.kind)
def test_holder_round_trips_through_json(holder: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Holder)
    back = adapter.validate_json(adapter.dump_json(holder))
    assert back == holder
    assert type(back) is type(holder)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.kind)
def test_target_round_trips_through_json(target: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Target)
    back = adapter.validate_json(adapter.dump_json(target))
    assert back == target
    assert type(back) is type(target)


@pytest.mark.parametrize("target", TARGETS[:2], ids=lambda t: t.kind)
def test_document_target_round_trips_through_json(target: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(DocumentTarget)
    assert adapter.validate_json(adapter.dump_json(target)) == target


@pytest.mark.parametrize("holder", HOLDERS, ids=lambda h: h.kind)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.kind)
def test_stance_with_each_reference_round_trips(holder: Any, target: Any) -> None:
    s = Stance(start=2, end=9, polarity="AGAINST", holder=holder, target=target)
    back = Stance.model_validate_json(s.model_dump_json())
    assert back == s
    assert type(back.holder) is type(holder)
    assert type(back.target) is type(target)


def test_reference_json_carries_its_kind() -> None:
    s = Stance(start=0, end=1, polarity="FAVOR", holder=AUTHOR, target=TopicRef(topic="tax"))
    data = s.model_dump(mode="json")
    assert data["holder"] == {"kind": "author"}
    assert data["target"] == {"kind": "topic", "topic": "tax"}


def _full_annotation() -> Annotation:
    e1 = EntitySpan(id="e1", start=0, end=5, label="PERSON", source=SpanSource(kind="suggested", name="ner"),
                    extra={"score": 0.9})
    e2 = EntitySpan(id="e2", start=10, end=13, label="ORG")
    return Annotation(
        document_id="doc",
        annotator="alice",
        status=Status.DONE,
        version=7,
        entities=[e1, e2],
        stances=[
            Stance(id="s1", start=0, end=20, polarity="FAVOR", holder=EntityRef(entity_id="e1"),
                   target=EntityRef(entity_id="e2")),
            Stance(id="s2", start=3, end=8, polarity="AGAINST", holder=AUTHOR, target=TopicRef(topic="tax")),
            Stance(id="s3", start=4, end=9, polarity="NEUTRAL"),
        ],
        doc_stances=[
            DocumentStance(target=EntityRef(entity_id="e2"), polarity="AGAINST"),
            DocumentStance(target=TopicRef(topic="tax"), polarity="FAVOR"),
        ],
        created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        updated_at=datetime(2024, 5, 2, 12, 0, tzinfo=UTC),
        extra={"answer": "accept"},
    )


def test_annotation_round_trips_through_json() -> None:
    ann = _full_annotation()
    back = Annotation.model_validate_json(ann.model_dump_json())
    assert back == ann
    assert back.model_dump() == ann.model_dump()
    assert isinstance(back.stances[0].holder, EntityRef)
    assert isinstance(back.stances[1].holder, AuthorRef)
    assert isinstance(back.stances[1].target, TopicRef)
    assert isinstance(back.stances[2].target, UnknownRef)
    assert isinstance(back.doc_stances[1].target, TopicRef)


def test_annotation_lookups() -> None:
    ann = _full_annotation()
    assert ann.entity("e2") is ann.entities[1]
    assert ann.entity("nope") is None
    assert ann.stance("s3") is ann.stances[2]
    assert ann.stance("nope") is None
    assert ann.doc_stance("topic:tax") is ann.doc_stances[1]
    assert ann.doc_stance("entity:e2") is ann.doc_stances[0]
    assert ann.doc_stance("entity:e1") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"document_id": "", "annotator": "a"},
        {"document_id": "d", "annotator": ""},
        {"document_id": "d", "annotator": "a", "version": -1},
        {"document_id": "d", "annotator": "a", "status": "finished"},
        {"document_id": "d", "annotator": "a", "notes": "x"},
    ],
    ids=["empty document id", "empty annotator", "negative version", "unknown status", "unknown key"],
)
def test_annotation_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Annotation(**kwargs)


def test_annotation_defaults() -> None:
    ann = Annotation(document_id="d", annotator="a")
    assert ann.status is Status.NOT_STARTED
    assert ann.version == 0
    assert ann.entities == [] and ann.stances == [] and ann.doc_stances == []
    # each annotation has its own lists
    ann.entities.append(EntitySpan(start=0, end=1, label="X"))
    assert Annotation(document_id="d", annotator="a").entities == []


def test_status_values_and_titles() -> None:
    assert [s.value for s in Status] == ["not_started", "in_progress", "done", "skipped"]
    assert Status.IN_PROGRESS.display_name == "in progress"
    assert Status("done") is Status.DONE


def test_document_keeps_text_exactly() -> None:
    text = "  Line one\r\nline two\u2029\tend  \n"
    doc = Document.model_validate_json(Document(id="d", text=text).model_dump_json())
    assert doc.text == text


@pytest.mark.parametrize("doc_id", ["", "x" * 201])
def test_document_id_length(doc_id: str) -> None:
    with pytest.raises(ValidationError):
        Document(id=doc_id, text="t")


def test_document_meta_round_trips_and_forbids_unknown_keys() -> None:
    meta = DocumentMeta(title="T", author="A", published="2024-05-01", source="Paper", url="http://x",
                        extra={"section": "world"})
    assert DocumentMeta.model_validate_json(meta.model_dump_json()) == meta
    with pytest.raises(ValidationError):
        DocumentMeta(section="world")  # type: ignore[call-arg]
