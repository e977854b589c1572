import io
from pathlib import Path

import orjson
import pytest

from annotator.core.errors import InputError
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
    TopicRef,
)
from annotator.formats.base import Record
from annotator.formats.doccano import read_doccano, sniff, write_doccano
from annotator.formats.text import document_id
from annotator.nlp.tokens import tokenize
from annotator.store.project import Project

DATA = Path(__file__).resolve().parent.parent / "data" / "doccano"
PRETTY = "data_export_relation_extraction_example.jsonl"
ONE_LINE_FILES = sorted(p.name for p in DATA.glob("*.jsonl") if p.name != PRETTY)


def tokenizer(text: str):
    return tokenize(text, "en")


def good(items) -> list[Record]:
    items = list(items)
    bad = [i for i in items if isinstance(i, InputError)]
    assert not bad, bad
    return items


def write(records) -> bytes:
    out = io.BytesIO()
    write_doccano(records, out)
    return out.getvalue()


def lines(data: bytes) -> list[dict]:
    return [orjson.loads(line) for line in data.splitlines()]


def read_bytes(tmp_path: Path, data: bytes, name: str = "in.jsonl") -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_doccano(path))


def through_project(tmp_path: Path, path: Path, name: str = "p") -> bytes:
    project = Project.open(tmp_path / name)
    project.import_records(read_doccano(path), tokenizer=tokenizer, skip_invalid=True)
    return write(project.records(include_unannotated=True))


def real_records(name: str) -> list[dict]:
    """The file's records that carry a text (one of them has none, on purpose)."""
    found = [orjson.loads(line) for line in (DATA / name).read_bytes().splitlines() if line.strip()]
    return [r for r in found if "text" in r or "column_data" in r]


# -- real files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ONE_LINE_FILES)
def test_real_file_comes_back_the_same_through_a_project(tmp_path, name):
    exported = through_project(tmp_path, DATA / name)
    assert lines(exported) == real_records(name)


@pytest.mark.parametrize("name", ONE_LINE_FILES)
def test_import_export_is_a_fixed_point(tmp_path, name):
    first = through_project(tmp_path, DATA / name, "p1")
    (tmp_path / "first.jsonl").write_bytes(first)
    second = through_project(tmp_path, tmp_path / "first.jsonl", "p2")
    (tmp_path / "second.jsonl").write_bytes(second)
    third = through_project(tmp_path, tmp_path / "second.jsonl", "p3")
    assert first == second == third


def test_pretty_printed_example_gets_a_clear_message():
    with pytest.raises(InputError) as info:
        list(read_doccano(DATA / PRETTY))
    assert "pretty-printed JSON object" in info.value.message
    assert "not JSON Lines" in info.value.message
    assert info.value.line == 1


def test_pretty_printed_example_is_recognised_as_doccano():
    assert sniff((DATA / PRETTY).read_bytes())


def test_record_without_text_is_an_error_naming_the_line():
    items = list(read_doccano(DATA / "data_import_tests_sequence_labeling_example.jsonl"))
    assert [type(i) for i in items] == [Record, Record, InputError]
    error = items[2]
    assert error.line == 3
    assert error.field == "text"
    assert "label, meta" in error.message
    assert error.path.endswith("data_import_tests_sequence_labeling_example.jsonl")


def test_sequence_labelling():
    records = good(read_doccano(DATA / "data_export_sequence_labeling_example.jsonl"))
    [ann] = records[0].annotations
    assert [(e.start, e.end, e.label) for e in ann.entities] == [(0, 2, "ORG"), (11, 17, "MISC")]
    assert ann.status is Status.DONE
    assert ann.annotator == "imported"
    assert all(e.source == SpanSource(kind="imported", name="doccano") for e in ann.entities)
    assert records[0].document.id == document_id(records[0].document.text)
    assert records[0].tokens is None


