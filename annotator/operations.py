"""What the command line and the GUI do with a project: import and export files, suggest entities,
train the project's model.

This is where formats, tokens, suggesters and the store meet; none of them knows the others.
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from annotator.core.errors import AnnotatorError, InputError
from annotator.core.model import Status, Token
from annotator.formats.base import ReadItem, Record
from annotator.formats.registry import detect_format, get_format
from annotator.store.project import ImportReport, Project

if TYPE_CHECKING:
    from annotator.nlp.suggest import Suggester
    from annotator.nlp.train import TrainResult

Progress = Callable[[int, int | None], None]
_T = TypeVar("_T")
DEFAULT_EXPORT_DIR = Path("exports")


@dataclass
class ExportReport:
    paths: list[Path]  # one file, or the train and dev files of a split
    records: int
    format: str
    warnings: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.paths[0]


def import_paths(
    project: Project,
    paths: Iterable[Path],
    *,
    format: str = "auto",
    annotator: str | None = None,
    skip_invalid: bool = False,
    strict_labels: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import files and folders in one transaction (all or nothing unless `skip_invalid`)."""
    paths = list(paths)
    for path in paths:
        if not path.exists():
            raise InputError("no such file or folder", path=path)
    language = project.scheme.language

    def tokenizer(text: str) -> list[Token]:
        from annotator.nlp.tokens import tokenize

        return tokenize(text, language)

    def items() -> Iterator[ReadItem]:
        for path in paths:
            fmt = get_format(detect_format(path) if format == "auto" else format)
            for item in fmt.read(path, annotator):
                if annotator is not None and isinstance(item, Record):
                    for ann in item.annotations:
                        ann.annotator = annotator
                yield item

    def on_record(count: int) -> None:
        if progress is not None:
            progress(count, None)

    return project.import_records(
        items(),
        tokenizer=tokenizer,
        skip_invalid=skip_invalid,
        strict_labels=strict_labels,
        progress=on_record,
    )


