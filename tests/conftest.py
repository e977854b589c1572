"""Test-wide setup.

With ANNOTATOR_BLOCK_QT=1, importing Qt fails, which proves that the core runs without Qt
(CI runs the core tests that way).
"""

from __future__ import annotations

import importlib.abc
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class _BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".")[0] in ("PySide6", "shiboken6"):
            raise ImportError(f"{fullname} is blocked: these tests must run without Qt")
        return None


if os.environ.get("ANNOTATOR_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _BlockQt())
