"""Train a spaCy named-entity recognizer from finished annotations and score it on held-out articles.

The result is an ordinary spaCy pipeline folder (`spacy.load(out_dir)` loads it), written whole or
not at all. The same records, language and seed give the same split and the same model.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.errors import AnnotatorError, InputError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span
    from spacy.training import Example

TrainProgress = Callable[[int, int], None]

DEFAULT_EPOCHS = 20
# An epoch whose loss is under this share of the first epoch's means the model fits the training
# articles; more epochs barely change it (measured: F on held-out articles stays flat).
CONVERGED_LOSS_SHARE = 0.01
DROPOUT = 0.2
PIPELINE_NAME = "project_ner"


@dataclass(frozen=True)
class TrainDoc:
    """One annotated article: its id (the split never puts one article on both sides), the exact
    text and its entity spans as (start, end, label) in code points."""

    doc_id: str
    text: str
    entities: Sequence[tuple[int, int, str]]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f: float
    gold: int  # entities of this label in the held-out articles


@dataclass
class TrainResult:
    out_dir: Path
    labels: list[str]
    per_label: dict[str, Scores]
    overall: Scores | None  # None without held-out articles (eval_split 0) or entities in them
    train_docs: int
    eval_docs: int
    train_entities: int
    eval_entities: int
    epochs: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    expanded: int = 0  # spans widened to token boundaries (they started or ended inside a token)
    dropped_overlaps: int = 0  # spans left out because a longer one overlaps them
    dropped_unaligned: int = 0  # spans that cover no token but whitespace
    stance: StanceResult | None = None  # the article-stance classifier, when one was trained
    stance_note: str = ""  # why none was trained (e.g. not enough examples)


@dataclass
class _Conversion:
    expanded: int = 0
    dropped_overlaps: int = 0
    dropped_unaligned: int = 0


def train_ner(
    records: Iterable[TrainDoc],
    language: str,
    out_dir: str | Path,
    *,
    eval_split: float = 0.2,
    seed: int = 0,
    progress: TrainProgress | None = None,
    n_iter: int = DEFAULT_EPOCHS,
) -> TrainResult:
    """Train spaCy's `ner` on the records, score it on a held-out share of them, save it to `out_dir`.

    Articles are shuffled with `seed`; `eval_split` of them (at least one when the share is above 0
    and there are two or more) are held out for scoring. Up to `n_iter` epochs run; training stops
    sooner once it fits the training articles (an epoch's loss under 1% of the first's).

    Spans are aligned with `Doc.char_span`, strictly first, else widened to the tokens they touch.
    NER cannot learn overlapping spans: of spans that overlap, the longest is kept (the first of
    equal length), as `spacy.util.filter_spans` does.

    `progress(done, total)` is called with training examples seen; raising from it stops training
    and nothing is written.
    """
    from spacy.util import compounding, fix_random_seed

    started = time.perf_counter()
    if not 0 <= eval_split < 1:
        raise InputError(f"--eval-split must be at least 0 and below 1 (the share held out): {eval_split}")
    if n_iter < 1:
        raise InputError(f"the number of epochs must be at least 1, not {n_iter}")
    out = Path(out_dir)
    _check_out_dir(out)
    docs = list(records)
    if not docs:
        raise AnnotatorError("nothing to train on: no articles with finished (done) annotations")

    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = _blank(language)
    nlp.max_length = max([nlp.max_length, *(len(d.text) + 1 for d in docs)])
    conversion = _Conversion()
    examples = [(d.doc_id, _example(nlp, d, conversion)) for d in docs]
    train, held_out = _split(examples, eval_split, rng)
    train_entities = sum(len(ex.reference.ents) for ex in train)
    if train_entities == 0:
        raise AnnotatorError(
            f"nothing to train on: the {len(train)} training articles have no entities "
            "(mark articles with entities as done)"
        )
    nlp.add_pipe("ner")
    losses_by_epoch = _update_until_converged(
        nlp, train, rng, "ner", n_iter, lambda: compounding(4.0, 32.0, 1.001), progress
    )

    per_label, overall = _evaluate(nlp, held_out)
    labels = sorted(nlp.get_pipe("ner").labels)  # type: ignore[attr-defined]
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["description"] = "Named entities learnt from a project's finished annotations."
    if overall is not None:
        nlp.meta["performance"] = {
            "ents_p": overall.precision,
            "ents_r": overall.recall,
            "ents_f": overall.f,
            "ents_per_type": {k: {"p": v.precision, "r": v.recall, "f": v.f} for k, v in per_label.items()},
        }
    nlp.meta["annotator"] = {
        "train_docs": len(train),
        "eval_docs": len(held_out),
        "seed": seed,
        "eval_split": eval_split,
        "epochs": len(losses_by_epoch),
    }
    _save(nlp, out)
    return TrainResult(
        out_dir=out,
        labels=labels,
        per_label=per_label,
        overall=overall,
        train_docs=len(train),
        eval_docs=len(held_out),
        train_entities=train_entities,
        eval_entities=sum(len(ex.reference.ents) for ex in held_out),
        epochs=len(losses_by_epoch),
        seconds=time.perf_counter() - started,
        losses=losses_by_epoch,
        expanded=conversion.expanded,
        dropped_overlaps=conversion.dropped_overlaps,
        dropped_unaligned=conversion.dropped_unaligned,
    )


def _blank(language: str) -> Language:
    from annotator.nlp.tokens import _load_blank

    # A pipeline of its own: the shared tokenizer pipeline must stay bare.
    return _load_blank(language)


def _example(nlp: Language, record: TrainDoc, conv: _Conversion) -> Example:
    from spacy.training import Example
    from spacy.util import filter_spans

    reference = nlp.make_doc(record.text)
    spans: list[Span] = []
    for start, end, label in record.entities:
        span = reference.char_span(start, end, label=label)
        if span is None:
            span = reference.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                conv.expanded += 1
        span = _trim_space(reference, span)
        if span is None:
            conv.dropped_unaligned += 1
            continue
        spans.append(span)
    kept = filter_spans(spans)
    conv.dropped_overlaps += len(spans) - len(kept)
    reference.ents = kept  # every other token is outside any entity
    return Example(nlp.make_doc(record.text), reference)


def _trim_space(doc: Doc, span: Span | None) -> Span | None:
    """The span without whitespace tokens at its ends (NER refuses entities that start or end on one)."""
    if span is None:
        return None
    start, end = span.start, span.end
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    if start == end:
        return None
    if (start, end) == (span.start, span.end):
        return span
    from spacy.tokens import Span

    return Span(doc, start, end, label=span.label_)


def _split(
    examples: list[tuple[str, Example]], eval_split: float, rng: random.Random
) -> tuple[list[Example], list[Example]]:
    ids = list(dict.fromkeys(doc_id for doc_id, _ in examples))
    rng.shuffle(ids)
    n_eval = round(len(ids) * eval_split)
    if eval_split > 0 and len(ids) >= 2:
        n_eval = min(max(n_eval, 1), len(ids) - 1)
    held = set(ids[:n_eval])
    train = [ex for doc_id, ex in examples if doc_id not in held]
    held_out = [ex for doc_id, ex in examples if doc_id in held]
    return train, held_out


def _update_until_converged(
    nlp: Any,
    train: list[Any],
    rng: random.Random,
    pipe: str,
    n_iter: int,
    batch_size: Callable[[], Any],
    progress: Any,
) -> list[float]:
    """Train for up to n_iter epochs, stopping once an epoch's loss falls under a small share of the
    first's; the loss of each epoch, in order."""
    from spacy.util import minibatch

    optimizer = nlp.initialize(lambda: train)
    total = len(train) * n_iter
    seen = 0
    losses_by_epoch: list[float] = []
    for _epoch in range(n_iter):
        rng.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=batch_size()):
            nlp.update(batch, drop=DROPOUT, sgd=optimizer, losses=losses)
            seen += len(batch)
            if progress is not None:
                progress(seen, total)
        losses_by_epoch.append(float(losses.get(pipe, 0.0)))
        if losses_by_epoch[-1] <= CONVERGED_LOSS_SHARE * losses_by_epoch[0]:
            break
    if progress is not None and seen < total:
        progress(total, total)
    return losses_by_epoch