def test_relation_mode_keeps_entity_ids_and_relations():
    [record] = good(read_doccano(DATA / "data_import_tests_relation_extraction_example.jsonl"))
    [ann] = record.annotations
    assert [e.extra["doccano"]["id"] for e in ann.entities] == [0, 1, 2, 3]
    relations = ann.extra["doccano"]["relations"]
    assert [(r["from_id"], r["to_id"], r["type"]) for r in relations] == [
        (0, 1, "foundedAt"),
        (0, 2, "foundedBy"),
        (0, 3, "foundedBy"),
    ]
    text = record.document.text
    assert [text[e.start:e.end] for e in ann.entities] == [
        "Google", "September 4, 1998", "Larry Page", "Sergey Brin"
    ]


def test_old_annotations_become_one_annotation_per_user():
    records = good(read_doccano(DATA / "labeling.jsonl"))
    first = records[0]
    assert [a.annotator for a in first.annotations] == ["1", "2"]
    # Integer label ids stay ids: the file does not say what they stand for.
    assert [e.label for e in first.annotations[0].entities] == ["12", "13", "13", "12", "12"]
    assert first.document.meta.extra == {"id": 2578, "meta": {}}
    assert first.annotations[0].extra["doccano"]["keys"] == {"annotation_approver": None}
    assert [a.annotator for a in records[1].annotations] == ["2"]


def test_two_users_in_a_project_go_back_into_one_line(tmp_path):
    exported = lines(through_project(tmp_path, DATA / "labeling.jsonl"))
    users = [entry["user"] for entry in exported[0]["annotations"]]
    assert users == [1] * 5 + [2] * 5
    assert exported[0]["annotations"][0] == {"label": 12, "start_offset": 9, "end_offset": 14, "user": 1}


def test_old_classification_labels_are_kept_per_user():
    records = good(read_doccano(DATA / "classification.jsonl"))
    [ann] = records[0].annotations
    assert ann.annotator == "1"
    assert ann.entities == []
    assert ann.extra["doccano"]["categories"] == [{"label": 15}]


def test_text_classification_labels_are_kept_with_the_annotation():
    records = good(read_doccano(DATA / "data_export_text_classification_example.jsonl"))
    [ann] = records[0].annotations
    assert ann.entities == []
    assert ann.extra["doccano"]["categories"] == ["negative"]


def test_intent_detection_entities_and_cats():
    records = good(read_doccano(DATA / "data_export_intent_detection_example.jsonl"))
    [ann] = records[0].annotations
    assert [(e.start, e.end, e.label) for e in ann.entities] == [(0, 26, "City"), (30, 36, "City")]
    assert ann.extra["doccano"]["keys"] == {"cats": ["flight"]}


def test_column_name_variant():
    records = good(read_doccano(DATA / "data_import_sequence_labeling_example.jsonl"))
    assert records[1].document.text == "Peter Blackburn"
    assert [(e.start, e.end, e.label) for e in records[1].annotations[0].entities] == [(0, 15, "PERSON")]


def test_labels_variant():
    records = good(read_doccano(DATA / "labeling_text_label.jsonl"))
    [ann] = records[0].annotations
    assert [e.label for e in ann.entities] == ["LOC", "PER", "PER", "LOC", "LOC"]
    assert ann.extra["doccano"]["span_key"] == "labels"


def test_duplicate_spans_and_mid_word_spans_import_with_a_warning(tmp_path):
    path = DATA / "data_import_tests_sequence_labeling_example_overlapping.jsonl"
    [record] = good(read_doccano(path))
    assert [(e.start, e.end, e.label) for e in record.annotations[0].entities] == [(0, 1, "LOC")] * 2
    assert record.warnings == ["2 of 2 spans do not fall on token boundaries (kept as given)"]
    project = Project.open(tmp_path / "p")
    report = project.import_records(read_doccano(path), tokenizer=tokenizer)
    assert report.overlaps_allowed
    assert report.warnings and "token boundaries" in report.warnings[0]


def test_text_only_records_are_documents_without_annotations():
    records = good(read_doccano(DATA / "docs_tutorial_books_multilingual.jsonl"))
    assert [r.annotations for r in records] == [[], [], []]
    assert records[1].document.text.startswith("《三体》")


