"""Starting the desktop app: the one place that wires the project, the settings and the window.

Nothing here imports spaCy: the window shows first, and tokenizing (when an article has no stored
tokens) or seeding the sample articles happens in a worker afterwards.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from annotator.core.errors import AnnotatorError
from annotator.gui.dialogs import ask_annotator_name, default_name
from annotator.gui.main_window import MainWindow
from annotator.gui.theme import apply_theme, theme_for, ui_font
from annotator.store.project import Project

ORGANISATION = "annotator"
APPLICATION = "annotator"
NAME_KEY = "annotator/name"
# Developer switches, not advertised: ANNOTATOR_DEMO=1 fills the first sample article with a few
# entities, stances and suggestions (for screenshots); ANNOTATOR_THEME=light|dark overrides the
# remembered theme.
DEMO_ENV = "ANNOTATOR_DEMO"
THEME_ENV = "ANNOTATOR_THEME"

AskName = Callable[[str], str | None]


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("annotator")
    return app


def default_settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def annotator_name(settings: QSettings, given: str | None, ask: AskName) -> str | None:
    """The name given on the command line, else the remembered one, else asked for (and kept)."""
    if given:
        return given
    remembered = settings.value(NAME_KEY)
    if remembered:
        return str(remembered)
    name = ask(default_name())
    if name:
        settings.setValue(NAME_KEY, name)
        settings.sync()
    return name


def start(
    location: str,
    seed: bool,
    annotator: str | None,
    *,
    settings: QSettings | None = None,
    ask_name: AskName = ask_annotator_name,
) -> MainWindow | None:
    """Open the project and show the window; None when the user declines to give a name or the
    project cannot be opened (the reason has been shown)."""
    app = application()
    # What the imports made lives as long as the program: keep the garbage collector from walking
    # it again and again while an article's thousands of spans are loaded.
    gc.freeze()
    settings = settings if settings is not None else default_settings()
    theme = theme_for(os.environ.get(THEME_ENV) or str(settings.value("view/theme", "light")))
    font = ui_font()
    if font is not None:
        app.setFont(font)
    apply_theme(app, theme)
    demo = os.environ.get(DEMO_ENV) == "1"
    name = annotator_name(settings, annotator or ("demo" if demo else None), ask_name)
    if not name:
        return None
    try:
        project = Project.open(location)
    except AnnotatorError as exc:
        QMessageBox.critical(None, "Cannot open the project", str(exc))
        return None
    if demo:
        from annotator.gui.demo import seed_demo

        seed_demo(project, name)
    window = MainWindow(project, name, settings, theme=theme.name)
    window.show()
    if demo and window.session is not None and window.session.annotation.stances:
        stances = window.session.annotation.stances
        shown = next((s for s in stances if s.target.kind == "entity"), stances[0])
        window.select(("stance", shown.id))
    if seed and project.document_count() == 0 and not project.get_setting("seeded"):
        QTimer.singleShot(0, window.seed_samples)
    return window


def run(location: str, seed: bool, annotator: str | None) -> int:
    """The desktop app, until its window closes; the exit status."""
    app = application()
    window = start(location, seed, annotator)
    if window is None:
        return 1
    try:
        return app.exec()
    finally:
        window.project.close()
