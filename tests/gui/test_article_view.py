"""The article view: text shown as text, Unicode offsets, highlights redrawn block by block."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt

from annotator.core.edits import AddEntity
from annotator.core.model import EntitySpan
from annotator.gui.main_window import MainWindow

pytestmark = pytest.mark.timeout(60)

UNICODE = (
    "Zoë 😀 met 👨\u200d👩\u200d👧 from 🇯🇵 in 東京.\r\n"
    "مرحبا بالعالم\r\n"
    "Then 🇫🇷 Paris 🎉 and e\u0301clair, said Rene\u0301e, 日本語 text."
)


def open_window(qtbot, project, settings, doc_id: str) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(project, "tester", settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.open_document(doc_id)
    return w


def test_markup_in_an_article_is_shown_as_text(window) -> None:
    window.open_document("a3")
    text = window.session.document.text
    assert "<b>bold</b>" in text
    assert window.view.document().toPlainText() == text
    block = window.view.document().firstBlock()
    assert all(not r.format.font().bold() for r in block.layout().formats())
    it = block.begin()
    while not it.atEnd():
        assert not it.fragment().charFormat().font().bold()
        it += 1
    assert window.title_label.text() == "Plain <b>tags</b>"
    assert window.title_label.textFormat() == Qt.TextFormat.PlainText


@pytest.mark.parametrize(
    "needle",
    ["東京", "🇯🇵", "👨\u200d👩\u200d👧", "مرحبا", "Rene\u0301e", "Paris", "e\u0301clair", "日本語", "🎉"],
)
def test_unicode_selection_gives_code_point_offsets(
    qtbot, tmp_path: Path, settings, driver, needle, new_project
) -> None:
    project = new_project(tmp_path / "u", {"u": ("Unicode", UNICODE)})
    w = open_window(qtbot, project, settings, "u")
    w.act_snap.setChecked(False)
    view = w.view
    qs, qe = driver.qt_range(view, needle)
    driver.drag(view, qs, qe)
    driver.key(view, Qt.Key.Key_8)  # MISC
    entity = w.session.annotation.entities[0]
    start = UNICODE.index(needle)
    assert (entity.start, entity.end) == (start, start + len(needle))
    assert UNICODE[entity.start : entity.end] == needle
    block = view.document().findBlock(qs)
    ranges = [(block.position() + r.start, r.length) for r in block.layout().formats()]
    assert ranges == [(qs, qe - qs)]


def test_unicode_highlights_of_stored_spans_cover_the_right_characters(
    qtbot, tmp_path, settings, driver, new_project
):  # type: ignore[no-untyped-def]
    project = new_project(tmp_path / "u", {"u": ("Unicode", UNICODE)})
    session = project.open_session("u", "tester")
    needles = ["🇯🇵", "東京", "مرحبا", "Paris", "🎉", "日本語"]
    for needle in needles:
        start = UNICODE.index(needle)
        session.apply(AddEntity(entity=EntitySpan(start=start, end=start + len(needle), label="MISC")))
    w = open_window(qtbot, project, settings, "u")
    found = set()
    block = w.view.document().firstBlock()
    while block.isValid():
        for r in block.layout().formats():
            found.add((block.position() + r.start, block.position() + r.start + r.length))
        block = block.next()
    assert found == {driver.qt_range(w.view, n) for n in needles}


def test_an_edit_rehighlights_only_the_blocks_it_touches(
    qtbot, tmp_path, settings, driver, monkeypatch, new_project
):  # type: ignore[no-untyped-def]
    paragraphs = [f"Paragraph {i} mentions Paris and Tokyo again." for i in range(400)]
    project = new_project(tmp_path / "big", {"big": ("Big", "\n\n".join(paragraphs))})
    w = open_window(qtbot, project, settings, "big")
    calls = []
    highlighter = w.view._highlighter
    original = highlighter.rehighlightBlock

    def counting(block):  # type: ignore[no-untyped-def]
        calls.append(block.blockNumber())
        original(block)

    monkeypatch.setattr(highlighter, "rehighlight", lambda: calls.append("all"))
    monkeypatch.setattr(highlighter, "rehighlightBlock", counting)
    text = w.session.document.text
    start = text.index("Paragraph 200 mentions Paris")
    w.view.select_range(start, start + len("Paragraph 200 mentions Paris"))
    driver.key(w.view, Qt.Key.Key_8)
    assert len(w.session.annotation.entities) == 1
    assert calls == [400]  # block 400 is paragraph 200 (blank lines between)
    block = w.view.document().findBlockByNumber(400)
    assert [(r.start, r.length) for r in block.layout().formats()] == [(0, 28)]


def test_overlapping_entities_stay_legible(qtbot, tmp_path, settings, driver, new_project) -> None:
    from annotator.core.scheme import default_scheme
    from annotator.store.project import Project

    text = "The Port Alder Business Alliance met."
    location = tmp_path / "o"
    with Project.open(location, scheme=default_scheme().model_copy(update={"allow_overlap": True})):
        pass
    project = new_project(location, {"o": ("Overlap", text)})
    w = open_window(qtbot, project, settings, "o")
    driver.select_text(w.view, "Port Alder Business Alliance")
    driver.key(w.view, Qt.Key.Key_2)
    driver.select_text(w.view, "Port Alder")
    driver.key(w.view, Qt.Key.Key_3)
    assert sorted(e.label for e in w.session.annotation.entities) == ["GPE", "ORG"]
    block = w.view.document().firstBlock()
    looks = [(r.start, r.length, r.format.fontOverline()) for r in block.layout().formats()]
    # The overlap is marked (mixed colour and a line over it); the rest has the outer colour.
    assert looks == [(4, 10, True), (14, 18, False)]
    # A click on the overlap selects the inner (shorter) entity.
    driver.click_text(w.view, "Alder")
    inner = next(e for e in w.session.annotation.entities if e.label == "GPE")
    assert w.selected == ("entity", inner.id)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_calls_do_not_drop_references_to_none() -> None:
    """PySide6 6.12.0 dropped a reference to None on every void call and crashed Python 3.11."""
    before = sys.getrefcount(None)
    obj = QObject()
    for _ in range(3000):
        obj.setObjectName("x")
    assert sys.getrefcount(None) >= before - 50


@pytest.mark.parametrize(
    "text",
    [
        "",
        "one line",
        "a\nb\n\nc\n",
        "a\r\nb\r\rc\r\r\nd",
        "x\u2029y\ufdd0z\ufdd1w\u2028v",
        UNICODE,
    ],
)
def test_blocks_are_found_where_qt_makes_them(qtbot, text: str) -> None:
    from PySide6.QtGui import QTextDocument

    from annotator.gui.article_view import block_bounds
    from annotator.gui.textpos import TextPositions

    tp = TextPositions(text)
    doc = QTextDocument()
    doc.setPlainText(tp.display_text())
    starts, ends = block_bounds(text)
    assert len(starts) == len(ends) == doc.blockCount()
    block = doc.firstBlock()
    for start, end in zip(starts, ends, strict=True):
        assert tp.to_qt(start) == block.position()
        assert tp.to_qt(end) == block.position() + block.length() - 1
        block = block.next()
