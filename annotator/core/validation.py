"""Turn pydantic's ValidationError into messages a person can act on."""

from __future__ import annotations

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
    err = error.errors()[0]
    return field_path(_strip_union_tags(err["loc"])), _message(err)


def describe(error: ValidationError) -> str:
    """All problems, one per line: `field.path: message`."""
    lines = []
    for err in error.errors():
        path = field_path(_strip_union_tags(err["loc"]))
        lines.append(f"{path}: {_message(err)}" if path else _message(err))
    return "\n".join(lines)


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
    # Discriminated unions put the tag (e.g. "entity") into the location; it only confuses readers.
    return tuple(p for p in loc if not (isinstance(p, str) and p in _UNION_TAGS))


_UNION_TAGS = {"entity", "author", "unknown", "topic"}