def test_empty_label_list_is_a_done_annotation_without_spans():
    records = list(read_doccano(DATA / "data_import_tests_sequence_labeling_example.jsonl"))
    [ann] = records[1].annotations
    assert ann.entities == [] and ann.status is Status.DONE
    assert records[1].document.meta.extra == {"meta": {"wikiPageID": 2}}


@pytest.mark.parametrize("name", [*ONE_LINE_FILES])
def test_sniff_recognises_real_files(name):
    head = (DATA / name).read_bytes()[: 64 * 1024]
    # A file of bare texts could be any JSONL: it is not claimed.
    assert sniff(head) == (name != "docs_tutorial_books_multilingual.jsonl")


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "Hi", "spans": [{"start": 0, "end": 2, "label": "X"}], "answer": "accept"}',
        b'{"text": "Hi", "label": "DOCUMENTATION", "answer": "accept"}',
        b'{"text": "Hi", "cats": {"A": 1.0}}',
        b'{"schema_version": 1, "document": {"id": "x", "text": "y"}, "annotator": null}',
        b'{"text": "Hi", "tokens": [], "label": []}',
        b'["Hi", ["O"]]',
        b"-DOCSTART- -X- -X- O",
        b"",
    ],
)
def test_sniff_refuses_other_formats(line):
    assert not sniff(line + b"\n")


def test_sniff_accepts_the_data_key_and_a_bom():
    assert sniff(b'\xef\xbb\xbf{"id": 10, "data": "It works", "label": [[3, 8, "A"]]}\n')


# -- shapes not in the real files ---------------------------------------------------------------------


def test_data_key_of_doccano_1_5_round_trips(tmp_path):
    line = {"id": 10, "data": "It makes reporting easy.", "label": [[9, 18, "B"]]}
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    assert record.document.text == "It makes reporting easy."
    assert lines(write([record])) == [line]


def test_typed_metadata_and_unknown_keys(tmp_path):
    line = {
        "id": 7,
        "text": "Ferry saved.",
        "title": "Ferry",
        "url": "https://example.org/ferry",
        "published": 2026,
        "meta": {"a": [1, None]},
        "Comments": ["check"],
        "label": [[0, 5, "MISC"]],
    }
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    meta = record.document.meta
    assert (meta.title, meta.url) == ("Ferry", "https://example.org/ferry")
    assert meta.extra == {"id": 7, "published": 2026, "meta": {"a": [1, None]}}
    assert record.annotations[0].extra["doccano"]["keys"] == {"Comments": ["check"]}
    assert lines(write([record])) == [line]


def test_span_level_unknown_keys_survive(tmp_path):
    line = {
        "text": "Anna met Bo.",
        "entities": [{"id": 5, "label": "PERSON", "start_offset": 0, "end_offset": 4, "prob": 0.9}],
        "relations": [],
    }
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    assert record.annotations[0].entities[0].extra == {"doccano": {"id": 5, "prob": 0.9}}
    assert lines(write([record])) == [line]


def test_unicode_text_comes_back_byte_for_byte(tmp_path):
    texts = [
        "Fans cheered 👍 as the family 👨‍👩‍👧 waved outside Tokyo Station.",
        "Ferry saved\r\n\r\nBy Lena Hartmann\r\n",
        "Party\tSeats\nLabour\t411\n",
        "Line\u2028separator and\u2029NEL\x85 too",
    ]
    source = b"".join(
        orjson.dumps({"text": t, "label": [[t.index(w), t.index(w) + len(w), "X"]]}) + b"\n"
        for t, w in zip(texts, ["Tokyo", "Lena", "Labour", "NEL"], strict=True)
    )
    path = tmp_path / "in.jsonl"
    path.write_bytes(source)
    records = good(read_doccano(path))
    for record, text in zip(records, texts, strict=True):
        [e] = record.annotations[0].entities
        assert record.document.text == text
        assert text[e.start:e.end] in ("Tokyo", "Lena", "Labour", "NEL")
    assert through_project(tmp_path, path) == source.replace(b", ", b",").replace(b": ", b":")


