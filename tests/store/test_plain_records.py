"""plain_records: the same documents and annotations as records(), as plain data, so that the native
export, which takes them, writes exactly the bytes it writes from the models."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from annotator.core.edits import AddEntity, SetStatus
from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentMeta,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanSource,
    Stance,
    Status,
    Token,
    TopicRef,
)
from annotator.formats.base import Record
from annotator.formats.native import write_native, write_native_plain
from annotator.store.project import Project

TEXT = "Zoë met 佐藤 in الرياض 🇯🇵 with 👨‍👩‍👧 and e\u0301clair.\r\nNext\u2028line."


def annotation(doc_id: str, who: str, status: Status, when: datetime | None) -> Annotation:
    zoe = EntitySpan(start=0, end=3, label="PERSON", extra={"score": 0.5, "ключ": ["a", 1, None]})
    sato = EntitySpan(start=8, end=10, label="PERSON", source=SpanSource(kind="suggested", name="model"))
    return Annotation(
        document_id=doc_id,
        annotator=who,
        status=status,
        version=3,
        entities=[sato, zoe],
        stances=[
            Stance(
                start=0,
                end=20,
                polarity="FAVOR",
                holder=EntityRef(entity_id=zoe.id),
                target=TopicRef(topic="t"),
            ),
            Stance(start=4, end=7, polarity="AGAINST", holder=AUTHOR, target=EntityRef(entity_id=sato.id)),
        ],
        doc_stances=[
            DocumentStance(target=EntityRef(entity_id=zoe.id), polarity="AGAINST"),
            DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR"),
        ],
        created_at=when,
        updated_at=when and when + timedelta(seconds=1.5),
        extra={"answer": "accept", "nested": {"b": 1, "a": [1.5, True]}},
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = Project.open(tmp_path_factory.mktemp("plain") / "p")
    tokens = [Token(0, 3, True), Token(4, 7, True), Token(8, 10, False)]
    aware = datetime(2026, 1, 3, 10, 15, tzinfo=timezone(timedelta(hours=9)))
    p.import_records(
        [
            Record(
                document=Document(id="a", text=TEXT, meta=DocumentMeta(title="A", extra={"z": 1})),
                annotations=[
                    annotation("a", "anna", Status.DONE, aware),
                    annotation("a", "ben", Status.IN_PROGRESS, None),
                ],
                tokens=tokens,
            ),
            Record(document=Document(id="b", text="Nobody annotated this.")),
            Record(
                document=Document(id="c", text=TEXT), annotations=[annotation("c", "ben", Status.DONE, aware)]
            ),
            Record(document=Document(id="d", text=TEXT), tokens=[]),
        ]
    )
    session = p.open_session("c", "anna")  # an annotation made by editing
    session.apply(AddEntity(entity=EntitySpan(start=14, end=19, label="GPE")))
    session.apply(SetStatus(status=Status.DONE))
    yield p
    p.close()


FILTERS = [
    {},
    {"include_unannotated": True},
    {"annotator": "ben"},
    {"annotator": "nobody", "include_unannotated": True},
    {"statuses": {Status.DONE}},
    {"statuses": {Status.IN_PROGRESS}, "annotator": "anna"},
    {"statuses": set()},
]


@pytest.mark.parametrize("which", FILTERS)
def test_plain_records_are_the_records_as_plain_data(project: Project, which: dict) -> None:  # type: ignore[type-arg]
    records = list(project.records(**which))
    plain = list(project.plain_records(**which))
    assert [r.document.id for r in records] == [p[0]["id"] for p in plain] == project.document_ids(**which)
    for record, (document, tokens, anns) in zip(records, plain, strict=True):
        assert document == record.document.model_dump(mode="json")
        assert tokens == (None if record.tokens is None else [tuple(t) for t in record.tokens])
        assert len(anns) == len(record.annotations)
        for got, ann in zip(anns, record.annotations, strict=True):
            expected = ann.model_dump(mode="json")
            expected["created_at"], expected["updated_at"] = ann.created_at, ann.updated_at
            assert got == expected
            assert list(got) == list(expected)
            for key in ("created_at", "updated_at"):
                assert got[key] is None or got[key].tzinfo == UTC


@pytest.mark.parametrize("which", FILTERS)
def test_the_native_export_writes_the_same_bytes_either_way(project: Project, which: dict) -> None:  # type: ignore[type-arg]
    from_models, from_plain = io.BytesIO(), io.BytesIO()
    assert write_native(project.records(**which), from_models) == write_native_plain(
        project.plain_records(**which), from_plain
    )
    assert from_plain.getvalue() == from_models.getvalue()


def test_export_of_many_documents_streams_in_chunks(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records(
            [
                Record(
                    document=Document(id=f"d{i:04}", text=f"Text {i}"),
                    annotations=[Annotation(document_id=f"d{i:04}", annotator="x", status=Status.DONE)]
                    if i % 3
                    else [],
                    tokens=[Token(0, 4, True)],
                )
                for i in range(450)
            ]
        )
        plain = list(p.plain_records())
        assert [d["id"] for d, _, _ in plain] == [f"d{i:04}" for i in range(450) if i % 3]
        assert all(tokens == [(0, 4, True)] for _, tokens, _ in plain)


def test_metadata_stored_by_hand_or_by_an_older_version_is_completed(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=Document(id="x", text="Text."))])
        with p.engine.begin() as conn:
            conn.exec_driver_sql("""UPDATE documents SET meta = '{"title": "T", "extra": {"k": 1}}'""")
        [record] = p.records(include_unannotated=True)
        [(document, _, _)] = p.plain_records(include_unannotated=True)
        assert document == record.document.model_dump(mode="json")
        assert document["meta"]["author"] is None and document["meta"]["title"] == "T"
