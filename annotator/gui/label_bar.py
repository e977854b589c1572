"""The label bar: a coloured button per entity label and per stance polarity, each showing its key.

The buttons never take the keyboard focus, so clicking one keeps the text selection in the article.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QLayout, QLayoutItem, QWidget

from annotator.core.scheme import LabelScheme
from annotator.gui.theme import Theme


class ChipButton(QAbstractButton):
    """A rounded chip: colour dot, name, and the key that does the same."""

    def __init__(self, name: str, colour: str, key: str | None, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.colour = colour
        self.key = key
        self.theme = theme
        self.setText(name)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{name} ({key})" if key else name)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def sizeHint(self) -> QSize:
        m = QFontMetricsF(self.font())
        key_w = m.horizontalAdvance(self.key.upper()) + 12 if self.key else 0
        return QSize(int(m.horizontalAdvance(self.name) + key_w + 34), int(m.height() + 14))

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        hover = self.underMouse()
        p.setPen(QPen(t.ink(self.colour) if hover or self.isDown() else QColor(t.border), 1))
        p.setBrush(t.highlight(self.colour, 0.30 if self.isDown() else (0.16 if hover else 0.08)))
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        dot = QRectF(r.left() + 10, r.center().y() - 4, 8, 8)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.colour))
        p.drawEllipse(dot)
        m = QFontMetricsF(self.font())
        p.setPen(QColor(t.text))
        text_r = QRectF(dot.right() + 6, r.top(), m.horizontalAdvance(self.name) + 2, r.height())
        p.drawText(text_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.name)
        if self.key:
            key = self.key.upper()
            kw = m.horizontalAdvance(key) + 8
            kr = QRectF(text_r.right() + 6, r.center().y() - m.height() / 2, kw, m.height())
            p.setPen(QPen(QColor(t.border), 1))
            p.setBrush(QColor(t.surface))
            p.drawRoundedRect(kr, 3, 3)
            p.setPen(QColor(t.muted))
            p.drawText(kr, Qt.AlignmentFlag.AlignCenter, key)
        p.end()


class FlowLayout(QLayout):
    """Lays widgets out in rows, wrapping when the width runs out (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_h = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and row_h > 0:
                x, y, row_h = area.x(), y + row_h + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            row_h = max(row_h, hint.height())
        return y + row_h - rect.y() + m.bottom()


class LabelBar(QWidget):
    labelChosen = Signal(str)
    polarityChosen = Signal(str)

    def __init__(self, scheme: LabelScheme, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labelBar")
        self._layout = FlowLayout(self)
        self._layout.setContentsMargins(14, 8, 14, 8)
        self.buttons: dict[str, ChipButton] = {}
        self.polarity_buttons: dict[str, ChipButton] = {}
        self.theme = theme
        self.set_scheme(scheme)

    def set_scheme(self, scheme: LabelScheme) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.buttons.clear()
        self.polarity_buttons.clear()
        for label in scheme.labels:
            b = ChipButton(label.name, label.colour, label.shortcut, self.theme, self)
            b.setToolTip(_tip(label.name, label.shortcut, label.description))
            b.clicked.connect(lambda _=False, n=label.name: self.labelChosen.emit(n))
            self._layout.addWidget(b)
            self.buttons[label.name] = b
        # The polarities wrap as one group, behind their title.
        group = QWidget(self)
        row = QHBoxLayout(group)
        row.setContentsMargins(10, 0, 0, 0)
        row.setSpacing(6)
        title = QLabel("Stance", group)
        title.setObjectName("hint")
        row.addWidget(title)
        for pol in scheme.polarities:
            b = ChipButton(pol.name, pol.colour, pol.shortcut, self.theme, group)
            b.setToolTip(_tip(pol.name, pol.shortcut, pol.description))
            b.clicked.connect(lambda _=False, n=pol.name: self.polarityChosen.emit(n))
            row.addWidget(b)
            self.polarity_buttons[pol.name] = b
        self._layout.addWidget(group)
        self._layout.invalidate()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for b in [*self.buttons.values(), *self.polarity_buttons.values()]:
            b.theme = theme
            b.update()


def _tip(name: str, key: str | None, description: str) -> str:
    head = f"{name} — press {key.upper()}" if key else name
    return f"{head}\n{description}" if description else head
