import io
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from annotator.core.errors import InputError, RuleError
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
from annotator.formats.native import SCHEMA_VERSION, json_schema, read_native, write_native
from annotator.nlp.tokens import tokenize

TEXTS = {
    "emoji": "Fans cheered 👍 as the family 👨‍👩‍👧 waved the flag 🇯🇵 outside Tokyo Station.",
    "cjk": "高市早苗首相は東京でトランプ大統領と会談した。",
    "arabic": "قال الرئيس إن المحادثات مع الأردن كانت مثمرة.",
    "combining": "Cafe\u0301 owners in Re\u0301union protested on Monday.",
    "crlf": "Ferry saved\r\n\r\nBy Lena Hartmann\r\n\r\nThe council of Kelby voted to keep it.\r\n",
    "tabs": "Party\tSeats\nLabour\t411\nGreens\t4\n",
    "separators": "Line\u2028separator and paragraph\u2029separator, NEL\x85 and a form feed\x0c too.",
    "quotes": 'He said "no" and \\ then {"json": true} </script> <b>bold</b>',
}


def find(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def annotated(name: str, text: str, annotator: str = "anna") -> Annotation:
    words = [w for w in text.replace("\t", " ").split() if w.strip(".,")]
    first = words[0].strip(".,")
    start, end = find(text, first)
    entity = EntitySpan(start=start, end=end, label="PERSON", extra={"score": 0.5, "ключ": ["a", 1]})
    last = words[-1]
    s_start, s_end = find(text, last)
    suggestion = EntitySpan(
        start=s_start, end=s_end, label="GPE", source=SpanSource(kind="suggested", name="en_core_web_sm")
    )
    stance = Stance(
        start=0,
        end=len(text.rstrip()),
        polarity="FAVOR",
        holder=EntityRef(entity_id=entity.id),
        target=TopicRef(topic="ferry"),
    )
    return Annotation(
        document_id=f"doc-{name}",
        annotator=annotator,
        status=Status.DONE,
        version=3,
        entities=[suggestion, entity],  # not in text order: the order must survive
        stances=[stance, Stance(start=start, end=end, polarity="AGAINST", holder=AUTHOR)],
        doc_stances=[DocumentStance(target=EntityRef(entity_id=entity.id), polarity="AGAINST")],
        created_at=datetime(2026, 1, 3, 10, 15, tzinfo=timezone(timedelta(hours=9))),
        updated_at=datetime(2026, 1, 3, 1, 20, 30, 123456, tzinfo=UTC),
        extra={"answer": "accept", "_timestamp": 1658923692, "nested": {"b": 1, "a": [1.5, None, True]}},
    )


def records() -> list[Record]:
    out = []
    for name, text in TEXTS.items():
        doc = Document(
            id=f"doc-{name}",
            text=text,
            meta=DocumentMeta(title=f"{name} 🇯🇵", source=f"{name}.txt", extra={"z": 1, "a": "2"}),
        )
        annotations = [annotated(name, text), annotated(name, text, "ben")]
        out.append(Record(document=doc, annotations=annotations, tokens=tokenize(text)))
    out.append(Record(document=Document(id="plain", text="Nobody annotated this.\n")))
    return out


def write(recs) -> bytes:
    buf = io.BytesIO()
    write_native(recs, buf)
    return buf.getvalue()


def read_bytes(tmp_path, data: bytes, name="in.jsonl"):
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_native(path))


def good(items) -> list[Record]:
    assert all(isinstance(i, Record) for i in items), [i for i in items if isinstance(i, InputError)]
    return items


# -- round trip ------------------------------------------------------------------------------------


def test_write_read_write_gives_identical_bytes(tmp_path):
    first = write(records())
    again = write(good(read_bytes(tmp_path, first)))
    assert again == first


def test_lines_split_on_newline_only(tmp_path):
    data = write(records())
    assert data.count(b"\n") == 2 * len(TEXTS) + 1
    assert "\u2028".encode() in data  # raw, not escaped
    assert data.endswith(b"\n")


def test_read_gives_back_the_same_models(tmp_path):
    original = records()
    back = good(read_bytes(tmp_path, write(original)))
    assert len(back) == 2 * len(TEXTS) + 1
    by_key = {(r.document.id, r.annotations[0].annotator if r.annotations else None): r for r in back}
    for record in original:
        for annotation in record.annotations or [None]:
            got = by_key[(record.document.id, annotation.annotator if annotation else None)]
            assert got.document == record.document
            assert got.tokens == record.tokens
            assert got.annotations == ([annotation] if annotation else [])
            assert all(type(t) is Token for t in got.tokens or [])
            assert got.path == str(tmp_path / "in.jsonl")


def test_each_line_is_one_record_with_one_annotation(tmp_path):
    back = good(read_bytes(tmp_path, write(records()[:1])))
    assert [(r.line, [a.annotator for a in r.annotations]) for r in back] == [(1, ["anna"]), (2, ["ben"])]


