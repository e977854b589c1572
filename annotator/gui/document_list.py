"""The document list: every article with this annotator's status, a filter box and progress."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from annotator.core.model import Status
from annotator.gui.theme import Theme
from annotator.store.project import DocumentSummary

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2

STATUS_COLOURS = {
    Status.NOT_STARTED: "#9aa1ab",
    Status.IN_PROGRESS: "#e0a100",
    Status.DONE: "#2e9d3a",
    Status.SKIPPED: "#b0607a",
}

Index = QModelIndex | QPersistentModelIndex


def display_title(summary: DocumentSummary) -> str:
    return summary.title or summary.id


class DocumentListModel(QAbstractListModel):
    """A thin adapter over the project's document summaries for one annotator."""

    def __init__(self, summaries: list[DocumentSummary], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows = list(summaries)
        self._row_of = {s.id: i for i, s in enumerate(self._rows)}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_title(s)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{display_title(s)}\n{s.status.display_name}"
        if role == ID_ROLE:
            return s.id
        if role == STATUS_ROLE:
            return s.status.value
        return None

    def reset(self, summaries: list[DocumentSummary]) -> None:
        self.beginResetModel()
        self._rows = list(summaries)
        self._row_of = {s.id: i for i, s in enumerate(self._rows)}
        self.endResetModel()

    def ids(self) -> list[str]:
        return [s.id for s in self._rows]

    def row_of(self, doc_id: str) -> int | None:
        return self._row_of.get(doc_id)

    def summary(self, doc_id: str) -> DocumentSummary | None:
        row = self._row_of.get(doc_id)
        return None if row is None else self._rows[row]

    def set_status(self, doc_id: str, status: Status) -> None:
        row = self._row_of.get(doc_id)
        if row is None or self._rows[row].status == status:
            return
        self._rows[row].status = status
        index = self.index(row)
        self.dataChanged.emit(index, index, [STATUS_ROLE, Qt.ItemDataRole.ToolTipRole])

    def count(self, status: Status) -> int:
        return sum(1 for s in self._rows if s.status == status)


class DocumentFilter(QSortFilterProxyModel):
    """Keeps the rows whose title (or status, e.g. "done") holds every word typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        status = str(model.data(index, STATUS_ROLE)).replace("_", " ")
        hay = f"{model.data(index, Qt.ItemDataRole.DisplayRole)} {status}".casefold()
        return all(w in hay for w in self._words)


class DocumentDelegate(QStyledItemDelegate):
    """Two lines per article: a status dot and the title, the status in small muted type."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        m = QFontMetricsF(option.font)  # type: ignore[attr-defined]
        return QSize(100, int(m.height() * 2 * 1.1 + 16))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        t = self.theme
        rect = QRectF(option.rect).adjusted(6, 2, -6, -2)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)  # type: ignore[attr-defined]
        if selected or hover:
            painter.setPen(Qt.PenStyle.NoPen)
            bg = QColor(t.selection) if selected else QColor(t.border)
            if not selected:
                bg.setAlpha(110)
            painter.setBrush(bg)
            painter.drawRoundedRect(rect, 6, 6)
        status = Status(index.data(STATUS_ROLE))
        font = QFont(option.font)  # type: ignore[attr-defined]
        m = QFontMetricsF(font)
        line_h = m.height() * 1.1
        top = rect.top() + (rect.height() - 2 * line_h) / 2
        dot = QRectF(rect.left() + 10, top + line_h / 2 - 4, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLOURS[status]))
        painter.drawEllipse(dot)
        x = dot.right() + 10
        width = rect.right() - x - 8
        title_font = QFont(font)
        if selected:
            title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(QColor(t.muted if status == Status.SKIPPED else t.text))
        title = QFontMetricsF(title_font).elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideRight, width
        )
        painter.drawText(QRectF(x, top, width, line_h), Qt.AlignmentFlag.AlignVCenter, title)
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
        painter.setFont(small)
        painter.setPen(QColor(t.muted))
        painter.drawText(
            QRectF(x, top + line_h, width, line_h), Qt.AlignmentFlag.AlignVCenter, status.display_name
        )
        painter.restore()


class DocumentList(QWidget):
    """The list, its filter box and the progress bar. Emits `documentChosen` on a click or Enter."""

    documentChosen = Signal(str)

    def __init__(self, summaries: list[DocumentSummary], theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = DocumentListModel(summaries, self)
        self.proxy = DocumentFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter articles")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.view = QListView(self)
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.delegate = DocumentDelegate(theme, self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.clicked.connect(self._chosen)
        self.view.activated.connect(self._chosen)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress_text = QLabel(self)
        self.progress_text.setObjectName("progressText")
        header = QLabel("ARTICLES", self)
        header.setObjectName("cardTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 12)
        layout.setSpacing(8)
        layout.addWidget(header)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.progress)
        self.model.dataChanged.connect(self.update_progress)
        self.model.modelReset.connect(self.update_progress)
        self.update_progress()

    def _chosen(self, index: QModelIndex) -> None:
        doc_id = index.data(ID_ROLE)
        if doc_id is not None:
            self.documentChosen.emit(doc_id)

    def set_theme(self, theme: Theme) -> None:
        self.delegate.theme = theme
        self.view.viewport().update()

    def set_current(self, doc_id: str) -> None:
        row = self.model.row_of(doc_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        else:
            self.view.clearSelection()

    def neighbour(self, doc_id: str, step: int) -> str | None:
        """The article `step` rows away in the list as filtered (or as a whole, if the current one is
        filtered out)."""
        row = self.model.row_of(doc_id)
        if row is None:
            return None
        proxy_index = self.proxy.mapFromSource(self.model.index(row))
        if proxy_index.isValid():
            target = proxy_index.row() + step
            if 0 <= target < self.proxy.rowCount():
                return self.proxy.index(target, 0).data(ID_ROLE)
            return None
        ids = self.model.ids()
        target = row + step
        return ids[target] if 0 <= target < len(ids) else None

    def update_progress(self, *_: object) -> None:
        total = self.model.rowCount()
        done = self.model.count(Status.DONE)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress_text.setText(f"{done} of {total} done")
