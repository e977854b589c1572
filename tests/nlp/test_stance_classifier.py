"""The article-stance classifier: it learns topic stances from the words of an article, scores itself
on held-out articles, saves a loadable pipeline beside the NER model, and declines to train on too
few examples."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from annotator.cli import main
from annotator.core.model import Annotation, Document, DocumentStance, EntitySpan, Status, TopicRef
from annotator.formats.base import Record
from annotator.nlp.train import StanceDoc, StanceResult, train_stance_classifier
from annotator.store.project import Project


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

TOPIC = "tram line"
STANCE_SENTENCES = {
    "FAVOR": [
        "The council supports the tram line.",
        "Residents welcome the tram line and its new stops.",
        "Business owners say they back the tram line.",
    ],
    "AGAINST": [
        "The council opposes the tram line.",
        "Residents condemn the tram line and its new stops.",
        "Business owners say they reject the tram line.",
    ],
}


def stance_article(rng: random.Random, doc_id: str, polarity: str) -> tuple[gen.Article, str]:
    body = gen.article(rng, doc_id, sentences=(1, 3))
    said = " ".join(rng.sample(STANCE_SENTENCES[polarity], 2))
    return gen.Article(doc_id, f"{body.text} {said}", body.entities), polarity


def stance_articles(n: int, seed: int, prefix: str = "s") -> list[tuple[gen.Article, str]]:
    rng = random.Random(seed)
    return [stance_article(rng, f"{prefix}{i:04d}", "FAVOR" if i % 2 else "AGAINST") for i in range(n)]


def stance_docs(arts: list[tuple[gen.Article, str]]) -> list[StanceDoc]:
    return [StanceDoc(a.doc_id, a.text, [(TOPIC, polarity)]) for a, polarity in arts]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> StanceResult:
    out = tmp_path_factory.mktemp("model") / "stance"
    docs = stance_docs(stance_articles(40, seed=1))
    result = train_stance_classifier(docs, "en", out, eval_split=0.25, seed=0)
    assert result is not None
    return result


def test_learns_topic_stance_from_the_words_and_scores_held_out_articles(trained: StanceResult) -> None:
    assert trained.labels == ["tram line:AGAINST", "tram line:FAVOR"]
    assert trained.train_docs == 30 and trained.eval_docs == 10
    assert set(trained.per_label) == set(trained.labels)
    assert trained.overall is not None and trained.overall.f > 0.7  # chance is 0.5
    assert sum(s.gold for s in trained.per_label.values()) == trained.overall.gold == 10
    for scores in trained.per_label.values():
        assert scores.f > 0.7


def test_the_saved_pipeline_loads_and_predicts_new_articles(trained: StanceResult) -> None:
    import spacy

    nlp = spacy.load(trained.out_dir)
    assert nlp.pipe_names == ["textcat_multilabel"]
    new = stance_articles(20, seed=77, prefix="n")
    right = 0
    for (_, polarity), doc in zip(new, nlp.pipe(a.text for a, _ in new), strict=True):
        assert set(doc.cats) == set(trained.labels)
        right += max(doc.cats, key=lambda k: doc.cats[k]) == f"{TOPIC}:{polarity}"
    assert right / len(new) > 0.8


def test_the_same_seed_gives_the_same_scores(tmp_path: Path) -> None:
    docs = stance_docs(stance_articles(24, seed=2))
    a = train_stance_classifier(docs, "en", tmp_path / "a", seed=3, n_iter=3)
    b = train_stance_classifier(docs, "en", tmp_path / "b", seed=3, n_iter=3)
    assert a is not None and b is not None
    assert a.losses == b.losses and a.per_label == b.per_label and a.overall == b.overall


def test_too_few_examples_gives_none_and_writes_nothing(tmp_path: Path) -> None:
    docs = [*stance_docs(stance_articles(19, seed=3)), StanceDoc("x", "No stance here.", [])]
    assert train_stance_classifier(docs, "en", tmp_path / "m") is None
    assert not (tmp_path / "m").exists()
    assert train_stance_classifier(docs, "en", tmp_path / "m", min_examples=19, n_iter=1) is not None
    assert (tmp_path / "m" / "config.cfg").is_file()


def _record(a: gen.Article, polarity: str | None) -> Record:
    stances = [] if polarity is None else [DocumentStance(target=TopicRef(topic=TOPIC), polarity=polarity)]
    return Record(
        document=Document(id=a.doc_id, text=a.text),
        annotations=[
            Annotation(
                document_id=a.doc_id,
                annotator="gold",
                status=Status.DONE,
                entities=[EntitySpan(start=s, end=e, label=lb) for s, e, lb in a.entities],
                doc_stances=stances,
            )
        ],
    )


def test_cli_train_prints_the_stance_scores_or_why_there_are_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import spacy

    arts = stance_articles(40, seed=5)
    proj = tmp_path / "proj"
    with Project.open(proj) as p:
        p.import_records([_record(a, polarity) for a, polarity in arts])
    out_dir = tmp_path / "model"
    code = main(["--project", str(proj), "train", str(out_dir), "--seed", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Stance scores on 8 held-out articles" in out
    assert "\n  tram line:FAVOR" in out and "\n  tram line:AGAINST" in out
    assert out.index("Scores on") < out.index("Stance scores on")
    assert spacy.load(out_dir).pipe_names == ["ner"]
    assert spacy.load(out_dir / "stance").pipe_names == ["textcat_multilabel"]

    few = tmp_path / "few"
    with Project.open(few) as p:
        p.import_records([_record(a, pol if i < 5 else None) for i, (a, pol) in enumerate(arts[:8])])
    code = main(["--project", str(few), "train", str(tmp_path / "few-model"), "--seed", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Stance classifier not trained: not enough examples: 5 of 20" in out
    assert not (tmp_path / "few-model" / "stance").exists()
