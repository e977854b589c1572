"""Light and dark themes: the application palette, a small style sheet, and the colours the article
view paints highlights with.

Entity highlights are the label's colour blended into the page colour, so the text on them keeps
the page's own text colour and stays readable in both themes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

LIGHT = "light"
DARK = "dark"


@dataclass(frozen=True)
class Theme:
    name: str
    window: str  # behind the panels
    surface: str  # the article page, lists
    raised: str  # headers, buttons
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    selection: str
    entity_alpha: float  # how much of a label's colour goes into its highlight
    overlap_alpha: float
    holder: str
    target: str

    @property
    def dark(self) -> bool:
        return self.name == DARK

    def color(self, name: str) -> QColor:
        return QColor(getattr(self, name))

    def highlight(self, colour: str, alpha: float | None = None) -> QColor:
        """A label's colour blended into the page: light and readable under the text."""
        return blend(colour, self.surface, self.entity_alpha if alpha is None else alpha)

    def ink(self, colour: str) -> QColor:
        """A label's colour as a line or outline: brightened on the dark page."""
        c = QColor(colour)
        return c.lighter(135) if self.dark else c


THEMES = {
    LIGHT: Theme(
        name=LIGHT,
        window="#f3f4f6",
        surface="#ffffff",
        raised="#fafafb",
        text="#1d2129",
        muted="#6a7280",
        border="#dfe2e7",
        accent="#2f6bd8",
        accent_text="#ffffff",
        selection="#b9d3fb",
        entity_alpha=0.24,
        overlap_alpha=0.42,
        holder="#7b3fe4",
        target="#0b8f7a",
    ),
    DARK: Theme(
        name=DARK,
        window="#111317",
        surface="#181b20",
        raised="#1f2329",
        text="#e3e6ea",
        muted="#8d96a3",
        border="#2b3038",
        accent="#5b93f5",
        accent_text="#0b0d10",
        selection="#2e4f86",
        entity_alpha=0.36,
        overlap_alpha=0.55,
        holder="#b28cff",
        target="#4fd6bd",
    ),
}


def theme_for(name: str | None) -> Theme:
    return THEMES.get(name or LIGHT, THEMES[LIGHT])


def blend(colour: str | QColor, base: str | QColor, alpha: float) -> QColor:
    c, b = QColor(colour), QColor(base)
    return QColor(
        round(c.red() * alpha + b.red() * (1 - alpha)),
        round(c.green() * alpha + b.green() * (1 - alpha)),
        round(c.blue() * alpha + b.blue() * (1 - alpha)),
    )


def mix(colours: list[QColor]) -> QColor:
    n = len(colours)
    return QColor(
        sum(c.red() for c in colours) // n,
        sum(c.green() for c in colours) // n,
        sum(c.blue() for c in colours) // n,
    )


# Fonts known to read well at length; the first one installed wins.
_READING_FAMILIES = ("Source Serif 4", "Charter", "Georgia", "Noto Serif", "DejaVu Serif")
_UI_FAMILIES = ("Inter", "Segoe UI", "SF Pro Text", "Cantarell", "Noto Sans", "DejaVu Sans")


@lru_cache(maxsize=1)
def _families() -> frozenset[str]:
    return frozenset(QFontDatabase.families())


def _first_installed(candidates: tuple[str, ...]) -> str | None:
    installed = _families()
    for name in candidates:
        if name in installed:
            return name
    return None


def reading_font(point_size: float = 12.0) -> QFont:
    family = _first_installed(_READING_FAMILIES)
    font = QFont(family) if family else QFont()
    if not family:
        font.setStyleHint(QFont.StyleHint.Serif)
    font.setPointSizeF(point_size)
    return font


def ui_font() -> QFont | None:
    family = _first_installed(_UI_FAMILIES)
    if family is None:
        return None
    font = QFont(family)
    font.setPointSizeF(10)
    return font


