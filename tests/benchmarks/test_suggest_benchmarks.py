"""On demand: `pytest tests/benchmarks -m benchmark -s` prints the figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("suggest_bench", Path(__file__).with_name("suggest_bench.py"))
assert _spec is not None and _spec.loader is not None
suggest_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suggest_bench)


@pytest.mark.benchmark
@pytest.mark.timeout(1800)
def test_training_and_suggestion_figures() -> None:
    figures = suggest_bench.run(200)
    print(json.dumps(figures, indent=2))
    assert (
        figures["f_new_contexts"]["project_model"]
        > figures["f_new_contexts"]["capitalised_words_baseline"] + 0.3
    )
    # A suggestion for a news-length article must not keep an annotator waiting.
    assert figures["project_model"]["long_article"]["median_ms"] < 500
