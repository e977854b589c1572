import io
import json
import random
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    AUTHOR,
    UNKNOWN,
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
from annotator.formats.spacy_docbin import SOURCE, read_spacy, sniff, write_spacy
from annotator.formats.text import document_id
from annotator.nlp.tokens import token_span, tokenize
from annotator.store.project import Project

DATA = Path(__file__).parent.parent / "data" / "spacy"
REAL_FILES = sorted(DATA.glob("*.spacy"))

TEXTS = {
    "emoji": "Fans cheered 👍 as the family 👨‍👩‍👧 waved the flag 🇯🇵 outside Tokyo Station.",
    "cjk": "高市早苗首相は東京でトランプ大統領と会談した。",
    "combining": "Cafe\u0301 owners in Re\u0301union protested on Monday.",
    "crlf": "Ferry saved\r\n\r\nBy Lena Hartmann\r\n\r\nThe council of Kelby voted to keep it.\r\n",
    "tabs": "Party\tSeats\nLabour\t411\nGreens\t4\n",
    "separators": "Line\u2028separator and paragraph\u2029separator, NEL\x85 and a form feed\x0c too.",
    "spaces": "  Two  spaces lead,   three inside, and one trails ",
}


def find(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def annotated(name: str, text: str, annotator: str = "anna") -> Annotation:
    words = [w.strip(".,") for w in text.split() if w.strip(".,")]
    start, end = find(text, words[0])
    entity = EntitySpan(start=start, end=end, label="PERSON", extra={"score": 0.5, "ключ": ["a", 1]})
    s_start, s_end = find(text, words[-1])
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
        status=Status.DONE if annotator == "anna" else Status.IN_PROGRESS,
        version=3,
        entities=[suggestion, entity],  # not in text order: the order must survive
        stances=[stance, Stance(start=start, end=end, polarity="AGAINST", holder=AUTHOR)],
        doc_stances=[
            DocumentStance(target=EntityRef(entity_id=entity.id), polarity="AGAINST"),
            DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR"),
        ],
        created_at=datetime(2026, 1, 3, 10, 15, tzinfo=timezone(timedelta(hours=9))),
        updated_at=datetime(2026, 1, 3, 1, 20, 30, 123456, tzinfo=UTC),
        extra={
            "answer": "accept",
            "_timestamp": 1658923692,
            "nested": {"b": 1, "a": [1.5, None]},
        },
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
    out.append(Record(document=Document(id="plain", text="Nobody annotated this.\n"), tokens=None))
    return out


def write(recs, warnings=None) -> bytes:
    buf = io.BytesIO()
    write_spacy(recs, buf, warnings=warnings)
    return buf.getvalue()


def read_bytes(tmp_path, data: bytes, name="in.spacy") -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_spacy(path))


def good(items) -> list[Record]:
    assert all(isinstance(i, Record) for i in items), [i for i in items if isinstance(i, InputError)]
    return items


def docs_of(data: bytes) -> list[Doc]:
    return list(DocBin().from_bytes(data).get_docs(Vocab()))


def one(record: Record, annotation: Annotation | None = None) -> Record:
    return Record(
        document=record.document,
        annotations=[annotation] if annotation else [],
        tokens=record.tokens,
    )


# -- our own round trip ----------------------------------------------------------------------------


def test_write_read_gives_back_the_same_models(tmp_path):
    original = records()
    back = good(read_bytes(tmp_path, write(original)))
    assert len(back) == 2 * len(TEXTS) + 1
    by_key = {(r.document.id, r.annotations[0].annotator if r.annotations else None): r for r in back}
    for record in original:
        for annotation in record.annotations or [None]:
            got = by_key[(record.document.id, annotation.annotator if annotation else None)]
            assert got.document == record.document
            assert got.annotations == ([annotation] if annotation else [])
            off = annotation and [
                s
                for s in [*annotation.entities, *annotation.stances]
                if token_span(got.tokens, s.start, s.end) is None
            ]
            assert got.warnings == (
                [f"{len(off)} span{'s' if len(off) > 1 else ''} not on token boundaries (kept exactly)"]
                if off
                else []
            )
            if record.tokens is not None:
                assert got.tokens == record.tokens
            assert all(type(t) is Token for t in got.tokens or [])


def test_write_read_write_gives_identical_bytes(tmp_path):
    first = write(records())
    assert write(good(read_bytes(tmp_path, first))) == first