def palette(theme: Theme) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    p.setColor(role.Window, theme.color("window"))
    p.setColor(role.WindowText, theme.color("text"))
    p.setColor(role.Base, theme.color("surface"))
    p.setColor(role.AlternateBase, theme.color("raised"))
    p.setColor(role.Text, theme.color("text"))
    p.setColor(role.Button, theme.color("raised"))
    p.setColor(role.ButtonText, theme.color("text"))
    p.setColor(role.BrightText, QColor("#ffffff"))
    p.setColor(role.Highlight, theme.color("selection"))
    p.setColor(role.HighlightedText, theme.color("text"))
    p.setColor(role.ToolTipBase, theme.color("raised"))
    p.setColor(role.ToolTipText, theme.color("text"))
    p.setColor(role.PlaceholderText, theme.color("muted"))
    p.setColor(role.Link, theme.color("accent"))
    p.setColor(role.Mid, theme.color("border"))
    p.setColor(role.Midlight, theme.color("border"))
    p.setColor(role.Dark, theme.color("border"))
    p.setColor(role.Light, theme.color("raised"))
    p.setColor(role.Shadow, QColor("#000000"))
    muted = theme.color("muted")
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, muted)
    return p


def style_sheet(t: Theme) -> str:
    return f"""
QMainWindow, QDialog {{ background: {t.window}; }}
QSplitter::handle {{ background: {t.window}; }}
QStatusBar {{ background: {t.raised}; color: {t.muted}; border-top: 1px solid {t.border}; }}
QStatusBar QLabel {{ color: {t.muted}; padding: 0 8px; }}
QStatusBar QLabel#savedState {{ color: {t.text}; }}
QMenuBar {{ background: {t.raised}; border-bottom: 1px solid {t.border}; }}
QMenuBar::item {{ padding: 4px 10px; background: transparent; }}
QMenuBar::item:selected {{ background: {t.selection}; border-radius: 4px; }}
QMenu {{ background: {t.raised}; border: 1px solid {t.border}; padding: 4px; }}
QMenu::item {{ padding: 5px 28px 5px 22px; border-radius: 4px; }}
QMenu::item:selected {{ background: {t.selection}; }}
QMenu::separator {{ height: 1px; background: {t.border}; margin: 4px 8px; }}
QFrame#card {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 8px; }}
QLabel#cardTitle {{ color: {t.muted}; font-weight: 600; letter-spacing: 0.5px; }}
QLabel#docTitle {{ color: {t.text}; }}
QLabel#docMeta, QLabel#hint {{ color: {t.muted}; }}
QLineEdit, QComboBox {{
    background: {t.surface}; border: 1px solid {t.border}; border-radius: 6px; padding: 4px 8px;
    selection-background-color: {t.selection};
}}
QLineEdit:focus, QComboBox:focus {{ border: 1px solid {t.accent}; }}
QComboBox::drop-down {{ border: none; width: 18px; }}
QComboBox QAbstractItemView {{ background: {t.raised}; border: 1px solid {t.border}; }}
QListView, QTableWidget, QTreeView {{
    background: {t.surface}; border: none; outline: 0;
}}
QPushButton {{
    background: {t.raised}; border: 1px solid {t.border}; border-radius: 6px; padding: 5px 12px;
}}
QPushButton:hover {{ border-color: {t.accent}; }}
QPushButton:disabled {{ color: {t.muted}; }}
QPushButton#primary {{ background: {t.accent}; color: {t.accent_text}; border: none; }}
QPushButton#small {{ padding: 1px 8px; border-radius: 5px; }}
QProgressBar {{
    background: {t.border}; border: none; border-radius: 4px; height: 8px; text-align: center;
    color: transparent;
}}
QProgressBar::chunk {{ background: {t.accent}; border-radius: 4px; }}
QLabel#progressText {{ color: {t.muted}; }}
QPlainTextEdit#article {{ background: {t.surface}; border: none; }}
QWidget#articlePane {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 8px; }}
QWidget#header {{ background: {t.surface}; border-top-left-radius: 8px; border-top-right-radius: 8px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {t.border}; border-radius: 3px; min-height: 30px; }}
QScrollBar::handle:vertical:hover {{ background: {t.muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:horizontal {{ background: {t.border}; border-radius: 3px; min-width: 30px; }}
QHeaderView::section {{ background: {t.raised}; color: {t.muted}; border: none; padding: 4px; }}
QToolTip {{ background: {t.raised}; color: {t.text}; border: 1px solid {t.border}; padding: 4px; }}
"""


def apply_theme(app: QApplication, theme: Theme) -> None:
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(palette(theme))
    app.setStyleSheet(style_sheet(theme))
