"""The project's own JSON Lines format: everything the model holds, nothing lost.

One line per (document, annotator)::

    {"schema_version": 1,
     "document": {"id": ..., "text": ..., "meta": {...}},
     "tokens": [[start, end, ws], ...] or null,
     "annotator": "anna", "status": "done", "version": 3,
     "created_at": "2026-01-03T10:15:00.000000Z", "updated_at": ...,
     "entities": [{"id", "start", "end", "text", "label", "source", "extra"}, ...],
     "stances": [{"id", "start", "end", "text", "polarity", "holder", "target", "source"}, ...],
     "doc_stances": [{"target", "polarity"}, ...],
     "extra": {...}}

A document nobody has annotated is one line with `"annotator": null` and no annotation keys (the
reader also accepts them empty). A document annotated by three people is three lines, each with the
whole document; the importer merges them by document id.

Each span carries its `text` so that people can read the file; the reader checks it against the
document text. Writing is deterministic: keys in a fixed order, spans in the annotation's order, times
in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so reading a file and writing it again gives the same bytes.
`json_schema()` describes a line; it is generated from the models below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    Annotation,
    Document,
    DocumentStance,
    EntitySpan,
    Stance,
    Status,
    Token,
)
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.formats.jsonl import first_object, read_objects

SCHEMA_VERSION = 1

_M = TypeVar("_M", bound=BaseModel)

_SPAN_TEXT = "The span's text, document.text[start:end], for people reading the file; checked on import"


class NativeEntity(EntitySpan):
    text: str | None = Field(default=None, description=_SPAN_TEXT)


class NativeStance(Stance):
    text: str | None = Field(default=None, description=_SPAN_TEXT)


class NativeLine(BaseModel):
    """One line of a native file: a document, and one annotator's annotation of it (or none)."""

    model_config = ConfigDict(extra="forbid", title="annotator native JSONL line")

    schema_version: Literal[1]
    document: Document
    tokens: list[Token] | None = Field(
        default=None, description="[start, end, whitespace follows] per token; null: not tokenized yet"
    )
    annotator: str | None = Field(
        default=None, min_length=1, max_length=200, description="null: the document has no annotation"
    )
    status: Status = Status.NOT_STARTED
    version: int = Field(default=0, ge=0)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    entities: list[NativeEntity] = Field(default_factory=list)
    stances: list[NativeStance] = Field(default_factory=list)
    doc_stances: list[DocumentStance] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


