"""Reading JSON Lines the same way for every JSONL format: one JSON object per line, split on `\\n`
only, with messages that name the line for every way a file goes wrong."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from annotator.core.errors import InputError
from annotator.formats.base import iter_lines

UTF8_BOM = b"\xef\xbb\xbf"

_JSON_KINDS = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def read_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]] | InputError]:
    """(line number, object) for each good line; an InputError (yielded, not raised) for each bad one.

    Raised, as problems with the whole file: it cannot be opened, it has no records, or it is one
    pretty-printed JSON object or a JSON array rather than JSON Lines.
    """
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    with fh:
        lines = iter_lines(fh)
        first = next(lines, None)
        if first is not None and first[1].startswith(UTF8_BOM):
            first = (first[0], first[1][len(UTF8_BOM) :])
            if not first[1].strip():
                first = next(lines, None)
        if first is None:
            raise InputError("no records: the file is empty", path=path)
        pending = [first]
        opening = _pretty_printed_opening(first[1])
        if opening:
            # One bad first line may just be a broken record; pretty-printed JSON breaks the next one too.
            second = next(lines, None)
            if second is None or not isinstance(_loads_or_none(second[1]), dict):
                raise InputError(
                    f"the file looks like {opening} spread over many lines, not JSON Lines "
                    f"(one JSON object per line)",
                    path=path,
                    line=first[0],
                )
            pending.append(second)
        for number, raw in itertools.chain(pending, lines):
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield InputError(_json_problem(raw, exc), path=path, line=number)
                continue
            if isinstance(data, list) and number == first[0]:
                raise InputError(
                    "the file is a JSON array, not JSON Lines (one JSON object per line)",
                    path=path,
                    line=number,
                )
            if not isinstance(data, dict):
                what = _JSON_KINDS.get(type(data), "a number")
                yield InputError(f"a line must be a JSON object, not {what}", path=path, line=number)
                continue
            yield number, data


def first_object(head: bytes) -> dict[str, Any] | None:
    """The first line of a JSONL file's first bytes as an object, if it is one (for format sniffing)."""
    for line in head.removeprefix(UTF8_BOM).split(b"\n"):
        if line.strip():
            value = _loads_or_none(line)
            return value if isinstance(value, dict) else None
    return None


def _json_problem(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        # orjson reports every encoding problem at column 1; say where the bad byte is.
        return f"not UTF-8: byte 0x{raw[bad.start]:02X} (byte {bad.start + 1} of the line) is not valid UTF-8"
    # orjson's own "line 1" would be the line within the line: keep only the column.
    return f"not valid JSON ({exc.msg} at column {exc.colno})"


def _pretty_printed_opening(line: bytes) -> str | None:
    start = line.strip()
    if start.startswith(b"{") and not start.endswith(b"}"):
        return "one pretty-printed JSON object"
    if start.startswith(b"[") and not start.endswith(b"]"):
        return "a JSON array"
    return None


def _loads_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