def _evaluate(nlp: Language, held_out: list[Example]) -> tuple[dict[str, Scores], Scores | None]:
    if not held_out:
        return {}, None
    gold = Counter(ent.label_ for ex in held_out for ent in ex.reference.ents)
    scores = nlp.evaluate(held_out)
    per_type: dict[str, dict[str, float]] = scores.get("ents_per_type") or {}
    per_label = {
        label: Scores(float(v["p"]), float(v["r"]), float(v["f"]), gold.get(label, 0))
        for label, v in sorted(per_type.items())
    }
    if scores.get("ents_f") is None or (not gold and not per_label):
        return per_label, None
    overall = Scores(
        float(scores["ents_p"]), float(scores["ents_r"]), float(scores["ents_f"]), sum(gold.values())
    )
    return per_label, overall


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", path=out)
    if out.is_dir() and any(out.iterdir()) and not _is_pipeline(out):
        raise InputError(
            "the folder is not empty and holds no spaCy pipeline; choose an empty or new folder "
            "(a pipeline folder from an earlier training is replaced)",
            path=out,
        )


def _is_pipeline(path: Path) -> bool:
    return (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def _save(nlp: Language, out: Path) -> None:
    """Write the pipeline next to `out`, then swap it in: `out` holds the old pipeline or the new one."""
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    old: Path | None = None
    try:
        nlp.to_disk(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        if old is not None and not out.exists():
            old.rename(out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- article stance towards topics ------------------------------------------------------------------

STANCE_DIR = "stance"
STANCE_PIPELINE_NAME = "project_stance"
STANCE_MIN_EXAMPLES = 20
STANCE_THRESHOLD = 0.5


@dataclass(frozen=True)
class StanceDoc:
    """One annotated article and its stances towards topics as (topic, polarity)."""

    doc_id: str
    text: str
    stances: Sequence[tuple[str, str]]


@dataclass
class StanceResult:
    out_dir: Path
    labels: list[str]  # "<topic>:<POLARITY>"
    per_label: dict[str, Scores]  # gold: held-out articles carrying the label
    overall: Scores | None  # micro-averaged; None without held-out articles
    train_docs: int
    eval_docs: int
    epochs: int
    seconds: float
    losses: list[float] = field(default_factory=list)


def stance_label(topic: str, polarity: str) -> str:
    return f"{topic}:{polarity}"


def stance_examples_count(docs: Iterable[StanceDoc]) -> int:
    """How many distinct articles carry at least one topic stance."""
    return len({d.doc_id for d in docs if d.stances})


def train_stance_classifier(
    docs: Iterable[StanceDoc],
    language: str,
    out_dir: str | Path,
    *,
    eval_split: float = 0.2,
    seed: int = 0,
    progress: TrainProgress | None = None,
    n_iter: int = DEFAULT_EPOCHS,
    min_examples: int = STANCE_MIN_EXAMPLES,
) -> StanceResult | None:
    """Train a spaCy `textcat_multilabel` on articles' stances towards topics; save it to `out_dir`.

    Only stances whose target is a topic are learnt: a stance towards an entity names an entity of
    that one article, so it is no label another article could carry. Each label is
    "<topic>:<POLARITY>"; an article is an example when it carries at least one topic stance, and
    every label it does not carry counts as absent. Returns None when fewer than `min_examples`
    articles carry topic stances (nothing is written then).

    The split is by article id, shuffled with `seed` (as `train_ner` does), and the held-out
    articles are scored per label with spaCy's Scorer at threshold 0.5. The same records and seed
    give the same model. `progress(done, total)` is called with training examples seen.
    """
    from spacy.training import Example
    from spacy.util import fix_random_seed

    started = time.perf_counter()
    if not 0 <= eval_split < 1:
        raise InputError(f"--eval-split must be at least 0 and below 1 (the share held out): {eval_split}")
    if n_iter < 1:
        raise InputError(f"the number of epochs must be at least 1, not {n_iter}")
    out = Path(out_dir)
    records = [d for d in docs if d.stances]
    if stance_examples_count(records) < min_examples:
        return None
    _check_out_dir(out)

    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = _blank(language)
    nlp.max_length = max([nlp.max_length, *(len(d.text) + 1 for d in records)])
    labels = sorted({stance_label(t, p) for d in records for t, p in d.stances})
    examples: list[tuple[str, Example]] = []
    for d in records:
        carried = {stance_label(t, p) for t, p in d.stances}
        cats = {label: 1.0 if label in carried else 0.0 for label in labels}
        examples.append((d.doc_id, Example.from_dict(nlp.make_doc(d.text), {"cats": cats})))
    train, held_out = _split(examples, eval_split, rng)
    # spaCy's default: word vectors learnt in context plus bag of words; it generalises from few
    # articles better than bag of words alone (measured on generated articles).
    textcat = nlp.add_pipe("textcat_multilabel", config={"threshold": STANCE_THRESHOLD})
    for label in labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    losses_by_epoch = _update_until_converged(
        nlp, train, rng, "textcat_multilabel", n_iter, lambda: 8, progress
    )

    per_label, overall = _evaluate_stance(nlp, held_out, labels)
    nlp.meta["name"] = STANCE_PIPELINE_NAME
    nlp.meta["description"] = "Article stances towards topics learnt from a project's finished annotations."
    if overall is not None:
        nlp.meta["performance"] = {
            "cats_micro_p": overall.precision,
            "cats_micro_r": overall.recall,
            "cats_micro_f": overall.f,
            "cats_f_per_type": {k: {"p": v.precision, "r": v.recall, "f": v.f} for k, v in per_label.items()},
        }
    nlp.meta["annotator"] = {
        "train_docs": len(train),
        "eval_docs": len(held_out),
        "seed": seed,
        "eval_split": eval_split,
        "epochs": len(losses_by_epoch),
        "threshold": STANCE_THRESHOLD,
    }
    _save(nlp, out)
    return StanceResult(
        out_dir=out,
        labels=labels,
        per_label=per_label,
        overall=overall,
        train_docs=len(train),
        eval_docs=len(held_out),
        epochs=len(losses_by_epoch),
        seconds=time.perf_counter() - started,
        losses=losses_by_epoch,
    )


def _evaluate_stance(
    nlp: Language, held_out: list[Example], labels: list[str]
) -> tuple[dict[str, Scores], Scores | None]:
    if not held_out:
        return {}, None
    from spacy.scorer import Scorer

    predicted = [
        type(ex)(doc, ex.reference)
        for ex, doc in zip(held_out, nlp.pipe(ex.predicted.text for ex in held_out), strict=True)
    ]
    scores = Scorer.score_cats(predicted, "cats", labels=labels, multi_label=True, threshold=STANCE_THRESHOLD)
    per_type: dict[str, dict[str, float]] = scores.get("cats_f_per_type") or {}
    gold = Counter(label for ex in held_out for label, v in ex.reference.cats.items() if v >= 0.5)
    per_label = {
        label: Scores(float(v["p"]), float(v["r"]), float(v["f"]), gold.get(label, 0))
        for label, v in sorted(per_type.items())
    }
    tp = fp = fn = 0
    for ex in predicted:
        for label in labels:
            g = ex.reference.cats.get(label, 0.0) >= 0.5
            p = ex.predicted.cats.get(label, 0.0) >= STANCE_THRESHOLD
            tp += g and p
            fp += p and not g
            fn += g and not p
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return per_label, Scores(precision, recall, f, sum(gold.values()))
