"""Training the project's NER model: it learns, it scores itself honestly, it is reproducible, and
it writes a pipeline folder whole or not at all."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from annotator.core.errors import AnnotatorError, InputError
from annotator.nlp.suggest import PipelineSuggester
from annotator.nlp.train import TrainDoc, TrainResult, train_ner


def _articles_module() -> ModuleType:
    name = "annotator_test_articles"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("articles.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


gen = _articles_module()


def train_docs(arts: list) -> list[TrainDoc]:
    return [TrainDoc(a.doc_id, a.text, a.entities) for a in arts]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("model") / "ner"
    return train_ner(train_docs(gen.articles(100, seed=1)), "en", out, eval_split=0.2, seed=0)


def test_scores_on_the_held_out_articles(trained: TrainResult) -> None:
    assert trained.train_docs == 80 and trained.eval_docs == 20
    assert set(trained.labels) == {"PERSON", "ORG", "GPE"}
    assert set(trained.per_label) == {"PERSON", "ORG", "GPE"}
    assert trained.overall is not None
    assert trained.overall.f > 0.8
    assert sum(s.gold for s in trained.per_label.values()) == trained.overall.gold == trained.eval_entities
    for scores in trained.per_label.values():
        assert 0 <= scores.precision <= 1 and 0 <= scores.recall <= 1 and 0 <= scores.f <= 1
    assert 1 <= trained.epochs <= 20 and len(trained.losses) == trained.epochs


def test_the_saved_pipeline_finds_known_names_in_new_contexts(trained: TrainResult) -> None:
    import spacy

    assert spacy.load(trained.out_dir).pipe_names == ["ner"]
    held_out = gen.articles(40, seed=99, templates=gen.HELDOUT_TEMPLATES, prefix="h")
    suggester = PipelineSuggester(trained.out_dir, labels=["PERSON", "ORG", "GPE"])
    predicted = [
        [(s.start, s.end, s.label) for s in found]
        for found in suggester.suggest_many(a.text for a in held_out)
    ]
    gold = [a.entities for a in held_out]
    f = gen.prf(gold, predicted)
    baseline = gen.prf(gold, [gen.capitalised_baseline(a.text) for a in held_out])
    assert f > 0.5
    assert f > baseline + 0.3, (f, baseline)


def test_the_same_seed_gives_the_same_model_and_another_seed_another_split(tmp_path: Path) -> None:
    docs = train_docs(gen.articles(30, seed=2))
    a = train_ner(docs, "en", tmp_path / "a", seed=7, n_iter=2)
    b = train_ner(docs, "en", tmp_path / "b", seed=7, n_iter=2)
    assert a.losses == b.losses
    assert a.overall == b.overall and a.per_label == b.per_label
    assert (tmp_path / "a" / "ner" / "model").read_bytes() == (tmp_path / "b" / "ner" / "model").read_bytes()
    c = train_ner(docs, "en", tmp_path / "c", seed=8, n_iter=1)
    assert c.eval_docs == a.eval_docs == 6
    import spacy

    held = lambda path: spacy.load(path).meta["annotator"]["seed"]  # noqa: E731
    assert held(tmp_path / "a") == 7 and held(tmp_path / "c") == 8


def test_spans_are_aligned_to_tokens_and_overlaps_resolved_longest_first(tmp_path: Path) -> None:
    text = "Anna Keller of Northwind Bank spoke in Tokyo.\n\nMore later."
    docs = [
        TrainDoc(
            "x",
            text,
            [
                (0, 11, "PERSON"),
                (15, 29, "ORG"),  # Northwind Bank
                (25, 29, "ORG"),  # Bank: overlaps the longer span, left out
                (40, 44, "GPE"),  # "okyo": inside a token, widened to Tokyo
                (45, 47, "GPE"),  # "\n\n": whitespace only
            ],
        ),
        TrainDoc("y", "Nothing to see here.", []),
    ]
    result = train_ner(docs, "en", tmp_path / "m", eval_split=0, n_iter=1)
    assert (result.expanded, result.dropped_overlaps, result.dropped_unaligned) == (1, 1, 1)
    assert result.train_entities == 3
    assert result.overall is None and result.per_label == {} and result.eval_docs == 0


def test_progress_reaches_the_total_and_stopping_it_writes_nothing(tmp_path: Path) -> None:
    docs = train_docs(gen.articles(12, seed=3))
    seen: list[tuple[int, int]] = []
    train_ner(docs, "en", tmp_path / "m", n_iter=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == 2 * 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_ner(docs, "en", tmp_path / "stopped", n_iter=2, progress=stop)
    assert not (tmp_path / "stopped").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_training_again_replaces_an_earlier_pipeline_but_not_other_folders(tmp_path: Path) -> None:
    docs = train_docs(gen.articles(10, seed=4))
    out = tmp_path / "model"
    train_ner(docs, "en", out, n_iter=1)
    (out / "stale.txt").write_text("from the first training")
    train_ner(docs, "en", out, n_iter=1)
    assert not (out / "stale.txt").exists() and (out / "config.cfg").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and holds no spaCy pipeline"):
        train_ner(docs, "en", notes, n_iter=1)
    assert (notes / "keep.txt").read_text() == "mine"


def test_nothing_to_train_on_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnnotatorError, match="nothing to train on"):
        train_ner([], "en", tmp_path / "m")
    with pytest.raises(AnnotatorError, match="have no entities"):
        train_ner([TrainDoc("a", "No names.", []), TrainDoc("b", "None here.", [])], "en", tmp_path / "m")
    with pytest.raises(InputError, match="eval-split"):
        train_ner(train_docs(gen.articles(3)), "en", tmp_path / "m", eval_split=1.0)
    assert not (tmp_path / "m").exists()