def test_one_doc_per_annotation_and_the_text_is_exact():
    data = write(records())
    docs = docs_of(data)
    texts = [t for t in TEXTS.values() for _ in range(2)] + ["Nobody annotated this.\n"]
    assert [d.text for d in docs] == texts
    assert write_spacy(records(), io.BytesIO()) == len(TEXTS) + 1
    # The stored tokens are the Doc's tokens: "\r\n" and runs of spaces are whitespace tokens.
    crlf = docs[2 * list(TEXTS).index("crlf")]
    assert "\r\n\r\n" in [t.text for t in crlf]
    for doc, (name, text) in zip(docs[::2], TEXTS.items(), strict=False):
        assert [(t.idx, t.idx + len(t), bool(t.whitespace_)) for t in doc] == tokenize(text), name


def test_doc_contents_are_what_spacy_training_reads():
    record = records()[list(TEXTS).index("crlf")]
    anna = record.annotations[0]
    [doc] = docs_of(write([one(record, anna)]))
    text = record.document.text
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
        (*find(text, "Ferry"), "PERSON"),
        (*find(text, "it"), "GPE"),
    ]
    assert all(t.ent_iob_ for t in doc)  # every token is annotated: "O" outside the entities
    assert [(s.text, s.label_) for s in doc.spans["sc"]] == [("it", "GPE"), ("Ferry", "PERSON")]
    assert [(s.start_char, s.label_) for s in doc.spans["stance"]] == [(0, "FAVOR"), (0, "AGAINST")]
    assert doc.cats == {"Ferry:AGAINST": 1.0, "ferry:FAVOR": 1.0}
    payload = json.loads(doc.user_data["annotator"])
    assert payload["annotator"] == "anna" and payload["document"]["id"] == "doc-crlf"
    assert payload["stances"][0]["holder"] == {"kind": "entity", "entity_id": anna.entities[1].id}


def test_a_document_without_annotation_is_a_doc_without_spans_or_ner(tmp_path):
    plain = records()[-1]
    data = write([plain])
    [doc] = docs_of(data)
    assert doc.text == plain.document.text
    assert list(doc.ents) == [] and list(doc.spans) == [] and doc.cats == {}
    assert all(t.ent_iob_ == "" for t in doc)  # missing, not "O": nothing to learn from it
    [back] = good(read_bytes(tmp_path, data))
    assert back.document == plain.document and back.annotations == []
    assert back.tokens == tokenize(plain.document.text, "xx")


# -- what spaCy cannot hold ------------------------------------------------------------------------


def test_overlapping_entities_keep_the_longest_then_the_earliest_in_ents(tmp_path):
    text = "The New York Times Company sold The Boston Globe."
    ents = [
        EntitySpan(start=4, end=12, label="GPE"),  # New York
        EntitySpan(start=4, end=26, label="ORG"),  # New York Times Company: longest
        EntitySpan(start=32, end=48, label="ORG"),  # The Boston Globe
        EntitySpan(start=36, end=48, label="ORG"),  # Boston Globe: inside it
        EntitySpan(start=36, end=42, label="GPE"),  # Boston
        EntitySpan(start=36, end=42, label="GPE"),  # an identical duplicate
    ]
    ann = Annotation(document_id="d", annotator="anna", status=Status.DONE, entities=ents)
    record = Record(Document(id="d", text=text), [ann], tokens=tokenize(text))
    warnings: list[str] = []
    data = write([record], warnings)
    [doc] = docs_of(data)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("New York Times Company", "ORG"),
        ("The Boston Globe", "ORG"),
    ]
    assert len(doc.spans["sc"]) == 6
    assert warnings == [
        "document d (anna): 4 entities overlapping others only in doc.spans['sc'], not in doc.ents "
        "(kept the longest, then the earliest)"
    ]
    [back] = good(read_bytes(tmp_path, data))
    assert back.annotations == [ann]


