"""The formats the command line and the GUI offer, and how `--format auto` tells them apart.

Each format is a module of `annotator.formats` with `read_<name>(path)`, `write_<name>(records, out)`
(optionally taking a `warnings` list for what it could not keep) and `sniff(head)`, which says from a
file's first bytes whether the file is in that format. Modules load only when used.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from annotator.core.errors import InputError
from annotator.formats.base import ReadItem, Record

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Format:
    name: str
    module: str  # in annotator.formats
    description: str
    suffix: str  # of exported files
    readable: bool = True
    writable: bool = True

    def _module(self) -> Any:
        return importlib.import_module(f"annotator.formats.{self.module}")

    def read(self, path: Path, annotator: str | None = None) -> Iterator[ReadItem]:
        """Read a file; `annotator` (from --annotator) goes to readers that take it, so that they can
        merge one text's records under that name before the store sees them."""
        reader = getattr(self._module(), f"read_{self.module.removesuffix('_docbin')}")
        if annotator is not None and "annotator" in inspect.signature(reader).parameters:
            return reader(path, annotator=annotator)
        return reader(path)

    def write(
        self, records: Iterable[Record], out: BinaryIO, warnings: list[str], language: str = "en"
    ) -> int:
        """Write the records; append to `warnings` what the format could not keep. `language` is the
        project's, for formats that may have to tokenize."""
        writer = getattr(self._module(), f"write_{self.module.removesuffix('_docbin')}")
        accepts = inspect.signature(writer).parameters
        options: dict[str, Any] = {}
        if "warnings" in accepts:
            options["warnings"] = warnings
        if "language" in accepts:
            options["language"] = language
        return int(writer(records, out, **options))

    def sniff(self, head: bytes) -> bool:
        sniff = getattr(self._module(), "sniff", None)
        return bool(sniff(head)) if sniff is not None else False


# In the order `--format auto` tries them: the most particular first.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "native",
            "native",
            "annotator's own JSONL: everything, one line per document and annotator",
            ".jsonl",
        ),
        Format("prodigy", "prodigy", "Prodigy JSONL (ner_manual, spans, relations, textcat)", ".jsonl"),
        Format(
            "doccano", "doccano", "doccano JSONL (sequence labelling, relations, classification)", ".jsonl"
        ),
        Format("spacy", "spacy_docbin", "spaCy DocBin (.spacy) for `spacy train`", ".spacy"),
        Format("conll", "conll", "CoNLL / IOB: one token and tag per line", ".conll"),
        Format(
            "text", "text", "plain-text articles: a .txt file, or a folder of them", ".txt", writable=False
        ),
    )
}


def import_formats() -> list[str]:
    return [name for name, f in FORMATS.items() if f.readable]


def export_formats() -> list[str]:
    return [name for name, f in FORMATS.items() if f.writable]


def get_format(name: str, *, for_export: bool = False) -> Format:
    """The format called `name`; an InputError listing the choices if there is none."""
    fmt = FORMATS.get(name)
    if fmt is None or not (fmt.writable if for_export else fmt.readable):
        names = export_formats() if for_export else import_formats()
        raise InputError(f"unknown format {name!r}; choose one of: {', '.join(names)}")
    return fmt


def detect_format(path: Path) -> str:
    """The format of a file or folder, from its name and its first bytes."""
    if path.is_dir():
        return "text"
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    if path.suffix.lower() == ".spacy":
        return "spacy"
    for fmt in FORMATS.values():
        if fmt.name != "text" and fmt.sniff(head):
            return fmt.name
    if path.suffix.lower() == ".txt":
        return "text"
    raise InputError(
        f"cannot tell the format of this file; give --format ({', '.join(import_formats())})", path=path
    )