# What the annotation keys hold when a line has no annotation.
_NO_ANNOTATION = {
    key: NativeLine.model_fields[key].get_default(call_default_factory=True)
    for key in (
        "status", "version", "created_at", "updated_at", "entities", "stances", "doc_stances", "extra"
    )
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one line."""
    schema = NativeLine.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# -- reading -----------------------------------------------------------------------------------------


def read_native(path: Path | str) -> Iterator[ReadItem]:
    """One Record per line, holding the line's annotation (none for `"annotator": null`).

    A bad line is yielded as an InputError naming the line and field. Raised, as problems with the
    whole file: it cannot be opened, it has no records, it is pretty-printed JSON rather than JSON
    Lines, or it was written by a newer version of the program.
    """
    path = Path(path)
    for item in read_objects(path):
        if isinstance(item, InputError):
            yield item
        else:
            yield _record(item[1], path, item[0])


def _record(data: dict[str, Any], path: Path, number: int) -> ReadItem:
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise InputError(
            f"schema_version {version} is newer than this program reads ({SCHEMA_VERSION}): "
            f"update annotator to import this file",
            path=path,
            line=number,
            field="schema_version",
        )
    try:
        line = NativeLine.model_validate(data)
    except ValidationError as exc:
        field, message = first_problem(exc)
        return InputError(message, path=path, line=number, field=field or None)
    try:
        return _to_record(line, path, number)
    except RuleError as exc:
        return InputError(exc.message, path=path, line=number, field=exc.field or None)


def _to_record(line: NativeLine, path: Path, number: int) -> Record:
    text = line.document.text
    if line.tokens is not None:
        _check_tokens(line.tokens, len(text))
    if line.annotator is None:
        for key, empty in _NO_ANNOTATION.items():
            if getattr(line, key) != empty:
                raise RuleError(key, 'a line with "annotator": null cannot carry an annotation')
        annotations = []
    else:
        _check_spans("entities", line.entities, text)
        _check_spans("stances", line.stances, text)
        annotation = Annotation(
            document_id=line.document.id,
            annotator=line.annotator,
            status=line.status,
            version=line.version,
            created_at=line.created_at,
            updated_at=line.updated_at,
            entities=[_core(EntitySpan, e) for e in line.entities],
            stances=[_core(Stance, s) for s in line.stances],
            doc_stances=line.doc_stances,
            extra=line.extra,
        )
        annotations = [annotation]
    return Record(
        document=line.document, annotations=annotations, tokens=line.tokens, path=str(path), line=number
    )


def _check_tokens(tokens: list[Token], length: int) -> None:
    previous_end = 0
    for i, token in enumerate(tokens):
        if not previous_end <= token.start < token.end <= length:
            raise RuleError(
                f"tokens[{i}]",
                f"token {token.start}-{token.end} must be non-empty, after the previous token "
                f"(which ends at {previous_end}) and inside the text (length {length})",
            )
        previous_end = token.end


def _check_spans(key: str, spans: Sequence[NativeEntity | NativeStance], text: str) -> None:
    for i, span in enumerate(spans):
        if span.end > len(text):
            raise RuleError(f"{key}[{i}].end", f"{span.end} is past the end of the text (length {len(text)})")
        if span.text is not None and span.text != text[span.start:span.end]:
            raise RuleError(
                f"{key}[{i}].text",
                f"{_short(span.text)} is not the document's text at {span.start}-{span.end} "
                f"({_short(text[span.start:span.end])})",
            )


def _short(text: str, limit: int = 60) -> str:
    # A stance can span paragraphs; a message needs only enough to recognise it.
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _core(cls: type[_M], item: BaseModel) -> _M:
    # The item was validated as a subclass of `cls`; copy its fields across without validating again.
    fields = {name: getattr(item, name) for name in cls.model_fields}
    return cls.model_construct(_fields_set=item.model_fields_set & fields.keys(), **fields)


# -- writing -----------------------------------------------------------------------------------------


def write_native(records: Iterable[Record], out: BinaryIO) -> int:
    """Write one line per annotation of each record (one line if it has none); return the records written.

    Raises RuleError if a span does not fit its document's text: a file must not say one thing in
    `text` and another in `start`/`end`.
    """
    count = 0
    for record in records:
        document = record.document
        head = {
            "schema_version": SCHEMA_VERSION,
            "document": document.model_dump(mode="json"),
            "tokens": None if record.tokens is None else [list(t) for t in record.tokens],
        }
        if not record.annotations:
            out.write(_dumps({**head, "annotator": None}, document))
        for annotation in record.annotations:
            out.write(_dumps({**head, **_annotation_dict(annotation, document)}, document))
        count += 1
    return count


def _annotation_dict(annotation: Annotation, document: Document) -> dict[str, Any]:
    if annotation.document_id != document.id:
        raise RuleError(
            "document_id",
            f"annotation by {annotation.annotator!r} is for {annotation.document_id!r}, not {document.id!r}",
        )
    dumped = annotation.model_dump(mode="json", exclude={"document_id"})
    text = document.text
    return {
        "annotator": annotation.annotator,
        "status": dumped["status"],
        "version": annotation.version,
        "created_at": _timestamp(annotation.created_at),
        "updated_at": _timestamp(annotation.updated_at),
        "entities": _spans_with_text("entities", dumped["entities"], annotation.entities, text),
        "stances": _spans_with_text("stances", dumped["stances"], annotation.stances, text),
        "doc_stances": dumped["doc_stances"],
        "extra": dumped["extra"],
    }


def _spans_with_text(
    key: str, dumped: list[dict[str, Any]], spans: Sequence[EntitySpan | Stance], text: str
) -> list[dict[str, Any]]:
    """Each span's keys with its text placed right after `end`, where a reader looks for it."""
    out = []
    for i, (keys, span) in enumerate(zip(dumped, spans, strict=True)):
        if span.end > len(text):
            raise RuleError(
                f"{key}[{i}]",
                f"span {span.start}-{span.end} is past the end of the text (length {len(text)})",
            )
        item: dict[str, Any] = {}
        for name, value in keys.items():
            item[name] = value
            if name == "end":
                item["text"] = text[span.start:span.end]
        out.append(item)
    return out


def _timestamp(value: datetime | None) -> str | None:
    """UTC with microseconds, always the same shape. A naive time is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _dumps(line: dict[str, Any], document: Document) -> bytes:
    try:
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError as exc:
        raise RuleError("", f"document {document.id!r} cannot be written as JSON: {exc}") from None


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes are native JSONL: a first line with schema_version and document."""
    first = first_object(head)
    if first is None:  # a first line longer than the head: our writer puts schema_version first
        return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b'{"schema_version":')
    return "schema_version" in first and isinstance(first.get("document"), dict)
