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
from typing import TYPE_CHECKING

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
    from spacy.util import compounding, fix_random_seed, minibatch

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
    optimizer = nlp.initialize(lambda: train)
    total = len(train) * n_iter
    seen = 0
    losses_by_epoch: list[float] = []
    for _epoch in range(n_iter):
        rng.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=compounding(4.0, 32.0, 1.001)):
            nlp.update(batch, drop=DROPOUT, sgd=optimizer, losses=losses)
            seen += len(batch)
            if progress is not None:
                progress(seen, total)
        losses_by_epoch.append(float(losses.get("ner", 0.0)))
        if losses_by_epoch[-1] <= CONVERGED_LOSS_SHARE * losses_by_epoch[0]:
            break
    if progress is not None and seen < total:
        progress(total, total)

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
