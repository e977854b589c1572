"""The article: plain text, read-only but selectable with the mouse and the keyboard, with entity
highlights, stance underlines, dashed frames around suggestions and outlines around the selected item.

Highlights are drawn by a QSyntaxHighlighter that asks a sorted span index for the spans of each
block, so no formats are written into the document and one edit re-highlights only the blocks its
span touches. Suggestions are not formats at all: they are painted over the visible lines only, so
showing, accepting or rejecting one never re-highlights anything. Offsets are code points in the
stored text; every conversion to Qt positions goes through `TextPositions`.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import QEvent, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QToolTip, QWidget

from annotator.core.edits import Changes
from annotator.core.model import Annotation
from annotator.core.scheme import LabelScheme
from annotator.gui.spanindex import SpanIndex
from annotator.gui.suggestions import Row
from annotator.gui.textpos import TextPositions
from annotator.gui.theme import Theme, blend, mix, reading_font

BASE_POINT_SIZE = 12.0
MIN_ZOOM, MAX_ZOOM = -5, 14
# The text column stops growing at about this many average characters, for comfortable reading.
READING_COLUMNS = 78


@dataclass(frozen=True)
class Outline:
    """A frame drawn around a span: the selected item, or a selected stance's holder and target."""

    start: int
    end: int
    colour: QColor
    dashed: bool = False
    tag: str | None = None  # what it is ("holder", "target"): said in the tooltip, not drawn over text
    fill: QColor | None = None


# What makes Qt start a new block in `setPlainText` (see textpos.py): the blocks of the shown text are
# known from the stored text alone, so their highlights can be worked out before Qt lays anything out.
_BLOCK_BREAK = re.compile("[\r\n\u2029\ufdd0\ufdd1]")
_RARE_BREAK = re.compile("[\u2029\ufdd0\ufdd1]")

Piece = tuple[int, int, QTextCharFormat]  # start in the block (UTF-16 units), length, format


def block_bounds(text: str) -> tuple[list[int], list[int]]:
    """Where each block of the shown text starts and where its text ends, as code point offsets
    into the stored text (a "\r\n" pair is one break)."""
    if "\r" not in text and not _RARE_BREAK.search(text):
        starts = [0]
        find = text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        return starts, [s - 1 for s in starts[1:]] + [len(text)]
    starts, ends = [0], []
    for m in _BLOCK_BREAK.finditer(text):
        at = m.start()
        if text[at] == "\n" and at and text[at - 1] == "\r":
            starts[-1] = at + 1  # the "\n" of a "\r\n" pair
            continue
        ends.append(at)
        starts.append(at + 1)
    ends.append(len(text))
    return starts, ends