def test_spans_off_token_boundaries_are_widened_and_kept_exactly(tmp_path):
    text = "Steel--http://example.com and Kelby's ferry"
    tokens = tokenize(text)
    ann = Annotation(
        document_id="d",
        annotator="anna",
        entities=[
            EntitySpan(start=0, end=5, label="PRODUCT"),  # inside a token
            EntitySpan(start=30, end=35, label="GPE"),  # Kelby, before "'s"
        ],
        stances=[Stance(start=31, end=40, polarity="FAVOR")],
    )
    record = Record(Document(id="d", text=text), [ann], tokens=tokens)
    warnings: list[str] = []
    data = write([record], warnings)
    [doc] = docs_of(data)
    widened = [(s.start_char, s.end_char) for s in doc.spans["sc"]]
    assert widened[1] == (30, 35)
    assert widened[0][0] == 0 and widened[0][1] > 5
    assert (doc.spans["stance"][0].start_char, doc.spans["stance"][0].end_char) == (30, 43)
    assert warnings == [
        "document d (anna): 2 spans not on token boundaries, written widened to whole tokens "
        "(exact offsets in the user data)"
    ]
    [back] = good(read_bytes(tmp_path, data))
    assert back.annotations == [ann]
    assert back.warnings == ["2 spans not on token boundaries (kept exactly)"]


def test_a_span_covering_no_token_lives_in_the_user_data_only(tmp_path):
    text = "Hello world"
    ann = Annotation(document_id="d", annotator="anna", entities=[EntitySpan(start=5, end=6, label="X")])
    warnings: list[str] = []
    data = write([Record(Document(id="d", text=text), [ann], tokens=tokenize(text))], warnings)
    [doc] = docs_of(data)
    assert list(doc.spans["sc"]) == [] and list(doc.ents) == []
    assert warnings == ["document d (anna): 1 span covering no token, only in the user data"]
    [back] = good(read_bytes(tmp_path, data))
    assert back.annotations == [ann]


def test_tokens_that_skip_whitespace_get_whitespace_tokens(tmp_path):
    text = "Ferry saved\r\n\r\nBy Lena\t\tHartmann  "
    # Like Prodigy's tokens: no token for the whitespace.
    tokens = [
        Token(0, 5, True),
        Token(6, 11, False),
        Token(15, 17, True),
        Token(18, 22, False),
        Token(24, 32, False),
    ]
    ann = Annotation(
        document_id="d", annotator="anna", entities=[EntitySpan(start=18, end=32, label="PERSON")]
    )
    warnings: list[str] = []
    data = write([Record(Document(id="d", text=text), [ann], tokens=tokens)], warnings)
    [doc] = docs_of(data)
    assert doc.text == text and warnings == []
    assert [t.text for t in doc] == ["Ferry", "saved", "\r\n\r\n", "By", "Lena", "\t\t", "Hartmann", " "]
    assert doc.spans["sc"][0].text == "Lena\t\tHartmann"
    [back] = good(read_bytes(tmp_path, data))
    assert back.tokens == tokens and back.annotations == [ann]


def test_tokens_that_cannot_give_the_text_back_are_replaced(tmp_path):
    text = "Kelby's ferry runs."
    tokens = [Token(0, 5, False), Token(8, 13, True)]  # "'s" and "runs." are not covered
    ann = Annotation(document_id="d", annotator="anna", entities=[EntitySpan(start=0, end=5, label="GPE")])
    warnings: list[str] = []
    data = write([Record(Document(id="d", text=text), [ann], tokens=tokens)], warnings)
    [doc] = docs_of(data)
    assert doc.text == text
    assert [t.text for t in doc] == ["Kelby", "'s", "ferry", "runs", "."]
    assert warnings == ["document d: its tokens do not cover the text; re-tokenized with spaCy"]
    [back] = good(read_bytes(tmp_path, data))
    assert back.tokens == tokens and back.annotations == [ann]


def test_records_without_tokens_are_tokenized_in_the_given_language(tmp_path):
    text = "Die Fähre fährt weiter."
    ann = Annotation(document_id="d", annotator="anna", entities=[EntitySpan(start=4, end=9, label="X")])
    buf = io.BytesIO()
    write_spacy([Record(Document(id="d", text=text), [ann])], buf, language="de")
    [doc] = docs_of(buf.getvalue())
    assert [t.text for t in doc] == ["Die", "Fähre", "fährt", "weiter", "."]
    [back] = good(read_bytes(tmp_path, buf.getvalue()))
    assert back.tokens == tokenize(text, "de") and back.annotations == [ann]


