"""On demand: `pytest tests/benchmarks -m benchmark -s` prints the figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("core_bench", Path(__file__).with_name("core_bench.py"))
assert _spec is not None and _spec.loader is not None
core_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core_bench)


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
def test_import_export_and_edit_figures() -> None:
    figures = core_bench.run(10_000)
    print(json.dumps(figures, indent=2))
    assert figures["export"]["records"] == 10_000
    # Goals from the issues: a durable edit within 10x of a bare SQLite commit.
    assert figures["edit"]["median_ms"] < 10 * figures["edit"]["floor_median_ms"]
