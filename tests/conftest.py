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


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Benchmarks record figures with `record_property("figure", {...})`; print them as one table."""
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == "figure" and getattr(report, "when", "call") == "call":
                    rows.append(value)
    if not rows:
        return
    terminalreporter.section("benchmark figures")
    header = f"{'what':<52} {'measured':>14} {'floor':>14} {'ratio':>7}  goal"
    terminalreporter.write_line(header)
    terminalreporter.write_line("-" * len(header))
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else ""
        floor, goal = row.get("floor", ""), row.get("goal", "")
        terminalreporter.write_line(f"{row['what']:<52} {row['measured']:>14} {floor:>14} {ratio:>7}  {goal}")
