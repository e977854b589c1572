"""Annotations read from the store are built without validating again: they must be the very models
that validation builds."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanList,
    SpanSource,
    Stance,
    TopicRef,
)
from annotator.formats.base import Record
from annotator.store.project import Project

TEXT = "Angela Merkel visited Paris and Tokyo."


def test_loaded_spans_are_what_validation_makes(tmp_path: Path) -> None:
    merkel = EntitySpan(id="m", start=0, end=13, label="PERSON", extra={"score": [0.5, None]})
    paris = EntitySpan(id="p", start=22, end=27, label="GPE", source=SpanSource(kind="suggested", name="m"))
    stance = Stance(
        id="s", start=0, end=27, polarity="FAVOR", holder=EntityRef(entity_id="m"), target=TopicRef(topic="t")
    )
    author = Stance(id="a", start=0, end=5, polarity="AGAINST", holder=AUTHOR)
    original = Annotation(
        document_id="d",
        annotator="x",
        entities=[paris, merkel],
        stances=[stance, author],
        doc_stances=[DocumentStance(target=EntityRef(entity_id="p"), polarity="FAVOR")],
    )
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=Document(id="d", text=TEXT), annotations=[original])])
        loaded = p.annotation("d", "x")
        exported = next(p.records()).annotations[0]
    for ann in (loaded, exported):
        assert ann == original
        assert type(ann.entities) is SpanList and type(ann.stances) is SpanList
        for got, want in zip(ann.entities + ann.stances, original.entities + original.stances, strict=True):
            assert type(got) is type(want)
            assert got == want and got.model_dump() == want.model_dump()
            assert got.model_dump_json() == want.model_dump_json()
            assert got.model_fields_set == set(type(want).model_fields)
            assert type(got).model_validate(got.model_dump()) == got
            assert copy.deepcopy(got) == got and pickle.loads(pickle.dumps(got)) == got
        relabelled = ann.entities[0].model_copy(update={"label": "ORG"})
        assert relabelled.label == "ORG" and ann.entities[0].label == "GPE"
        ann.entities[1].extra["new"] = 1  # each span has its own extra
        assert "new" not in ann.entities[0].extra
    assert loaded.entity("m") is loaded.entities[1] and loaded.stance("a") is loaded.stances[1]
