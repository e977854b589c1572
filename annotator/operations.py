"""What the command line and the GUI do with a project: import files and export them.

This is where formats, tokens and the store meet; neither of them knows the others.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from annotator.core.errors import InputError
from annotator.core.model import Status, Token
from annotator.formats.base import ReadItem, Record
from annotator.formats.registry import detect_format, get_format
from annotator.store.project import ImportReport, Project

Progress = Callable[[int, int | None], None]
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
            assert fmt.read is not None
            for item in fmt.read(path):
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

    write = fmt.write
    assert write is not None

    def records(keep: Callable[[str], bool]) -> Iterator[Record]:
        nonlocal done
        for record in project.records(
            annotator=annotator, statuses=statuses, include_unannotated=include_all
        ):
            done += 1
            if progress is not None:
                progress(done, total if split is None else 2 * total)
            if keep(record.document.id):
                yield record

    if split is None:
        written = _write_atomically(out, lambda fh: write(records(lambda _: True), fh, warnings))
        return ExportReport([out], written, format, warnings)
    train_ids = _train_documents(project, split, seed, annotator, statuses, include_all)
    stem, suffix = out.name.removesuffix(out.suffix), out.suffix or fmt.suffix
    train, dev = out.with_name(f"{stem}-train{suffix}"), out.with_name(f"{stem}-dev{suffix}")
    written = _write_atomically(train, lambda fh: write(records(train_ids.__contains__), fh, warnings))
    written += _write_atomically(dev, lambda fh: write(records(lambda i: i not in train_ids), fh, warnings))
    return ExportReport([train, dev], written, format, warnings)


def _train_documents(
    project: Project,
    split: float,
    seed: int,
    annotator: str | None,
    statuses: set[Status] | None,
    include_all: bool,
) -> set[str]:
    ids = [
        r.document.id
        for r in project.records(annotator=annotator, statuses=statuses, include_unannotated=include_all)
    ]
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