@contextmanager
def no_gc() -> Iterator[None]:
    """Tens of thousands of small tuples are made at once: without this, the garbage collector
    walks every object of the program several times meanwhile (a third of a second at start)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _format_ranges(pieces: list[Piece]) -> list[QTextLayout.FormatRange]:
    ranges = []
    for start, length, fmt in pieces:
        r = QTextLayout.FormatRange()
        r.start, r.length, r.format = start, length, fmt
        ranges.append(r)
    return ranges


class SpanHighlighter(QSyntaxHighlighter):
    """Applies the formats the view worked out for each block: one dict lookup per block, so that
    showing a long article costs little more than showing its text."""

    def __init__(self, view: ArticleView) -> None:
        super().__init__(view.document())
        self.pieces: dict[int, list[Piece]] = {}

    def highlightBlock(self, text: str) -> None:
        pieces = self.pieces.get(self.currentBlock().blockNumber())
        if pieces:
            for start, length, fmt in pieces:
                self.setFormat(start, length, fmt)


class ArticleView(QPlainTextEdit):
    clicked = Signal(int)  # a click without a drag on the character at this offset (-1: none)
    cycleRequested = Signal(int)  # Tab (+1) or Shift+Tab (-1): move to the next or previous entity
    acceptRequested = Signal()  # Enter: accept the selected suggestion

    def __init__(self, scheme: LabelScheme, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("article")
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setUndoRedoEnabled(False)
        self.setFrameShape(QPlainTextEdit.Shape.NoFrame)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setCursorWidth(2)
        self.document().setDocumentMargin(6)
        self.viewport().setMouseTracking(True)
        self.scheme = scheme
        self.theme = theme
        self.text = ""
        self.positions = TextPositions("")
        self.entities = SpanIndex()
        self.stances = SpanIndex()
        self.labels: dict[str, str] = {}
        self.polarities: dict[str, str] = {}
        self.suggestions = SpanIndex()
        self.suggested: dict[str, Row] = {}
        self.picking = False
        self._outlines: list[Outline] = []
        self._zoom = 0
        self._press: QPoint | None = None
        self.setFont(reading_font(BASE_POINT_SIZE))
        self._formats: dict[tuple[tuple[str, ...], str | None], QTextCharFormat] = {}
        self._block_starts: list[int] = [0]
        self._block_ends: list[int] = [0]
        self._highlighter = SpanHighlighter(self)

    # -- colours -------------------------------------------------------------------------------------
    def label_colour(self, label: str) -> str:
        try:
            return self.scheme.label(label).colour
        except KeyError:
            return "#888888"

    def polarity_colour(self, polarity: str) -> str:
        try:
            return self.scheme.polarity(polarity).colour
        except KeyError:
            return "#888888"

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._formats.clear()
        self._highlighter.pieces = self._all_pieces()
        self._highlighter.rehighlight()
        self.viewport().update()

    def set_scheme(self, scheme: LabelScheme) -> None:
        self.scheme = scheme
        self.set_theme(self.theme)

    # -- content -------------------------------------------------------------------------------------
    def show_document(self, text: str, annotation: Annotation) -> None:
        """Show a new article with its highlights (the highlighter paints while the text is set)."""
        with no_gc():
            self.text = text
            self.positions = TextPositions(text)
            self.entities = SpanIndex((e.start, e.end, e.id) for e in annotation.entities)
            self.stances = SpanIndex((s.start, s.end, s.id) for s in annotation.stances)
            self.labels = {e.id: e.label for e in annotation.entities}
            self.polarities = {s.id: s.polarity for s in annotation.stances}
            self.suggestions = SpanIndex()
            self.suggested = {}
            self._outlines = []
            self._block_starts, self._block_ends = block_bounds(text)
            pieces = self._highlighter.pieces = self._all_pieces()
        doc = self.document()
        # Set with the document's signals held back, the text does not go through the highlighter
        # block by block (a Python call for each of thousands of blocks, most without highlights);
        # the blocks that have highlights get the formats it would give them directly. Edits later
        # go through the highlighter, a block at a time.
        blocked = doc.blockSignals(True)
        try:
            self.setPlainText(self.positions.display_text())
            # One edit block: the layout hears of all the new formats at once, not block by block.
            cursor = QTextCursor(doc)
            cursor.beginEditBlock()
            with no_gc():
                for number, found in pieces.items():
                    doc.findBlockByNumber(number).layout().setFormats(_format_ranges(found))
            cursor.endEditBlock()
        finally:
            doc.blockSignals(blocked)
        self.moveCursor(QTextCursor.MoveOperation.Start)

    # -- highlights, block by block ------------------------------------------------------------------
    def _blocks_of(self, start: int, end: int) -> range:
        """The numbers of the blocks that the code point span touches."""
        first = bisect_right(self._block_starts, start) - 1
        last = bisect_right(self._block_starts, max(start, end - 1)) - 1
        return range(max(first, 0), last + 1)

    def _all_pieces(self) -> dict[int, list[Piece]]:
        blocks: set[int] = set()
        starts = self._block_starts
        last = len(starts) - 1
        for index in (self.entities, self.stances):
            for start, end, _ in index.items():
                first = bisect_right(starts, start) - 1
                if first == last or end <= starts[first + 1]:
                    blocks.add(first)
                else:
                    blocks.update(self._blocks_of(start, end))
        pieces = {}
        for number in blocks:
            found = self._block_pieces(number)
            if found:
                pieces[number] = found
        return pieces

    def _block_pieces(self, number: int) -> list[Piece]:
        """The formats of one block: entity backgrounds, stance underlines, mixed where they meet."""
        lo, hi = self._block_starts[number], self._block_ends[number]
        if lo >= hi:
            return []
        ents = self.entities.overlapping(lo, hi) if len(self.entities) else []
        sts = self.stances.overlapping(lo, hi) if len(self.stances) else []
        if not ents and not sts:
            return []
        tp = self.positions
        if tp.is_identity:
            to_block = lo.__rsub__
        else:
            base = tp.to_qt(lo)

            def to_block(cp: int) -> int:
                return tp.to_qt(cp) - base

        fmt = self._format
        if not sts and all(a[1] <= b[0] for a, b in pairwise(ents)):
            out = []
            for s, e, span_id in ents:
                a = to_block(max(s, lo))
                out.append((a, to_block(min(e, hi)) - a, fmt((self.labels[span_id],), None)))
            return out
        marks = [(max(s, lo), min(e, hi), self.labels[i], True) for s, e, i in ents]
        marks += [(max(s, lo), min(e, hi), self.polarities[i], False) for s, e, i in sts]
        cuts = sorted({m[0] for m in marks} | {m[1] for m in marks})
        out = []
        for a, b in pairwise(cuts):
            here = tuple(sorted({k for x, y, k, ent in marks if ent and x <= a and y >= b}))
            polarity = next((k for x, y, k, ent in marks if not ent and x <= a and y >= b), None)
            if here or polarity is not None:
                qa = to_block(a)
                out.append((qa, to_block(b) - qa, fmt(here, polarity)))
        return out

    def _format(self, labels: tuple[str, ...], polarity: str | None) -> QTextCharFormat:
        key = (labels, polarity)
        fmt = self._formats.get(key)
        if fmt is not None:
            return fmt
        theme = self.theme
        fmt = QTextCharFormat()
        if len(labels) == 1:
            fmt.setBackground(theme.highlight(self.label_colour(labels[0])))
        elif labels:
            # Overlapping entities: a stronger mix of their colours and a line over the text.
            colours = [QColor(self.label_colour(lb)) for lb in labels]
            fmt.setBackground(blend(mix(colours), theme.surface, theme.overlap_alpha))
            fmt.setFontOverline(True)
        if polarity is not None:
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            fmt.setUnderlineColor(theme.ink(self.polarity_colour(polarity)))
        self._formats[key] = fmt
        return fmt

    def apply_changes(self, changes: Changes, annotation: Annotation) -> None:
        """Update the index for what `changes` names and re-highlight only the blocks it touches."""
        touched: list[tuple[int, int]] = []
        for entity_id in changes.entities:
            old = self.entities.remove(entity_id)
            if old is not None:
                touched.append(old)
                self.labels.pop(entity_id, None)
            entity = annotation.entity(entity_id)
            if entity is not None:
                self.entities.add(entity.id, entity.start, entity.end)
                self.labels[entity.id] = entity.label
                touched.append((entity.start, entity.end))
        for stance_id in changes.stances:
            old = self.stances.remove(stance_id)
            if old is not None:
                touched.append(old)
                self.polarities.pop(stance_id, None)
            stance = annotation.stance(stance_id)
            if stance is not None:
                self.stances.add(stance.id, stance.start, stance.end)
                self.polarities[stance.id] = stance.polarity
                touched.append((stance.start, stance.end))
        self.rehighlight_spans(touched)

    def rehighlight_spans(self, spans: Iterable[tuple[int, int]]) -> None:
        blocks: set[int] = set()
        for start, end in spans:
            blocks.update(self._blocks_of(start, end))
        doc = self.document()
        pieces = self._highlighter.pieces
        for number in sorted(blocks):
            found = self._block_pieces(number)
            if found:
                pieces[number] = found
            else:
                pieces.pop(number, None)
            self._highlighter.rehighlightBlock(doc.findBlockByNumber(number))

    # -- selection -----------------------------------------------------------------------------------
    def selected_range(self) -> tuple[int, int] | None:
        """The selected text as code point offsets, or None when nothing is selected."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        start, end = self.positions.from_qt_range(cursor.selectionStart(), cursor.selectionEnd())
        return (start, end) if start < end else None

    def select_range(self, start: int, end: int) -> None:
        qs, qe = self.positions.qt_range(start, end)
        cursor = self.textCursor()
        cursor.setPosition(qs)
        cursor.setPosition(qe, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def clear_selection(self, at: int | None = None) -> None:
        cursor = self.textCursor()
        if at is not None:
            cursor.setPosition(self.positions.to_qt(at))
        else:
            cursor.clearSelection()
        self.setTextCursor(cursor)

    def caret(self) -> int:
        return self.positions.from_qt(self.textCursor().position())

    def reveal(self, start: int) -> None:
        """Scroll so that offset `start` is in view, with the caret there."""
        self.clear_selection(at=start)
        self.centerCursor() if not self._in_view(start) else self.ensureCursorVisible()

    def _in_view(self, start: int) -> bool:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.positions.to_qt(start))
        rect = self.cursorRect(cursor)
        return rect.top() >= 0 and rect.bottom() <= self.viewport().height()

    def set_outlines(self, outlines: list[Outline]) -> None:
        if outlines != self._outlines:
            self._outlines = outlines
            self.viewport().update()

    # -- suggestions ---------------------------------------------------------------------------------
    def set_suggestions(self, rows: Iterable[Row]) -> None:
        rows = list(rows)
        self.suggested = {r.id: r for r in rows}
        self.suggestions = SpanIndex((r.start, r.end, r.id) for r in rows)
        self.viewport().update()

    def update_suggestions(self, removed: Iterable[str], added: Iterable[Row]) -> None:
        """Suggestions hidden and shown by one action: repaint only where they are."""
        spans: list[tuple[int, int]] = []
        for item_id in removed:
            where = self.suggestions.remove(item_id)
            self.suggested.pop(item_id, None)
            if where is not None:
                spans.append(where)
        for row in added:
            self.suggestions.add(row.id, row.start, row.end)
            self.suggested[row.id] = row
            spans.append((row.start, row.end))
        self._repaint_spans(spans)

    def _repaint_spans(self, spans: list[tuple[int, int]]) -> None:
        if len(spans) > 40:
            self.viewport().update()
            return
        for start, end in spans:
            for rect in self.range_rects(start, end):
                self.viewport().update(rect.toAlignedRect().adjusted(-4, -3, 4, 3))

    def suggestion_at(self, offset: int) -> str | None:
        found = self.suggestions.covering(offset)
        return found[0][2] if found else None

    # -- hit testing ---------------------------------------------------------------------------------
    def offset_at(self, point: QPoint) -> int | None:
        """The code point offset of the character under a viewport point, or None."""
        cursor = self.cursorForPosition(point)
        pos = cursor.position()
        rect = self.cursorRect(cursor)
        rtl = cursor.block().textDirection() == Qt.LayoutDirection.RightToLeft
        before = point.x() > rect.x() if rtl else point.x() < rect.x()
        if before and pos > cursor.block().position():
            pos -= 1
        if pos >= self.positions.qt_length or pos - cursor.block().position() >= cursor.block().length() - 1:
            return None
        return self.positions.from_qt(pos)

    def entity_at(self, offset: int) -> str | None:
        found = self.entities.covering(offset)
        return found[0][2] if found else None

    def stance_at(self, offset: int) -> str | None:
        found = self.stances.covering(offset)
        return found[0][2] if found else None

    # -- events --------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        press, self._press = self._press, None
        if event.button() != Qt.MouseButton.LeftButton or press is None:
            return
        point = event.position().toPoint()
        if (point - press).manhattanLength() >= QApplication.startDragDistance():
            return
        if self.textCursor().hasSelection():
            return
        offset = self.offset_at(point)
        self.clicked.emit(-1 if offset is None else offset)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if event.buttons() != Qt.MouseButton.NoButton:
            return
        offset = self.offset_at(event.position().toPoint())
        on_entity = offset is not None and (
            self.entity_at(offset) is not None or self.suggestion_at(offset) is not None
        )
        if on_entity:
            shape = Qt.CursorShape.PointingHandCursor
        elif self.picking:
            shape = Qt.CursorShape.CrossCursor
        else:
            shape = Qt.CursorShape.IBeamCursor
        if self.viewport().cursor().shape() != shape:
            self.viewport().setCursor(shape)

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        key = event.key()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and plain:
            back = key == Qt.Key.Key_Backtab or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.cycleRequested.emit(-1 if back else 1)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.acceptRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab moves between highlights here; Ctrl+Tab still leaves the view.
        return False

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            offset = self.offset_at(event.pos())  # type: ignore[attr-defined]
            tip = self._tooltip(offset) if offset is not None else ""
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())  # type: ignore[attr-defined]
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def _tooltip(self, offset: int) -> str:
        lines = [self.labels[i] for _, _, i in self.entities.covering(offset)]
        lines += [f"stance: {self.polarities[i]}" for _, _, i in self.stances.covering(offset)]
        suggested = self.suggestions.covering(offset)
        for _, _, i in suggested:
            s = self.suggested[i].suggestion
            lines.append(f"suggested: {s.label} (by {s.source})")
        if suggested:
            lines.append(
                "Click, then: Enter accepts · a label's key accepts as that label · Backspace rejects"
            )
        lines += [
            f"{o.tag} of the selected stance" for o in self._outlines if o.tag and o.start <= offset < o.end
        ]
        return "\n".join(lines)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Also called for the viewport's own resizes. New margins resize the viewport, which comes
        # back here and lays the text out again for the new width.
        self._fit_column()
        super().resizeEvent(event)
        self._check_wrap_width()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self._check_wrap_width()

    def _check_wrap_width(self) -> None:
        # A margin change can resize the viewport without a resize event that says so (before the
        # window is shown): lay the text out again for the width the viewport really has.
        width = self.viewport().width()
        laid_out = self.blockBoundingRect(self.document().firstBlock()).width()
        if width > 0 and abs(laid_out - width) > 0.5:
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

    def _fit_column(self) -> None:
        column = QFontMetricsF(self.font()).averageCharWidth() * READING_COLUMNS
        side = max(20, int((self.width() - column) / 2))
        if self.viewportMargins().left() != side:
            self.setViewportMargins(side, 14, side, 0)

    # -- zoom ----------------------------------------------------------------------------------------
    @property
    def zoom(self) -> int:
        return self._zoom

    def set_zoom(self, steps: int) -> None:
        self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, steps))
        self.setFont(reading_font(BASE_POINT_SIZE + self._zoom))
        self._fit_column()

    # -- painting ------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._outlines and not len(self.suggestions):
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if len(self.suggestions):
            self._paint_suggestions(painter)
        for outline in self._outlines:
            rects = self.range_rects(outline.start, outline.end)
            if not rects:
                continue
            pen = QPen(outline.colour, 2)
            if outline.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(outline.fill if outline.fill is not None else Qt.BrushStyle.NoBrush)
            for rect in rects:
                painter.drawRoundedRect(rect.adjusted(-2, 0, 2, 0), 4, 4)
        painter.end()

    def _paint_suggestions(self, painter: QPainter) -> None:
        """A dashed frame in the label's colour around each suggestion on the visible lines: unlike
        an entity, a suggestion has no fill, so the two never look alike."""
        lo, hi = self.visible_span()
        if lo >= hi:
            return
        pens: dict[str, QPen] = {}
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for start, end, item_id in self.suggestions.overlapping(lo, hi):
            label = self.suggested[item_id].suggestion.label
            pen = pens.get(label)
            if pen is None:
                pen = pens[label] = QPen(self.theme.ink(self.label_colour(label)), 1.5)
                pen.setDashPattern([3.0, 2.0])
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            for rect in self.range_rects(start, end):
                painter.drawRoundedRect(rect.adjusted(-1.5, 0.75, 1.5, -0.75), 3, 3)

    def visible_span(self) -> tuple[int, int]:
        """The code point span of the lines in view (from the start of the first to the end of the
        last), found without walking the blocks or lines above them."""
        if self.positions.qt_length == 0:
            return 0, 0
        vp = self.viewport()
        first = self._line_bounds(self.cursorForPosition(QPoint(0, 0)).position())
        last = self._line_bounds(self.cursorForPosition(QPoint(vp.width(), vp.height())).position())
        lo, hi = first[0], min(last[1], self.positions.qt_length)
        return self.positions.from_qt(lo), self.positions.from_qt(max(lo, hi))

    def _line_bounds(self, qt_pos: int) -> tuple[int, int]:
        """Where the laid out line holding a Qt position starts and ends (its block's own bounds
        when it has no layout yet)."""
        block = self.document().findBlock(qt_pos)
        bp = block.position()
        layout = block.layout()
        if layout is None or layout.lineCount() == 0:
            return bp, bp + block.length()
        line = layout.lineForTextPosition(qt_pos - bp)
        if not line.isValid():
            return bp, bp + block.length()
        return bp + line.textStart(), bp + line.textStart() + line.textLength() + 1

    def range_rects(self, start: int, end: int) -> list[QRectF]:
        """Viewport rectangles, one per visible line, covering the code point span."""
        qs, qe = self.positions.qt_range(start, end)
        offset = self.contentOffset()
        bottom = self.viewport().height()
        block: QTextBlock = self.document().findBlock(qs)
        first = self.firstVisibleBlock()
        if block.blockNumber() < first.blockNumber():
            block = first
        rects: list[QRectF] = []
        while block.isValid() and block.position() < qe:
            geometry = self.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > bottom:
                break
            layout = block.layout()
            bp = block.position()
            if block.isVisible() and layout is not None and layout.lineCount():
                # Start at the line where the span starts: a long block has thousands of lines.
                first_line = layout.lineForTextPosition(max(qs - bp, 0)).lineNumber()
                for i in range(max(first_line, 0), layout.lineCount()):
                    line = layout.lineAt(i)
                    if bp + line.textStart() >= qe:
                        break
                    ls = bp + line.textStart()
                    lo, hi = max(qs, ls), min(qe, ls + line.textLength())
                    if lo >= hi:
                        continue
                    x1 = line.cursorToX(lo - bp)[0]
                    x2 = line.cursorToX(hi - bp)[0]
                    rects.append(
                        QRectF(
                            geometry.left() + min(x1, x2),
                            geometry.top() + line.y(),
                            abs(x2 - x1),
                            line.height(),
                        )
                    )
            block = block.next()
        return rects
