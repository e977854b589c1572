"""Offsets are Python code points into the exact text: emoji, ZWJ sequences, flags, CJK, RTL, combining
marks, CRLF and tabs included."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.edits import AddEntity, AddStance, EditContext, edit_from_json, edit_to_json
from annotator.core.model import Annotation, Document, EntitySpan, Stance
from annotator.core.rules import check_annotation
from annotator.core.scheme import LabelScheme, default_scheme
from annotator.core.session import AnnotationSession

FAMILY = "👨\u200d👩\u200d👧"
FLAG = "🇯🇵"

# (text, the part to tag, its expected code point offsets)
CASES = [
    ("😀 Tokyo is big", "Tokyo", (2, 7)),
    (f"{FAMILY} Smith family", "Smith", (6, 11)),
    (f"{FAMILY} Smith", FAMILY, (0, 5)),
    (f"{FLAG} Japan", FLAG, (0, 2)),
    (f"{FLAG} Japan", "Japan", (3, 8)),
    ("東京都の小池百合子知事が", "小池百合子", (4, 9)),
    ("قال محمد بن سلمان", "محمد", (4, 8)),
    ("Caf\u00e9 vs Cafe\u0301 Paris", "Cafe\u0301", (8, 13)),
    ("Cafe\u0301 Paris", "Paris", (6, 11)),
    ("line one\r\nAlice\r\n", "Alice", (10, 15)),
    ("a\tb\tMerkel\tc", "Merkel", (4, 10)),
    ("para\u2029Biden\u2028x", "Biden", (5, 10)),
    ("no\u00a0break Macron", "Macron", (9, 15)),
]


@pytest.mark.parametrize("text, part, offsets", CASES, ids=[c[1] for c in CASES])
def test_offsets_are_code_points(text: str, part: str, offsets: tuple[int, int]) -> None:
    start = text.index(part)
    assert (start, start + len(part)) == offsets
    assert text[offsets[0]:offsets[1]] == part


@pytest.mark.parametrize("text, part, offsets", CASES, ids=[c[1] for c in CASES])
def test_entity_over_unicode_is_accepted_and_names_what_was_meant(
    text: str, part: str, offsets: tuple[int, int]
) -> None:
    scheme = default_scheme()
    doc = Document(id="u", text=text)
    ann = Annotation(document_id="u", annotator="a")
    entity = EntitySpan(id="e", start=offsets[0], end=offsets[1], label="PERSON")
    AddEntity(entity=entity).apply(EditContext(doc, ann, scheme))
    check_annotation(ann, doc, scheme)
    stored = ann.entities[0]
    assert doc.text[stored.start:stored.end] == part
    # and it survives JSON untouched, text included
    back_doc = Document.model_validate_json(doc.model_dump_json())
    back = Annotation.model_validate_json(ann.model_dump_json())
    assert back_doc.text == text
    assert back_doc.text[back.entities[0].start:back.entities[0].end] == part


def test_span_may_end_at_the_last_code_point_of_an_emoji_text() -> None:
    text = f"Hi {FAMILY}{FLAG}😀"
    assert len(text) == 3 + 5 + 2 + 1
    scheme = default_scheme()
    doc = Document(id="u", text=text)
    ann = Annotation(document_id="u", annotator="a")
    AddEntity(entity=EntitySpan(id="e", start=len(text) - 1, end=len(text), label="MISC")).apply(
        EditContext(doc, ann, scheme)
    )
    assert text[ann.entities[0].start:ann.entities[0].end] == "😀"


def test_span_counted_in_utf16_units_past_the_end_is_refused() -> None:
    # "😀😀" is 2 code points but 4 UTF-16 units: an offset from Qt taken as is must not slip through.
    text = "😀😀"
    scheme = default_scheme()
    doc = Document(id="u", text=text)
    ann = Annotation(document_id="u", annotator="a")
    utf16_len = len(text.encode("utf-16-le")) // 2
    assert utf16_len == 4
    with pytest.raises(ValueError):
        AddEntity(entity=EntitySpan(id="e", start=0, end=utf16_len, label="MISC")).apply(
            EditContext(doc, ann, scheme)
        )
    assert ann.entities == []


def test_stance_over_crlf_and_rtl_text() -> None:
    text = "He said:\r\n«قال محمد»\r\n"
    scheme = default_scheme()
    doc = Document(id="u", text=text)
    ann = Annotation(document_id="u", annotator="a")
    start = text.index("«")
    end = text.index("»") + 1
    AddStance(stance=Stance(id="s", start=start, end=end, polarity="FAVOR")).apply(
        EditContext(doc, ann, scheme)
    )
    assert text[ann.stances[0].start:ann.stances[0].end] == "«قال محمد»"


def test_edit_json_keeps_unicode_offsets() -> None:
    edit = AddEntity(entity=EntitySpan(id="e", start=6, end=11, label="PERSON"))
    assert edit_from_json(edit_to_json(edit)) == edit


# -- property: random texts, random valid spans ---------------------------------------------------------

PIECES = ["a", "Z", " ", "😀", FAMILY, FLAG, "日本語", "مرحبا", "e\u0301", "\r\n", "\t", "\n", "\u2029", "ß"]

_SCHEME = default_scheme()
_OVERLAP_SCHEME = _SCHEME.model_copy(update={"allow_overlap": True})


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]], bool]:
    text = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30)))
    n = len(text)
    overlap = draw(st.booleans())
    spans: list[tuple[int, int, str]] = []
    pairs = st.tuples(st.integers(0, n - 1), st.integers(1, n)).filter(lambda p: p[0] < p[1])
    for start, end in draw(st.lists(pairs, max_size=8)):
        if not overlap and any(s < end and start < e for s, e, _ in spans):
            continue
        spans.append((start, end, draw(st.sampled_from(_SCHEME.label_names))))
    return text, spans, overlap


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans())
def test_add_entity_keeps_the_rules_and_undo_redo_restore_exactly(
    case: tuple[str, list[tuple[int, int, str]], bool],
) -> None:
    text, spans, overlap = case
    scheme: LabelScheme = _OVERLAP_SCHEME if overlap else _SCHEME
    doc = Document(id="p", text=text)
    ann = Annotation(document_id="p", annotator="prop")
    session = AnnotationSession(doc, ann, scheme)
    dumps = [ann.model_dump(exclude={"version"})]
    for i, (start, end, label) in enumerate(spans):
        session.apply(AddEntity(entity=EntitySpan(id=f"e{i}", start=start, end=end, label=label)))
        check_annotation(ann, doc, scheme)
        stored = ann.entities[-1]
        assert text[stored.start:stored.end] == text[start:end]
        dumps.append(ann.model_dump(exclude={"version"}))
    for expected in reversed(dumps[:-1]):
        session.undo()
        assert ann.model_dump(exclude={"version"}) == expected
        check_annotation(ann, doc, scheme)
    for expected in dumps[1:]:
        session.redo()
        assert ann.model_dump(exclude={"version"}) == expected
    assert ann.version == 3 * len(spans)
