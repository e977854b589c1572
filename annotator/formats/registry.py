"""The formats the command line and the GUI offer, and how `--format auto` tells them apart."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from annotator.core.errors import InputError
from annotator.formats.base import ReadItem, Record


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    suffix: str  # of exported files
    read: Callable[[Path], Iterator[ReadItem]] | None
    # write(records, out, warnings) -> records written; warnings collects what the format could not
    # keep (e.g. overlapping spans in CoNLL), one message each.
    write: Callable[[Iterable[Record], BinaryIO, list[str]], int] | None
    carries_annotations: bool


def _read_text(path: Path) -> Iterator[ReadItem]:
    from annotator.formats.text import read_text

    return read_text(path)


def _read_native(path: Path) -> Iterator[ReadItem]:
    from annotator.formats.native import read_native

    return read_native(path)


def _write_native(records: Iterable[Record], out: BinaryIO, warnings: list[str]) -> int:
    from annotator.formats.native import write_native

    return write_native(records, out)


FORMATS: dict[str, Format] = {
    "text": Format(
        "text",
        "plain-text articles: a .txt file, or a folder of them",
        ".txt",
        _read_text,
        None,
        carries_annotations=False,
    ),
    "native": Format(
        "native",
        "annotator's own JSONL: everything, one line per document and annotator",
        ".jsonl",
        _read_native,
        _write_native,
        carries_annotations=True,
    ),
}


def import_formats() -> list[str]:
    return [name for name, f in FORMATS.items() if f.read is not None]


def export_formats() -> list[str]:
    return [name for name, f in FORMATS.items() if f.write is not None]


def get_format(name: str, *, for_export: bool = False) -> Format:
    """The format called `name`; an InputError listing the choices if there is none."""
    fmt = FORMATS.get(name)
    usable = fmt is not None and (fmt.write if for_export else fmt.read) is not None
    if fmt is None or not usable:
        names = export_formats() if for_export else import_formats()
        raise InputError(f"unknown format {name!r}; choose one of: {', '.join(names)}")
    return fmt


def detect_format(path: Path) -> str:
    """The format of a file or folder, from its name and its first line."""
    if path.is_dir() or path.suffix.lower() == ".txt":
        return "text"
    try:
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if first.startswith(b"{") and b'"schema_version"' in first and b'"document"' in first:
        return "native"
    raise InputError(
        f"cannot tell the format of this file; give --format ({', '.join(import_formats())})", path=path
    )