def test_written_line_shape():
    record = records()[0]
    lines = write([record]).splitlines()
    line = orjson.loads(lines[0])
    assert list(line) == [
        "schema_version", "document", "tokens", "annotator", "status", "version", "created_at",
        "updated_at", "entities", "stances", "doc_stances", "extra",
    ]
    assert line["schema_version"] == SCHEMA_VERSION
    assert line["created_at"] == "2026-01-03T01:15:00.000000Z"
    assert line["updated_at"] == "2026-01-03T01:20:30.123456Z"
    entity = line["entities"][1]
    assert list(entity)[:4] == ["id", "start", "end", "text"]
    assert entity["text"] == record.document.text[entity["start"]:entity["end"]]
    assert line["tokens"][0] == [0, 4, True]


def test_record_without_annotation_is_one_line_with_null_annotator():
    record = Record(document=Document(id="x", text="Some text."))
    assert orjson.loads(write([record])) == {
        "schema_version": 1,
        "document": {
            "id": "x",
            "text": "Some text.",
            "meta": {
                "title": None, "author": None, "published": None, "source": None, "url": None, "extra": {}
            },
        },
        "tokens": None,
        "annotator": None,
    }


def test_write_returns_the_number_of_records():
    assert write_native(records(), io.BytesIO()) == len(TEXTS) + 1


def test_naive_times_are_written_as_utc():
    annotation = Annotation(document_id="x", annotator="anna", created_at=datetime(2026, 1, 3, 10, 0))
    data = write([Record(document=Document(id="x", text="Text."), annotations=[annotation])])
    assert orjson.loads(data)["created_at"] == "2026-01-03T10:00:00.000000Z"


def test_line_without_annotation_keys_may_hold_empty_ones(tmp_path):
    line = {"schema_version": 1, "document": {"id": "x", "text": "T"}, "annotator": None, "entities": []}
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    assert record.annotations == [] and record.tokens is None


def test_span_text_is_optional_on_read(tmp_path):
    original = records()[0]
    line = orjson.loads(write([original]).splitlines()[0])
    for item in line["entities"] + line["stances"]:
        del item["text"]
    [record] = good(read_bytes(tmp_path, orjson.dumps(line)))
    assert record.annotations == original.annotations[:1]


def test_utf8_bom_before_the_first_line_is_ignored(tmp_path):
    data = write(records()[:1])
    assert len(good(read_bytes(tmp_path, b"\xef\xbb\xbf" + data))) == 2


def test_blank_lines_and_crlf_line_ends_are_accepted(tmp_path):
    data = write(records()[:1]).replace(b"\n", b"\r\n\r\n")
    assert len(good(read_bytes(tmp_path, data))) == 2


def test_reading_streams(tmp_path):
    path = tmp_path / "stream.jsonl"
    path.write_bytes(write(records()[:1]) + orjson.dumps({"schema_version": 99}))
    items = read_native(path)
    assert isinstance(next(items), Record)
    assert isinstance(next(items), Record)
    with pytest.raises(InputError, match="newer"):
        next(items)


# -- schema ----------------------------------------------------------------------------------------


def test_json_schema_validates_written_lines():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    for line in write(records()).splitlines():
        validator.validate(orjson.loads(line))
    bad = orjson.loads(write(records()[:1]).splitlines()[0])
    bad["entities"][0]["start"] = "zero"
    assert not validator.is_valid(bad)
    bad = orjson.loads(write(records()[:1]).splitlines()[0])
    bad["colour"] = "red"
    assert not validator.is_valid(bad)


# -- errors in a line ------------------------------------------------------------------------------


def first_line() -> dict:
    return orjson.loads(write(records()[:1]).splitlines()[0])


def error_of(tmp_path, line: dict | bytes) -> InputError:
    good_line = write(records()[-1:])
    data = line if isinstance(line, bytes) else orjson.dumps(line)
    items = read_bytes(tmp_path, good_line + data + b"\n" + good_line)
    assert [type(i).__name__ for i in items] == ["Record", "InputError", "Record"]
    error = items[1]
    assert error.line == 2
    assert error.path == str(tmp_path / "in.jsonl")
    return error


def test_invalid_json_is_yielded_with_line_and_column(tmp_path):
    error = error_of(tmp_path, b'{"schema_version": 1, "document": {"id": "x", "text": "y"}')
    assert error.message.startswith("not valid JSON (")
    assert "column" in error.message


def test_invalid_utf8_in_a_line(tmp_path):
    error = error_of(tmp_path, b'{"schema_version": 1, "document": {"id": "x", "text": "caf\xe9"}}')
    assert "not UTF-8" in error.message and "0xE9" in error.message


def test_a_line_that_is_not_an_object(tmp_path):
    assert error_of(tmp_path, b'"just a string"').message == "a line must be a JSON object, not a string"
    assert error_of(tmp_path, b"42").message.endswith("not a number")


def test_long_span_text_mismatch_is_shortened(tmp_path):
    line = first_line()
    line["stances"][0]["text"] = "x" * 500
    error = error_of(tmp_path, line)
    assert error.field == "stances[0].text"
    assert "(500 characters)" in error.message and len(error.message) < 300


