"""What readers yield and writers take."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from annotator.core.errors import InputError
from annotator.core.model import Annotation, Document, Token


@dataclass
class Record:
    """One document with the annotations a file holds for it (any number, by annotator).

    `tokens` are the file's own tokens when it has them (else None: the importer tokenizes).
    `path` and `line` say where the record started, for messages.
    """

    document: Document
    annotations: list[Annotation] = field(default_factory=list)
    tokens: list[Token] | None = None
    path: str | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)


# A reader yields a Record for each good record and an InputError (not raised) for each bad one,
# so that an import can skip bad records when asked to. A problem with the whole file (cannot be
# opened, wrong format) is raised.
ReadItem = Record | InputError


class Reader(Protocol):
    def __call__(self, path: Path) -> Iterator[ReadItem]: ...


class Writer(Protocol):
    def __call__(self, records: Iterable[Record], out: BinaryIO) -> int:
        """Write the records; return how many were written."""
        ...


def iter_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) for each non-blank line of a JSONL file, streamed.

    A binary file splits on `\\n` only: `str.splitlines()` would also split on U+2028 and others
    that JSON strings may carry raw.
    """
    for number, line in enumerate(fh, start=1):
        if line.strip():
            yield number, line.rstrip(b"\r\n")