def test_same_text_by_different_annotators_is_one_document(tmp_path):
    data = (
        orjson.dumps({"text": "Anna met Bo.", "label": [[0, 4, "PERSON"]], "annotator": "anna"}) + b"\n"
        + orjson.dumps({"text": "Anna met Bo.", "label": [[9, 11, "PERSON"]], "annotator": "bo"}) + b"\n"
    )
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    project = Project.open(tmp_path / "p")
    report = project.import_records(read_doccano(path), tokenizer=tokenizer)
    assert (report.documents_added, report.annotations_added) == (1, 2)
    assert write(project.records()) == data


def test_status_and_annotator_from_elsewhere_are_written_and_read(tmp_path):
    text = "Anna met Bo."
    doc = Document(id="d1", text=text, meta=DocumentMeta(title="T", source="t.txt", extra={"z": 1}))
    ann = Annotation(
        document_id="d1",
        annotator="anna",
        status=Status.IN_PROGRESS,
        entities=[EntitySpan(start=0, end=4, label="PERSON", extra={"score": 1})],
        extra={"answer": "accept"},
    )
    [line] = lines(write([Record(document=doc, annotations=[ann])]))
    assert line == {
        "text": text,
        "title": "T",
        "source": "t.txt",
        "z": 1,
        "label": [[0, 4, "PERSON"]],
        "annotator": "anna",
        "annotation_status": "in_progress",
    }
    [back] = good(read_bytes(tmp_path, orjson.dumps(line)))
    [got] = back.annotations
    assert (got.annotator, got.status) == ("anna", Status.IN_PROGRESS)
    assert back.document.meta.title == "T" and back.document.meta.extra == {"z": 1}


def test_unannotated_document_is_text_and_metadata(tmp_path):
    doc = Document(id="d1", text="Hello.", meta=DocumentMeta(extra={"id": 3, "cats": ["not metadata"]}))
    [line] = lines(write([Record(document=doc)]))
    assert line == {"id": 3, "text": "Hello."}


def test_write_returns_the_number_of_records():
    doc = Document(id="d1", text="Hello.")
    anns = [Annotation(document_id="d1", annotator=name, status=Status.DONE) for name in ("a", "b")]
    out = io.BytesIO()
    assert write_doccano([Record(document=doc, annotations=anns), Record(document=doc)], out) == 2
    assert len(out.getvalue().splitlines()) == 3


def test_label_ids_are_written_as_ids_unless_renamed(tmp_path):
    [record] = good(read_doccano(DATA / "labeling.jsonl"))[1:]
    [ann] = record.annotations
    ann.entities[0] = ann.entities[0].model_copy(update={"label": "ORG"})
    [line] = lines(write([record]))
    assert [e["label"] for e in line["annotations"]] == ["ORG", 13, 12, 12, 12, 13]


def test_new_entities_get_free_ids_and_dangling_relations_are_dropped(tmp_path):
    [record] = good(read_doccano(DATA / "data_import_tests_relation_extraction_example.jsonl"))
    [ann] = record.annotations
    del ann.entities[1]  # September 4, 1998: its foundedAt relation goes too
    ann.entities.append(EntitySpan(start=11, end=18, label="EVENT"))
    [line] = lines(write([record]))
    assert [e["id"] for e in line["entities"]] == [0, 2, 3, 4]
    assert [(r["from_id"], r["to_id"]) for r in line["relations"]] == [(0, 2), (0, 3)]


# -- stances -----------------------------------------------------------------------------------------

ARTICLE = (
    "Mayor Anna Keller said the ferry must stay. 🚢 Critics from the Green Party disagree. "
    "The council voted 7-2.\r\nOur view: keep it."
)


def span(part: str, label: str) -> EntitySpan:
    start = ARTICLE.index(part)
    return EntitySpan(start=start, end=start + len(part), label=label)


