"""Starting the app, settings, view options, errors, and the document list model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from annotator.core.edits import AddEntity
from annotator.core.errors import ConflictError
from annotator.core.model import EntitySpan, Status
from annotator.gui import app
from annotator.gui.document_list import DocumentFilter, DocumentListModel
from annotator.store.project import DocumentSummary, Project

pytestmark = pytest.mark.timeout(60)


def test_first_start_asks_for_the_name_once_and_remembers_it(qtbot, project, tmp_path: Path) -> None:
    asked = []

    def ask(default: str) -> str:
        asked.append(default)
        return "maria"

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = app.start(str(project.file), False, None, settings=settings, ask_name=ask)
    assert window is not None
    qtbot.addWidget(window)
    assert window.annotator == "maria"
    assert window.status_annotator.text() == "Annotator: maria"
    assert len(asked) == 1
    window.close()
    window.project.close()

    again = app.start(str(project.file), False, None, settings=settings, ask_name=ask)
    qtbot.addWidget(again)
    assert again.annotator == "maria" and len(asked) == 1
    again.close()
    again.project.close()
    # A name given on the command line wins, without being remembered.
    other = app.start(str(project.file), False, "guest", settings=settings, ask_name=ask)
    qtbot.addWidget(other)
    assert other.annotator == "guest"
    assert settings.value(app.NAME_KEY) == "maria"
    other.close()
    other.project.close()


def test_declining_to_give_a_name_opens_nothing(project, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert app.start(str(project.file), False, None, settings=settings, ask_name=lambda d: None) is None


def test_the_default_name_is_the_login_name(monkeypatch) -> None:
    import getpass

    from annotator.gui import dialogs

    monkeypatch.setattr(getpass, "getuser", lambda: "jdoe")
    assert dialogs.default_name() == "jdoe"


def test_settings_default_to_the_annotator_organisation(qtbot) -> None:
    app.application()
    settings = app.default_settings()
    assert settings.organizationName() == "annotator"


def test_a_project_that_cannot_open_is_a_message(tmp_path: Path, monkeypatch) -> None:
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    junk = tmp_path / "junk.annotator"
    junk.write_bytes(b"this is not a database" * 100)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert app.start(str(junk), False, "x", settings=settings) is None
    assert shown and "junk.annotator" in shown[0]


def test_the_window_shows_before_spacy_is_imported(project) -> None:
    """Tokens are stored at import: starting the app must not load spaCy (0.6-0.9 s)."""
    code = textwrap.dedent(
        f"""
        import sys
        from PySide6.QtCore import QSettings
        from annotator.gui import app
        settings = QSettings({str(project.file.parent / "s.ini")!r}, QSettings.Format.IniFormat)
        window = app.start({str(project.file)!r}, False, "tester", settings=settings)
        app.application().processEvents()
        assert window.isVisible() and window.session is not None
        print("spacy" in sys.modules)
        window.close()
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_theme_zoom_and_snapping_are_remembered(window, settings, driver) -> None:
    window.act_dark.trigger()
    assert settings.value("view/theme") == "dark"
    assert window.view.theme.dark
    size = window.view.font().pointSizeF()
    driver.key(window.view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.font().pointSizeF() == size + 1
    assert int(settings.value("view/zoom")) == 1
    driver.key(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    driver.key(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.font().pointSizeF() == size - 1
    window.act_dark.trigger()
    assert settings.value("view/theme") == "light"


def test_the_shortcut_sheet_lists_every_shortcut(window, driver) -> None:
    driver.key(window.view, Qt.Key.Key_F1)
    sheet = window.dialogs["shortcuts"]
    assert sheet.isVisible()
    rows = dict(sheet.rows())
    assert rows["Done, next"].startswith("Ctrl+Return")
    assert rows["Undo"] == "Ctrl+Z"
    assert rows["Entity: PERSON"] == "1"
    assert rows["Stance: AGAINST"] == "A"
    for action in window.actions():
        if action.shortcuts():
            assert action.text().replace("&", "") in rows, action.text()
    sheet.close()
    # The label bar shows each label's and polarity's key on its button.
    bar = window.label_bar
    assert [(b.name, b.key) for b in bar.buttons.values()][:2] == [("PERSON", "1"), ("ORG", "2")]
    assert bar.polarity_buttons["FAVOR"].key == "f"


def test_a_conflict_is_shown_and_the_view_stays_consistent(window, driver, project) -> None:
    # Another window saves to the same annotation first.
    with Project.open(project.file) as other:
        session = other.open_session("a1", "tester")
        session.apply(AddEntity(entity=EntitySpan(start=0, end=6, label="PERSON")))
    driver.select_text(window.view, "Paris")
    driver.key(window.view, Qt.Key.Key_3)
    box = window.dialogs["error"]
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "another window" in box.text()
    assert window.session.annotation.entities == []
    assert len(window.view.entities) == 0
    assert window.panel.entity_model.rowCount() == 0
    box.close()
    window.reload()
    assert [e.label for e in window.session.annotation.entities] == ["PERSON"]
    assert len(window.view.entities) == 1


def test_a_failed_save_is_taken_back(window, driver, monkeypatch) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConflictError("someone else saved first")

    monkeypatch.setattr(window.project, "persist", broken)
    driver.select_text(window.view, "Paris")
    driver.key(window.view, Qt.Key.Key_3)
    assert window.session.annotation.entities == []
    assert len(window.view.entities) == 0
    window.dialogs["error"].close()


def summaries() -> list[DocumentSummary]:
    return [
        DocumentSummary("d1", 1, "Council backs tram", Status.DONE),
        DocumentSummary("d2", 2, None, Status.NOT_STARTED),
        DocumentSummary("d3", 3, "Coal plant to close", Status.IN_PROGRESS),
    ]


def test_document_list_model(qtmodeltester) -> None:
    model = DocumentListModel(summaries())
    qtmodeltester.check(model)
    assert model.data(model.index(1)) == "d2"
    model.set_status("d2", Status.SKIPPED)
    qtmodeltester.check(model)
    proxy = DocumentFilter()
    proxy.setSourceModel(model)
    proxy.set_text("coal")
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1
    proxy.set_text("skipped")
    assert proxy.index(0, 0).data() == "d2"
    model.reset(summaries()[:1])
    qtmodeltester.check(proxy)


def test_entity_and_stance_list_models(window, driver, qtmodeltester) -> None:
    driver.select_text(window.view, "Angela Merkel")
    driver.key(window.view, Qt.Key.Key_1)
    driver.select_text(window.view, "visited Paris")
    driver.key(window.view, Qt.Key.Key_F)
    qtmodeltester.check(window.panel.entity_model)
    qtmodeltester.check(window.panel.stance_model)
    assert window.panel.entity_model.index(0).data() == "Angela Merkel"
    assert window.panel.stance_model.index(0).data() == "unknown → unknown"
