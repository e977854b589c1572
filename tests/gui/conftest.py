"""GUI tests run without a display."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest

ARTICLES = {
    "a1": ("Merkel in Tokyo", "Angela Merkel visited Paris and Tokyo. She met Fumio Kishida there."),
    "a2": ("Harbour vote", "Port Alder council backs the tram line. Derek Hollins opposes it."),
    "a3": ("Plain <b>tags</b>", "An article with <b>bold</b> & <i>tags</i> that stay text."),
}


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the real user's settings."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, folder)
    yield


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_project(location: Path, articles: dict[str, tuple[str, str]] | None = None):  # type: ignore[no-untyped-def]
    from annotator.core.model import Document, DocumentMeta
    from annotator.core.scheme import default_scheme
    from annotator.formats.base import Record
    from annotator.nlp.tokens import tokenize
    from annotator.store.project import Project

    project = Project.open(location, scheme=default_scheme())
    records = [
        Record(document=Document(id=doc_id, text=text, meta=DocumentMeta(title=title, author="A. Writer")))
        for doc_id, (title, text) in (articles or ARTICLES).items()
    ]
    project.import_records(records, tokenizer=lambda text: tokenize(text, "en"))
    return project


@pytest.fixture
def new_project():  # type: ignore[no-untyped-def]
    """Makes more projects: new_project(location, {id: (title, text)})."""
    made = []

    def make(location: Path, articles: dict[str, tuple[str, str]] | None = None):  # type: ignore[no-untyped-def]
        p = make_project(location, articles)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = make_project(tmp_path / "p")
    yield p
    p.close()


@pytest.fixture
def window(qtbot, project, settings):  # type: ignore[no-untyped-def]
    from annotator.gui.main_window import MainWindow

    w = MainWindow(project, "tester", settings)
    show(qtbot, w)
    yield w
    w.close()


def show(qtbot, w):  # type: ignore[no-untyped-def]
    """Show a window and wait until it is the active one, so that its shortcuts work."""
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.view.setFocus()
    return w


@pytest.fixture
def show_window(qtbot):  # type: ignore[no-untyped-def]
    return lambda w: show(qtbot, w)


class Driver:
    """Drives the article view the way a user does: mouse drags and clicks, key presses."""

    def __init__(self, qtbot) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot

    @staticmethod
    def qt_range(view, needle: str, occurrence: int = 1) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        """Where Qt itself finds `needle` in the shown text (independent of TextPositions)."""
        from PySide6.QtGui import QTextDocument

        cursor = None
        doc = view.document()
        for _ in range(occurrence):
            cursor = doc.find(needle, cursor or 0, QTextDocument.FindFlag.FindCaseSensitively)
            assert not cursor.isNull(), needle
        return cursor.selectionStart(), cursor.selectionEnd()

    @staticmethod
    def point(view, qt_pos: int):  # type: ignore[no-untyped-def]
        from PySide6.QtGui import QTextCursor

        cursor = QTextCursor(view.document())
        cursor.setPosition(qt_pos)
        rect = view.cursorRect(cursor)
        return rect.center()

    def drag(self, view, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        vp = view.viewport()
        a, b = self.point(view, start), self.point(view, end)
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
        QTest.mouseMove(vp, b)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)

    def select_text(self, view, needle: str, occurrence: int = 1) -> None:  # type: ignore[no-untyped-def]
        self.drag(view, *self.qt_range(view, needle, occurrence))

    def click_text(self, view, needle: str, occurrence: int = 1) -> None:  # type: ignore[no-untyped-def]
        """A click in the middle of `needle` (which must sit on one line)."""
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        start, end = self.qt_range(view, needle, occurrence)
        a, b = self.point(view, start), self.point(view, end)
        QTest.mouseClick(
            view.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint((a.x() + b.x()) // 2, a.y()),
        )

    def key(self, widget, key, modifier=None) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(widget, key, modifier or Qt.KeyboardModifier.NoModifier)


@pytest.fixture
def driver(qtbot) -> Driver:  # type: ignore[no-untyped-def]
    return Driver(qtbot)
