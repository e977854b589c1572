"""The annotation panel: the article's entities, the suggestions waiting for a decision, its stances
(with the selected one's polarity, holder and target) and the article-level stances.

The panel shows the session's annotation and turns choices into requests (signals); the main window
turns requests into edits, so every change goes through the session.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from annotator.core.edits import Changes
from annotator.core.model import (
    AUTHOR,
    UNKNOWN,
    AuthorRef,
    EntityRef,
    EntitySpan,
    Stance,
    TopicRef,
    UnknownRef,
    target_key,
)
from annotator.core.session import AnnotationSession
from annotator.gui.suggestions import Row, SuggestionSet
from annotator.gui.theme import Theme

Index = QModelIndex | QPersistentModelIndex
Ref = EntityRef | AuthorRef | UnknownRef | TopicRef

ID_ROLE = Qt.ItemDataRole.UserRole + 1
CHIP_ROLE = Qt.ItemDataRole.UserRole + 2  # (name, colour) of the label or polarity
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 3  # what proposed a suggestion
NO_POLARITY = "—"


def excerpt(text: str, limit: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def ref_key(ref: Ref) -> str:
    if isinstance(ref, AuthorRef):
        return "author"
    return target_key(ref)  # type: ignore[arg-type]


def ref_from_key(key: str) -> Ref:
    if key == "author":
        return AUTHOR
    if key.startswith("entity:"):
        return EntityRef(entity_id=key[len("entity:") :])
    if key.startswith("topic:"):
        return TopicRef(topic=key[len("topic:") :])
    return UNKNOWN


class Names:
    """How entities and other references are named in the panel."""

    def __init__(self, session: AnnotationSession) -> None:
        self.session = session

    def entity(self, entity: EntitySpan) -> str:
        return excerpt(self.session.document.text[entity.start : entity.end], 40)

    def ref(self, ref: Ref) -> str:
        if isinstance(ref, AuthorRef):
            return "the author"
        if isinstance(ref, UnknownRef):
            return "unknown"
        if isinstance(ref, TopicRef):
            return ref.topic
        entity = self.session.annotation.entity(ref.entity_id)
        return self.entity(entity) if entity is not None else "(removed entity)"


class _SpanListModel(QStringListModel):
    """Spans of the annotation in text order, updated row by row from `Changes`.

    The shown strings live in the C++ base class, so a view laying out thousands of rows never calls
    back into Python for the row count; the other roles are answered here, for the visible rows.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: AnnotationSession | None = None
        self._keys: list[tuple[int, int, str]] = []
        self._by_id: dict[str, Any] = {}

    def _spans(self) -> list[Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _lookup(self, span_id: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _text(self, span: Any) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_session(self, session: AnnotationSession | None) -> None:
        self.session = session
        spans = sorted(self._spans(), key=lambda s: (s.start, s.end, s.id)) if session else []
        self._keys = [(s.start, s.end, s.id) for s in spans]
        self._by_id = {s.id: s for s in spans}
        self.setStringList([self._text(s) for s in spans])

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def row_of(self, span_id: str) -> int | None:
        span = self._by_id.get(span_id)
        if span is None:
            return None
        row = bisect_left(self._keys, (span.start, span.end, span.id))
        return row if row < len(self._keys) and self._keys[row][2] == span_id else None

    def id_at(self, row: int) -> str:
        return self._keys[row][2]

    def span_at(self, index: Index) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return None
        return self._by_id.get(self._keys[index.row()][2])

    def update(self, ids: frozenset[str]) -> None:
        for span_id in ids:
            row = self.row_of(span_id)
            span = self._lookup(span_id)
            new_key = (span.start, span.end, span.id) if span is not None else None
            if row is not None:
                self._by_id.pop(span_id, None)
                if new_key == self._keys[row]:
                    self._by_id[span_id] = span
                    self.setData(self.index(row), self._text(span))
                    continue
                self.removeRows(row, 1)
                del self._keys[row]
            if new_key is not None:
                at = bisect_left(self._keys, new_key)
                self._keys.insert(at, new_key)
                self._by_id[span_id] = span
                self.insertRows(at, 1)
                self.setData(self.index(at), self._text(span))


class EntityListModel(_SpanListModel):
    def __init__(self, scheme_colour: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = scheme_colour

    def _spans(self) -> list[EntitySpan]:
        return self.session.annotation.entities if self.session else []

    def _lookup(self, span_id: str) -> EntitySpan | None:
        return self.session.annotation.entity(span_id) if self.session else None

    def _text(self, entity: EntitySpan) -> str:
        assert self.session is not None
        return excerpt(self.session.document.text[entity.start : entity.end])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return super().data(index, role)
        entity = self.span_at(index)
        if entity is None or self.session is None:
            return None
        if role == ID_ROLE:
            return entity.id
        if role == CHIP_ROLE:
            return entity.label, self._colour(entity.label)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{entity.label}: {self.session.document.text[entity.start : entity.end]}"
        return None


class StanceListModel(_SpanListModel):
    def __init__(self, polarity_colour: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = polarity_colour

    def _spans(self) -> list[Stance]:
        return self.session.annotation.stances if self.session else []

    def _lookup(self, span_id: str) -> Stance | None:
        return self.session.annotation.stance(span_id) if self.session else None

    def _text(self, stance: Stance) -> str:
        assert self.session is not None
        names = Names(self.session)
        return f"{names.ref(stance.holder)} → {names.ref(stance.target)}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return super().data(index, role)
        stance = self.span_at(index)
        if stance is None or self.session is None:
            return None
        evidence = self.session.document.text[stance.start : stance.end]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{stance.polarity}: {super().data(index)}\n“{evidence}”"
        if role == Qt.ItemDataRole.StatusTipRole:
            return "“" + excerpt(evidence, 60) + "”"
        if role == ID_ROLE:
            return stance.id
        if role == CHIP_ROLE:
            return stance.polarity, self._colour(stance.polarity)
        return None


class SuggestionListModel(_SpanListModel):
    """The article's shown suggestions, in text order, each with its label and source."""

    def __init__(self, scheme_colour: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = scheme_colour
        self.suggestions = SuggestionSet()

    def set_suggestions(self, session: AnnotationSession | None, suggestions: SuggestionSet) -> None:
        self.suggestions = suggestions
        self.set_session(session)

    def _spans(self) -> list[Row]:
        return self.suggestions.rows()

    def _lookup(self, span_id: str) -> Row | None:
        return self.suggestions.row(span_id)

    def _text(self, row: Row) -> str:
        assert self.session is not None
        return excerpt(self.session.document.text[row.start : row.end])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return super().data(index, role)
        row = self.span_at(index)
        if row is None or self.session is None:
            return None
        s = row.suggestion
        if role == ID_ROLE:
            return row.id
        if role == CHIP_ROLE:
            return s.label, self._colour(s.label)
        if role == SOURCE_ROLE:
            return s.source
        if role == Qt.ItemDataRole.ToolTipRole:
            score = f" (score {s.score:.2f})" if s.score is not None else ""
            return (
                f"{s.label}: {self.session.document.text[s.start : s.end]}\n"
                f"Suggested by {s.source}{score}.\n"
                "Enter or double-click accepts, a label's key accepts with that label, Backspace rejects."
            )
        return None


class ChipDelegate(QStyledItemDelegate):
    """A row: a small coloured chip with the label or polarity, then the text; a second muted line
    when the model gives one (StatusTipRole)."""

    def __init__(
        self, theme: Theme, two_lines: bool, parent: QWidget | None = None, *, outlined: bool = False
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.two_lines = two_lines
        # A suggestion's chip is a dashed frame, as the suggestion is in the text; with its source
        # at the right end of the row (SOURCE_ROLE).
        self.outlined = outlined

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        h = QFontMetricsF(option.font).height()  # type: ignore[attr-defined]
        return QSize(100, int(h * (2.2 if self.two_lines else 1.0) + 12))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        t = self.theme
        rect = QRectF(option.rect).adjusted(4, 1, -4, -1)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        state = option.state  # type: ignore[attr-defined]
        if state & QStyle.StateFlag.State_Selected or state & QStyle.StateFlag.State_MouseOver:
            bg = QColor(t.selection) if state & QStyle.StateFlag.State_Selected else QColor(t.border)
            if not state & QStyle.StateFlag.State_Selected:
                bg.setAlpha(110)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(rect, 5, 5)
        chip = index.data(CHIP_ROLE)
        font = QFont(option.font)  # type: ignore[attr-defined]
        m = QFontMetricsF(font)
        line_h = m.height()
        top = rect.top() + 6
        small = QFont(font)
        small.setPointSizeF(max(6.5, font.pointSizeF() * 0.78))
        small.setWeight(QFont.Weight.DemiBold)
        sm = QFontMetricsF(small)
        x = rect.left() + 6
        if chip:
            name, colour = chip
            w = sm.horizontalAdvance(name) + 12
            box = QRectF(x, top + (line_h - sm.height() - 2) / 2, w, sm.height() + 2)
            painter.setFont(small)
            if self.outlined:
                pen = QPen(t.ink(colour), 1.3)
                pen.setDashPattern([3.0, 2.0])
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(box.adjusted(0.65, 0.65, -0.65, -0.65), 4, 4)
                painter.setPen(t.ink(colour))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(t.highlight(colour, 0.85 if t.dark else 0.9))
                painter.drawRoundedRect(box, 4, 4)
                painter.setPen(QColor("#ffffff"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, name)
            x = box.right() + 8
        right = rect.right() - 4
        source = index.data(SOURCE_ROLE) if self.outlined else None
        if source:
            sf = QFont(font)
            sf.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
            sfm = QFontMetricsF(sf)
            space = max(0.0, (right - x) * 0.45)
            shown = sfm.elidedText(str(source), Qt.TextElideMode.ElideMiddle, space)
            sw = sfm.horizontalAdvance(shown)
            painter.setFont(sf)
            painter.setPen(QColor(t.muted))
            painter.drawText(
                QRectF(right - sw - 2, top, sw + 2, line_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                shown,
            )
            right -= sw + 10
        painter.setFont(font)
        painter.setPen(QColor(t.text))
        width = right - x
        text = m.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""), Qt.TextElideMode.ElideRight, width
        )
        painter.drawText(QRectF(x, top, width, line_h), Qt.AlignmentFlag.AlignVCenter, text)
        second = index.data(Qt.ItemDataRole.StatusTipRole) if self.two_lines else None
        if second:
            painter.setPen(QColor(t.muted))
            quote = QFont(font)
            quote.setItalic(True)
            painter.setFont(quote)
            left = rect.left() + 6
            text = QFontMetricsF(quote).elidedText(
                second, Qt.TextElideMode.ElideRight, rect.right() - left - 4
            )
            painter.drawText(QRectF(left, top + line_h + 2, rect.right() - left, line_h), 0, text)
        painter.restore()


def _card(title: str, parent: QWidget) -> tuple[QFrame, QVBoxLayout, QLabel]:
    frame = QFrame(parent)
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 10, 10, 10)
    layout.setSpacing(6)
    label = QLabel(title, frame)
    label.setObjectName("cardTitle")
    layout.addWidget(label)
    return frame, layout, label


def _list(model: QAbstractListModel, delegate: QStyledItemDelegate, parent: QWidget) -> QListView:
    view = QListView(parent)
    view.setModel(model)
    view.setItemDelegate(delegate)
    view.setMouseTracking(True)
    view.setUniformItemSizes(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return view


class AnnotationPanel(QWidget):
    entitySelected = Signal(str)
    stanceSelected = Signal(str)
    polarityChosen = Signal(str, str)  # stance id, polarity
    holderChosen = Signal(str, object)  # stance id, holder ref
    targetChosen = Signal(str, object)  # stance id, target ref
    pickRequested = Signal(str)  # "holder" or "target"
    removeRequested = Signal()
    docStanceChosen = Signal(object, object)  # target ref, polarity or None
    suggestionSelected = Signal(str)
    suggestionAccepted = Signal(str)  # Enter or a double-click on its row
    acceptAllRequested = Signal()
    rejectAllRequested = Signal()

    def __init__(self, scheme_colour: Any, polarity_colour: Any, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: AnnotationSession | None = None
        self.stance_id: str | None = None
        self._updating = False
        self.theme = theme
        self.entity_model = EntityListModel(scheme_colour, self)
        self.stance_model = StanceListModel(polarity_colour, self)
        self.entity_delegate = ChipDelegate(theme, False, self)
        self.stance_delegate = ChipDelegate(theme, True, self)
        self.suggestion_model = SuggestionListModel(scheme_colour, self)
        self.suggestion_delegate = ChipDelegate(theme, False, self, outlined=True)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(8)

        # Entities
        card, layout, self.entity_title = _card("ENTITIES", splitter)
        self.entity_list = _list(self.entity_model, self.entity_delegate, card)
        self.entity_list.clicked.connect(lambda i: self.entitySelected.emit(i.data(ID_ROLE)))
        layout.addWidget(self.entity_list)
        self.entity_hint = QLabel("Select text and press a label's key.", card)
        self.entity_hint.setObjectName("hint")
        self.entity_hint.setWordWrap(True)
        layout.addWidget(self.entity_hint)
        splitter.addWidget(card)

        # Suggestions: shown only while the article has some waiting for a decision.
        card, layout, self.suggestion_title = _card("SUGGESTIONS", splitter)
        self.suggestion_card = card
        self.accept_all_button = QPushButton("Accept all", card)
        self.accept_all_button.setToolTip("Accept every suggestion in this article (Ctrl+Shift+A)")
        self.accept_all_button.clicked.connect(self.acceptAllRequested.emit)
        self.reject_all_button = QPushButton("Reject all", card)
        self.reject_all_button.setToolTip("Reject every suggestion in this article (Ctrl+Shift+Backspace)")
        self.reject_all_button.clicked.connect(self.rejectAllRequested.emit)
        header = QHBoxLayout()
        header.setSpacing(6)
        layout.removeWidget(self.suggestion_title)
        header.addWidget(self.suggestion_title, 1)
        for b in (self.accept_all_button, self.reject_all_button):
            b.setObjectName("small")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            header.addWidget(b)
        layout.addLayout(header)
        self.suggestion_list = _list(self.suggestion_model, self.suggestion_delegate, card)
        self.suggestion_list.clicked.connect(lambda i: self.suggestionSelected.emit(i.data(ID_ROLE)))
        self.suggestion_list.activated.connect(lambda i: self.suggestionAccepted.emit(i.data(ID_ROLE)))
        layout.addWidget(self.suggestion_list, 1)
        self.suggestion_hint = QLabel("Enter accepts · Backspace rejects · Ctrl+Z undoes", card)
        self.suggestion_hint.setObjectName("hint")
        # Wraps rather than widening the panel.
        self.suggestion_hint.setWordWrap(True)
        self.suggestion_hint.setMinimumWidth(40)
        self.suggestion_hint.setToolTip(
            "Click a suggestion, then press Enter to accept it, a label's key to accept it with that "
            "label, or Backspace to reject it. Ctrl+Z takes either back."
        )
        layout.addWidget(self.suggestion_hint)
        splitter.addWidget(card)
        card.hide()

        # Stances
        card, layout, self.stance_title = _card("STANCES", splitter)
        self.stance_list = _list(self.stance_model, self.stance_delegate, card)
        self.stance_list.clicked.connect(lambda i: self.stanceSelected.emit(i.data(ID_ROLE)))
        layout.addWidget(self.stance_list, 1)
        self.editor = QWidget(card)
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 4, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        self.polarity_combo = QComboBox(self.editor)
        self.polarity_combo.activated.connect(self._polarity_picked)
        self.holder_combo = RefCombo(self.editor)
        self.holder_combo.activated.connect(self._holder_picked)
        self.holder_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.holder_combo.setMinimumContentsLength(10)
        self.target_combo = RefCombo(self.editor)
        self.target_combo.setEditable(True)
        self.target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.target_combo.setMinimumContentsLength(10)
        self.target_combo.lineEdit().setPlaceholderText("an entity, or type a topic")
        self.target_combo.activated.connect(self._target_picked)
        self.target_combo.lineEdit().returnPressed.connect(self._target_typed)
        self.pick_holder = QPushButton("Pick", self.editor)
        self.pick_holder.setToolTip("Click the holder's highlight in the text (Ctrl+H)")
        self.pick_holder.clicked.connect(lambda: self.pickRequested.emit("holder"))
        self.pick_target = QPushButton("Pick", self.editor)
        self.pick_target.setToolTip("Click the target's highlight in the text (Ctrl+T)")
        self.pick_target.clicked.connect(lambda: self.pickRequested.emit("target"))
        for b in (self.pick_holder, self.pick_target):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form.addRow("Polarity", self.polarity_combo)
        # Coloured like the holder's and target's outlines in the text.
        self.holder_label = QLabel("Holder", self.editor)
        self.target_label = QLabel("Target", self.editor)
        form.addRow(self.holder_label, _row(self.holder_combo, self.pick_holder))
        form.addRow(self.target_label, _row(self.target_combo, self.pick_target))
        self._style_legend()
        self.remove_button = QPushButton("Delete stance", self.editor)
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(self.removeRequested.emit)
        form.addRow("", self.remove_button)
        layout.addWidget(self.editor)
        self.stance_hint = QLabel("Select the evidence and press a polarity's key.", card)
        self.stance_hint.setObjectName("hint")
        self.stance_hint.setWordWrap(True)
        layout.addWidget(self.stance_hint)
        splitter.addWidget(card)

        # Article stances
        card, layout, self.doc_title = _card("ARTICLE STANCE", splitter)
        self.doc_grid_host = QWidget(card)
        self.doc_grid = QGridLayout(self.doc_grid_host)
        self.doc_grid.setContentsMargins(0, 0, 0, 0)
        self.doc_grid.setHorizontalSpacing(8)
        self.doc_grid.setVerticalSpacing(6)
        layout.addWidget(self.doc_grid_host)
        add_row = QHBoxLayout()
        self.doc_target_combo = RefCombo(card)
        self.doc_target_combo.setEditable(True)
        self.doc_target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.doc_target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.doc_target_combo.setMinimumContentsLength(8)
        self.doc_target_combo.lineEdit().setPlaceholderText("Another target or topic")
        self.doc_polarity_combo = QComboBox(card)
        self.doc_add = QPushButton("Add", card)
        self.doc_add.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.doc_add.clicked.connect(self._doc_add_clicked)
        add_row.addWidget(self.doc_target_combo, 1)
        add_row.addWidget(self.doc_polarity_combo)
        add_row.addWidget(self.doc_add)
        layout.addLayout(add_row)
        layout.addStretch(1)
        splitter.addWidget(card)
        splitter.setSizes([190, 150, 420, 170])

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 8, 8)
        outer.addWidget(splitter)
        self.splitter = splitter
        self._doc_combos: dict[str, QComboBox] = {}
        self._show_editor(False)

    # -- whole refreshes -----------------------------------------------------------------------------
    def set_session(self, session: AnnotationSession | None) -> None:
        self.session = session
        self.stance_id = None
        self.suggestion_model.set_suggestions(session, SuggestionSet())
        self._update_suggestion_title()
        self.entity_model.set_session(session)
        self.stance_model.set_session(session)
        self._fill_polarities()
        self._show_editor(False)
        self._rebuild_doc_stances()
        self._update_titles()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for delegate in (self.entity_delegate, self.stance_delegate, self.suggestion_delegate):
            delegate.theme = theme
        for view in (self.entity_list, self.stance_list, self.suggestion_list):
            view.viewport().update()
        self._style_legend()

    # -- suggestions ---------------------------------------------------------------------------------
    def set_suggestions(self, suggestions: SuggestionSet) -> None:
        self.suggestion_model.set_suggestions(self.session, suggestions)
        self._update_suggestion_title()

    def update_suggestions(self, ids: set[str]) -> None:
        if ids and self.session is not None:
            self.suggestion_model.update(frozenset(ids))
        self._update_suggestion_title()

    def _update_suggestion_title(self) -> None:
        n = self.suggestion_model.rowCount()
        self.suggestion_title.setText(f"SUGGESTIONS  ·  {n}")
        self.suggestion_card.setVisible(n > 0)

    def select_suggestion(self, item_id: str | None) -> None:
        row = self.suggestion_model.row_of(item_id) if item_id else None
        if row is None:
            self.suggestion_list.clearSelection()
        else:
            index = self.suggestion_model.index(row)
            self.suggestion_list.setCurrentIndex(index)
            self.suggestion_list.scrollTo(index)

    def _style_legend(self) -> None:
        for label, colour in ((self.holder_label, self.theme.holder), (self.target_label, self.theme.target)):
            label.setStyleSheet(f"color: {colour}; font-weight: 600;")

    def apply_changes(self, changes: Changes) -> None:
        if self.session is None:
            return
        # An entity's text never changes, and removing one changes the stances and article stances
        # that named it (so they are in `changes` too): other rows keep their names.
        if changes.entities:
            self.entity_model.update(changes.entities)
        if changes.stances:
            self.stance_model.update(changes.stances)
        if self.stance_id is not None:
            if self.session.annotation.stance(self.stance_id) is None:
                self.select_stance(None)
            elif changes.entities or self.stance_id in changes.stances:
                self._fill_editor()
        if changes.stances or changes.doc_stances:
            self._rebuild_doc_stances()
        elif changes.entities:
            self._offer_doc_targets()
        self._update_titles()

    def _update_titles(self) -> None:
        ann = self.session.annotation if self.session else None
        self.entity_title.setText(f"ENTITIES  ·  {len(ann.entities)}" if ann else "ENTITIES")
        self.stance_title.setText(f"STANCES  ·  {len(ann.stances)}" if ann else "STANCES")
        self.entity_hint.setVisible(not ann or not ann.entities)
        self.stance_hint.setVisible(not ann or not ann.stances)

    # -- selection -----------------------------------------------------------------------------------
    def select_entity(self, entity_id: str | None) -> None:
        row = self.entity_model.row_of(entity_id) if entity_id else None
        if row is None:
            self.entity_list.clearSelection()
        else:
            index = self.entity_model.index(row)
            self.entity_list.setCurrentIndex(index)
            self.entity_list.scrollTo(index)

    def select_stance(self, stance_id: str | None) -> None:
        self.stance_id = stance_id
        row = self.stance_model.row_of(stance_id) if stance_id else None
        if row is None:
            self.stance_list.clearSelection()
            self.stance_id = None
            self._show_editor(False)
            return
        index = self.stance_model.index(row)
        self.stance_list.setCurrentIndex(index)
        self.stance_list.scrollTo(index)
        self._fill_editor()
        self._show_editor(True)

    def _show_editor(self, visible: bool) -> None:
        self.editor.setVisible(visible)

    # -- the stance editor ---------------------------------------------------------------------------
    def _fill_polarities(self) -> None:
        names = list(self.session.scheme.polarity_names) if self.session else []
        self._updating = True
        try:
            self.polarity_combo.clear()
            self.polarity_combo.addItems(names)
            self.doc_polarity_combo.clear()
            self.doc_polarity_combo.addItems(names)
        finally:
            self._updating = False

    def _entity_items(self) -> list[tuple[str, str]]:
        assert self.session is not None
        names = Names(self.session)
        ents = sorted(self.session.annotation.entities, key=lambda e: (e.start, e.end))
        seen: dict[tuple[str, str], int] = {}
        items = []
        for e in ents:
            name = names.entity(e)
            n = seen[(name, e.label)] = seen.get((name, e.label), 0) + 1
            suffix = f" #{n}" if n > 1 else ""
            items.append((f"{name}{suffix}  · {e.label}", f"entity:{e.id}"))
        return items

    def topics(self) -> list[str]:
        if self.session is None:
            return []
        found = list(self.session.scheme.topics)
        ann = self.session.annotation
        for ref in [s.target for s in ann.stances] + [d.target for d in ann.doc_stances]:
            if isinstance(ref, TopicRef) and ref.topic not in found:
                found.append(ref.topic)
        return found

    def _fill_editor(self) -> None:
        if self.session is None or self.stance_id is None:
            return
        stance = self.session.annotation.stance(self.stance_id)
        if stance is None:
            return
        self._updating = True
        try:
            self.polarity_combo.setCurrentText(stance.polarity)
            self.holder_combo.set_choices(
                lambda: [("unknown", "unknown"), ("the author", "author"), *self._entity_items()],
                self._ref_item(stance.holder),
            )
            self.target_combo.set_choices(
                lambda: [("unknown", "unknown"), *self._entity_items(), *self._topic_items()],
                self._ref_item(stance.target),
            )
        finally:
            self._updating = False

    def _topic_items(self) -> list[tuple[str, str]]:
        return [(f"{t}  · topic", f"topic:{t}") for t in self.topics()]

    def _ref_item(self, ref: Ref) -> tuple[str, str]:
        """How the combo boxes show a reference before their full list is built."""
        assert self.session is not None
        key = ref_key(ref)
        if isinstance(ref, EntityRef):
            entity = self.session.annotation.entity(ref.entity_id)
            if entity is not None:
                return f"{Names(self.session).entity(entity)}  · {entity.label}", key
        if isinstance(ref, TopicRef):
            return f"{ref.topic}  · topic", key
        return Names(self.session).ref(ref), key

    def _polarity_picked(self, _index: int) -> None:
        if not self._updating and self.stance_id is not None:
            self.polarityChosen.emit(self.stance_id, self.polarity_combo.currentText())

    def _holder_picked(self, index: int) -> None:
        if not self._updating and self.stance_id is not None:
            self.holderChosen.emit(self.stance_id, ref_from_key(self.holder_combo.itemData(index)))

    def _target_picked(self, index: int) -> None:
        if self._updating or self.stance_id is None or index < 0:
            return
        key = self.target_combo.itemData(index)
        if key is None:
            self._target_typed()
            return
        self.targetChosen.emit(self.stance_id, ref_from_key(key))

    def _target_typed(self) -> None:
        if self._updating or self.stance_id is None:
            return
        ref = self._typed_ref(self.target_combo)
        if ref is not None:
            self.targetChosen.emit(self.stance_id, ref)

    @staticmethod
    def _typed_ref(combo: RefCombo) -> Ref | None:
        text = combo.currentText().strip()
        if not text:
            return None
        combo.ensure_filled()
        for i in range(combo.count()):
            if combo.itemText(i) == text and combo.itemData(i) is not None:
                return ref_from_key(combo.itemData(i))
        return TopicRef(topic=text)

    # -- article stances -----------------------------------------------------------------------------
    def _rebuild_doc_stances(self) -> None:
        while self.doc_grid.count():
            item = self.doc_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._doc_combos = {}
        if self.session is None:
            return
        ann = self.session.annotation
        names = Names(self.session)
        targets: dict[str, Any] = {}
        for d in ann.doc_stances:
            targets[d.key] = d.target
        for s in ann.stances:
            if not isinstance(s.target, UnknownRef):
                targets.setdefault(target_key(s.target), s.target)
        polarities = [NO_POLARITY, *self.session.scheme.polarity_names]
        for row, (key, target) in enumerate(targets.items()):
            label = QLabel(excerpt(names.ref(target), 30), self.doc_grid_host)
            label.setToolTip(names.ref(target))
            combo = QComboBox(self.doc_grid_host)
            combo.addItems(polarities)
            current = ann.doc_stance(key)
            combo.setCurrentText(current.polarity if current else NO_POLARITY)
            combo.activated.connect(lambda _i, t=target, c=combo: self._doc_polarity(t, c.currentText()))
            self.doc_grid.addWidget(label, row, 0)
            self.doc_grid.addWidget(combo, row, 1)
            self._doc_combos[key] = combo
        self.doc_grid.setColumnStretch(0, 1)
        self.doc_title.setText(f"ARTICLE STANCE  ·  {len(ann.doc_stances)}")
        self._offer_doc_targets()

    def _offer_doc_targets(self) -> None:
        self.doc_target_combo.set_choices(lambda: [*self._entity_items(), *self._topic_items()], None)

    def doc_combo(self, key: str) -> QComboBox | None:
        return self._doc_combos.get(key)

    def _doc_polarity(self, target: Any, text: str) -> None:
        self.docStanceChosen.emit(target, None if text == NO_POLARITY else text)

    def _doc_add_clicked(self) -> None:
        ref = self._typed_ref(self.doc_target_combo)
        if ref is None or isinstance(ref, AuthorRef | UnknownRef):
            return
        self.docStanceChosen.emit(ref, self.doc_polarity_combo.currentText())


def _row(*widgets: QWidget) -> QWidget:
    host = QWidget()
    layout = QHBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    for i, w in enumerate(widgets):
        if i == 0:
            w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(w, 1 if i == 0 else 0)
    return host


class RefCombo(QComboBox):
    """A choice of entity (or topic) whose full list is built when it is opened or focused: an
    article can have thousands of entities, and refilling every list on every edit would cost more
    than the edit itself. Until then it holds only the current choice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._provider: Callable[[], list[tuple[str, str]]] | None = None
        self._dirty = False

    def set_choices(
        self, provider: Callable[[], list[tuple[str, str]]], current: tuple[str, str] | None
    ) -> None:
        self._provider = provider
        self._dirty = True
        blocked = self.blockSignals(True)
        try:
            self.clear()
            if current is not None:
                self.addItem(*current)
                self.setCurrentIndex(0)
            elif self.isEditable():
                self.setEditText("")
        finally:
            self.blockSignals(blocked)

    def ensure_filled(self) -> None:
        if not self._dirty or self._provider is None:
            return
        self._dirty = False
        key, text = self.currentData(), self.currentText()
        blocked = self.blockSignals(True)
        try:
            self.clear()
            for item_text, item_key in self._provider():
                self.addItem(item_text, item_key)
            index = self.findData(key) if key is not None else -1
            if index < 0 and key is not None:
                self.addItem(text, key)
                index = self.count() - 1
            self.setCurrentIndex(index)
            if index < 0 and self.isEditable():
                self.setEditText(text)
        finally:
            self.blockSignals(blocked)

    def showPopup(self) -> None:
        self.ensure_filled()
        super().showPopup()

    def focusInEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.ensure_filled()
        super().focusInEvent(event)
