"""Random Unicode texts and random spans through every format, and through the store: exact round trips."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.model import Annotation, Document, EntitySpan, Status
from annotator.formats.base import Record
from annotator.formats.registry import get_format
from annotator.nlp.tokens import tokenize
from annotator.store.project import Project

PIECES = [
    "a",
    "Zoë",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "😀",
    "👨‍👩‍👧",
    "🇯🇵",
    "日本語",
    "مرحبا",
    "e\u0301",
    "\u2028",
    "\u2029",
    ".",
    ",",
    "“",
    "Paris",
    "42",
    "<b>",
    "\\",
    '"',
    "\x00",  # NUL: JSON carries it escaped, SQLite and spaCy keep it
    "\u0085",
]
LABELS = ["PERSON", "ORG", "GPE"]

# Loading spaCy touches the random module; do it before hypothesis watches.
tokenize("warm up", "en")

texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map("".join).filter(lambda t: t.strip())


@st.composite
def annotated(draw: st.DrawFn) -> Record:
    text = draw(texts)
    tokens = [t for t in tokenize(text, "en") if text[t.start : t.end].strip()]
    spans: list[EntitySpan] = []
    used = -1
    for i in sorted(draw(st.sets(st.integers(0, max(0, len(tokens) - 1)), max_size=4))):
        if not tokens or tokens[i].start < used:
            continue
        last = min(len(tokens) - 1, i + draw(st.integers(0, 2)))
        start, end = tokens[i].start, tokens[last].end
        spans.append(
            EntitySpan(id=f"e{len(spans)}", start=start, end=end, label=draw(st.sampled_from(LABELS)))
        )
        used = end
    doc = Document(id="d", text=text)
    ann = Annotation(document_id="d", annotator="ann", status=Status.DONE, entities=spans)
    return Record(document=doc, annotations=[ann], tokens=tokenize(text, "en"))


def _round_trip(fmt_name: str, record: Record) -> Record:
    fmt = get_format(fmt_name, for_export=True)
    buffer = io.BytesIO()
    fmt.write([record], buffer, [])
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"data{fmt.suffix}"
        path.write_bytes(buffer.getvalue())
        items = list(fmt.read(path))
    assert all(isinstance(i, Record) for i in items), items
    return items[0]  # type: ignore[return-value]


def _spans(record: Record) -> list[tuple[str, str]]:
    text = record.document.text
    return sorted((text[e.start : e.end], e.label) for a in record.annotations for e in a.entities)


@pytest.mark.parametrize("fmt", ["native", "prodigy", "doccano", "spacy"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=annotated())
def test_formats_keep_text_and_spans_exactly(fmt: str, record: Record) -> None:
    back = _round_trip(fmt, record)
    assert back.document.text == record.document.text
    original = [(e.start, e.end, e.label) for e in record.annotations[0].entities]
    assert sorted((e.start, e.end, e.label) for e in back.annotations[0].entities) == sorted(original)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=annotated())
def test_conll_keeps_the_words_and_labels_of_every_span(record: Record) -> None:
    # CoNLL holds tokens, not the text between them, and a line is a sentence: an entity across a
    # line break comes back as one per line. Compare the words of each line's part, spaces aside.
    back = _round_trip("conll", record)
    assert len(back.annotations) == 1

    def words(r: Record) -> list[tuple[str, str]]:
        text = r.document.text
        parts = []
        for e in r.annotations[0].entities:
            for line in re.split(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+", text[e.start : e.end]):
                if line.strip():
                    parts.append(("".join(line.split()), e.label))
        return sorted(parts)

    assert words(back) == words(record)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(annotated(), min_size=1, max_size=3))
def test_through_the_store_and_native_export_and_back(records: list[Record]) -> None:
    for i, record in enumerate(records):
        record.document.id = f"d{i}"
        record.annotations[0].document_id = f"d{i}"
    with tempfile.TemporaryDirectory() as d:
        first, second = Path(d) / "first.jsonl", Path(d) / "second.jsonl"
        fmt = get_format("native", for_export=True)
        with Project.open(Path(d) / "a") as p:
            p.import_records(records)
            with first.open("wb") as fh:
                fmt.write(p.records(include_unannotated=True), fh, [])
        with Project.open(Path(d) / "b") as p:
            p.import_records(fmt.read(first))
            with second.open("wb") as fh:
                fmt.write(p.records(include_unannotated=True), fh, [])
            for i, record in enumerate(records):
                assert p.document(f"d{i}").text == record.document.text
                assert p.annotation(f"d{i}", "ann").entities == record.annotations[0].entities
        assert first.read_bytes() == second.read_bytes()
