"""The workbench as an annotator uses it: entities, stances, undo, saving, navigation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from annotator.core.model import AUTHOR, EntityRef, Status, TopicRef
from annotator.gui.main_window import SAVED, MainWindow
from annotator.store.project import Project

pytestmark = pytest.mark.timeout(60)

KEY = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier


def highlights(view):  # type: ignore[no-untyped-def]
    """(qt start, qt end, background colour name) of every highlight format in the document."""
    found = []
    block = view.document().firstBlock()
    while block.isValid():
        for r in block.layout().formats():
            bg = r.format.background()
            colour = bg.color().name() if bg.style() != Qt.BrushStyle.NoBrush else None
            found.append((block.position() + r.start, block.position() + r.start + r.length, colour))
        block = block.next()
    return found


def stored(project: Project, doc_id: str = "a1"):  # type: ignore[no-untyped-def]
    """The annotation as a fresh connection reads it from the file."""
    with Project.open(project.file) as other:
        return other.annotation(doc_id, "tester")


def test_entity_created_relabelled_and_deleted_with_mouse_and_keys(window, driver, project) -> None:
    view = window.view
    text = window.session.document.text
    driver.select_text(view, "Paris")
    assert view.selected_range() == (text.index("Paris"), text.index("Paris") + 5)
    driver.key(view, KEY.Key_3)  # GPE
    ann = window.session.annotation
    assert [(e.start, e.end, e.label) for e in ann.entities] == [(22, 27, "GPE")]
    qs, qe = driver.qt_range(view, "Paris")
    gpe = window.theme.highlight(project.scheme.label("GPE").colour).name()
    assert (qs, qe, gpe) in highlights(view)
    assert window.status_saved.text() == SAVED
    assert [(e.start, e.end, e.label) for e in stored(project).entities] == [(22, 27, "GPE")]

    driver.click_text(view, "Paris")
    assert window.selected == ("entity", ann.entities[0].id)
    driver.key(view, KEY.Key_7)  # LOC relabels the selected entity
    assert ann.entities[0].label == "LOC"
    loc = window.theme.highlight(project.scheme.label("LOC").colour).name()
    assert (qs, qe, loc) in highlights(view)
    assert stored(project).entities[0].label == "LOC"

    driver.key(view, KEY.Key_Delete)
    assert ann.entities == []
    assert highlights(view) == []
    assert window.selected is None
    assert stored(project).entities == []


def test_double_click_and_label_button(window, driver, qtbot) -> None:
    from PySide6.QtTest import QTest

    view = window.view
    qs, _ = driver.qt_range(view, "Angela")
    point = driver.point(view, qs + 2)
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert view.selected_range() == (0, 6)
    qtbot.mouseClick(window.label_bar.buttons["PERSON"], Qt.MouseButton.LeftButton)
    assert [(e.start, e.end, e.label) for e in window.session.annotation.entities] == [(0, 6, "PERSON")]


def test_selection_snaps_to_the_whole_token(window, driver) -> None:
    view = window.view
    text = window.session.document.text
    start = text.index("Tokyo")
    view.select_range(start + 2, start + 4)  # "ky"
    driver.key(view, KEY.Key_3)
    entity = window.session.annotation.entities[0]
    assert (entity.start, entity.end) == (start, start + 5)
    assert text[entity.start : entity.end] == "Tokyo"


def test_snapping_can_be_turned_off(window, driver, settings) -> None:
    view = window.view
    text = window.session.document.text
    start = text.index("Tokyo")
    window.act_snap.setChecked(False)
    assert settings.value("edit/snap") in (False, "false")
    view.select_range(start + 2, start + 4)
    driver.key(view, KEY.Key_3)
    entity = window.session.annotation.entities[0]
    assert text[entity.start : entity.end] == "ky"


def test_whitespace_only_snapping_before_tokens_are_known(window, driver) -> None:
    window.tokens = None  # as while a worker is still tokenizing
    view = window.view
    text = window.session.document.text
    start = text.index(" Paris ")
    view.select_range(start, start + 7)
    driver.key(view, KEY.Key_3)
    entity = window.session.annotation.entities[0]
    assert text[entity.start : entity.end] == "Paris"


def test_overlap_refused_by_the_scheme_is_a_message(window, driver) -> None:
    view = window.view
    driver.select_text(view, "Angela Merkel")
    driver.key(view, KEY.Key_1)
    driver.select_text(view, "Merkel visited")
    driver.key(view, KEY.Key_2)
    ann = window.session.annotation
    assert [e.label for e in ann.entities] == ["PERSON"]
    assert "overlaps" in window.statusBar().currentMessage()
    assert len(view.entities) == 1


def add_entity(window, driver, needle: str, key) -> str:  # type: ignore[no-untyped-def]
    driver.select_text(window.view, needle)
    driver.key(window.view, key)
    text = window.session.document.text
    for e in window.session.annotation.entities:
        if text[e.start : e.end] == needle:
            return e.id
    raise AssertionError(needle)


def test_stance_with_holder_and_target_from_the_panel(window, driver, project) -> None:
    view, panel = window.view, window.panel
    merkel = add_entity(window, driver, "Angela Merkel", KEY.Key_1)
    paris = add_entity(window, driver, "Paris", KEY.Key_3)
    driver.select_text(view, "visited Paris")
    driver.key(view, KEY.Key_F)
    ann = window.session.annotation
    assert len(ann.stances) == 1
    stance = ann.stances[0]
    assert stance.polarity == "FAVOR"
    assert window.selected == ("stance", stance.id)
    assert not panel.editor.isHidden()

    combo = panel.holder_combo
    combo.ensure_filled()  # as when it opens
    index = combo.findData(f"entity:{merkel}")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert ann.stances[0].holder == EntityRef(entity_id=merkel)

    combo = panel.target_combo
    combo.ensure_filled()
    index = combo.findData(f"entity:{paris}")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert ann.stances[0].target == EntityRef(entity_id=paris)

    combo.setEditText("city diplomacy")
    combo.lineEdit().returnPressed.emit()
    assert ann.stances[0].target == TopicRef(topic="city diplomacy")

    combo = panel.holder_combo
    combo.ensure_filled()  # as when it opens
    index = combo.findData("author")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert ann.stances[0].holder == AUTHOR

    # Pressing another polarity key with the stance selected changes its polarity.
    driver.key(view, KEY.Key_A)
    assert ann.stances[0].polarity == "AGAINST"
    saved = stored(project).stances[0]
    assert (saved.polarity, saved.holder, saved.target) == (
        "AGAINST",
        AUTHOR,
        TopicRef(topic="city diplomacy"),
    )

    # The article as a whole: the topic is offered with a polarity.
    doc_combo = panel.doc_combo("topic:city diplomacy")
    assert doc_combo is not None
    doc_combo.setCurrentText("NEUTRAL")
    doc_combo.activated.emit(doc_combo.currentIndex())
    assert [(d.key, d.polarity) for d in ann.doc_stances] == [("topic:city diplomacy", "NEUTRAL")]
    panel.doc_target_combo.setEditText("tourism")
    panel.doc_polarity_combo.setCurrentText("FAVOR")
    panel.doc_add.click()
    assert ("topic:tourism", "FAVOR") in [(d.key, d.polarity) for d in ann.doc_stances]
    assert {d.key for d in stored(project).doc_stances} == {"topic:city diplomacy", "topic:tourism"}


def test_stance_holder_and_target_by_picking_in_the_text(window, driver) -> None:
    view = window.view
    merkel = add_entity(window, driver, "Angela Merkel", KEY.Key_1)
    paris = add_entity(window, driver, "Paris", KEY.Key_3)
    driver.select_text(view, "visited Paris and Tokyo")
    driver.key(view, KEY.Key_N)
    stance = window.session.annotation.stances[0]

    driver.key(view, KEY.Key_H, CTRL)
    assert window.pick == "holder"
    driver.click_text(view, "and")  # not an entity: still picking
    assert window.pick == "holder"
    driver.click_text(view, "Merkel")
    assert window.pick is None
    assert window.session.annotation.stance(stance.id).holder == EntityRef(entity_id=merkel)
    assert window.selected == ("stance", stance.id)

    window.panel.pick_target.click()
    assert window.pick == "target"
    driver.key(view, KEY.Key_Escape)
    assert window.pick is None
    assert window.session.annotation.stance(stance.id).target.kind == "unknown"

    driver.key(view, KEY.Key_T, CTRL)
    driver.click_text(view, "Paris")
    assert window.session.annotation.stance(stance.id).target == EntityRef(entity_id=paris)
    # The selected stance shows its holder and target in the text.
    tags = {o.tag: (o.start, o.end) for o in view._outlines if o.tag}
    text = window.session.document.text
    assert tags == {
        "holder": (text.index("Angela Merkel"), text.index("Angela Merkel") + 13),
        "target": (text.index("Paris"), text.index("Paris") + 5),
    }
    # Words under both an entity and a stance carry the background and the stance's underline.
    qs, _ = driver.qt_range(view, "Paris")
    block = view.document().findBlock(qs)
    looks = [
        (r.format.fontUnderline() or r.format.underlineStyle().value != 0, r.format.background().style())
        for r in block.layout().formats()
        if block.position() + r.start == qs
    ]
    assert looks == [(True, Qt.BrushStyle.SolidPattern)]


def test_clicking_a_stance_selects_it_and_delete_removes_it(window, driver) -> None:
    view = window.view
    driver.select_text(view, "She met")
    driver.key(view, KEY.Key_F)
    window.select(None)
    driver.click_text(view, "met")
    stance = window.session.annotation.stances[0]
    assert window.selected == ("stance", stance.id)
    driver.key(view, KEY.Key_Delete)
    assert window.session.annotation.stances == []
    assert len(view.stances) == 0


def test_undo_and_redo_every_edit(window, driver, project) -> None:
    view = window.view
    ann = window.session.annotation
    paris = add_entity(window, driver, "Paris", KEY.Key_3)
    driver.click_text(view, "Paris")
    driver.key(view, KEY.Key_7)
    driver.key(view, KEY.Key_Delete)
    assert ann.entities == []

    driver.key(view, KEY.Key_Z, CTRL)
    assert [(e.id, e.label) for e in ann.entities] == [(paris, "LOC")]
    assert view.entities.get(paris) is not None
    driver.key(view, KEY.Key_Z, CTRL)
    assert ann.entities[0].label == "GPE"
    assert view.labels[paris] == "GPE"
    driver.key(view, KEY.Key_Z, CTRL)
    assert ann.entities == []
    assert len(view.entities) == 0 and highlights(view) == []
    assert ann.status == Status.NOT_STARTED
    assert not window.act_undo.isEnabled()

    driver.key(view, KEY.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert [(e.id, e.label) for e in ann.entities] == [(paris, "GPE")]
    driver.key(view, KEY.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert ann.entities[0].label == "LOC"
    assert [(e.id, e.label) for e in stored(project).entities] == [(paris, "LOC")]
    assert window.panel.entity_model.rowCount() == 1


def test_everything_is_there_after_closing_and_reopening(qtbot, window, driver, project, settings) -> None:
    view = window.view
    merkel = add_entity(window, driver, "Angela Merkel", KEY.Key_1)
    driver.select_text(view, "visited Paris")
    driver.key(view, KEY.Key_A)
    driver.key(view, KEY.Key_H, CTRL)
    driver.click_text(view, "Merkel")
    driver.key(view, KEY.Key_Return, CTRL)  # done, next: now on a2
    assert window.current_id() == "a2"
    add_entity(window, driver, "Derek Hollins", KEY.Key_1)
    window.close()
    file = project.file
    project.close()

    with Project.open(file) as again:
        second = MainWindow(again, "tester", settings)
        qtbot.addWidget(second)
        second.show()
        assert second.current_id() == "a2"  # where the annotator left off
        assert [e.label for e in second.session.annotation.entities] == ["PERSON"]
        assert len(second.view.entities) == 1
        second.open_document("a1")
        ann = second.session.annotation
        assert ann.status == Status.DONE
        assert [e.id for e in ann.entities] == [merkel]
        assert ann.stances[0].holder == EntityRef(entity_id=merkel)
        assert second.panel.stance_model.rowCount() == 1
        assert len(second.view.stances) == 1
        assert second.doc_list.progress_text.text() == "1 of 3 done"
        second.close()


def test_navigation_done_next_skip_and_back(window, driver, project) -> None:
    view = window.view
    assert window.current_id() == "a1"
    assert window.status_position.text() == "Article 1 of 3"
    driver.key(view, KEY.Key_Return, CTRL)
    assert window.current_id() == "a2"
    assert window.doc_list.progress_text.text() == "1 of 3 done"
    assert window.doc_list.model.summary("a1").status == Status.DONE
    driver.key(view, KEY.Key_Return, CTRL | Qt.KeyboardModifier.ShiftModifier)  # skip, next
    assert window.current_id() == "a3"
    assert window.doc_list.model.summary("a2").status == Status.SKIPPED
    driver.key(view, KEY.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.current_id() == "a2"
    driver.key(view, KEY.Key_Right, Qt.KeyboardModifier.AltModifier)
    driver.key(view, KEY.Key_Right, Qt.KeyboardModifier.AltModifier)  # already the last one
    assert window.current_id() == "a3"
    assert project.get_setting("last_document:tester") == "a3"
    statuses = {s.id: s.status for s in project.summaries("tester")}
    assert statuses == {"a1": Status.DONE, "a2": Status.SKIPPED, "a3": Status.NOT_STARTED}
    # Undo still works on an article visited earlier.
    window.open_document("a1")
    driver.key(view, KEY.Key_Z, CTRL)
    assert window.doc_list.model.summary("a1").status == Status.NOT_STARTED


def test_reopens_where_the_annotator_left_off(qtbot, project, settings) -> None:
    project.set_setting("last_document:tester", "a3")
    w = MainWindow(project, "tester", settings)
    qtbot.addWidget(w)
    assert w.current_id() == "a3"
    other = MainWindow(project, "someone-else", settings)
    qtbot.addWidget(other)
    assert other.current_id() == "a1"


def test_filter_and_list_click(window, qtbot) -> None:
    docs = window.doc_list
    docs.filter.setText("harbour")
    assert docs.proxy.rowCount() == 1
    index = docs.proxy.index(0, 0)
    rect = docs.view.visualRect(index)
    qtbot.mouseClick(docs.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_id() == "a2"
    docs.filter.setText("not started")
    assert docs.proxy.rowCount() == 3


def test_tab_moves_between_highlights(window, driver) -> None:
    view = window.view
    first = add_entity(window, driver, "Angela Merkel", KEY.Key_1)
    second = add_entity(window, driver, "Paris", KEY.Key_3)
    window.select(None)
    view.clear_selection(at=0)
    driver.key(view, KEY.Key_Tab)
    assert window.selected == ("entity", first)
    driver.key(view, KEY.Key_Tab)
    assert window.selected == ("entity", second)
    driver.key(view, KEY.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert window.selected == ("entity", first)


def test_keyboard_selection_and_keys_typed_in_the_filter(window, driver) -> None:
    view = window.view
    view.clear_selection(at=0)
    for _ in range(6):
        driver.key(view, KEY.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_range() == (0, 6)
    driver.key(view, KEY.Key_1)
    assert [(e.start, e.end) for e in window.session.annotation.entities] == [(0, 6)]

    driver.key(view, KEY.Key_F, CTRL)
    assert window.doc_list.filter.hasFocus()
    from PySide6.QtTest import QTest

    QTest.keyClicks(window.doc_list.filter, "a 1")
    assert window.doc_list.filter.text() == "a 1"
    assert len(window.session.annotation.entities) == 1
    assert window.session.annotation.stances == []


def test_articles_without_stored_tokens_are_tokenized_in_a_worker(
    qtbot, tmp_path, settings, show_window
) -> None:
    from annotator.core.model import Document
    from annotator.formats.base import Record

    with Project.open(tmp_path / "raw") as project:
        project.import_records([Record(document=Document(id="r", text="Visit Tokyo and Kyoto."))])
        assert project.tokens("r") is None
        window = MainWindow(project, "tester", settings)
        started = [j.name for j in window.jobs]
        assert started == ["tokens:r"]
        show_window(window)
        qtbot.waitUntil(lambda: window.tokens is not None, timeout=30_000)
        text = window.session.document.text
        start = text.index("Tokyo")
        window.view.select_range(start + 1, start + 3)
        window.label_key("GPE")
        entity = window.session.annotation.entities[0]
        assert text[entity.start : entity.end] == "Tokyo"
        window.close()
