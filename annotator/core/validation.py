"""Turn pydantic's ValidationError into messages a person can act on."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("entities", 2, "end")` -> `entities[2].end`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def first_problem(error: ValidationError) -> tuple[str, str]:
    """The field path and message of the first problem pydantic found."""
    return _located(error.errors()[0])


def describe(error: ValidationError) -> str:
    """All problems, one per line: `field.path: message`."""
    lines = []
    for err in error.errors():
        path, message = _located(err)
        lines.append(f"{path}: {message}" if path else message)
    return "\n".join(lines)


_LEADING_PATH = re.compile(r"([A-Za-z_][\w.\[\]]*): (.+)", re.DOTALL)


def _located(err: Any) -> tuple[str, str]:
    path = field_path(_strip_union_tags(err["loc"]))
    message = _message(err)
    # A whole-model check (e.g. duplicate names) says which field in its message: `labels[2]: ...`.
    match = _LEADING_PATH.fullmatch(message)
    if match and "[" in match.group(1):
        inner = match.group(1)
        path = f"{path}.{inner}" if path else inner
        message = match.group(2)
    return path, message


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] in ("missing",):
        return "is required"
    if err["type"] == "extra_forbidden":
        return "is not a known field"
    return msg


def _strip_union_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # A discriminated union puts the chosen tag (e.g. "topic") into the location right after the
    # field (`target.topic.topic`); only that tag is dropped, not a real field of the same name.
    out: list[int | str] = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] in _UNION_FIELDS and part in _UNION_TAGS:
            continue
        out.append(part)
    return tuple(out)


_UNION_FIELDS = {"holder", "target"}
_UNION_TAGS = {"entity", "author", "unknown", "topic"}
