r"""Conversion between stored code point offsets and Qt text positions.

The store keeps offsets as Python code points (what ``len()`` and slicing count) into the exact
stored text. A ``QTextDocument`` (and so a ``QPlainTextEdit``) counts differently:

* Positions are UTF-16 code units. A character above U+FFFF (most emoji, regional-indicator flags,
  rare CJK) is two positions, and a cursor can be placed between its two surrogates:
  ``QTextCursor.setPosition`` does not snap.
* ``setPlainText`` turns line breaks into block breaks, each one position.

What ``setPlainText`` does with each special character (measured with PySide6 6.11 on Qt 6.11):

================  ===============================  =========  ===============================
stored            in the document                  positions  ``QTextCursor.selectedText()``
================  ===============================  =========  ===============================
``"\r\n"``        one block break                  1          U+2029
lone ``"\r"``     one block break                  1          U+2029
``"\n"``          one block break                  1          U+2029
U+2029            one block break                  1          U+2029
U+FDD0, U+FDD1    one block break (frame markers)  1          U+2029
U+2028            kept inside the block            1          U+2028 (``toPlainText()`` gives
                                                              ``"\n"``)
U+10000 and up    a surrogate pair                 2          the character
tab, NUL, VT,     kept as they are                 1          the character (``toPlainText()``
FF, NEL, NBSP,                                                turns NBSP into a space)
BOM, U+FFFC
================  ===============================  =========  ===============================

Every other BMP character (each was checked) is one position inside its block. A document
always ends with one extra block separator, so ``characterCount()`` is one more than the last
cursor position, :attr:`TextPositions.qt_length`.
A lone surrogate (impossible in text read from UTF-8) is one position but is dropped by
``selectedText()`` and ``toPlainText()``.

So only two things move the two counts apart: astral characters (one code point, two positions)
and ``"\r\n"`` pairs (two code points, one position). :class:`TextPositions` finds them once with
two regex scans and answers each conversion with one bisect.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from operator import add, sub

__all__ = ["TextPositions"]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_CRLF = re.compile("\r\n")
_CR = re.compile("\r\n?")


class TextPositions:
    r"""Maps offsets in one stored text to positions in a document showing :meth:`display_text`.

    Within a ``"\r\n"`` pair the ``"\r"`` carries the block break and the ``"\n"`` takes no
    position: the offset between them has no position of its own and maps to the position after
    the break. So the span covering just the ``"\r"`` maps to the break, the span covering just
    the ``"\n"`` maps to an empty range, and :meth:`from_qt` never returns the offset between them.
    """

    __slots__ = ("_cps", "_deltas", "_qts", "length", "qt_length", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        astral = [] if text.isascii() else [m.start() for m in _ASTRAL.finditer(text)]
        newlines = [m.end() - 1 for m in _CRLF.finditer(text)] if "\r" in text else []
        # The mapping changes after each astral character (+1) and after the "\n" of each
        # "\r\n" pair (-1). _cps holds those code points in order, _deltas[k] the Qt position
        # minus the code point offset after the k-th of them, and _qts[k] the first Qt position
        # that maps back through _deltas[k]: for an astral character the position between its
        # surrogates (so it snaps back to the character's start), for a pair the position after
        # its break.
        cps: list[int]
        deltas: list[int]
        qts: list[int]
        if not newlines:
            cps = astral
            deltas = list(range(1, len(astral) + 1))
            qts = list(map(add, cps, deltas))
        elif not astral:
            cps = newlines
            deltas = list(range(-1, -len(newlines) - 1, -1))
            qts = list(map(sub, cps, range(len(cps))))
        else:
            cps = sorted(astral + newlines)
            deltas = []
            qts = []
            delta = 0
            for cp in cps:
                if text[cp] == "\n":
                    delta -= 1
                    qts.append(cp + delta + 1)
                else:
                    delta += 1
                    qts.append(cp + delta)
                deltas.append(delta)
        self._cps = cps
        self._deltas = deltas
        self._qts = qts
        self.qt_length: int = self.length + (deltas[-1] if deltas else 0)

    def __repr__(self) -> str:
        return f"TextPositions(length={self.length}, qt_length={self.qt_length})"

    @property
    def is_identity(self) -> bool:
        """True when code point offsets and Qt positions are the same numbers."""
        return not self._cps

    def display_text(self) -> str:
        r"""The text to pass to ``setPlainText``.

        The stored text with every ``"\r\n"`` and every lone ``"\r"`` replaced by ``"\n"``. Qt
        makes one block break of each of them anyway, so positions are unchanged; normalising
        keeps the document (and ``toPlainText()``) free of carriage returns. Replacing only
        ``"\r\n"`` would be wrong: in ``"\r\r\n"`` it would leave a new ``"\r\n"`` behind,
        merging two breaks into one.
        """
        if "\r" not in self.text:
            return self.text
        return _CR.sub("\n", self.text)

    def to_qt(self, cp: int) -> int:
        """The Qt position of code point offset ``cp`` (0 to ``len(text)`` inclusive)."""
        if not 0 <= cp <= self.length:
            raise ValueError(f"offset {cp} outside 0..{self.length}")
        k = bisect_left(self._cps, cp)
        return cp + self._deltas[k - 1] if k else cp

    def from_qt(self, qt_pos: int) -> int:
        """The code point offset of Qt position ``qt_pos`` (0 to :attr:`qt_length` inclusive).

        A position between the two surrogates of an astral character snaps backward, to the
        offset before that character.
        """
        if not 0 <= qt_pos <= self.qt_length:
            raise ValueError(f"Qt position {qt_pos} outside 0..{self.qt_length}")
        k = bisect_right(self._qts, qt_pos)
        return qt_pos - self._deltas[k - 1] if k else qt_pos

    def is_qt_boundary(self, qt_pos: int) -> bool:
        """False when ``qt_pos`` falls between the two surrogates of a character."""
        return self.to_qt(self.from_qt(qt_pos)) == qt_pos

    def qt_range(self, start_cp: int, end_cp: int) -> tuple[int, int]:
        """The Qt positions of the code point span ``start_cp..end_cp``."""
        return self.to_qt(start_cp), self.to_qt(end_cp)

    def from_qt_range(self, start: int, end: int) -> tuple[int, int]:
        """The code point span of a Qt selection, expanded outward so no character is split.

        The start snaps backward and the end forward (a selection ending between two surrogates
        includes that character). The arguments may come in either order (a cursor's anchor and
        position); the result is ordered.
        """
        if start > end:
            start, end = end, start
        start_cp = self.from_qt(start)
        end_cp = self.from_qt(end)
        if self.to_qt(end_cp) < end:
            end_cp += 1
        return start_cp, end_cp

    def block_offsets(
        self, block_position: int, block_length: int, start_cp: int, end_cp: int
    ) -> tuple[int, int] | None:
        """Where the span ``start_cp..end_cp`` falls in one block, for ``QSyntaxHighlighter``.

        ``block_position`` and ``block_length`` are ``QTextBlock.position()`` and
        ``QTextBlock.length()`` (which counts the block's separator). Returns ``(start, count)``
        in UTF-16 units from the block's start, ready for ``setFormat``, clipped to the block's
        text (the separator is never included); None when the span has nothing in this block.
        """
        qt_start, qt_end = self.qt_range(start_cp, end_cp)
        lo = max(qt_start, block_position)
        hi = min(qt_end, block_position + block_length - 1)
        if hi <= lo:
            return None
        return lo - block_position, hi - lo