def stance_record(annotator: str = "anna") -> Record:
    anna = span("Anna Keller", "PERSON")
    greens = span("Green Party", "ORG")
    council = span("council", "ORG")
    evidence = [ARTICLE.index(s) for s in ("said the ferry", "Critics from", "Our view", "voted")]
    stances = [
        Stance(start=evidence[0], end=evidence[0] + 14, polarity="FAVOR",
               holder=EntityRef(entity_id=anna.id), target=TopicRef(topic="ferry: service")),
        Stance(start=evidence[1], end=evidence[1] + 12, polarity="AGAINST",
               holder=EntityRef(entity_id=greens.id), target=EntityRef(entity_id=anna.id)),
        Stance(start=evidence[2], end=evidence[2] + 8, polarity="FAVOR", holder=AUTHOR),
        Stance(start=evidence[3], end=evidence[3] + 5, polarity="NEUTRAL"),
    ]
    ann = Annotation(
        document_id=document_id(ARTICLE),
        annotator=annotator,
        status=Status.DONE,
        entities=[anna, greens, council],
        stances=stances,
        doc_stances=[
            DocumentStance(target=TopicRef(topic="ferry: service"), polarity="FAVOR"),
            DocumentStance(target=EntityRef(entity_id=greens.id), polarity="AGAINST"),
        ],
    )
    doc = Document(id=document_id(ARTICLE), text=ARTICLE, meta=DocumentMeta(title="Ferry", author="Ed"))
    return Record(document=doc, annotations=[ann])


def resolved(ann: Annotation, text: str) -> dict:
    """The annotation in terms of text and labels, not ids."""
    by_id = {e.id: (text[e.start:e.end], e.label) for e in ann.entities}

    def ref(r):
        return by_id[r.entity_id] if isinstance(r, EntityRef) else r

    return {
        "entities": [(text[e.start:e.end], e.label) for e in ann.entities],
        "stances": [(text[s.start:s.end], s.polarity, ref(s.holder), ref(s.target)) for s in ann.stances],
        "doc_stances": [(ref(d.target), d.polarity) for d in ann.doc_stances],
    }


def test_stances_are_written_in_relation_mode():
    [line] = lines(write([stance_record()]))
    entities = {e["id"]: e for e in line["entities"]}
    assert [e["label"] for e in line["entities"]] == [
        "PERSON", "ORG", "ORG", "STANCE:FAVOR", "STANCE:AGAINST", "STANCE:FAVOR", "STANCE:NEUTRAL"
    ]
    assert entities[3]["topic"] == "ferry: service"
    assert entities[5]["holder"] == "author"
    assert "holder" not in entities[6] and "topic" not in entities[6]
    assert line["relations"] == [
        {"id": 0, "from_id": 3, "to_id": 0, "type": "stance_holder"},
        {"id": 1, "from_id": 4, "to_id": 1, "type": "stance_holder"},
        {"id": 2, "from_id": 4, "to_id": 0, "type": "stance_target"},
    ]
    assert line["cats"] == ["STANCE:ferry: service:FAVOR", "STANCE:@1:AGAINST"]
    assert line["annotator"] == "anna"
    assert (line["title"], line["author"]) == ("Ferry", "Ed")


def test_stances_round_trip_through_doccano(tmp_path):
    original = stance_record()
    first = write([original])
    path = tmp_path / "stances.jsonl"
    path.write_bytes(first)
    [record] = good(read_doccano(path))
    [ann] = record.annotations
    assert resolved(ann, ARTICLE) == resolved(original.annotations[0], ARTICLE)
    project = Project.open(tmp_path / "p")
    project.import_records([record], tokenizer=tokenizer)
    [stored] = project.records()
    assert resolved(stored.annotations[0], ARTICLE) == resolved(original.annotations[0], ARTICLE)
    assert write([stored]) == first