def test_cats_from_other_formats_go_into_doc_cats(tmp_path):
    text = "Docs are wrong."
    ann = Annotation(
        document_id="d",
        annotator="anna",
        doc_stances=[DocumentStance(target=TopicRef(topic="docs"), polarity="AGAINST")],
        extra={"cats": {"DOCUMENTATION": 1.0, "OTHER": 0.0}, "answer": "accept"},
    )
    data = write([Record(Document(id="d", text=text), [ann], tokens=tokenize(text))])
    [doc] = docs_of(data)
    assert doc.cats == {"DOCUMENTATION": 1.0, "OTHER": 0.0, "docs:AGAINST": 1.0}
    assert "cats" not in json.loads(doc.user_data["annotator"])["extra"]  # the Doc holds them
    [back] = good(read_bytes(tmp_path, data))
    assert back.annotations == [ann]


def test_a_span_past_the_end_of_the_text_is_refused():
    ann = Annotation.model_construct(
        document_id="d",
        annotator="a",
        status=Status.DONE,
        version=0,
        entities=[EntitySpan(start=2, end=40, label="X")],
        stances=[],
        doc_stances=[],
        extra={},
        created_at=None,
        updated_at=None,
    )
    with pytest.raises(RuleError, match="does not fit the text"):
        write([Record(Document(id="d", text="short"), [ann])])


# -- reading files written by others ---------------------------------------------------------------


def foreign(tmp_path, docs: list[Doc], name="foreign.spacy", user_data=False) -> Path:
    path = tmp_path / name
    DocBin(docs=docs, store_user_data=user_data).to_disk(path)
    return path


def test_ents_and_sc_spans_become_entities_once(tmp_path):
    nlp = spacy.blank("en")
    doc = nlp("Angela Merkel met Emmanuel Macron in Paris.")
    merkel, macron, paris = doc[0:2], doc[3:5], doc[6:7]
    doc.ents = [
        doc.char_span(0, 13, "PERSON", kb_id="Q567"),
        doc.char_span(18, 33, "PERSON"),
        doc.char_span(37, 42, "GPE"),
    ]
    doc.spans["sc"] = [
        doc.char_span(0, 13, "PERSON", kb_id="Q567"),
        doc.char_span(7, 13, "PERSON"),
        doc.char_span(37, 42, "GPE"),
    ]
    doc.spans["stance"] = [doc.char_span(0, 33, "FAVOR")]
    doc.spans["things"] = [doc[1:3]]
    doc.cats = {"POLITICS": 1.0, "SPORT": 0.0}
    assert (merkel.text, macron.text, paris.text) == ("Angela Merkel", "Emmanuel Macron", "Paris")
    [record] = good(list(read_spacy(foreign(tmp_path, [doc]))))
    ann = record.annotations[0]
    assert record.document.id == document_id(doc.text)
    assert record.document.meta.source == "foreign.spacy"
    assert (ann.annotator, ann.status) == ("imported", Status.DONE)
    assert [(e.start, e.end, e.label, e.extra) for e in ann.entities] == [
        (0, 13, "PERSON", {"kb_id": "Q567"}),
        (7, 13, "PERSON", {}),
        (37, 42, "GPE", {}),
        (18, 33, "PERSON", {}),
    ]
    assert all(e.source == SOURCE for e in ann.entities)
    assert [(s.start, s.end, s.polarity, s.holder, s.target) for s in ann.stances] == [
        (0, 33, "FAVOR", UNKNOWN, UNKNOWN)
    ]
    assert ann.extra["cats"] == {"POLITICS": 1.0, "SPORT": 0.0}
    assert ann.extra["spacy_spans"] == {"things": [{"start": 7, "end": 17, "label": ""}]}
    assert record.tokens == tokenize(doc.text)

    [again] = docs_of(write([record]))
    assert [(e.text, e.label_, e.kb_id_) for e in again.ents] == [
        (e.text, e.label_, e.kb_id_) for e in doc.ents
    ]
    assert again.cats == {"POLITICS": 1.0, "SPORT": 0.0}
    assert [s.text for s in again.spans["things"]] == ["Merkel met"]


def test_foreign_user_data_survives(tmp_path):
    doc = spacy.blank("en")("Some text.")
    doc.user_data[("._.", "source", None, None)] = "file.jsonl:3"
    doc.user_data["annotator"] = "someone else's value"
    [record] = good(list(read_spacy(foreign(tmp_path, [doc], user_data=True))))
    assert record.annotations[0].extra["spacy_user_data"] == [
        [["._.", "source", None, None], "file.jsonl:3"],
        ["annotator", "someone else's value"],
    ]
    data = write([record])
    [again] = docs_of(data)
    assert again.user_data[("._.", "source", None, None)] == "file.jsonl:3"
    # Ours takes the "annotator" key; theirs comes back from it.
    [back] = good(read_bytes(tmp_path, data, "again.spacy"))
    assert back.annotations == record.annotations


