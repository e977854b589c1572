import io
from pathlib import Path

import pytest

from annotator.core.errors import InputError
from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentMeta,
    DocumentStance,
    EntitySpan,
    Stance,
    Status,
    Token,
    TopicRef,
)
from annotator.formats.base import Record
from annotator.formats.conll import (
    decode_tags,
    detect_scheme,
    encode_tags,
    parse_tag,
    read_conll,
    sniff,
    write_conll,
)
from annotator.formats.text import document_id
from annotator.nlp.tokens import tokenize
from annotator.store.project import Project

DATA = Path(__file__).parent.parent / "data" / "conll"
REAL = sorted(p for p in DATA.iterdir() if p.name != "README.md")


def records(path: Path) -> list[Record]:
    items = list(read_conll(path))
    bad = [i for i in items if isinstance(i, InputError)]
    assert not bad, bad
    return [i for i in items if isinstance(i, Record)]


def export(items, warnings: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    write_conll(items, buffer, warnings)
    return buffer.getvalue()


def through_project(tmp_path: Path, path: Path, name: str = "p") -> bytes:
    project = Project.open(tmp_path / name)
    try:
        report = project.import_records(read_conll(path), tokenizer=lambda t: tokenize(t, "en"))
        assert not report.skipped
        return export(project.records(include_unannotated=True))
    finally:
        project.close()


def write_file(tmp_path: Path, content: str | bytes, name: str = "in.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def spans(record: Record) -> list[tuple[str, str]]:
    text = record.document.text
    return [(text[e.start:e.end], e.label) for e in record.annotations[0].entities]


# -- real files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_file_round_trip_is_byte_identical(tmp_path: Path, path: Path) -> None:
    original = path.read_bytes()
    first = through_project(tmp_path, path, "first")
    assert first == original
    again = write_file(tmp_path, first, "again.conll")
    assert through_project(tmp_path, again, "second") == first


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_file_spans_match_their_text_and_tokens(path: Path) -> None:
    for record in records(path):
        text = record.document.text
        assert record.tokens is not None
        starts = {t.start for t in record.tokens}
        ends = {t.end for t in record.tokens}
        for entity in record.annotations[0].entities:
            assert entity.start in starts and entity.end in ends
            assert text[entity.start:entity.end].strip() == text[entity.start:entity.end]
        # The tokens rebuild the text exactly: words joined by spaces, sentences by "\n" tokens.
        rebuilt = "".join(text[t.start:t.end] + (" " if t.ws else "") for t in record.tokens)
        assert rebuilt == text


def test_wnut_sentences_are_documents_with_exact_tokens() -> None:
    items = records(DATA / "wnut17_dev_excerpt.conll")
    assert len(items) == 45
    first = items[0]
    assert first.document.text == "Stabilized approach or not ? That ´ s insane and good ."
    # The default layout is an empty one: the key says the document came from a CoNLL file.
    assert first.document.meta.extra == {"conll": {}}
    ann = first.annotations[0]
    assert (ann.annotator, ann.status) == ("imported", Status.DONE)
    redondo = items[1]
    assert ("Redondo Beach Blvd", "location") in spans(redondo)
    entity = redondo.annotations[0].entities[0]
    assert entity.source.kind == "imported" and entity.source.name == "conll"
    assert entity.extra == {}
    labels = {e.label for r in items for e in r.annotations[0].entities}
    assert "creative-work" in labels
    # Emoji beyond the BMP are one code point each; offsets still hold.
    astral = [r for r in items if any(ord(c) > 0xFFFF for c in r.document.text)]
    assert len(astral) >= 5
    # Invisible characters inside tokens are kept (only a BOM at the start of the file is dropped).
    assert any("watched\u200bwas" in r.document.text for r in items)
    assert items[-1].document.text == "excellent poem Dubbz\ufeff"
    assert spans(items[-1])[0] == ("Dubbz\ufeff", "person")


def test_a_repeated_sentence_stays_a_separate_document() -> None:
    items = records(DATA / "wnut17_dev_excerpt.conll")
    repeats = [r for r in items if r.document.text == "Where ' s Kishan ?"]
    base = document_id("Where ' s Kishan ?")
    assert [r.document.id for r in repeats] == [base, f"{base}#2", f"{base}#3"]
    assert [spans(r) for r in repeats] == [
        [("Kishan", "person")],
        [("Kishan", "person")],
        [("Kishan", "location")],
    ]
    assert "the same text came earlier" in repeats[1].warnings[0]
    # Reading the file again gives the same ids, so a second import merges rather than duplicates.
    assert [r.document.id for r in records(DATA / "wnut17_dev_excerpt.conll")] == [
        r.document.id for r in items
    ]


def test_conll2003_docstart_file_joins_sentences_into_documents() -> None:
    first, second = records(DATA / "labeling.conll2003.user2")
    text = first.document.text
    assert text.split("\n") == [
        "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
        "Nadim Ladki",
        "AL-AIN , United Arab Emirates 1996-12-06",
    ]
    assert spans(first) == [
        ("JAPAN", "12"),
        ("CHINA", "13"),
        ("Nadim Ladki", "13"),
        ("AL-AIN", "12"),
        ("United Arab Emirates", "12"),
    ]
    assert first.document.meta.extra == {
        "conll": {"sep": " ", "columns": ["_", "_"], "docstarts": True}
    }
    assert first.line == 1 and second.line == 26
    assert second.document.meta.extra["conll"]["docstarts"] is True
    # A "\n" token sits between sentences, as spaCy would have it.
    assert first.tokens is not None
    newline = [t for t in first.tokens if text[t.start:t.end] == "\n"]
    assert len(newline) == 2 and not any(t.ws for t in newline)


def test_arabic_file_with_bom_crlf_and_tab_separator_lines() -> None:
    items = records(DATA / "arabic_newsfane_first30sent.txt")
    assert len(items) == 30
    first = items[0]
    assert not first.document.text.startswith("\ufeff")
    assert first.document.text.startswith("\u200eفرانكفورت")
    assert "\r" not in first.document.text
    assert first.document.meta.extra["conll"] == {"eol": "\r\n", "blank": "\t", "bom": True}
    assert items[1].document.meta.extra["conll"] == {"eol": "\r\n", "blank": "\t"}
    assert ("\u200eد \u200eب \u200eا", "Media") in spans(first)


def test_file_without_final_blank_line(tmp_path: Path) -> None:
    first, last = records(DATA / "doccano_example.conll")
    assert first.document.meta.extra == {"conll": {}}
    assert last.document.meta.extra == {"conll": {"file_end": "newline"}}
    path = write_file(tmp_path, "JAPAN\tB-LOC\nGET\tO")
    (record,) = records(path)
    assert record.document.meta.extra == {"conll": {"file_end": "none"}}
    assert export([record]) == b"JAPAN\tB-LOC\nGET\tO"


# -- tag schemes -------------------------------------------------------------------------------------


def test_tag_helpers() -> None:
    assert parse_tag("O") is None
    assert parse_tag("B-12") == ("B", "12")
    assert parse_tag("I-creative-work") == ("I", "creative-work")
    for bad in ("B-", "X-PER", "PER", "o", "B_PER", ""):
        with pytest.raises(ValueError):
            parse_tag(bad)
    tags = [parse_tag(t) for t in ["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]]
    assert decode_tags(tags) == ([(0, 1, "PER"), (3, 3, "LOC"), (4, 4, "LOC"), (5, 5, "ORG")], [3, 5])
    assert decode_tags(tags, "IOB1")[1] == []
    chunks = [(0, 1, "PER"), (2, 2, "PER"), (4, 6, "LOC")]
    assert encode_tags(chunks, 7) == ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC"]
    assert encode_tags(chunks, 7, "IOB1") == ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-LOC", "I-LOC"]
    assert encode_tags(chunks, 7, "BILOU") == ["B-PER", "L-PER", "U-PER", "O", "B-LOC", "I-LOC", "L-LOC"]
    assert encode_tags(chunks, 7, "IOBES") == ["B-PER", "E-PER", "S-PER", "O", "B-LOC", "I-LOC", "E-LOC"]
    for scheme in ("BIO", "IOB1", "BILOU", "IOBES"):
        encoded = [parse_tag(t) for t in encode_tags(chunks, 7, scheme)]
        assert decode_tags(encoded, scheme) == (chunks, [])


def test_detect_scheme() -> None:
    def scheme(*sentences: str) -> str:
        return detect_scheme([[parse_tag(t) for t in s.split()] for s in sentences])

    assert scheme("O B-PER I-PER") == "BIO"
    assert scheme("O O") == "BIO"
    assert scheme("I-PER I-PER B-PER O", "I-LOC") == "IOB1"
    assert scheme("I-PER O", "B-LOC") == "BIO"  # a B- after O: BIO with a stray I-
    assert scheme("U-PER O B-LOC L-LOC") == "BILOU"
    assert scheme("S-PER O B-LOC E-LOC") == "IOBES"


@pytest.mark.parametrize(
    ("tags", "scheme", "count"),
    [
        ("B-PER L-PER O U-LOC O B-ORG I-ORG L-ORG", "BILOU", 3),
        ("B-PER E-PER O S-LOC O B-ORG I-ORG E-ORG", "IOBES", 3),
        ("I-PER I-PER O I-LOC B-LOC O I-ORG I-ORG", "IOB1", 4),
    ],
)
def test_other_schemes_round_trip(tmp_path: Path, tags: str, scheme: str, count: int) -> None:
    words = "Anna Keller met Kelby Harbour in Ferry Council".split()
    content = "".join(f"{w}\t{t}\n" for w, t in zip(words, tags.split(), strict=True)) + "\n"
    path = write_file(tmp_path, content)
    (record,) = records(path)
    assert record.document.meta.extra == {"conll": {"scheme": scheme}}
    assert not record.warnings
    assert all(not e.extra for e in record.annotations[0].entities)
    assert len(spans(record)) == count
    assert through_project(tmp_path, path) == content.encode()


def test_bio_entity_starting_with_i_is_read_as_a_start_and_written_back(tmp_path: Path) -> None:
    content = "Anna\tB-PER\nmet\tO\nKeller\tI-PER\nand\tO\nKelby\tB-LOC\nHarbour\tI-ORG\n\n"
    path = write_file(tmp_path, content)
    (record,) = records(path)
    assert spans(record) == [("Anna", "PER"), ("Keller", "PER"), ("Kelby", "LOC"), ("Harbour", "ORG")]
    assert record.warnings == [
        "2 entities start with I-, E- or L- in a BIO file (read as the start of an entity): line 3, 6"
    ]
    keller = record.annotations[0].entities[1]
    assert keller.extra == {"conll_tags": ["I-PER"]}
    assert through_project(tmp_path, path) == content.encode()


def test_exact_tags_are_not_used_when_they_no_longer_fit() -> None:
    text = "Anna Keller met Bo"
    doc = Document(id="d", text=text)
    entities = [
        EntitySpan(start=0, end=4, label="PER"),
        # Its kept tag would join it to the entity before it: the writer uses a B- instead.
        EntitySpan(start=5, end=11, label="PER", extra={"conll_tags": ["I-PER"]}),
        # A stale tag list of the wrong length is ignored.
        EntitySpan(start=16, end=18, label="PER", extra={"conll_tags": ["I-PER", "I-PER"]}),
    ]
    ann = Annotation(document_id="d", annotator="a", entities=entities)
    out = export([Record(document=doc, annotations=[ann], tokens=tokenize(text))])
    assert out == b"-DOCSTART-\tO\n\nAnna\tB-PER\nKeller\tB-PER\nmet\tO\nBo\tB-PER\n\n"


# -- separators, encodings, Unicode ------------------------------------------------------------------


def test_space_separated_and_tab_separated_files(tmp_path: Path) -> None:
    spaced = write_file(tmp_path, "Kelby NNP B-LOC\nvoted VBD O\n\n", "spaced.conll")
    (record,) = records(spaced)
    assert record.document.meta.extra == {"conll": {"sep": " ", "columns": [["NNP", "VBD"]]}}
    assert through_project(tmp_path, spaced, "a") == spaced.read_bytes()
    # In a tab-separated file a token may hold spaces.
    tabbed = write_file(tmp_path, "New York\tB-LOC\nvoted\tO\n\n", "tabbed.conll")
    (record,) = records(tabbed)
    assert spans(record) == [("New York", "LOC")]
    assert through_project(tmp_path, tabbed, "b") == tabbed.read_bytes()


def test_unicode_tokens(tmp_path: Path) -> None:
    content = (
        "Fans\tO\ncheered\tO\n👍\tO\n👨\u200d👩\u200d👧\tO\nin\tO\n東京\tB-LOC\n駅\tI-LOC\n\n"
        "قال\tO\nالرئيس\tO\nالأردن\tB-GPE\n\n"
        "Cafe\u0301\tB-ORG\n🇯🇵\tO\n\n"
    )
    path = write_file(tmp_path, content)
    items = records(path)
    assert [spans(r) for r in items] == [
        [("東京 駅", "LOC")],
        [("الأردن", "GPE")],
        [("Cafe\u0301", "ORG")],
    ]
    assert items[0].document.text == "Fans cheered 👍 👨\u200d👩\u200d👧 in 東京 駅"
    assert through_project(tmp_path, path) == content.encode()


def test_crlf_and_bom(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbfKelby\tB-LOC\r\nvoted\tO\r\n\r\nAnna\tB-PER\r\n\r\n"
    path = write_file(tmp_path, content)
    first, second = records(path)
    assert first.document.text == "Kelby voted"
    assert first.document.meta.extra == {"conll": {"eol": "\r\n", "bom": True}}
    assert second.document.meta.extra == {"conll": {"eol": "\r\n"}}
    assert through_project(tmp_path, path) == content


def test_docstart_variants(tmp_path: Path) -> None:
    content = (
        "Intro\tO\n\n"  # before the first marker: a document of its own, without a marker
        "-DOCSTART-\tO\n\nKelby\tB-LOC\nvoted\tO\n\nAnna\tB-PER\n\n"
        "-DOCSTART-\tO\nBo\tB-PER\n\n"  # no blank line after the marker
        "-DOCSTART-\tO\n\n"  # a marker with nothing after it: no document
    )
    path = write_file(tmp_path, content)
    intro, kelby, bo = records(path)
    assert intro.document.meta.extra == {"conll": {"docstarts": True, "docstart": None}}
    assert kelby.document.text == "Kelby voted\nAnna"
    assert kelby.document.meta.extra == {"conll": {"docstarts": True}}
    assert bo.document.meta.extra == {"conll": {"docstarts": True, "docstart_blank": False}}
    expected = content.removesuffix("-DOCSTART-\tO\n\n")
    assert through_project(tmp_path, path) == expected.encode()


def test_middle_columns_are_kept_per_token(tmp_path: Path) -> None:
    content = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n"
    )
    path = write_file(tmp_path, content)
    (record,) = records(path)
    columns = record.document.meta.extra["conll"]["columns"]
    assert columns == [["NNP", "VBZ", "JJ", "NNP", "NNP"], ["B-NP", "B-VP", "B-NP", "B-NP", "I-NP"]]
    assert through_project(tmp_path, path) == content.encode()


def test_several_blank_lines_count_as_one(tmp_path: Path) -> None:
    path = write_file(tmp_path, "\n\nKelby\tB-LOC\n\n\n\nAnna\tB-PER\n\n\n")
    items = records(path)
    assert [r.document.text for r in items] == ["Kelby", "Anna"]
    assert export(items) == b"Kelby\tB-LOC\n\nAnna\tB-PER\n\n"


# -- bad input ---------------------------------------------------------------------------------------


def test_bad_lines_are_yielded_per_document(tmp_path: Path) -> None:
    content = (
        "Kelby\tB-LOC\n\n"
        "Anna\tPERSON\n\n"  # line 3: not a tag
        "Bo\tNNP\tB-PER\nvoted\tO\n\n"  # line 6: 2 columns after 3
        "Lone\n\n"  # line 8: no tag column
        "\tO\n\n"  # line 10: empty token
        "Ferry\tO\n\n"
    )
    path = write_file(tmp_path, content)
    items = list(read_conll(path))
    assert [type(i).__name__ for i in items] == [
        "Record", "InputError", "InputError", "InputError", "InputError", "Record"
    ]
    errors = [i for i in items if isinstance(i, InputError)]
    assert [(e.line, e.field) for e in errors] == [(3, "tag"), (6, "columns"), (8, "tag"), (10, "token")]
    assert all(e.path == str(path) for e in errors)
    assert "'PERSON' is not a tag" in errors[0].message
    assert str(errors[0]).startswith(f"{path}:3: tag: ")
    project = Project.open(tmp_path / "p")
    with pytest.raises(InputError):
        project.import_records(read_conll(path))
    assert project.document_count() == 0
    report = project.import_records(read_conll(path), skip_invalid=True)
    assert report.documents_added == 2 and len(report.skipped) == 4
    project.close()


def test_labels_the_project_cannot_hold_are_refused(tmp_path: Path) -> None:
    long = "L" * 65
    path = write_file(tmp_path, f"New\tB-New York\n\nA\tB-{long}\n\nKelby\tB-LOC\n\n")
    first, second, good = read_conll(path)
    assert isinstance(first, InputError) and (first.line, first.field) == (1, "tag")
    assert "must not be empty or contain spaces" in first.message
    assert isinstance(second, InputError) and second.line == 3 and "at most 64" in second.message
    assert isinstance(good, Record)


def test_whitespace_only_token_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write_file(tmp_path, "Kelby \tB-LOC\n\u00a0\tO\n voted\tO\n\n")
    (record,) = records(path)
    assert record.document.text == "Kelby voted"  # whitespace around a token is not part of it
    assert spans(record) == [("Kelby", "LOC")]
    assert record.warnings == ["a token that is only whitespace was skipped: line 2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no tokens"),
        (b"\n\n  \n", "holds no tokens"),
        (b"Caf\xe9\tO\n", "not UTF-8"),
        (b'{"text": "Kelby"}\n', "does not look like a CoNLL/IOB file"),
        (b"The council voted on Monday.\n", "does not look like a CoNLL/IOB file"),
        (
            b"# sent_id = 1\n# text = Kelby voted\n1\tKelby\tKelby\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n",
            "CoNLL-U",
        ),
    ],
)
def test_whole_file_problems_are_raised(tmp_path: Path, content: bytes, message: str) -> None:
    path = write_file(tmp_path, content)
    with pytest.raises(InputError, match=message) as info:
        list(read_conll(path))
    assert info.value.path == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        list(read_conll(tmp_path / "missing.conll"))


# -- writing documents from elsewhere ----------------------------------------------------------------


def article(text: str, *entities: tuple[str, str], annotator: str = "anna") -> tuple[Document, Annotation]:
    doc = Document(id=document_id(text), text=text)
    spans = []
    for part, label in entities:
        start = text.index(part)
        spans.append(EntitySpan(start=start, end=start + len(part), label=label))
    return doc, Annotation(document_id=doc.id, annotator=annotator, status=Status.DONE, entities=spans)


def test_article_is_written_as_bio_with_lines_as_sentences(tmp_path: Path) -> None:
    text = "Ferry saved\n\nBy Lena Hartmann\n\nThe council of Kelby voted.\n"
    doc, ann = article(text, ("Lena Hartmann", "PERSON"), ("Kelby", "GPE"))
    warnings: list[str] = []
    record = Record(document=doc, annotations=[ann], tokens=tokenize(text))
    out = export([record], warnings)
    assert out.decode() == (
        "-DOCSTART-\tO\n\n"
        "Ferry\tO\nsaved\tO\n\n"
        "By\tO\nLena\tB-PERSON\nHartmann\tI-PERSON\n\n"
        "The\tO\ncouncil\tO\nof\tO\nKelby\tB-GPE\nvoted\tO\n.\tO\n\n"
    )
    assert warnings == []
    # Without stored tokens the text is tokenized.
    assert export([Record(document=doc, annotations=[ann])]) == out
    # Reading the export gives the article back whole, and writing it again gives the same bytes.
    path = write_file(tmp_path, out)
    again = records(path)
    assert len(again) == 1
    assert [spans(r) for r in again] == [[("Lena Hartmann", "PERSON"), ("Kelby", "GPE")]]
    assert again[0].document.text == "Ferry saved\nBy Lena Hartmann\nThe council of Kelby voted ."
    assert again[0].document.meta.extra == {"conll": {"docstarts": True}}
    assert export(again) == out


def test_spans_that_do_not_fit_are_changed_and_reported() -> None:
    text = "Anna Keller met the Kelby Harbour Board\nin Kelby today"
    doc, ann = article(
        text,
        ("nna Kel", "PERSON"),  # inside tokens: widened to "Anna Keller"
        ("Kelby Harbour Board", "ORG"),
        ("Kelby Harbour", "GPE"),  # overlaps the ORG, which starts at the same place and is longer
        ("Harbour", "FAC"),  # overlaps the ORG
        ("Board\nin Kelby", "LOC"),  # overlaps too
    )
    ann.entities.append(ann.entities[1].model_copy(update={"id": "copy"}))  # a duplicate
    ann.entities.append(EntitySpan(start=39, end=40, label="X"))  # only the line break
    warnings: list[str] = []
    out = export([Record(document=doc, annotations=[ann], tokens=tokenize(text))], warnings)
    assert out.decode() == (
        "-DOCSTART-\tO\n\n"
        "Anna\tB-PERSON\nKeller\tI-PERSON\nmet\tO\nthe\tO\nKelby\tB-ORG\nHarbour\tI-ORG\nBoard\tI-ORG\n\n"
        "in\tO\nKelby\tO\ntoday\tO\n\n"
    )
    assert len(warnings) == 6
    assert all(w.startswith(doc.id) for w in warnings)
    joined = "\n".join(warnings)
    assert "'nna Kel' (PERSON, 1-8) does not fall on token boundaries; written as 'Anna Keller'" in joined
    assert "'Kelby Harbour' (GPE, 20-33) overlaps 'Kelby Harbour Board' (ORG, 20-39); dropped" in joined
    assert "'Harbour' (FAC, 26-33) overlaps" in joined
    assert "(LOC, 34-48) overlaps" in joined
    assert "(ORG, 20-39) repeats 'Kelby Harbour Board' (ORG, 20-39); dropped" in joined
    assert "(X, 39-40) covers no token; dropped" in joined


def test_entity_across_a_line_break_becomes_one_per_line() -> None:
    text = "Kelby\nHarbour Board met"
    doc, ann = article(text, ("Kelby\nHarbour Board", "ORG"))
    warnings: list[str] = []
    out = export([Record(document=doc, annotations=[ann], tokens=tokenize(text))], warnings)
    assert out == b"-DOCSTART-\tO\n\nKelby\tB-ORG\n\nHarbour\tB-ORG\nBoard\tI-ORG\nmet\tO\n\n"
    assert warnings == [f"{doc.id}: entity 'Kelby\\nHarbour Board' (ORG, 0-19) crosses a line break; "
                        "written as one entity per line"]


def test_stances_several_annotators_and_unannotated_documents_are_reported() -> None:
    doc, anna = article("Anna backs Kelby", ("Anna", "PERSON"))
    _, ben = article("Anna backs Kelby", ("Kelby", "GPE"), annotator="ben")
    anna.stances.append(Stance(start=0, end=16, polarity="FAVOR", holder=AUTHOR))
    anna.doc_stances.append(DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR"))
    other, _ = article("Nobody annotated this")
    warnings: list[str] = []
    buffer = io.BytesIO()
    count = write_conll(
        [Record(document=doc, annotations=[anna, ben]), Record(document=other)], buffer, warnings=warnings
    )
    assert count == 2
    assert buffer.getvalue().decode() == (
        "-DOCSTART-\tO\n\nAnna\tB-PERSON\nbacks\tO\nKelby\tO\n\n"
        "-DOCSTART-\tO\n\nAnna\tO\nbacks\tO\nKelby\tB-GPE\n\n"
        "-DOCSTART-\tO\n\nNobody\tO\nannotated\tO\nthis\tO\n\n"
    )
    assert warnings == [
        "1 stance(s) and 1 document stance(s) were not written: CoNLL has no place for stances",
        f"1 document(s) have several annotations and are written once per annotation (CoNLL has no "
        f"annotator column; export one annotator's work with --annotator): {doc.id}",
    ]


def test_first_document_decides_the_layout(tmp_path: Path) -> None:
    conll = records(DATA / "labeling.conll2003.user2")[1]
    doc, ann = article("Anna in Kelby", ("Anna", "PER"))
    plain = Record(document=doc, annotations=[ann], tokens=tokenize(doc.text))
    out = export([conll, plain]).decode()
    assert out.endswith("-DOCSTART- -X- -X- O\n\nAnna _ _ B-PER\nin _ _ O\nKelby _ _ O\n\n")
    warnings: list[str] = []
    out = export([plain, conll], warnings).decode()
    # An article first: two tab-separated columns and -DOCSTART- lines, the default one for every
    # document (the CoNLL-2003 document's own four-column marker does not fit the file).
    assert out.startswith("-DOCSTART-\tO\n\nAnna\tB-PER\nin\tO\nKelby\tO\n\n-DOCSTART-\tO\n\nRUGBY\tB-14\n")
    assert "-X-" not in out and out.count("-DOCSTART-") == 2
    assert warnings == [
        f"{conll.document.id}: its 2 middle column(s) are not written: the file has only the token and "
        f"tag columns (the first document decides)"
    ]
    # A document from a file without -DOCSTART- lines first: the file gets none, and an article of
    # several lines written after it cannot come back whole, which is reported.
    wnut = records(DATA / "wnut17_dev_excerpt.conll")[0]
    doc, ann = article("Ferry saved\nBy Lena Hartmann", ("Lena Hartmann", "PERSON"))
    lines = Record(document=doc, annotations=[ann], tokens=tokenize(doc.text))
    warnings = []
    out = export([wnut, plain, lines], warnings).decode()
    assert out.startswith("Stabilized\tO\n")
    assert out.endswith(
        "\n\nAnna\tB-PER\nin\tO\nKelby\tO\n\n"
        "Ferry\tO\nsaved\tO\n\nBy\tO\nLena\tB-PERSON\nHartmann\tI-PERSON\n\n"
    )
    assert "-DOCSTART-" not in out
    assert warnings == [
        f"{doc.id}: written without -DOCSTART- lines (the first document decides), so its 2 lines "
        f"read back as 2 documents"
    ]


def test_tokens_that_would_break_a_line_are_split_and_empty_documents_skipped() -> None:
    text = "New York\u2028Kelby"
    doc, ann = article(text, ("New York", "LOC"))
    spaced = DocumentMeta(extra={"conll": {"sep": " "}})
    doc = doc.model_copy(update={"meta": spaced})
    record = Record(document=doc, annotations=[ann], tokens=[Token(0, 8, False), Token(9, 14, False)])
    empty = Record(document=Document(id="e", text=" \n "))
    warnings: list[str] = []
    out = export([record, empty], warnings)
    # Its layout has no -DOCSTART- lines, so its two lines read back as two documents (reported).
    assert out.decode() == "New B-LOC\nYork I-LOC\n\nKelby O\n\n"
    assert warnings == [
        f"{doc.id}: written without -DOCSTART- lines (the first document decides), so its 2 lines "
        f"read back as 2 documents",
        "e: the document has no tokens; not written",
    ]


def test_multi_line_article_comes_back_as_one_document(tmp_path: Path) -> None:
    text = (
        "Harbour vote\r\n\r\n"
        "By Lena Hartmann\r\n\r\n"
        "PORT ALDER - The council of Kelby voted on Monday.\r\n"
        "Derek Hollins, the mayor, opposed it.\r\n\r\n\r\n"
        "The Ferry Board meets in Port Alder again in May.\r\n"
    )
    doc, ann = article(
        text,
        ("Lena Hartmann", "PERSON"),
        ("PORT ALDER", "GPE"),
        ("Kelby", "GPE"),
        ("Derek Hollins", "PERSON"),
        ("Ferry Board", "ORG"),
        ("Port Alder", "GPE"),
    )
    other, other_ann = article("Anna in Kelby", ("Anna", "PERSON"), ("Kelby", "GPE"))
    # As an export from a project: the articles have no tokens of their own there.
    project = Project.open(tmp_path / "p")
    try:
        report = project.import_records(
            [Record(document=doc, annotations=[ann]), Record(document=other, annotations=[other_ann])],
            tokenizer=lambda t: tokenize(t, "en"),
        )
        assert not report.skipped
        warnings: list[str] = []
        out = export(project.records(include_unannotated=True), warnings)
    finally:
        project.close()
    assert warnings == []
    assert out.startswith(b"-DOCSTART-\tO\n\nHarbour\tO\nvote\tO\n\nBy\tO\nLena\tB-PERSON\n")
    assert out.count(b"-DOCSTART-") == 2 and b"\r" not in out
    path = write_file(tmp_path, out)
    first, second = records(path)
    # The text is rebuilt from the tokens: one line per line of the article that holds words.
    assert len([line for line in text.splitlines() if line.strip()]) == 5
    assert first.document.text.split("\n") == [
        "Harbour vote",
        "By Lena Hartmann",
        "PORT ALDER - The council of Kelby voted on Monday .",
        "Derek Hollins , the mayor , opposed it .",
        "The Ferry Board meets in Port Alder again in May .",
    ]
    assert spans(first) == [
        ("Lena Hartmann", "PERSON"),
        ("PORT ALDER", "GPE"),
        ("Kelby", "GPE"),
        ("Derek Hollins", "PERSON"),
        ("Ferry Board", "ORG"),
        ("Port Alder", "GPE"),
    ]
    assert [(text[e.start:e.end], e.label) for e in ann.entities] == spans(first)
    assert second.document.text == "Anna in Kelby"
    assert spans(second) == [("Anna", "PERSON"), ("Kelby", "GPE")]
    # Written again, the export is the same.
    assert export([first, second]) == out


def test_label_with_whitespace_is_written_with_underscores() -> None:
    doc, ann = article("Anna met", ("Anna", "PER"))
    ann.entities[0] = ann.entities[0].model_copy(update={"label": "GOOD GUY"})
    warnings: list[str] = []
    out = export([Record(document=doc, annotations=[ann])], warnings)
    assert out == b"-DOCSTART-\tO\n\nAnna\tB-GOOD_GUY\nmet\tO\n\n"
    assert len(warnings) == 1 and "'GOOD GUY' holds whitespace" in warnings[0]


def test_nothing_to_write_gives_an_empty_file() -> None:
    assert export([]) == b""


# -- sniffing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_sniff_recognises_the_real_files(path: Path) -> None:
    assert sniff(path.read_bytes()[: 64 * 1024])


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b'{"text": "Kelby", "spans": []}\n',
        b'["Kelby voted", ["U-GPE", "O"]]\n',
        b"The council of Kelby voted on Monday.\nIt was late.\n",
        b"# newdoc id = x\n1\tKelby\tKelby\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n",
        b"1\tKelby\tKelby\tPROPN\tNNP\t_\t2\tnsubj\t_\t_\n",
        b"Kelby\tB-LOC\nvoted\tVBD\tO\n",
        b"id,text\n1,Kelby\n",
    ],
)
def test_sniff_refuses_other_files(head: bytes) -> None:
    assert not sniff(head)


def test_sniff_accepts_a_cut_off_head() -> None:
    head = ("Kelby\tB-LOC\nvoted\tO\n\n" * 5000).encode()[: 64 * 1024]
    assert sniff(head)