def test_stances_made_in_doccano_keep_their_ids(tmp_path):
    line = {
        "id": 1,
        "text": "Anna backs the ferry.",
        "entities": [
            {"id": 10, "label": "PERSON", "start_offset": 0, "end_offset": 4},
            {"id": 30, "label": "STANCE:FAVOR", "start_offset": 5, "end_offset": 20},
            {"id": 20, "label": "MISC", "start_offset": 15, "end_offset": 20},
        ],
        "relations": [
            {"id": 7, "from_id": 30, "to_id": 10, "type": "stance_holder"},
            {"id": 8, "from_id": 10, "to_id": 20, "type": "likes"},
            {"id": 9, "from_id": 30, "to_id": 20, "type": "stance_target"},
        ],
    }
    path = tmp_path / "in.jsonl"
    path.write_bytes(orjson.dumps(line))
    [record] = good(read_doccano(path))
    [ann] = record.annotations
    [stance] = ann.stances
    assert stance.holder == EntityRef(entity_id=ann.entities[0].id)
    assert stance.target == EntityRef(entity_id=ann.entities[1].id)
    [back] = lines(through_project(tmp_path, path))
    assert {e["id"]: e for e in back["entities"]} == {e["id"]: e for e in line["entities"]}
    assert sorted(back["relations"], key=lambda r: r["id"]) == line["relations"]


def test_article_stances_from_text_classification_labels(tmp_path):
    line = {"text": "Keep the ferry.", "label": ["positive", "STANCE:ferry:FAVOR"]}
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    [ann] = record.annotations
    assert ann.doc_stances == [DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR")]
    assert ann.extra["doccano"]["categories"] == ["positive"]
    assert lines(write([record])) == [line]


def test_stance_without_holder_or_target_stays_in_the_label_list(tmp_path):
    line = {"text": "Keep the ferry.", "label": [[0, 15, "STANCE:FAVOR"]]}
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    assert [s.polarity for s in record.annotations[0].stances] == ["FAVOR"]
    assert lines(write([record])) == [line]


def test_stances_added_to_an_old_style_record_get_a_relation_mode_line(tmp_path):
    records = good(read_doccano(DATA / "labeling.jsonl"))
    first = records[0]
    user2 = first.annotations[1]
    holder = EntityRef(entity_id=user2.entities[0].id)
    user2.stances.append(Stance(start=0, end=6, polarity="FAVOR", holder=holder))
    out = lines(write([first]))
    assert [sorted(line) for line in out] == [
        ["annotation_approver", "annotations", "id", "meta", "text"],
        ["annotation_approver", "annotator", "entities", "id", "meta", "relations", "text"],
    ]
    assert out[1]["annotator"] == "2"
    path = tmp_path / "out.jsonl"
    path.write_bytes(write([first]))
    old, new = good(read_doccano(path))
    assert [a.annotator for a in old.annotations] == ["1"]
    [ann] = new.annotations
    assert ann.annotator == "2"
    [stance] = ann.stances
    assert stance.holder == EntityRef(entity_id=ann.entities[0].id)


# -- bad input ---------------------------------------------------------------------------------------


def error_of(tmp_path: Path, line: dict | bytes) -> InputError:
    good_line = b'{"text": "ok", "label": []}\n'
    data = line if isinstance(line, bytes) else orjson.dumps(line)
    items = read_bytes(tmp_path, good_line + data + b"\n" + good_line)
    assert isinstance(items[0], Record) and isinstance(items[2], Record)
    error = items[1]
    assert isinstance(error, InputError), error
    assert error.line == 2
    assert error.path == str(tmp_path / "in.jsonl")
    return error


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"text": 5, "label": []}, "text", "must be the document's text (a string), not a number"),
        ({"label": [[0, 1, "X"]]}, "text", "missing: every doccano record needs"),
        ({"text": "abc", "label": [[0, 9, "X"]]}, "label[0]", "0 <= start < end <= 3"),
        ({"text": "abc", "label": [[2, 2, "X"]]}, "label[0]", "0 <= start < end"),
        ({"text": "abc", "label": [[0, 1]]}, "label[0]", "[start, end, label]"),
        ({"text": "abc", "label": [["0", 1, "X"]]}, "label[0][0]", "whole numbers"),
        ({"text": "abc", "label": [[0, 1, None]]}, "label[0][2]", "label name or id"),
        ({"text": "abc", "label": [[0, 1, "US CITY"]]}, "label[0][2]", "contain spaces"),
        ({"text": "abc", "entities": [{"start_offset": 0, "label": "X"}]}, "entities[0].end_offset", "requ"),
        (
            {"text": "abc", "entities": [{"id": 1, "start_offset": 0, "end_offset": 1, "label": "X"}] * 2},
            "entities[1].id",
            "used twice",
        ),
        (
            {
                "text": "abc",
                "entities": [{"id": 1, "start_offset": 0, "end_offset": 1, "label": "X"}],
                "relations": [{"from_id": 1, "to_id": 2, "type": "r"}],
            },
            "relations[0].to_id",
            "refers to entity 2",
        ),
        ({"text": "abc", "relations": "none"}, "relations", "must be a list"),
        ({"text": "abc", "annotations": [{"label": 1, "start_offset": 0, "end_offset": 1, "user": 1.5}]},
         "annotations[0].user", "user id"),
        ({"text": "abc", "annotations": ["x"]}, "annotations[0]", "must be an object"),
        ({"text": "abc", "label": [[0, 1, "STANCE:"]]}, "label[0][2]", "polarity"),
        (
            {"text": "abc", "entities": [{"start_offset": 0, "end_offset": 1, "label": "STANCE:FAVOR",
                                          "holder": "bob"}]},
            "entities[0].holder",
            'must be "author"',
        ),
        ({"text": "abc", "cats": ["STANCE:x:FAVOR", "STANCE:x:AGAINST"]}, "cats", "already has a stance"),
    ],
)
def test_bad_records_name_line_and_field(tmp_path, line, field, message):
    error = error_of(tmp_path, line)
    assert error.field == field
    assert message in error.message


