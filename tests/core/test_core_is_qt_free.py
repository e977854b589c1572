"""The core imports neither Qt, the GUI, spaCy nor the store: proven in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = ("PySide6", "shiboken6", "annotator.gui", "spacy", "sqlalchemy")

CHECK = (
    "import annotator.core.model, annotator.core.edits, annotator.core.session, annotator.core.scheme, sys; "
    "bad=[m for m in sys.modules "
    "if m.startswith(('PySide6','shiboken6','annotator.gui','spacy','sqlalchemy'))]; "
    "assert not bad, bad"
)

CHECK_ALL = (
    "import annotator, annotator.core, annotator.core.model, annotator.core.edits, annotator.core.session, "
    "annotator.core.scheme, annotator.core.rules, annotator.core.errors, annotator.core.validation, sys; "
    "from annotator.core.scheme import default_scheme; default_scheme(); "
    f"bad=[m for m in sys.modules if m.startswith({FORBIDDEN!r})]; "
    "assert not bad, bad"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_core_imports_no_qt() -> None:
    result = _run(CHECK)
    assert result.returncode == 0, result.stderr


def test_every_core_module_and_the_default_scheme_stay_qt_free() -> None:
    result = _run(CHECK_ALL)
    assert result.returncode == 0, result.stderr


def test_the_check_would_catch_qt() -> None:
    # Guards the guard: the same check fails once Qt is imported.
    result = _run("import PySide6.QtCore; " + CHECK)
    assert result.returncode != 0
    assert "PySide6" in result.stderr