def test_unlabelled_entity_span_is_a_bad_record(tmp_path):
    doc = spacy.blank("en")("Some text.")
    doc.spans["sc"] = [doc[0:1]]
    [item] = list(read_spacy(foreign(tmp_path, [doc])))
    assert isinstance(item, InputError)
    assert item.field == 'spans["sc"][0].label' and item.line == 1


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_files_come_back_the_same(tmp_path, path):
    original = docs_of(path.read_bytes())
    records_ = good(list(read_spacy(path)))
    assert len(records_) == len(original)
    again = docs_of(write(records_))
    for before, after in zip(original, again, strict=True):
        assert after.text == before.text
        assert [t.text for t in after] == [t.text for t in before]
        for attr in ("whitespace_", "tag_", "pos_", "lemma_", "dep_", "ent_iob_", "ent_type_", "ent_kb_id_"):
            assert [getattr(t, attr) for t in after] == [getattr(t, attr) for t in before], attr
        assert [t.head.i for t in after] == [t.head.i for t in before]
        assert [str(t.morph) for t in after] == [str(t.morph) for t in before]
        assert [t.is_sent_start for t in after][1:] == [t.is_sent_start for t in before][1:]
        assert after.cats == before.cats
        for key, group in before.spans.items():
            assert [(s.start, s.end, s.label_) for s in after.spans[key]] == [
                (s.start, s.end, s.label_) for s in group
            ]
        assert {k: v for k, v in after.user_data.items() if k != "annotator"} == dict(before.user_data)


def test_real_files_through_a_project_reach_a_fixed_point(tmp_path):
    exports = []
    source = REAL_FILES
    for round_ in range(3):
        project = Project.open(tmp_path / f"p{round_}")
        try:
            for path in source:
                report = project.import_records(read_spacy(path), tokenizer=lambda t: tokenize(t, "en"))
                assert report.skipped == []
            buf = io.BytesIO()
            write_spacy(project.records(include_unannotated=True), buf)
        finally:
            project.close()
        exports.append(buf.getvalue())
        out = tmp_path / f"export{round_}.spacy"
        out.write_bytes(buf.getvalue())
        source = [out]
    assert exports[1] == exports[2]
    first = {r.document.id: r for r in good(list(read_spacy(tmp_path / "export0.spacy")))}
    for path in REAL_FILES:
        for record in good(list(read_spacy(path))):
            got = first[record.document.id]
            assert got.document.text == record.document.text
            assert got.tokens == record.tokens
            assert [(e.start, e.end, e.label, e.extra) for e in got.annotations[0].entities] == [
                (e.start, e.end, e.label, e.extra) for e in record.annotations[0].entities
            ]
            assert got.annotations[0].extra == record.annotations[0].extra


def test_real_file_facts():
    wnut = good(list(read_spacy(DATA / "wnut17_dev_excerpt.spacy")))
    assert any(any(ord(c) > 0xFFFF for c in r.document.text) for r in wnut)
    assert {e.label for r in wnut for e in r.annotations[0].entities} >= {
        "person",
        "location",
        "creative-work",
    }
    # spaCy's NER converter fills the tag column with "-" and marks sentence starts.
    assert set(wnut[0].annotations[0].extra["spacy_tokens"]) == {"tag", "sent_start"}
    gum = good(list(read_spacy(DATA / "gum_news_stampede.spacy")))
    tokens = gum[0].annotations[0].extra["spacy_tokens"]
    assert tokens["ner_missing"] == [[0, len(gum[0].tokens)]]  # a treebank without NER: all missing
    assert {"tag", "pos", "morph", "lemma", "dep", "head", "sent_start"} <= set(tokens)
    prodigy = good(list(read_spacy(DATA / "prodigy_data_to_spacy.spacy")))
    assert any("\r\n" in r.document.text for r in prodigy)
    assert any(r.annotations[0].extra.get("cats") for r in prodigy)


# -- a Doc edited by someone else ------------------------------------------------------------------


