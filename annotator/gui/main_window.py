"""The workbench window: document list, article, label bar, annotation panel, menus and status bar.

Gestures become edits, applied through the session (`apply`), which saves each one before it
returns; the `Changes` it returns are handed to the views, which redraw only what they name.

Suggestions are not annotations: accepting one is an `AddEntity` edit like any other, rejecting one
is saved by the suggestions store. Undo takes back the latest action of either kind (`UndoLog`).
Suggesting and training run in workers; the GUI thread never loads a model.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QCloseEvent, QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QProgressDialog,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from annotator.core.edits import (
    AddEntity,
    AddStance,
    Changes,
    Edit,
    RelabelEntity,
    RemoveEntity,
    RemoveStance,
    SetDocumentStance,
    SetStanceHolder,
    SetStancePolarity,
    SetStanceTarget,
    SetStatus,
)
from annotator.core.errors import AnnotatorError, ConflictError, RuleError
from annotator.core.model import Annotation, EntityRef, EntitySpan, Stance, Status, Token, target_key
from annotator.core.session import AnnotationSession
from annotator.gui.annotation_panel import AnnotationPanel, excerpt
from annotator.gui.article_view import ArticleView, Outline, no_gc
from annotator.gui.dialogs import (
    ExportDialog,
    ImportReportDialog,
    ShortcutSheet,
    SuggestDialog,
    TrainResultDialog,
    show_message,
)
from annotator.gui.document_list import DocumentList
from annotator.gui.label_bar import LabelBar
from annotator.gui.suggestions import CORE, RejectStep, SuggestionSet, UndoLog, suggestion_id
from annotator.gui.theme import DARK, LIGHT, Theme, apply_theme, theme_for
from annotator.gui.workers import (
    LOADING,
    Job,
    export_work,
    import_work,
    seed_work,
    suggest_sources_work,
    suggest_work,
    suggestions_work,
    tokens_work,
    train_work,
)
from annotator.nlp.suggest import accept_all_edit, accept_edit
from annotator.nlp.tokens import snap
from annotator.store.project import ImportReport, Project
from annotator.store.suggestions import reject, suggestions_for, unreject

SESSION_CACHE = 12  # articles whose undo history (and tokens) are kept while moving around the list
# Longer articles have their tokens read in a worker: decoding the tokens of a 2 MB article takes
# most of a second.
LOAD_TOKENS_HERE = 200_000
SAVED = "All changes saved"


def project_location(project: Project) -> str:
    """Where a worker opens its own connection to the same project."""
    if project.file is not None:
        return str(project.file)
    return project.engine.url.render_as_string(hide_password=False)


def format_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        d = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {d.strftime('%B %Y')}"


class MainWindow(QMainWindow):
    def __init__(
        self,
        project: Project,
        annotator: str,
        settings: QSettings,
        *,
        theme: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.project = project
        self.annotator = annotator
        self.settings = settings
        self.scheme = project.scheme
        self.theme: Theme = theme_for(theme or str(settings.value("view/theme", LIGHT)))
        self.session: AnnotationSession | None = None
        self.tokens: list[Token] | None = None
        self._sessions: OrderedDict[str, AnnotationSession] = OrderedDict()
        self._tokens: dict[str, list[Token]] = {}
        # Kept with each cached session: the article's suggestions and the order of its actions.
        self._suggestion_sets: dict[str, SuggestionSet] = {}
        self._logs: dict[str, UndoLog] = {}
        self.suggestions = SuggestionSet()
        self.log = UndoLog()
        self.train_epochs: int | None = None  # None: the trainer's own default
        self.selected: tuple[str, str] | None = None  # ("entity" | "stance" | "suggestion", id)
        self.pick: str | None = None  # "holder" | "target" while picking in the text
        self.jobs: list[Job] = []
        self.progress_dialog: QProgressDialog | None = None
        self.dialogs: dict[str, QWidget] = {}
        self.setWindowTitle("annotator")

        self.doc_list = DocumentList(project.summaries(annotator), self.theme, self)
        self.view = ArticleView(self.scheme, self.theme, self)
        self.label_bar = LabelBar(self.scheme, self.theme, self)
        self.panel = AnnotationPanel(self.view.label_colour, self.view.polarity_colour, self.theme, self)
        self._build_layout()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._restore_settings()
        self._open_first()

    # -- building ------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        pane = QWidget(self)
        pane.setObjectName("articlePane")
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(1, 1, 1, 1)
        pane_layout.setSpacing(0)
        header = QWidget(pane)
        header.setObjectName("header")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(24, 18, 24, 6)
        header_layout.setSpacing(4)
        self.title_label = QLabel(header)
        self.title_label.setObjectName("docTitle")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.55)
        font.setWeight(font.Weight.DemiBold)
        self.title_label.setFont(font)
        self.meta_label = QLabel(header)
        self.meta_label.setObjectName("docMeta")
        self.meta_label.setTextFormat(Qt.TextFormat.PlainText)
        header_layout.addWidget(self.title_label)
        header_layout.addWidget(self.meta_label)
        pane_layout.addWidget(header)
        pane_layout.addWidget(self.label_bar)
        line = QFrame(pane)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("rule")
        line.setFixedHeight(1)
        self._rule = line
        pane_layout.addWidget(line)
        pane_layout.addWidget(self.view, 1)

        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 8, 0, 8)
        centre_layout.addWidget(pane)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(8)
        self.splitter.addWidget(self.doc_list)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([250, 770, 360])
        self.setCentralWidget(self.splitter)
        self._style_rule()

    def _style_rule(self) -> None:
        self._rule.setStyleSheet(f"background: {self.theme.border}; border: none;")

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.status_annotator = QLabel(f"Annotator: {self.annotator}", self)
        self.status_saved = QLabel(SAVED, self)
        self.status_saved.setObjectName("savedState")
        self.status_position = QLabel("", self)
        for w in (self.status_annotator, self.status_saved, self.status_position):
            bar.addPermanentWidget(w)

    def _action(
        self, text: str, slot: Any, keys: str | list[str] | None = None, *, checkable: bool = False
    ) -> QAction:
        """A window-wide action (its keys work wherever the focus is in the window)."""
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys or [])])
        if checkable:
            action.setCheckable(True)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_import_files = a("&Import files…", self.import_files, "Ctrl+I")
        self.act_import_folder = a("Import &folder…", self.import_folder, "Ctrl+Shift+I")
        self.act_export = a("&Export…", self.export, "Ctrl+E")
        self.act_quit = a("&Quit", self.close, "Ctrl+Q")
        self.act_undo = a("&Undo", self.undo, ["Ctrl+Z"])
        self.act_redo = a("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.act_delete = a("&Delete highlight", self.delete_selected, ["Delete", "Backspace"])
        self.act_snap = a("&Snap selections to words", self.set_snapping, None, checkable=True)
        self.act_pick_holder = a("Pick &holder in the text", lambda: self.start_pick("holder"), "Ctrl+H")
        self.act_pick_target = a("Pick &target in the text", lambda: self.start_pick("target"), "Ctrl+T")
        self.act_escape = a("Cancel / deselect", self.escape, "Esc")
        self.act_prev = a("&Previous article", lambda: self.go(-1), ["Alt+Left", "Ctrl+PgUp"])
        self.act_next = a("&Next article", lambda: self.go(1), ["Alt+Right", "Ctrl+PgDown"])
        self.act_done_next = a("&Done, next", self.done_next, ["Ctrl+Return", "Ctrl+Enter"])
        self.act_skip = a("&Skip, next", self.skip_next, ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"])
        self.act_reload = a("&Reload article", self.reload, "F5")
        self.act_suggest = a("Su&ggest entities…", self.suggest)
        self.act_learn = a("&Learn from my annotations", self.learn)
        self.act_accept_all = a("&Accept all suggestions", self.accept_all, "Ctrl+Shift+A")
        self.act_reject_all = a("Re&ject all suggestions", self.reject_all, "Ctrl+Shift+Backspace")
        self.act_filter = a("&Filter articles", self.focus_filter, "Ctrl+F")
        self.act_zoom_in = a("Zoom &in", lambda: self.zoom(1), ["Ctrl++", "Ctrl+="])
        self.act_zoom_out = a("Zoom &out", lambda: self.zoom(-1), ["Ctrl+-"])
        self.act_zoom_reset = a("&Actual size", lambda: self.zoom(None), "Ctrl+0")
        self.act_dark = a("&Dark theme", self.set_dark, "Ctrl+Shift+D", checkable=True)
        self.act_shortcuts = a("&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.act_about = a("&About annotator", self.show_about)
        # Shown in the shortcut sheet only: Tab is handled by the article itself.
        self.act_cycle = QAction("Next / previous highlight", self)
        self.act_cycle.setShortcuts([QKeySequence("Tab"), QKeySequence("Shift+Tab")])
        self.act_select_text = QAction("Select text (then a label or polarity key)", self)
        self.act_select_text.setShortcuts([QKeySequence("Shift+Right"), QKeySequence("Ctrl+Shift+Right")])
        # Also for the sheet: Enter is handled by the article and the suggestion list, Backspace and
        # Delete by "Delete highlight", which rejects a selected suggestion.
        self.act_accept_one = QAction("Accept the selected suggestion (a label's key: with that label)", self)
        self.act_accept_one.setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])
        self.act_reject_one = QAction("Reject the selected suggestion", self)
        self.act_reject_one.setShortcuts([QKeySequence("Backspace"), QKeySequence("Delete")])

        menus: list[tuple[str, list[QAction | None]]] = [  # None: a separator
            ("&File", [self.act_import_files, self.act_import_folder, self.act_export, None, self.act_quit]),
            (
                "&Edit",
                [
                    self.act_undo,
                    self.act_redo,
                    self.act_delete,
                    None,
                    self.act_pick_holder,
                    self.act_pick_target,
                    self.act_escape,
                    None,
                    self.act_snap,
                ],
            ),
            ("&Labels", []),
            (
                "&Article",
                [
                    self.act_prev,
                    self.act_next,
                    None,
                    self.act_done_next,
                    self.act_skip,
                    None,
                    self.act_suggest,
                    self.act_accept_all,
                    self.act_reject_all,
                    self.act_learn,
                    None,
                    self.act_filter,
                    self.act_reload,
                ],
            ),
            ("&View", [self.act_zoom_in, self.act_zoom_out, self.act_zoom_reset, None, self.act_dark]),
            ("&Help", [self.act_shortcuts, self.act_about]),
        ]
        self.menus: dict[str, list[QAction]] = {}
        for title, actions in menus:
            menu = self.menuBar().addMenu(title)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
            self.menus[title.replace("&", "")] = [act for act in actions if act is not None]
            if title == "&Labels":
                self.labels_menu = menu
        # The shortcut sheet also lists the keys the article handles itself.
        self.menus["Edit"] += [self.act_cycle, self.act_select_text]
        self.menus["Article"] += [self.act_accept_one, self.act_reject_one]
        self.label_actions: dict[str, QAction] = {}
        self.polarity_actions: dict[str, QAction] = {}
        self._build_label_actions()

    def _build_label_actions(self) -> None:
        for act in [*self.label_actions.values(), *self.polarity_actions.values()]:
            self.removeAction(act)
            act.deleteLater()
        self.labels_menu.clear()
        self.label_actions = {}
        self.polarity_actions = {}
        for label in self.scheme.labels:
            act = QAction(f"Entity: {label.name}", self)
            if label.shortcut:
                act.setShortcut(QKeySequence(label.shortcut))
            act.triggered.connect(lambda _=False, n=label.name: self.label_key(n))
            self.addAction(act)
            self.labels_menu.addAction(act)
            self.label_actions[label.name] = act
        self.labels_menu.addSeparator()
        for pol in self.scheme.polarities:
            act = QAction(f"Stance: {pol.name}", self)
            if pol.shortcut:
                act.setShortcut(QKeySequence(pol.shortcut))
            act.triggered.connect(lambda _=False, n=pol.name: self.polarity_key(n))
            self.addAction(act)
            self.labels_menu.addAction(act)
            self.polarity_actions[pol.name] = act

    def _connect(self) -> None:
        self.doc_list.documentChosen.connect(self.open_document)
        self.view.clicked.connect(self.text_clicked)
        self.view.cycleRequested.connect(self.cycle)
        self.view.acceptRequested.connect(self.accept_selected)
        self.label_bar.labelChosen.connect(self.label_key)
        self.label_bar.polarityChosen.connect(self.polarity_key)
        self.panel.entitySelected.connect(lambda i: self.select(("entity", i), reveal=True))
        self.panel.stanceSelected.connect(lambda i: self.select(("stance", i), reveal=True))
        self.panel.polarityChosen.connect(self._panel_polarity)
        self.panel.holderChosen.connect(self._panel_holder)
        self.panel.targetChosen.connect(self._panel_target)
        self.panel.pickRequested.connect(self.start_pick)
        self.panel.removeRequested.connect(self.delete_selected)
        self.panel.docStanceChosen.connect(self._panel_doc_stance)
        self.panel.suggestionSelected.connect(lambda i: self.select(("suggestion", i), reveal=True))
        self.panel.suggestionAccepted.connect(self.accept_suggestion)
        self.panel.acceptAllRequested.connect(self.accept_all)
        self.panel.rejectAllRequested.connect(self.reject_all)

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry()
            self.resize(min(1440, screen.width()), min(900, screen.height()))
        state = self.settings.value("window/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        self.view.set_zoom(int(self.settings.value("view/zoom", 0)))
        self.act_snap.setChecked(_bool(self.settings.value("edit/snap", True)))
        self.act_dark.blockSignals(True)
        self.act_dark.setChecked(self.theme.name == DARK)
        self.act_dark.blockSignals(False)

    def _open_first(self) -> None:
        ids = self.doc_list.model.ids()
        if not ids:
            self._show_empty()
            return
        last = self.project.get_setting(f"last_document:{self.annotator}")
        self.open_document(last if last in ids else ids[0])

    def _show_empty(self) -> None:
        self.title_label.setText("No articles yet")
        self.meta_label.setText("Import articles with File → Import files… (Ctrl+I) or Import folder…")
        self.view.show_document("", _empty_annotation(self.annotator))
        self.panel.set_session(None)
        self.suggestions = SuggestionSet()
        self.log = UndoLog()
        self.status_position.setText("No articles")

    # -- documents -----------------------------------------------------------------------------------
    def open_document(self, doc_id: str) -> None:
        self.end_pick()
        self.selected = None
        session = self._sessions.pop(doc_id, None)
        if session is None:
            session = self.project.open_session(doc_id, self.annotator)
        self._sessions[doc_id] = session
        while len(self._sessions) > SESSION_CACHE:
            dropped, _ = self._sessions.popitem(last=False)
            self._tokens.pop(dropped, None)
            self._suggestion_sets.pop(dropped, None)
            self._logs.pop(dropped, None)
        self.session = session
        doc = session.document
        meta = doc.meta
        self.title_label.setText(meta.title or doc.id)
        details = [
            f"By {meta.author}" if meta.author else None,
            format_date(meta.published),
            meta.source,
        ]
        self.meta_label.setText("  ·  ".join(d for d in details if d))
        self.meta_label.setVisible(any(details))
        self.setWindowTitle(f"{meta.title or doc.id} — annotator")
        self.tokens = self._tokens.get(doc_id)
        if self.tokens is None:
            if len(doc.text) <= LOAD_TOKENS_HERE:
                self.tokens = self.project.tokens(doc_id)
            if self.tokens is None:
                self._load_tokens(doc_id, doc.text)
            else:
                self._tokens[doc_id] = self.tokens
        self.view.show_document(doc.text, session.annotation)
        self.view.set_outlines([])
        self.panel.set_session(session)
        self.log = self._logs.setdefault(doc_id, UndoLog())
        suggestions = self._suggestion_sets.get(doc_id)
        if suggestions is None:
            suggestions = self._suggestion_sets[doc_id] = SuggestionSet((), session.annotation)
            if len(doc.text) <= LOAD_TOKENS_HERE:
                with no_gc():  # thousands of small objects at once (see article_view)
                    suggestions.reset(self._stored_suggestions(doc_id))
            else:  # a long article may have thousands: they are read meanwhile
                self._load_suggestions(doc_id)
        self._show_suggestions(suggestions)
        self.doc_list.set_current(doc_id)
        self.project.set_setting(f"last_document:{self.annotator}", doc_id)
        row = self.doc_list.model.row_of(doc_id)
        self.status_position.setText(f"Article {(row or 0) + 1} of {self.doc_list.model.rowCount()}")
        self._update_actions()
        self.view.setFocus()

    def seed_samples(self) -> Job:
        """Fill an empty default project with the bundled sample articles, in a worker."""
        job = Job(seed_work(project_location(self.project)), "seed", self)
        self._progress(job, "Adding the sample articles…", unit="articles")
        job.succeeded.connect(lambda _report: self.refresh_project())
        job.failed.connect(lambda exc: self._job_failed("Could not add the samples", exc, ""))
        self._run(job)
        return job

    def _load_tokens(self, doc_id: str, text: str) -> None:
        """Read the stored tokens, or tokenize when there are none, in a worker; until then a
        selection is only trimmed of spaces."""
        if any(job.name == f"tokens:{doc_id}" for job in self.jobs):
            return
        job = Job(
            tokens_work(project_location(self.project), doc_id, text, self.scheme.language),
            f"tokens:{doc_id}",
            self,
        )

        def done(tokens: list[Token]) -> None:
            self._tokens[doc_id] = tokens
            if self.session is not None and self.session.document.id == doc_id:
                self.tokens = tokens

        job.succeeded.connect(done)
        job.failed.connect(lambda exc: self.statusBar().showMessage(f"Tokenizing failed: {exc}", 8000))
        self._run(job)

    def current_id(self) -> str | None:
        return self.session.document.id if self.session else None

    def go(self, step: int) -> bool:
        doc_id = self.current_id()
        if doc_id is None:
            return False
        target = self.doc_list.neighbour(doc_id, step)
        if target is None:
            self.statusBar().showMessage(
                "That is the last article." if step > 0 else "That is the first one.", 4000
            )
            return False
        self.open_document(target)
        return True

    def done_next(self) -> None:
        self._set_status_and_next(Status.DONE)

    def skip_next(self) -> None:
        self._set_status_and_next(Status.SKIPPED)

    def _set_status_and_next(self, status: Status) -> None:
        if self.session is None:
            return
        if self.session.annotation.status != status and self.apply(SetStatus(status=status)) is None:
            return
        if not self.go(1):
            self.statusBar().showMessage(f"Marked {status.display_name}. That was the last article.", 6000)

    def reload(self) -> None:
        doc_id = self.current_id()
        if doc_id is None:
            return
        self._sessions.pop(doc_id, None)
        self._suggestion_sets.pop(doc_id, None)
        self._logs.pop(doc_id, None)
        self.open_document(doc_id)
        self.doc_list.model.set_status(doc_id, self.session.annotation.status)  # type: ignore[union-attr]
        self.status_saved.setText(SAVED)
        self.statusBar().showMessage("Reloaded the saved version of this article.", 4000)

    # -- applying edits ------------------------------------------------------------------------------
    def apply(self, edit: Edit) -> Changes | None:
        """Apply one edit (one undo step). Errors become messages; the view keeps showing what is
        stored, since the session takes a failed edit back."""
        if self.session is None:
            return None
        try:
            changes = self.session.apply(edit)
        except Exception as exc:
            self._edit_failed(exc)
            return None
        self.log.record(CORE)
        self._changed(changes)
        return changes

    def undo(self) -> None:
        self._history("undo")

    def redo(self) -> None:
        self._history("redo")

    def _history(self, which: str) -> None:
        """Undo or redo the latest action: an edit (the session's history) or a rejection."""
        if self.session is None:
            return
        self.end_pick()
        step = self.log.peek(which)
        if step is None:
            self.statusBar().showMessage(f"Nothing to {which}.", 3000)
            return
        if isinstance(step, RejectStep):
            try:
                self._take_back_rejection(step) if which == "undo" else self._reject_again(step)
            except Exception as exc:
                self._edit_failed(exc)
                return
            self.log.moved(which)
            self._update_actions()
        else:
            try:
                changes = self.session.undo() if which == "undo" else self.session.redo()
            except Exception as exc:
                self._edit_failed(exc)
                return
            if changes is None:  # older than the session's history keeps
                self.log.drop(which)
                self._update_actions()
                self.statusBar().showMessage(f"Nothing to {which}.", 3000)
                return
            self.log.moved(which)
            self._changed(changes)
        self.statusBar().showMessage("Undone." if which == "undo" else "Redone.", 2000)

    def _edit_failed(self, exc: BaseException) -> None:
        if isinstance(exc, RuleError):
            self.statusBar().showMessage(f"Not done: {exc.message}", 8000)
            return
        if isinstance(exc, ConflictError):
            self.status_saved.setText("Not saved: changed elsewhere")
            self.dialogs["error"] = show_message(self, "Changed in another window", str(exc))
            return
        if isinstance(exc, AnnotatorError):
            text = str(exc)
        else:
            text = f"The edit could not be saved, so it was not made: {exc}"
        self.status_saved.setText("Last edit not saved")
        self.dialogs["error"] = show_message(self, "Not saved", text)

    def _changed(self, changes: Changes) -> None:
        session = self.session
        assert session is not None
        ann = session.annotation
        self.view.apply_changes(changes, ann)
        self.panel.apply_changes(changes)
        if changes.entities:
            hidden, shown = self.suggestions.entities_changed(changes.entities, ann)
            if hidden or shown:
                self._suggestions_changed(hidden, shown)
        if changes.status:
            self.doc_list.model.set_status(session.document.id, ann.status)
        if self.selected is not None:
            if self._selected_item() is None:
                self.select(None)
            else:
                self._update_outlines()
        self.status_saved.setText(SAVED)
        self._update_actions()

    def _update_actions(self) -> None:
        has = self.session is not None
        self.act_undo.setEnabled(has and self.log.can_undo)
        self.act_redo.setEnabled(has and self.log.can_redo)

    def _selected_item(self) -> Any:
        """The selected entity, stance or suggestion, or None when it is gone."""
        if self.selected is None or self.session is None:
            return None
        kind, item_id = self.selected
        ann = self.session.annotation
        if kind == "entity":
            return ann.entity(item_id)
        if kind == "stance":
            return ann.stance(item_id)
        return self.suggestions.get(item_id)

    # -- gestures ------------------------------------------------------------------------------------
    def set_snapping(self, on: bool) -> None:
        self.settings.setValue("edit/snap", on)

    def snapped_selection(self) -> tuple[int, int] | None:
        """The text selection as a span: snapped to tokens (whitespace trimmed only, until tokens
        are known), or exactly as selected when snapping is off."""
        selected = self.view.selected_range()
        if selected is None or self.session is None:
            return None
        if not self.act_snap.isChecked():
            return selected
        return snap(self.tokens or [], self.session.document.text, *selected)

    def label_key(self, label: str) -> None:
        if self.session is None:
            return
        if self.view.selected_range() is not None:
            span = self.snapped_selection()
            if span is None:
                self.statusBar().showMessage("Only spaces are selected.", 4000)
                return
            start, end = span
            same = [i for s, e, i in self.view.entities.overlapping(start, end) if (s, e) == (start, end)]
            if same:
                self._relabel(same[0], label)
                self.view.clear_selection(at=end)
                self.select(("entity", same[0]))
                return
            entity = EntitySpan(start=start, end=end, label=label)
            if self.apply(AddEntity(entity=entity)) is not None:
                self.view.clear_selection(at=end)
                self.select(("entity", entity.id))
            return
        if self.selected and self.selected[0] == "entity":
            self._relabel(self.selected[1], label)
            return
        if self.selected and self.selected[0] == "suggestion":
            self.accept_suggestion(self.selected[1], label)
            return
        self.statusBar().showMessage(f"Select some text first, then press {label}'s key.", 4000)

    def _relabel(self, entity_id: str, label: str) -> None:
        assert self.session is not None
        entity = self.session.annotation.entity(entity_id)
        if entity is not None and entity.label != label:
            self.apply(RelabelEntity(entity_id=entity_id, label=label))

    def polarity_key(self, polarity: str) -> None:
        if self.session is None:
            return
        if self.view.selected_range() is not None:
            span = self.snapped_selection()
            if span is None:
                self.statusBar().showMessage("Only spaces are selected.", 4000)
                return
            stance = Stance(start=span[0], end=span[1], polarity=polarity)
            if self.apply(AddStance(stance=stance)) is not None:
                self.view.clear_selection(at=span[1])
                self.select(("stance", stance.id))
                self.statusBar().showMessage(
                    "Stance added. Choose its holder and target in the panel, or press Ctrl+H / Ctrl+T "
                    "and click them in the text.",
                    8000,
                )
            return
        if self.selected and self.selected[0] == "stance":
            stance = self.session.annotation.stance(self.selected[1])
            if stance is not None and stance.polarity != polarity:
                self.apply(SetStancePolarity(stance_id=stance.id, polarity=polarity))
            return
        self.statusBar().showMessage("Select the evidence first, then press a polarity's key.", 4000)

    def delete_selected(self) -> None:
        if self.session is None or self.selected is None:
            self.statusBar().showMessage("Click a highlight first to select it.", 3000)
            return
        kind, item_id = self.selected
        if kind == "suggestion":
            if self.reject_suggestions([item_id]):
                self.statusBar().showMessage("Suggestion rejected. Ctrl+Z brings it back.", 4000)
            return
        edit: Edit = RemoveEntity(entity_id=item_id) if kind == "entity" else RemoveStance(stance_id=item_id)
        self.apply(edit)

    def text_clicked(self, offset: int) -> None:
        if self.session is None:
            return
        entity_id = self.view.entity_at(offset) if offset >= 0 else None
        suggested = self.view.suggestion_at(offset) if offset >= 0 else None
        if self.pick is not None:
            if entity_id is None:
                self.statusBar().showMessage(
                    f"Click an entity highlight to make it the {self.pick}, or press Esc.", 6000
                )
                return
            self._set_ref(self.pick, EntityRef(entity_id=entity_id))
            return
        # Where a suggestion and an entity overlap, a second click goes to the suggestion.
        if suggested is not None and (entity_id is None or self.selected == ("entity", entity_id)):
            self.select(("suggestion", suggested))
            return
        if entity_id is not None:
            self.select(("entity", entity_id))
            return
        stance_id = self.view.stance_at(offset) if offset >= 0 else None
        self.select(("stance", stance_id) if stance_id else None)

    def cycle(self, step: int) -> None:
        """Tab: the next entity or suggestion in the text (Shift+Tab: the previous one)."""
        if self.session is None:
            return
        indexes = {"entity": self.view.entities, "suggestion": self.view.suggestions}
        here: int | None = None
        if self.selected and self.selected[0] in indexes:
            where = indexes[self.selected[0]].get(self.selected[1])
            here = where[0] if where is not None else None
        if here is None:
            here = self.view.caret() - (1 if step > 0 else 0)
        found = []
        for kind, index in indexes.items():
            item = index.after(here) if step > 0 else index.before(here)
            if item is not None:
                found.append((item[0] if step > 0 else -item[0], kind, item[2]))
        if found:
            _, kind, item_id = min(found)
            self.select((kind, item_id), reveal=True)

    def select(self, item: tuple[str, str] | None, *, reveal: bool = False) -> None:
        self.selected = item
        if item is None or item[0] != "stance":
            self.end_pick()
        kind = item[0] if item else None
        self.panel.select_entity(item[1] if kind == "entity" else None)  # type: ignore[index]
        self.panel.select_stance(item[1] if kind == "stance" else None)  # type: ignore[index]
        self.panel.select_suggestion(item[1] if kind == "suggestion" else None)  # type: ignore[index]
        self._update_outlines()
        if reveal and item is not None and self.session is not None:
            span = self._selected_item()
            if span is not None:
                self.view.reveal(span.start)
                self.view.setFocus()

    def _update_outlines(self) -> None:
        outlines: list[Outline] = []
        if self.selected is not None and self.session is not None:
            ann = self.session.annotation
            kind, item_id = self.selected
            t = self.theme
            if kind == "suggestion":
                suggestion = self.suggestions.get(item_id)
                if suggestion is not None:
                    colour = self.view.label_colour(suggestion.label)
                    fill = QColor(colour)
                    fill.setAlphaF(0.16 if t.dark else 0.12)
                    outlines.append(
                        Outline(suggestion.start, suggestion.end, t.ink(colour), dashed=True, fill=fill)
                    )
            elif kind == "entity":
                entity = ann.entity(item_id)
                if entity is not None:
                    colour = t.ink(self.view.label_colour(entity.label))
                    outlines.append(Outline(entity.start, entity.end, colour))
            else:
                stance = ann.stance(item_id)
                if stance is not None:
                    colour = t.ink(self.view.polarity_colour(stance.polarity))
                    outlines.append(Outline(stance.start, stance.end, colour, dashed=True))
                    for ref, colour_name, tag in (
                        (stance.holder, t.holder, "holder"),
                        (stance.target, t.target, "target"),
                    ):
                        if isinstance(ref, EntityRef):
                            entity = ann.entity(ref.entity_id)
                            if entity is not None:
                                outlines.append(
                                    Outline(entity.start, entity.end, QColor(colour_name), tag=tag)
                                )
        self.view.set_outlines(outlines)

    # -- suggestions ---------------------------------------------------------------------------------
    def _stored_suggestions(self, doc_id: str) -> list[Any]:
        """The article's stored suggestions that this annotator has not rejected (whether an entity
        covers them is followed in memory, edit by edit)."""
        try:
            return suggestions_for(
                self.project, doc_id, self.annotator, annotation=_empty_annotation(self.annotator)
            )
        except Exception as exc:  # the article itself still opens
            self.statusBar().showMessage(f"Could not read the suggestions: {exc}", 8000)
            return []

    def _show_suggestions(self, suggestions: SuggestionSet) -> None:
        self.suggestions = suggestions
        with no_gc():
            self.view.set_suggestions(suggestions.rows())
            self.panel.set_suggestions(suggestions)

    def _load_suggestions(self, doc_id: str) -> Job:
        """Read an article's suggestions in a worker; they are shown when they come."""
        work = suggestions_work(project_location(self.project), doc_id, self.annotator)
        job = Job(work, f"suggestions:{doc_id}", self)

        def done(found: list[Any]) -> None:
            suggestions = self._suggestion_sets.get(doc_id)
            if suggestions is None:  # the article has left the cache meanwhile
                return
            with no_gc():
                hidden, shown = suggestions.reset(found)
            if suggestions is self.suggestions and (hidden or shown):
                self._suggestions_changed(hidden, shown)

        job.succeeded.connect(done)
        job.failed.connect(
            lambda exc: self.statusBar().showMessage(f"Could not read the suggestions: {exc}", 8000)
        )
        self._run(job)
        return job

    def _suggestions_changed(self, hidden: set[str], shown: set[str]) -> None:
        if len(hidden) + len(shown) > 200:  # cheaper all at once
            self._show_suggestions(self.suggestions)
        else:
            rows = [r for r in map(self.suggestions.row, shown) if r is not None]
            self.view.update_suggestions(hidden, rows)
            self.panel.update_suggestions(hidden | shown)
        if self.selected and self.selected[0] == "suggestion":
            if self.selected[1] in hidden:
                self.select(None)
            else:
                self.panel.select_suggestion(self.selected[1])

    def refresh_suggestions(self) -> None:
        """Read the current article's suggestions again (after a run stored new ones); the other
        articles' are read when they are opened."""
        doc_id = self.current_id()
        self._suggestion_sets = {k: v for k, v in self._suggestion_sets.items() if k == doc_id}
        if doc_id is None:
            return
        self._suggestion_sets[doc_id] = self.suggestions
        if self.session is not None and len(self.session.document.text) > LOAD_TOKENS_HERE:
            self._load_suggestions(doc_id)
            return
        with no_gc():
            hidden, shown = self.suggestions.reset(self._stored_suggestions(doc_id))
        if hidden or shown:
            self._suggestions_changed(hidden, shown)

    def accept_selected(self) -> None:
        """Enter in the article: accept the selected suggestion."""
        if self.selected and self.selected[0] == "suggestion":
            self.accept_suggestion(self.selected[1])

    def accept_suggestion(self, item_id: str, label: str | None = None) -> bool:
        """Make a suggestion an entity (with `label` instead of its own, when given), its source
        recorded; one undo step. The new entity is selected, so a label key relabels it."""
        suggestion = self.suggestions.get(item_id)
        if suggestion is None or self.session is None:
            return False
        if label is not None and label != suggestion.label:
            suggestion = replace(suggestion, label=label)
        edit = accept_edit(suggestion)
        if self.apply(edit) is None:
            return False
        self.select(("entity", edit.entity.id))
        text = excerpt(self.session.document.text[suggestion.start : suggestion.end], 40)
        self.statusBar().showMessage(f"Accepted “{text}” as {suggestion.label}.", 3000)
        return True

    def accept_all(self) -> None:
        if self.session is None:
            return
        shown = self.suggestions.shown()
        if not shown:
            self.statusBar().showMessage("No suggestions in this article.", 4000)
            return
        edit = accept_all_edit(shown, self.session.annotation, self.scheme)
        if edit is None:
            self.statusBar().showMessage(
                "None of the suggestions can be accepted: each overlaps an entity.", 6000
            )
            return
        if self.apply(edit) is None:
            return
        message = f"Accepted {len(edit.edits)} suggestions. Ctrl+Z takes them back."
        if len(self.suggestions):
            message += f" {len(self.suggestions)} overlap an entity and are still waiting."
        self.statusBar().showMessage(message, 8000)

    def reject_all(self) -> None:
        if self.session is None:
            return
        ids = [r.id for r in self.suggestions.rows()]
        if not ids:
            self.statusBar().showMessage("No suggestions in this article.", 4000)
            return
        n = self.reject_suggestions(ids)
        if n:
            self.statusBar().showMessage(f"Rejected {n} suggestions. Ctrl+Z brings them back.", 6000)

    def reject_suggestions(self, ids: list[str]) -> int:
        """Reject suggestions of the current article (one undo step); how many were rejected."""
        if self.session is None:
            return 0
        doc_id = self.session.document.id
        done = []
        failure: Exception | None = None
        for item_id in ids:
            suggestion = self.suggestions.get(item_id)
            if suggestion is None:
                continue
            try:
                reject(self.project, doc_id, self.annotator, suggestion)
            except Exception as exc:
                failure = exc
                break
            done.append(suggestion)
        if done:
            self.log.record(RejectStep(tuple(done)))
            hidden = self.suggestions.remove(suggestion_id(s) for s in done)
            self._suggestions_changed(hidden, set())
            self._update_actions()
        if failure is not None:
            self._edit_failed(failure)
        return len(done)

    def _take_back_rejection(self, step: RejectStep) -> None:
        assert self.session is not None
        doc_id = self.session.document.id
        for key in step.keys:
            unreject(self.project, doc_id, self.annotator, key)
        shown = self.suggestions.add(step.suggestions)
        self._suggestions_changed(set(), shown)
        if len(shown) == 1:
            self.select(("suggestion", next(iter(shown))), reveal=True)

    def _reject_again(self, step: RejectStep) -> None:
        assert self.session is not None
        doc_id = self.session.document.id
        for key in step.keys:
            reject(self.project, doc_id, self.annotator, key)
        hidden = self.suggestions.remove(suggestion_id(k) for k in step.keys)
        self._suggestions_changed(hidden, set())

    # -- stances: holder, target, picking ------------------------------------------------------------
    def start_pick(self, kind: str) -> None:
        if not self.selected or self.selected[0] != "stance":
            self.statusBar().showMessage("Select a stance first (click its evidence or its row).", 4000)
            return
        self.pick = kind
        self.view.picking = True
        self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.statusBar().showMessage(f"Click the entity that is this stance's {kind}. Esc cancels.")

    def end_pick(self) -> None:
        if self.pick is None:
            return
        self.pick = None
        self.view.picking = False
        self.view.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.statusBar().clearMessage()

    def escape(self) -> None:
        if self.pick is not None:
            self.end_pick()
            self.statusBar().showMessage("Picking cancelled.", 2000)
        elif self.selected is not None:
            self.select(None)
        elif self.view.selected_range() is not None:
            self.view.clear_selection()
        elif self.doc_list.filter.hasFocus():
            self.view.setFocus()

    def _set_ref(self, kind: str, ref: Any) -> None:
        if not self.selected or self.selected[0] != "stance" or self.session is None:
            return
        stance = self.session.annotation.stance(self.selected[1])
        self.end_pick()
        if stance is None:
            return
        current = stance.holder if kind == "holder" else stance.target
        if current == ref:
            return
        if kind == "holder":
            self.apply(SetStanceHolder(stance_id=stance.id, holder=ref))
        else:
            self.apply(SetStanceTarget(stance_id=stance.id, target=ref))

    def _panel_polarity(self, stance_id: str, polarity: str) -> None:
        if self.session is None:
            return
        stance = self.session.annotation.stance(stance_id)
        if stance is not None and stance.polarity != polarity:
            self.apply(SetStancePolarity(stance_id=stance_id, polarity=polarity))

    def _panel_holder(self, stance_id: str, ref: Any) -> None:
        if self.selected != ("stance", stance_id):
            self.select(("stance", stance_id))
        self._set_ref("holder", ref)

    def _panel_target(self, stance_id: str, ref: Any) -> None:
        if self.selected != ("stance", stance_id):
            self.select(("stance", stance_id))
        self._set_ref("target", ref)

    def _panel_doc_stance(self, target: Any, polarity: str | None) -> None:
        if self.session is None:
            return
        current = self.session.annotation.doc_stance(target_key(target))
        if (current.polarity if current else None) == polarity:
            return
        self.apply(SetDocumentStance(target=target, polarity=polarity))

    # -- view ----------------------------------------------------------------------------------------
    def zoom(self, step: int | None) -> None:
        self.view.set_zoom(0 if step is None else self.view.zoom + step)
        self.settings.setValue("view/zoom", self.view.zoom)

    def set_dark(self, on: bool) -> None:
        self.set_theme(DARK if on else LIGHT)

    def set_theme(self, name: str) -> None:
        self.theme = theme_for(name)
        self.settings.setValue("view/theme", self.theme.name)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.theme)
        self.view.set_theme(self.theme)
        self.label_bar.set_theme(self.theme)
        self.panel.set_theme(self.theme)
        self.doc_list.set_theme(self.theme)
        self._style_rule()
        self._update_outlines()
        if self.act_dark.isChecked() != (self.theme.name == DARK):
            self.act_dark.blockSignals(True)
            self.act_dark.setChecked(self.theme.name == DARK)
            self.act_dark.blockSignals(False)

    def focus_filter(self) -> None:
        self.doc_list.filter.setFocus()
        self.doc_list.filter.selectAll()

    def show_shortcuts(self) -> ShortcutSheet:
        groups = [(name, actions) for name, actions in self.menus.items() if actions]
        groups.append(("Labels and stances", [*self.label_actions.values(), *self.polarity_actions.values()]))
        sheet = ShortcutSheet(groups, self)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.show()
        self.dialogs["shortcuts"] = sheet
        return sheet

    def show_about(self) -> None:
        from annotator import __version__

        self.dialogs["about"] = show_message(
            self,
            "About annotator",
            f"annotator {__version__}\nTag entities and stances in news articles.\n"
            f"Project: {self.project.file or 'database server'}",
            error=False,
        )

    # -- import and export ---------------------------------------------------------------------------
    def _start_folder(self, key: str, fallback: Path) -> str:
        return str(self.settings.value(key, str(fallback)))

    def import_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "Import articles or annotations",
            self._start_folder("import/folder", Path.home()),
            "Articles and annotations (*.txt *.jsonl *.json);;All files (*)",
        )
        if paths:
            self.start_import([Path(p) for p in paths])

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Import a folder of articles", self._start_folder("import/folder", Path.home())
        )
        if folder:
            self.start_import([Path(folder)])

    def start_import(self, paths: list[Path]) -> Job:
        self.settings.setValue("import/folder", str(paths[0].parent if paths[0].is_file() else paths[0]))
        job = Job(import_work(project_location(self.project), paths), "import", self)
        self._progress(job, "Importing…", unit="records read")
        job.succeeded.connect(self._import_done)
        job.failed.connect(lambda exc: self._job_failed("Import failed", exc, "Nothing was imported."))
        job.cancelled.connect(
            lambda: self.statusBar().showMessage("Import cancelled: nothing was imported.", 8000)
        )
        self._run(job)
        return job

    def _import_done(self, report: ImportReport) -> None:
        self.refresh_project()
        dialog = ImportReportDialog(report, self)
        dialog.open()
        self.dialogs["import"] = dialog
        self.statusBar().showMessage(f"Imported {report.documents_added} articles.", 8000)

    def refresh_project(self) -> None:
        """Re-read what an import may have changed: the scheme and the list of articles."""
        scheme = self.project.reload_scheme()
        if scheme != self.scheme:
            self.scheme = scheme
            self.view.set_scheme(scheme)
            self.label_bar.set_scheme(scheme)
            self._build_label_actions()
            for session in self._sessions.values():
                session.scheme = scheme
            self.refresh_suggestions()  # suggestions of labels the scheme had dropped come back
        current = self.current_id()
        self.doc_list.model.reset(self.project.summaries(self.annotator))
        for doc_id, session in self._sessions.items():
            self.doc_list.model.set_status(doc_id, session.annotation.status)
        if current is None:
            self._open_first()
        else:
            self.doc_list.set_current(current)
            row = self.doc_list.model.row_of(current)
            self.status_position.setText(f"Article {(row or 0) + 1} of {self.doc_list.model.rowCount()}")

    def export(self) -> ExportDialog:
        from annotator.formats.registry import export_formats

        folder = Path(self._start_folder("export/folder", Path.cwd() / "exports"))
        dialog = ExportDialog(
            export_formats(), folder, self, fmt=str(self.settings.value("export/format", ""))
        )
        dialog.accepted.connect(
            lambda: self.start_export(
                dialog.out,
                dialog.format,
                include_all=dialog.everything.isChecked(),
                mine_only=dialog.mine_only.isChecked(),
            )
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialogs["export"] = dialog
        return dialog

    def start_export(self, out: Path, fmt: str, *, include_all: bool = False, mine_only: bool = False) -> Job:
        if not out.suffix:
            out.mkdir(parents=True, exist_ok=True)
        self.settings.setValue("export/folder", str(out if out.is_dir() else out.parent))
        self.settings.setValue("export/format", fmt)
        work = export_work(
            project_location(self.project),
            out,
            fmt=fmt,
            annotator=self.annotator if mine_only else None,
            include_all=include_all,
        )
        job = Job(work, "export", self)
        self._progress(job, "Exporting…", unit="articles")
        job.succeeded.connect(self._export_done)
        job.failed.connect(lambda exc: self._job_failed("Export failed", exc, "No file was written."))
        job.cancelled.connect(
            lambda: self.statusBar().showMessage("Export cancelled: no file was written.", 8000)
        )
        self._run(job)
        return job

    def _export_done(self, report: Any) -> None:
        text = f"Exported {report.records} records to {report.path}."
        if report.records == 0:
            text += "\nNothing is marked done yet: choose “All annotations” to export work in progress."
        self.statusBar().showMessage(f"Exported {report.records} records to {report.path}.", 10000)
        self.dialogs["export_done"] = show_message(self, "Export finished", text, error=False)

    # -- suggesting and learning (in workers) ---------------------------------------------------------
    def _running(self, name: str) -> Job | None:
        return next((job for job in self.jobs if job.name == name), None)

    def suggest(self) -> SuggestDialog:
        """Ask where suggestions come from; what is installed is looked up in a worker meanwhile."""
        remembered = {
            key: self.settings.value(f"suggest/{key}") for key in ("source", "pipeline", "patterns")
        }
        remembered["only_unstarted"] = _bool(self.settings.value("suggest/only_unstarted", False))
        dialog = SuggestDialog(remembered, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        job = Job(suggest_sources_work(project_location(self.project)), "suggest-sources", self)
        job.succeeded.connect(dialog.sources_found)
        job.failed.connect(dialog.sources_unknown)
        self._run(job)
        dialog.accepted.connect(lambda: self._suggest_chosen(dialog))
        dialog.open()
        self.dialogs["suggest"] = dialog
        return dialog

    def _suggest_chosen(self, dialog: SuggestDialog) -> None:
        choice = dialog.choice()
        self.settings.setValue("suggest/source", dialog.source)
        if choice["model"]:
            self.settings.setValue("suggest/pipeline", choice["model"])
        self.settings.setValue("suggest/patterns", str(choice["patterns"] or ""))
        self.settings.setValue("suggest/only_unstarted", choice["only_unstarted"])
        self.start_suggest(**choice)

    def start_suggest(
        self,
        *,
        model: str | None = None,
        project_model: bool = False,
        patterns: Path | None = None,
        only_unstarted: bool = False,
    ) -> Job:
        """Store suggestions for the project's articles, in a worker (which also loads the model)."""
        running = self._running("suggest")
        if running is not None:
            self.statusBar().showMessage("Suggestions are already being prepared.", 4000)
            return running
        work = suggest_work(
            project_location(self.project),
            model=model,
            project_model=project_model,
            patterns=patterns,
            only_unstarted=only_unstarted,
            annotator=self.annotator,
        )
        job = Job(work, "suggest", self)

        def describe(done: int, total: int) -> str:
            if total == LOADING:
                return "Loading the model…"
            if total > 0:
                return f"Suggesting entities… {done} of {total} articles"
            return "Suggesting entities…"

        self._progress(job, "Suggesting entities…", unit="articles", describe=describe)
        job.succeeded.connect(self._suggest_done)
        job.failed.connect(
            lambda exc: self._job_failed("Suggesting failed", exc, "No annotation was changed.")
        )
        job.cancelled.connect(self._suggest_stopped)
        self._run(job)
        return job

    def _suggest_done(self, result: tuple[str, Any]) -> None:
        name, report = result
        self.refresh_suggestions()
        found = sum(report.by_label.values())
        message = (
            f"Suggested {found} entities in {report.documents} articles with {name}; "
            f"{len(self.suggestions)} waiting in this one."
        )
        self.statusBar().showMessage(message, 10000)
        notes = list(report.warnings)
        if report.dropped:
            dropped = ", ".join(f"{label} {n}" for label, n in report.dropped.most_common())
            notes.append(f"Left out, as the scheme has no such label: {dropped}.")
        if found == 0:
            notes.insert(0, "Nothing was suggested.")
        if notes:
            self.dialogs["suggest_done"] = show_message(
                self, "Suggestions", message + "\n\n" + "\n".join(notes), error=False
            )

    def _suggest_stopped(self) -> None:
        self.refresh_suggestions()
        self.statusBar().showMessage(
            "Suggesting stopped; what was stored for the articles done so far is kept.", 8000
        )

    def learn(self) -> Job:
        """Train the project's model on the finished articles, in a worker; show its scores."""
        running = self._running("train")
        if running is not None:
            self.statusBar().showMessage("The project's model is already learning.", 4000)
            return running
        fallback = None
        if self.project.file is None:  # a database server: keep the model with this user's data
            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            name = "".join(c if c.isalnum() else "-" for c in self.project.engine.url.render_as_string())
            fallback = Path(base) / "models" / name.strip("-")
        job = Job(
            train_work(project_location(self.project), fallback, n_iter=self.train_epochs), "train", self
        )

        def describe(done: int, total: int) -> str:
            if total == LOADING or total <= 0:
                return "Reading the finished articles…"
            return f"Learning from the finished articles… {done} of {total} examples"

        self._progress(job, "Learning from the finished articles…", unit="examples", describe=describe)
        job.succeeded.connect(self._learn_done)
        job.failed.connect(
            lambda exc: self._job_failed("Learning failed", exc, "The project's model was not changed.")
        )
        job.cancelled.connect(
            lambda: self.statusBar().showMessage(
                "Learning cancelled: the project's model was not changed.", 8000
            )
        )
        self._run(job)
        return job

    def _learn_done(self, result: Any) -> None:
        dialog = TrainResultDialog(result, self)
        dialog.suggestRequested.connect(
            lambda: self.start_suggest(
                project_model=True,
                only_unstarted=_bool(self.settings.value("suggest/only_unstarted", False)),
            )
        )
        dialog.open()
        self.dialogs["train"] = dialog
        self.statusBar().showMessage("The project's model is ready.", 8000)

    def _job_failed(self, title: str, exc: BaseException, consequence: str) -> None:
        text = str(exc) if isinstance(exc, AnnotatorError | OSError) else f"{type(exc).__name__}: {exc}"
        self.dialogs["error"] = show_message(self, title, f"{text}\n\n{consequence}")

    def _progress(
        self, job: Job, title: str, unit: str, describe: Callable[[int, int], str] | None = None
    ) -> QProgressDialog:
        dialog = QProgressDialog(title, "Cancel", 0, 0, self)
        dialog.setWindowTitle(title.rstrip("…"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(job.cancel)

        def progressed(done: int, total: int) -> None:
            if total > 0:
                dialog.setMaximum(total)
                dialog.setValue(min(done, total))
                dialog.setLabelText(
                    describe(done, total) if describe else f"{title} {done} of {total} {unit}"
                )
            else:
                dialog.setMaximum(0)
                dialog.setLabelText(describe(done, total) if describe else f"{title} {done} {unit}")

        job.progressed.connect(progressed)
        job.finished.connect(dialog.close)
        job.finished.connect(dialog.deleteLater)
        self.progress_dialog = dialog
        return dialog

    def _run(self, job: Job) -> None:
        self.jobs.append(job)
        job.finished.connect(lambda: self.jobs.remove(job) if job in self.jobs else None)
        job.start()

    # -- closing -------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()
        for job in list(self.jobs):
            job.cancel()
        for job in list(self.jobs):
            job.wait()
        super().closeEvent(event)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _empty_annotation(annotator: str) -> Annotation:
    return Annotation(document_id="-", annotator=annotator)
