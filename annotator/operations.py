"""What the command line and the GUI do with a project: import files and export them.

This is where formats, tokens and the store meet; neither of them knows the others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.model import Status, Token
from annotator.formats.base import ReadItem, Record
from annotator.formats.registry import detect_format, get_format
from annotator.store.project import ImportReport, Project

Progress = Callable[[int, int | None], None]
DEFAULT_EXPORT_DIR = Path("exports")


@dataclass
class ExportReport:
    path: Path
    records: int
    format: str


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
    progress: Progress | None = None,
) -> ExportReport:
    """Stream annotations into a file: done ones by default, every one (with status) with
    `include_all`. The file appears whole or not at all."""
    fmt = get_format(format, for_export=True)
    assert fmt.write is not None
    if out is None:
        out = default_export_path(format)
    elif out.is_dir():
        out = default_export_path(format, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    statuses = None if include_all else {Status.DONE}
    total = project.document_count()

    def records() -> Iterator[Record]:
        for count, record in enumerate(
            project.records(annotator=annotator, statuses=statuses, include_unannotated=include_all), start=1
        ):
            if progress is not None:
                progress(count, total)
            yield record

    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            written = fmt.write(records(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportReport(path=out, records=written, format=format)