def test_a_broken_line_does_not_stop_the_others(tmp_path):
    error = error_of(tmp_path, b'{"text": "abc", "label": [')
    assert "not valid JSON" in error.message


def test_stance_relation_to_another_stance_is_refused(tmp_path):
    line = {
        "text": "abc",
        "entities": [
            {"id": 1, "start_offset": 0, "end_offset": 1, "label": "STANCE:FAVOR"},
            {"id": 2, "start_offset": 1, "end_offset": 2, "label": "STANCE:AGAINST"},
        ],
        "relations": [{"from_id": 1, "to_id": 2, "type": "stance_target"}],
    }
    error = error_of(tmp_path, line)
    assert error.field == "relations[0].to_id"


def test_empty_file_is_raised(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_bytes(tmp_path, b"")


def test_article_stances_in_a_label_list_survive_a_switch_to_relation_mode(tmp_path):
    line = {"text": "Anna keeps the ferry.", "label": ["positive", "STANCE:ferry:FAVOR", [0, 4, "PERSON"]]}
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    [ann] = record.annotations
    holder = EntityRef(entity_id=ann.entities[0].id)
    ann.stances.append(Stance(start=5, end=20, polarity="FAVOR", holder=holder))
    [out] = lines(write([record]))
    assert out["label"] == ["positive", "STANCE:ferry:FAVOR"]
    assert [e["label"] for e in out["entities"]] == ["PERSON", "STANCE:FAVOR"]
    [back] = good(read_bytes(tmp_path, orjson.dumps(out), "back.jsonl"))
    [again] = back.annotations
    assert again.doc_stances == ann.doc_stances
    assert lines(write([back])) == [out]


def test_old_style_stances_keep_their_entry_ids(tmp_path):
    line = {
        "id": 1,
        "text": "Keep the ferry.",
        "annotations": [
            {"label": "STANCE:FAVOR", "start_offset": 0, "end_offset": 15, "user": 4, "id": 77},
            {"label": 3, "start_offset": 9, "end_offset": 14, "user": 4, "id": 78},
        ],
    }
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    [ann] = record.annotations
    assert (ann.annotator, [s.polarity for s in ann.stances], [e.label for e in ann.entities]) == (
        "4", ["FAVOR"], ["3"]
    )
    [out] = lines(write([record]))
    assert sorted(out["annotations"], key=lambda e: e["id"]) == line["annotations"]
