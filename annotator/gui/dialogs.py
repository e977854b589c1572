"""Dialogs: the annotator's name, import results, export options, the shortcut sheet, messages.

Only `ask_annotator_name` blocks (it runs before the window exists); every other dialog is opened
with `open()`/`show()`, so nothing waits on it and tests can drive it.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
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
