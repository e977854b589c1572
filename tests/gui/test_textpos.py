"""Code point offsets against Qt positions, checked by hand, by property and against real Qt."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import (
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QPlainTextEdit

from annotator.gui.textpos import TextPositions

PIECES = [
    "a",
    "Z",
    " ",
    "😀",
    "👨\u200d👩\u200d👧",
    "🇯🇵",
    "日本語",
    "مرحبا",
    "e\u0301",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "\u2028",
    "\u2029",
    "\x00",
    "\xa0",
    "\ufdd0",
]

pieces_text = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
texts = st.one_of(pieces_text, any_text)

# What Qt reports for a stretch of stored text in QTextCursor.selectedText().
_BREAK = re.compile("\r\n|[\r\n\u2029\ufdd0\ufdd1]")


def qt_selected(stored: str) -> str:
    return _BREAK.sub("\u2029", stored)


def reference_positions(text: str) -> list[int]:
    """Qt position of every offset 0..len(text), one character at a time."""
    positions = [0]
    for i, ch in enumerate(text):
        if ch == "\n" and i and text[i - 1] == "\r":
            width = 0
        elif ord(ch) > 0xFFFF:
            width = 2
        else:
            width = 1
        positions.append(positions[-1] + width)
    return positions


def mid_pair(text: str, cp: int) -> bool:
    """True for the offset between the "\r" and "\n" of a pair."""
    return 0 < cp < len(text) and text[cp - 1] == "\r" and text[cp] == "\n"


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def document(tp: TextPositions) -> QTextDocument:
    doc = QTextDocument()
    doc.setPlainText(tp.display_text())
    return doc


def select(doc: QTextDocument, start: int, end: int) -> str:
    cursor = QTextCursor(doc)
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


# --- by hand -------------------------------------------------------------------------------


def test_ascii_is_identity() -> None:
    tp = TextPositions("plain text\nsecond line\t")
    assert tp.is_identity
    assert tp.qt_length == tp.length == 23
    assert [tp.to_qt(i) for i in range(24)] == list(range(24))
    assert [tp.from_qt(i) for i in range(24)] == list(range(24))
    assert tp.display_text() == "plain text\nsecond line\t"


def test_empty_text() -> None:
    tp = TextPositions("")
    assert tp.qt_length == 0
    assert tp.to_qt(0) == 0
    assert tp.from_qt(0) == 0
    assert tp.from_qt_range(0, 0) == (0, 0)
    assert tp.display_text() == ""


def test_non_ascii_bmp_is_identity() -> None:
    tp = TextPositions("Zoë 日本語 مرحبا e\u0301 \u2028\u2029")
    assert tp.is_identity
    assert tp.qt_length == tp.length


def test_astral_character_is_two_positions() -> None:
    tp = TextPositions("a😀b")
    assert not tp.is_identity
    assert [tp.to_qt(i) for i in range(4)] == [0, 1, 3, 4]
    assert tp.qt_length == 4
    assert [tp.from_qt(q) for q in range(5)] == [0, 1, 1, 2, 3]
    assert [tp.is_qt_boundary(q) for q in range(5)] == [True, True, False, True, True]


def test_flag_and_zwj_sequence() -> None:
    text = "🇯🇵👨\u200d👩\u200d👧!"
    tp = TextPositions(text)
    assert tp.qt_length == utf16_len(text) == 4 + 8 + 1
    assert tp.to_qt(2) == 4  # after the flag's two regional indicators
    assert tp.to_qt(len(text) - 1) == 12
    assert tp.from_qt(3) == 1  # inside the second regional indicator


def test_crlf_pair_is_one_position() -> None:
    tp = TextPositions("a\r\nb")
    assert tp.display_text() == "a\nb"
    assert [tp.to_qt(i) for i in range(5)] == [0, 1, 2, 2, 3]
    assert tp.qt_length == 3
    # No Qt position lies between "\r" and "\n": from_qt never returns offset 2.
    assert [tp.from_qt(q) for q in range(4)] == [0, 1, 3, 4]


def test_carriage_return_carries_the_break() -> None:
    tp = TextPositions("a\r\nb")
    assert tp.qt_range(1, 2) == (1, 2)  # just the "\r": the break
    assert tp.qt_range(2, 3) == (2, 2)  # just the "\n": nothing
    assert tp.qt_range(1, 3) == (1, 2)


def test_lone_carriage_returns_and_mixed_breaks() -> None:
    tp = TextPositions("a\rb\n\rc")
    assert tp.is_identity
    assert tp.display_text() == "a\nb\n\nc"


def test_cr_before_crlf_is_two_breaks() -> None:
    # Replacing only "\r\n" would turn "\r\r\n" into "\r\n" and merge the two breaks.
    tp = TextPositions("x\r\r\ny")
    assert tp.display_text() == "x\n\ny"
    assert [tp.to_qt(i) for i in range(6)] == [0, 1, 2, 3, 3, 4]
    assert tp.qt_length == 4


def test_emoji_and_crlf_together() -> None:
    text = "😀\r\n😀\r\n\r\nb"
    tp = TextPositions(text)
    assert tp.to_qt(len(text)) == tp.qt_length == utf16_len(tp.display_text()) == 8
    assert [tp.from_qt(q) for q in range(9)] == [0, 0, 1, 3, 3, 4, 6, 8, 9]


def test_from_qt_range_expands_outward() -> None:
    tp = TextPositions("a😀b😀")
    assert tp.from_qt_range(2, 2) == (1, 2)  # a caret inside the emoji covers it
    assert tp.from_qt_range(0, 2) == (0, 2)
    assert tp.from_qt_range(2, 4) == (1, 3)
    assert tp.from_qt_range(5, 6) == (3, 4)
    assert tp.from_qt_range(4, 1) == (1, 3)  # anchor after position
    assert tp.from_qt_range(0, 6) == (0, 4)


def test_out_of_range() -> None:
    tp = TextPositions("a😀")
    with pytest.raises(ValueError):
        tp.to_qt(3)
    with pytest.raises(ValueError):
        tp.to_qt(-1)
    with pytest.raises(ValueError):
        tp.from_qt(4)
    with pytest.raises(ValueError):
        tp.from_qt(-1)
    assert tp.from_qt(3) == 2


def test_block_offsets() -> None:
    # Blocks in Qt positions: "a😀b" at 0 (length 5 with separator), "cd" at 5 (length 3).
    tp = TextPositions("a😀b\r\ncd")
    assert tp.block_offsets(0, 5, 1, 2) == (1, 2)
    assert tp.block_offsets(0, 5, 0, 7) == (0, 4)  # separator left out
    assert tp.block_offsets(5, 3, 0, 7) == (0, 2)
    assert tp.block_offsets(5, 3, 0, 4) is None  # ends at the break
    assert tp.block_offsets(0, 5, 5, 6) is None  # starts in the next block
    assert tp.block_offsets(0, 5, 2, 2) is None  # empty span


def test_repr() -> None:
    assert repr(TextPositions("a😀")) == "TextPositions(length=2, qt_length=3)"


def test_one_megabyte_with_emoji_and_crlf() -> None:
    # Speed is measured by the benchmarks; this checks correctness at that size.
    text = ("x" * 40 + " Zoë\r\n" + "y" * 37 + "😀") * 12_000
    tp = TextPositions(text)
    assert len(text) > 1_000_000
    assert tp.qt_length == utf16_len(tp.display_text())
    last = len(text) - 1
    assert tp.from_qt(tp.to_qt(last)) == last


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=400)
@given(texts)
def test_to_qt_matches_reference(text: str) -> None:
    tp = TextPositions(text)
    assert [tp.to_qt(cp) for cp in range(len(text) + 1)] == reference_positions(text)
    assert tp.qt_length == utf16_len(tp.display_text())


@settings(max_examples=400)
@given(texts)
def test_round_trips(text: str) -> None:
    tp = TextPositions(text)
    for cp in range(len(text) + 1):
        expected = cp + 1 if mid_pair(text, cp) else cp
        assert tp.from_qt(tp.to_qt(cp)) == expected
    for q in range(tp.qt_length + 1):
        cp = tp.from_qt(q)
        assert not mid_pair(text, cp)
        if tp.is_qt_boundary(q):
            assert tp.to_qt(cp) == q
        else:
            # Between two surrogates: snapped back to the start of the astral character.
            assert tp.to_qt(cp) == q - 1
            assert ord(text[cp]) > 0xFFFF


@settings(max_examples=200)
@given(texts, st.data())
def test_from_qt_range_never_splits_a_character(text: str, data: st.DataObject) -> None:
    tp = TextPositions(text)
    a = data.draw(st.integers(0, tp.qt_length))
    b = data.draw(st.integers(0, tp.qt_length))
    start, end = tp.from_qt_range(a, b)
    assert 0 <= start <= end <= len(text)
    assert tp.to_qt(start) <= min(a, b)
    assert tp.to_qt(end) >= max(a, b)
    # Expanding moves by at most one unit at each end.
    assert min(a, b) - tp.to_qt(start) <= 1
    assert tp.to_qt(end) - max(a, b) <= 1


# --- against Qt ----------------------------------------------------------------------------


def check_against_qt(text: str) -> None:
    tp = TextPositions(text)
    doc = document(tp)
    assert doc.characterCount() == tp.qt_length + 1
    boundaries = [cp for cp in range(len(text) + 1) if not mid_pair(text, cp)]
    for i, s in enumerate(boundaries):
        for e in boundaries[i:]:
            assert select(doc, tp.to_qt(s), tp.to_qt(e)) == qt_selected(text[s:e]), (s, e)
    # Blocks: their text and where they start.
    lines = _BREAK.split(text)
    starts = [0] + [m.end() for m in _BREAK.finditer(text)]
    block = doc.begin()
    got = []
    while block.isValid():
        got.append((tp.from_qt(block.position()), block.text()))
        block = block.next()
    assert got == list(zip(starts, lines, strict=True))


SAMPLES = [
    "",
    "plain",
    "a😀b",
    "a\r\nb",
    "x\r\r\ny",
    "a\n\rb",
    "ab\r",
    "ab\r\n",
    "\r\n\r\n",
    "a\u2028b\u2029c",
    "tab\there\x00nul",
    "🇯🇵 日本語 👨\u200d👩\u200d👧 e\u0301 مرحبا",
    "😀\r\n😀\r😀\n😀\u2029😀\u2028😀",
    "frame\ufdd0markers\ufdd1too",
    "\r\u2029\r\n\u2029\n\r",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_spans_against_qt(qapp: object, text: str) -> None:
    check_against_qt(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_spans_against_qt_generated(qapp: object, text: str) -> None:
    check_against_qt(text)


@settings(max_examples=60, deadline=None)
@given(pieces_text, st.data())
def test_qt_selection_maps_back(qapp: object, text: str, data: st.DataObject) -> None:
    tp = TextPositions(text)
    doc = document(tp)
    a = data.draw(st.integers(0, tp.qt_length))
    b = data.draw(st.integers(0, tp.qt_length))
    start, end = tp.from_qt_range(a, b)
    # The expanded selection, read back from Qt, is exactly the stored span.
    assert select(doc, tp.to_qt(start), tp.to_qt(end)) == qt_selected(text[start:end])
    # A selection on boundaries maps to the span Qt shows.
    if tp.is_qt_boundary(a) and tp.is_qt_boundary(b):
        assert select(doc, min(a, b), max(a, b)) == qt_selected(text[start:end])


def test_plain_text_edit_matches_document(qapp: object) -> None:
    text = "Zoë 😀\r\nŁukasz\r佐藤 由紀\u2028🇯🇵\n\tend"
    tp = TextPositions(text)
    edit = QPlainTextEdit()
    edit.setPlainText(tp.display_text())
    doc = edit.document()
    assert doc.characterCount() == tp.qt_length + 1
    assert doc.toPlainText() == tp.display_text().replace("\u2028", "\n")
    start = text.index("Łukasz")
    cursor = edit.textCursor()
    cursor.setPosition(tp.to_qt(start))
    cursor.setPosition(tp.to_qt(start + 6), QTextCursor.MoveMode.KeepAnchor)
    edit.setTextCursor(cursor)
    selected = edit.textCursor()
    assert selected.selectedText() == "Łukasz"
    assert tp.from_qt_range(selected.anchor(), selected.position()) == (start, start + 6)


class SpanHighlighter(QSyntaxHighlighter):
    def __init__(self, doc: QTextDocument, tp: TextPositions, spans: list[tuple[int, int]]):
        super().__init__(doc)
        self.tp = tp
        self.spans = spans
        self.fmt = QTextCharFormat()
        self.fmt.setFontUnderline(True)

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        for s, e in self.spans:
            offsets = self.tp.block_offsets(block.position(), block.length(), s, e)
            if offsets is not None:
                self.setFormat(offsets[0], offsets[1], self.fmt)


def test_block_offsets_in_a_highlighter(qapp: object) -> None:
    text = "José 😀 Álvarez said\r\nZoë 🇯🇵 and Sato Yuki (佐藤 由紀)\r\n👨\u200d👩\u200d👧 end"
    tp = TextPositions(text)
    names = ["José 😀 Álvarez", "said\r\nZoë", "🇯🇵 and", "(佐藤 由紀)", "👨\u200d👩\u200d👧"]
    spans = [(text.index(n), text.index(n) + len(n)) for n in names]
    doc = document(tp)
    highlighter = SpanHighlighter(doc, tp, spans)
    highlighter.rehighlight()
    found = []
    block = doc.begin()
    while block.isValid():
        units = block.text().encode("utf-16-le")
        for r in block.layout().formats():
            found.append(units[2 * r.start : 2 * (r.start + r.length)].decode("utf-16-le"))
        block = block.next()
    assert sorted(found) == sorted(
        ["José 😀 Álvarez", "said", "Zoë", "🇯🇵 and", "(佐藤 由紀)", "👨\u200d👩\u200d👧"]
    )