def default_export_path(format: str, directory: Path = DEFAULT_EXPORT_DIR) -> Path:
    fmt = get_format(format, for_export=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return directory / f"annotations-{stamp}{fmt.suffix}"


def export_project(
    project: Project,
    out: Path | None,
    *,
    format: str = "native",
    annotator: str | None = None,
    include_all: bool = False,
    split: float | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> ExportReport:
    """Stream annotations into a file: done ones by default, every one (with status) with
    `include_all`. Each file appears whole or not at all.

    With `split` (the share of documents for training, 0 < split < 1), two files are written,
    `NAME-train.EXT` and `NAME-dev.EXT`; documents are shuffled with `seed`, and all annotations of a
    document land in the same file.
    """
    fmt = get_format(format, for_export=True)
    if out is None:
        out = default_export_path(format)
    elif out.is_dir():
        out = default_export_path(format, out)
    if split is not None and not 0 < split < 1:
        raise InputError(f"--split must be between 0 and 1 (the share for training), not {split}")
    statuses = None if include_all else {Status.DONE}
    total = project.document_count()
    done = 0
    warnings: list[str] = []

    language = project.scheme.language

    def kept(items: Iterable[_T], doc_id: Callable[[_T], str], keep: Callable[[str], bool]) -> Iterator[_T]:
        nonlocal done
        for item in items:
            done += 1
            if progress is not None:
                progress(done, total if split is None else 2 * total)
            if keep(doc_id(item)):
                yield item

    def write(keep: Callable[[str], bool]) -> Callable[[BinaryIO], int]:
        def run(fh: BinaryIO) -> int:
            if fmt.name == "native":
                # The native writer takes plain data straight from the store, without models.
                from annotator.formats.native import write_native_plain

                plain = project.plain_records(
                    annotator=annotator, statuses=statuses, include_unannotated=include_all
                )
                return write_native_plain(kept(plain, _plain_id, keep), fh)
            records = project.records(annotator=annotator, statuses=statuses, include_unannotated=include_all)
            return fmt.write(kept(records, _record_id, keep), fh, warnings, language)

        return run

    if split is None:
        written = _write_atomically(out, write(lambda _: True))
        return ExportReport([out], written, format, warnings)
    train_ids = _train_documents(project, split, seed, annotator, statuses, include_all)
    stem, suffix = out.name.removesuffix(out.suffix), out.suffix or fmt.suffix
    train, dev = out.with_name(f"{stem}-train{suffix}"), out.with_name(f"{stem}-dev{suffix}")
    written = _write_atomically(train, write(train_ids.__contains__))
    written += _write_atomically(dev, write(lambda i: i not in train_ids))
    return ExportReport([train, dev], written, format, warnings)


def _record_id(record: Record) -> str:
    return record.document.id


def _plain_id(record: tuple[dict[str, Any], Any, Any]) -> str:
    return str(record[0]["id"])


def _train_documents(
    project: Project,
    split: float,
    seed: int,
    annotator: str | None,
    statuses: set[Status] | None,
    include_all: bool,
) -> set[str]:
    ids = project.document_ids(annotator=annotator, statuses=statuses, include_unannotated=include_all)
    random.Random(seed).shuffle(ids)
    return set(ids[: round(len(ids) * split)])


def _write_atomically(out: Path, write: Callable[[BinaryIO], int]) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            written = write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written


# -- suggestions and the project's model ------------------------------------------------------------

# Where `train` recorded the pipeline it wrote; `suggest --project-model` loads it.
PROJECT_MODEL_SETTING = "project_model"
# A JSON object mapping a pipeline's labels to the scheme's (null drops one), e.g. {"FAC": "GPE"}.
LABEL_MAP_SETTING = "suggest_label_map"
PROJECT_MODEL_SOURCE = "project model"
_SUGGEST_CHUNK = 32


@dataclass
class SuggestReport:
    documents: int = 0  # articles the suggester ran on
    skipped: int = 0  # articles left out because work on them has started
    stored: int = 0  # suggestions stored (a re-run replaces those of the same sources)
    by_label: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)  # by the source's label: the scheme lacks it
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def project_model_path(project: Project) -> Path | None:
    """The project's own model: the folder the last `train` wrote, else `model/` next to the project
    file when it holds a pipeline; None when there is neither."""
    recorded = project.get_setting(PROJECT_MODEL_SETTING)
    if recorded:
        return Path(recorded)
    if project.file is not None:
        beside = project.file.parent / "model"
        if (beside / "config.cfg").is_file():
            return beside
    return None


def project_label_map(project: Project) -> dict[str, str | None] | None:
    from annotator.nlp.suggest import parse_label_map

    raw = project.get_setting(LABEL_MAP_SETTING)
    if raw is None:
        return None
    return parse_label_map(raw, f"the project setting {LABEL_MAP_SETTING}")


def build_suggester(
    project: Project,
    *,
    model: str | None = None,
    project_model: bool = False,
    patterns: Path | None = None,
) -> Suggester:
    """The suggester for a `suggest` run: a pipeline (installed or a folder), the project's model,
    a pattern file, or a pipeline and a pattern file together. With none named, the project's model
    when there is one. AnnotatorError, saying what to do, when nothing can suggest."""
    from annotator.nlp.suggest import (
        HOW_TO_GET_A_PIPELINE,
        CombinedSuggester,
        PatternSuggester,
        PipelineSuggester,
        installed_text,
    )

    if model is not None and project_model:
        raise InputError("give --model or --project-model, not both")
    scheme = project.scheme
    labels = scheme.label_names
    label_map = project_label_map(project)
    parts: list[Suggester] = []
    if model is None and (project_model or patterns is None):
        path = project_model_path(project)
        if path is None:
            if project_model:
                raise AnnotatorError(
                    "this project has no model yet: mark annotated articles as done, then run "
                    "`annotator train OUT_DIR`"
                )
            raise AnnotatorError(
                "nothing to suggest with: pass --model NAME_OR_PATH (an installed spaCy pipeline or a "
                "pipeline folder), --patterns FILE (spaCy EntityRuler JSONL), or --project-model after "
                f"`annotator train OUT_DIR`. {HOW_TO_GET_A_PIPELINE} {installed_text()}"
            )
        if not path.exists():
            raise AnnotatorError(
                f"{path}: the project's model is no longer there; run `annotator train OUT_DIR` again"
            )
        parts.append(
            PipelineSuggester(
                path, label_map, scheme.language, labels=labels, source_name=PROJECT_MODEL_SOURCE
            )
        )
    elif model is not None:
        parts.append(PipelineSuggester(model, label_map, scheme.language, labels=labels))
    if patterns is not None:
        parts.append(PatternSuggester(patterns, scheme.language, labels=labels, label_map=label_map))
    return parts[0] if len(parts) == 1 else CombinedSuggester(parts)


def suggest_project(
    project: Project,
    suggester: Suggester,
    *,
    only_unstarted: bool = False,
    annotator: str | None = None,
    progress: Progress | None = None,
) -> SuggestReport:
    """Run the suggester on the project's articles and store what it proposes; no annotation changes.

    Each article's earlier suggestions from the same sources are replaced. `only_unstarted` leaves
    out articles that `annotator` (or, without one, anybody) has started or finished.
    """
    from annotator.store.suggestions import store_suggestions

    started = time.perf_counter()
    report = SuggestReport(sources=list(suggester.sources))
    dropped_before = Counter(suggester.dropped)
    total = project.document_count()
    seen = 0
    sources = suggester.sources
    records = project.records(annotator=annotator, include_unannotated=True)
    for batch in _chunks(records, _SUGGEST_CHUNK):
        seen += len(batch)
        chunk = []
        for record in batch:
            if only_unstarted and any(a.status != Status.NOT_STARTED for a in record.annotations):
                report.skipped += 1
            else:
                chunk.append(record.document)
        found = suggester.suggest_many(d.text for d in chunk)
        for document, suggestions in zip(chunk, found, strict=True):
            report.stored += store_suggestions(project, document.id, suggestions, replace_sources=sources)
            report.by_label.update(s.label for s in suggestions)
            report.documents += 1
        if progress is not None:
            progress(seen, total)
    report.dropped = suggester.dropped - dropped_before
    report.warnings = list(suggester.warnings)
    report.seconds = time.perf_counter() - started
    return report


def _chunks(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def train_project_model(
    project: Project,
    out_dir: Path,
    *,
    eval_split: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
    n_iter: int | None = None,
) -> TrainResult:
    """Train a named-entity model on the articles marked done (every annotator's), score it on a
    held-out share, save it to `out_dir` and make it the project's model. When enough of those
    articles carry stances towards topics, a stance classifier is trained too and saved to
    `out_dir/stance` (`result.stance`); otherwise `result.stance_note` says why not."""
    from annotator.core.model import TopicRef
    from annotator.nlp.train import (
        DEFAULT_EPOCHS,
        STANCE_DIR,
        STANCE_MIN_EXAMPLES,
        StanceDoc,
        TrainDoc,
        stance_examples_count,
        train_ner,
        train_stance_classifier,
    )

    records = list(project.records(statuses={Status.DONE}))
    docs = [
        TrainDoc(record.document.id, record.document.text, [(e.start, e.end, e.label) for e in ann.entities])
        for record in records
        for ann in record.annotations
    ]
    stance_docs = [
        StanceDoc(
            record.document.id,
            record.document.text,
            [(d.target.topic, d.polarity) for d in ann.doc_stances if isinstance(d.target, TopicRef)],
        )
        for record in records
        for ann in record.annotations
    ]
    result = train_ner(
        docs,
        project.scheme.language,
        out_dir,
        eval_split=eval_split,
        seed=seed,
        progress=progress,
        n_iter=n_iter or DEFAULT_EPOCHS,
    )
    stance = train_stance_classifier(
        stance_docs,
        project.scheme.language,
        result.out_dir / STANCE_DIR,
        eval_split=eval_split,
        seed=seed,
        n_iter=n_iter or DEFAULT_EPOCHS,
        min_examples=STANCE_MIN_EXAMPLES,
    )
    result.stance = stance
    if stance is None:
        found = stance_examples_count(stance_docs)
        result.stance_note = (
            f"not enough examples: {found} of {STANCE_MIN_EXAMPLES} articles with stances towards topics"
        )
    project.set_setting(PROJECT_MODEL_SETTING, str(result.out_dir.resolve()))
    return result