def test_spans_removed_or_added_by_someone_else(tmp_path):
    record = records()[list(TEXTS).index("crlf")]
    data = write([one(record, record.annotations[0])])
    [doc] = docs_of(data)
    lena = find(doc.text, "Lena")
    doc.spans["sc"] = [doc.spans["sc"][0], doc.char_span(*lena, "PERSON")]  # drop Ferry, add Lena
    doc.ents = [doc.spans["sc"][0]]
    doc.spans["stance"] = [doc.spans["stance"][0]]
    [back] = good(list(read_spacy(foreign(tmp_path, [doc], user_data=True))))
    ann = back.annotations[0]
    assert [(e.start, e.end, e.label) for e in ann.entities] == [
        (*find(doc.text, "it"), "GPE"),
        (*lena, "PERSON"),
    ]
    assert ann.stances[0].holder == UNKNOWN and ann.stances[0].target == TopicRef(topic="ferry")
    assert len(ann.stances) == 1
    assert ann.doc_stances == [DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR")]
    assert back.warnings == [
        "1 entity in the user data no longer among the Doc's spans: dropped",
        "1 span of the Doc not in its user data: imported as new entities",
        "1 stance in the user data no longer among the Doc's spans: dropped",
        "1 stance referred to dropped entities: holder/target now unknown",
        "article stance towards a removed entity dropped (AGAINST)",
    ]


# -- whole-file and record problems ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"text": "a JSONL file"}\n', "does not start like one"),
        (zlib.compress(b"\x81\xa5attrs\x90")[:-3], "truncated"),
        (zlib.compress(b"\x82\xa7version\xa30.1\xa5attrs\x90"), "not a spaCy DocBin"),
        (DocBin().to_bytes(), "holds no documents"),
    ],
    ids=["empty", "jsonl", "truncated", "not-docbin-msgpack", "no-docs"],
)
def test_whole_file_problems_are_raised_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.spacy"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message) as info:
        list(read_spacy(path))
    assert info.value.path == str(path)


def test_a_truncated_export_is_reported(tmp_path):
    data = write(records())
    path = tmp_path / "cut.spacy"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        list(read_spacy(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(read_spacy(tmp_path / "nope.spacy"))


def test_bad_user_data_is_a_bad_record_and_the_rest_import(tmp_path):
    docs = docs_of(write(records()[:2]))
    payload = json.loads(docs[1].user_data["annotator"])
    payload["entities"][0]["text"] = "something else"
    docs[1].user_data["annotator"] = json.dumps(payload)
    payload = json.loads(docs[2].user_data["annotator"])
    payload["status"] = "finished"
    docs[2].user_data["annotator"] = json.dumps(payload)
    items = list(read_spacy(foreign(tmp_path, docs, user_data=True)))
    assert [type(i).__name__ for i in items] == ["Record", "InputError", "InputError", "Record"]
    assert (items[1].line, items[1].field) == (2, "user_data.annotator.entities[0].text")
    assert (items[2].line, items[2].field) == (3, "user_data.annotator.status")


def test_user_data_from_a_newer_version_is_refused(tmp_path):
    [doc] = docs_of(write(records()[-1:]))
    doc.user_data["annotator"] = json.dumps({"format": "annotator", "version": 2})
    with pytest.raises(InputError, match="newer version") as info:
        list(read_spacy(foreign(tmp_path, [doc], user_data=True)))
    assert (info.value.line, info.value.field) == (1, "user_data.annotator.version")


# -- sniffing --------------------------------------------------------------------------------------


def test_sniff_knows_docbins_by_their_bytes():
    assert sniff(write(records())[:65536])
    for path in REAL_FILES:
        assert sniff(path.read_bytes()[:65536]), path.name
    assert sniff(DocBin().to_bytes())
    assert not sniff(b"")
    assert not sniff(b'{"text": "x"}\n')
    assert not sniff(zlib.compress(b'{"text": "x"}'))
    assert not sniff(b"\x1f\x8b\x08\x00")  # gzip
    assert not sniff(b"x\x9c not really zlib")


# -- training a model from an export ---------------------------------------------------------------

PEOPLE = ["Angela Merkel", "Lena Hartmann", "Tom Reyes", "Emmanuel Macron"]
ORGS = ["Siemens", "the United Nations", "Reuters", "the council"]
PLACES = ["Paris", "Berlin", "Kelby", "Tokyo"]
FORMS = ["{p} told {o} in {g} on Monday.", "In {g}, {o} hired {p}.", "{o} said {p} left {g} early."]


def generated(count: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        p, o, g = rng.choice(PEOPLE), rng.choice(ORGS), rng.choice(PLACES)
        text = rng.choice(FORMS).format(p=p, o=o, g=g)
        ents = [
            EntitySpan(start=s, end=e, label=label)
            for label, part in (("PERSON", p), ("ORG", o), ("GPE", g))
            for s, e in [find(text, part)]
        ]
        doc_id = f"gen-{seed}-{i}"
        ann = Annotation(
            document_id=doc_id,
            annotator="anna",
            status=Status.DONE,
            entities=ents,
            stances=[
                Stance(start=0, end=len(text) - 1, polarity="FAVOR", holder=EntityRef(entity_id=ents[0].id))
            ],
        )
        out.append(Record(Document(id=doc_id, text=text), [ann], tokens=tokenize(text)))
    return out


def test_an_export_trains_a_spacy_ner_model(tmp_path):
    from spacy.training import Example

    train, dev = tmp_path / "train.spacy", tmp_path / "dev.spacy"
    train.write_bytes(write(generated(30, 1)))
    dev.write_bytes(write(generated(8, 2)))
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in DocBin().from_disk(train).get_docs(nlp.vocab)]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(8):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.1)
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert set(loaded.get_pipe("ner").labels) == {"PERSON", "ORG", "GPE"}
    dev_docs = list(DocBin().from_disk(dev).get_docs(loaded.vocab))
    predicted = [loaded(doc.text) for doc in dev_docs]
    assert all(e.label_ in {"PERSON", "ORG", "GPE"} for doc in predicted for e in doc.ents)
    scores = loaded.evaluate([Example(p, d) for p, d in zip(predicted, dev_docs, strict=True)])
    assert scores["ents_f"] is not None


def test_the_readme_training_commands_run(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "train.spacy").write_bytes(write(generated(30, 1)))
    (exports / "dev.spacy").write_bytes(write(generated(8, 2)))
    run = {"cwd": tmp_path, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        [sys.executable, "-m", "spacy", "init", "config", "config.cfg", "--lang", "en", "--pipeline", "ner"],
        **run,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "train",
            "config.cfg",
            "--paths.train",
            "exports/train.spacy",
            "--paths.dev",
            "exports/dev.spacy",
            "--output",
            "model",
            "--training.max_steps",
            "20",
            "--training.eval_frequency",
            "10",
        ],
        **run,
    )
    loaded = spacy.load(tmp_path / "model" / "model-last")
    assert set(loaded.get_pipe("ner").labels) == {"PERSON", "ORG", "GPE"}