@pytest.mark.parametrize(
    "change, field, message",
    [
        (lambda d: d["entities"][1].update(end="x"), "entities[1].end", "integer"),
        (lambda d: d["entities"][1].pop("label"), "entities[1].label", "is required"),
        (lambda d: d["entities"][1].update(end=d["entities"][1]["start"]), "entities[1]", "less than"),
        (lambda d: d["entities"][1].update(colour="red"), "entities[1].colour", "not a known field"),
        (lambda d: d["stances"][0]["holder"].update(entity_id=""), "stances[0].holder.entity_id", "at least"),
        (lambda d: d["stances"][0].update(holder={"kind": "nobody"}), "stances[0].holder", "kind"),
        (lambda d: d.update(status="finished"), "status", "not_started"),
        (lambda d: d.update(created_at="2026-01-03T10:00:00"), "created_at", "timezone"),
        (lambda d: d.update(tokens=[[0, 4, True], [5, 9]]), "tokens[1][2]", "is required"),
        (lambda d: d.pop("schema_version"), "schema_version", "is required"),
        (lambda d: d.update(schema_version=0), "schema_version", "1"),
        (lambda d: d["document"].pop("text"), "document.text", "is required"),
        (lambda d: d["document"]["meta"].update(tags=["x"]), "document.meta.tags", "not a known field"),
    ],
)
def test_validation_errors_name_the_field(tmp_path, change, field, message):
    line = first_line()
    change(line)
    error = error_of(tmp_path, line)
    assert error.field == field
    assert message in error.message
    assert f":2: {field}: " in str(error)


def test_span_text_mismatch_names_the_field(tmp_path):
    line = first_line()
    line["entities"][1]["text"] = "Someone else"
    error = error_of(tmp_path, line)
    assert error.field == "entities[1].text"
    assert "'Someone else'" in error.message


def test_span_past_the_end_of_the_text(tmp_path):
    line = first_line()
    line["stances"][1]["end"] = 10_000
    line["stances"][1].pop("text")
    error = error_of(tmp_path, line)
    assert error.field == "stances[1].end"
    assert "past the end" in error.message


@pytest.mark.parametrize(
    "tokens, field",
    [
        ([[0, 4, True], [3, 6, False]], "tokens[1]"),
        ([[0, 0, True]], "tokens[0]"),
        ([[0, 9999, True]], "tokens[0]"),
    ],
)
def test_tokens_must_be_ordered_and_inside_the_text(tmp_path, tokens, field):
    line = first_line()
    line["tokens"] = tokens
    assert error_of(tmp_path, line).field == field


def test_annotation_keys_need_an_annotator(tmp_path):
    line = first_line()
    line["annotator"] = None
    error = error_of(tmp_path, line)
    assert error.field == "status"
    assert "annotator" in error.message


def test_empty_annotator_name(tmp_path):
    line = first_line()
    line["annotator"] = ""
    assert error_of(tmp_path, line).field == "annotator"


# -- errors in the whole file ----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file_has_no_records(tmp_path, data):
    with pytest.raises(InputError, match="no records"):
        read_bytes(tmp_path, data)


def test_pretty_printed_object(tmp_path):
    data = orjson.dumps(first_line(), option=orjson.OPT_INDENT_2)
    with pytest.raises(InputError, match="pretty-printed JSON object") as info:
        read_bytes(tmp_path, data)
    assert info.value.line == 1


def test_pretty_printed_object_with_a_key_on_the_first_line(tmp_path):
    data = b'{"schema_version": 1,\n "document": {"id": "x", "text": "y"}}\n'
    with pytest.raises(InputError, match="pretty-printed"):
        read_bytes(tmp_path, data)


def test_broken_first_line_of_real_json_lines_is_only_that_line(tmp_path):
    good_lines = write(records()[-1:])
    items = read_bytes(tmp_path, b'{"schema_version": 1, "docu\n' + good_lines)
    assert [type(i).__name__ for i in items] == ["InputError", "Record"]


@pytest.mark.parametrize("option", [orjson.OPT_INDENT_2, 0])
def test_json_array(tmp_path, option):
    data = orjson.dumps([first_line(), first_line()], option=option)
    with pytest.raises(InputError, match="JSON array"):
        read_bytes(tmp_path, data)


def test_newer_schema_version_is_raised(tmp_path):
    line = first_line()
    line["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(InputError, match="newer than this program reads") as info:
        read_bytes(tmp_path, orjson.dumps(line))
    assert info.value.field == "schema_version"
    assert info.value.line == 1


def test_missing_file_is_raised(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(read_native(tmp_path / "missing.jsonl"))


# -- errors when writing ---------------------------------------------------------------------------


def test_writing_a_span_past_the_text_is_refused():
    too_long = EntitySpan(start=0, end=50, label="P")
    annotation = Annotation(document_id="x", annotator="anna", entities=[too_long])
    with pytest.raises(RuleError, match=r"entities\[0\]"):
        write([Record(document=Document(id="x", text="Short."), annotations=[annotation])])


def test_writing_an_annotation_of_another_document_is_refused():
    annotation = Annotation(document_id="y", annotator="anna")
    with pytest.raises(RuleError, match="document_id"):
        write([Record(document=Document(id="x", text="Short."), annotations=[annotation])])