def test_our_records_through_a_project_reach_a_fixed_point(tmp_path):
    exports = []
    original = records()
    items = original
    for round_ in range(3):
        with Project.open(tmp_path / f"p{round_}") as project:
            report = project.import_records(items, tokenizer=lambda t: tokenize(t, "en"))
            assert report.skipped == []
            buf = io.BytesIO()
            write_spacy(project.records(include_unannotated=True), buf)
        exports.append(buf.getvalue())
        items = good(read_bytes(tmp_path, buf.getvalue(), f"in{round_}.spacy"))
    assert exports[1] == exports[2]
    back = {(r.document.id, r.annotations[0].annotator if r.annotations else None): r for r in items}
    for record in original:
        for annotation in record.annotations or [None]:
            got = back[(record.document.id, annotation.annotator if annotation else None)]
            assert got.document == record.document
            if annotation is None:
                assert got.annotations == []
                continue
            [ann] = got.annotations
            assert (ann.entities, ann.stances, ann.doc_stances, ann.status, ann.extra) == (
                annotation.entities,
                annotation.stances,
                annotation.doc_stances,
                annotation.status,
                annotation.extra,
            )
            assert ann.created_at == annotation.created_at


def test_extras_keep_integers_of_any_size(tmp_path):
    record = records()[0]
    ann = record.annotations[0].model_copy(update={"extra": {"big": 2**70, "small": -(2**70)}})
    [back] = good(read_bytes(tmp_path, write([one(record, ann)])))
    assert back.annotations[0].extra == {"big": 2**70, "small": -(2**70)}


def test_a_doc_said_to_be_unannotated_but_with_spans_is_reported(tmp_path):
    [doc] = docs_of(write(records()[-1:]))
    doc.ents = [doc[0:1]]
    doc.ents = [doc.char_span(0, 6, "PERSON")]
    [record] = good(list(read_spacy(foreign(tmp_path, [doc], user_data=True))))
    assert record.annotations == []
    assert record.warnings == [
        "the Doc has spans or cats but its user data says nobody annotated it: ignored"
    ]
