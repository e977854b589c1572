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
from itertools import repeat
from operator import le, lt
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


class _PlainLine(NativeLine):
    """A line whose tokens were checked apart and whose spans' `text` keys were taken out: spans
    validate straight into the core models. It accepts exactly what NativeLine accepts; when it
    refuses a line, NativeLine validates it again, to name the problem the same way."""

    tokens: None = None
    entities: list[EntitySpan] = Field(default_factory=list)  # type: ignore[assignment]
    stances: list[Stance] = Field(default_factory=list)  # type: ignore[assignment]


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
    plain = _plain_line(data)
    try:
        if plain is not None:
            line, tokens, texts = plain
            return _to_record(line, tokens, texts, path, number)
        try:
            full = NativeLine.model_validate(data)
        except ValidationError as exc:
            field, message = first_problem(exc)
            return InputError(message, path=path, line=number, field=field or None)
        if full.tokens is not None:
            _check_tokens(full.tokens, len(full.document.text))
        texts = {key: [span.text for span in getattr(full, key)] for key in ("entities", "stances")}
        return _to_record(full, full.tokens, texts, path, number)
    except RuleError as exc:
        return InputError(exc.message, path=path, line=number, field=exc.field or None)


def _plain_line(data: dict[str, Any]) -> tuple[NativeLine, list[Token] | None, dict[str, list[Any]]] | None:
    """The line validated the quick way (tokens by type checks on whole columns, spans straight into
    the core models), its tokens and its spans' texts; None when anything is out of the ordinary,
    and then NativeLine validates it and names the problem."""
    data = dict(data)
    document = data.get("document")
    raw_tokens = data.pop("tokens", None)
    tokens: list[Token] | None = None
    if raw_tokens is not None:
        if not isinstance(document, dict) or type(document.get("text")) is not str:
            return None
        tokens = _plain_tokens(raw_tokens, len(document["text"]))
        if tokens is None:
            return None
    texts: dict[str, list[Any]] = {}
    for key in ("entities", "stances"):
        spans = data.get(key)
        if spans is None:
            continue
        if type(spans) is not list or not all(type(span) is dict for span in spans):
            return None
        texts[key] = [span.get("text") for span in spans]
        if not all(text is None or type(text) is str for text in texts[key]):
            return None
        data[key] = [{k: v for k, v in span.items() if k != "text"} for span in spans]
    try:
        line = _PlainLine.model_validate(data)
    except ValidationError:
        return None
    return line, tokens, texts


def _plain_tokens(raw: Any, length: int) -> list[Token] | None:
    """The tokens, when each is `[start, end, ws]` of an int, an int and a bool, in order and inside
    the text (what `_check_tokens` asks), checked a column at a time; else None."""
    if type(raw) is not list:
        return None
    if not raw:
        return []
    if set(map(type, raw)) != {list} or set(map(len, raw)) != {3}:
        return None
    starts, ends, ws = zip(*raw, strict=True)
    if set(map(type, starts)) != {int} or set(map(type, ends)) != {int} or set(map(type, ws)) - {bool}:
        return None
    if starts[0] < 0 or ends[-1] > length or not all(map(lt, starts, ends)):
        return None
    if not all(map(le, ends, starts[1:])):
        return None
    return list(map(tuple.__new__, repeat(Token), zip(starts, ends, ws, strict=True)))


def _to_record(
    line: NativeLine, tokens: list[Token] | None, texts: dict[str, list[Any]], path: Path, number: int
) -> Record:
    text = line.document.text
    if line.annotator is None:
        for key, empty in _NO_ANNOTATION.items():
            if getattr(line, key) != empty:
                raise RuleError(key, 'a line with "annotator": null cannot carry an annotation')
        annotations = []
    else:
        _check_spans("entities", line.entities, texts.get("entities", []), text)
        _check_spans("stances", line.stances, texts.get("stances", []), text)
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
    return Record(document=line.document, annotations=annotations, tokens=tokens, path=str(path), line=number)


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


def _check_spans(key: str, spans: Sequence[EntitySpan | Stance], texts: Sequence[Any], text: str) -> None:
    for i, (span, span_text) in enumerate(zip(spans, texts, strict=True)):
        if span.end > len(text):
            raise RuleError(f"{key}[{i}].end", f"{span.end} is past the end of the text (length {len(text)})")
        if span_text is not None and span_text != text[span.start:span.end]:
            raise RuleError(
                f"{key}[{i}].text",
                f"{_short(span_text)} is not the document's text at {span.start}-{span.end} "
                f"({_short(text[span.start:span.end])})",
            )


def _short(text: str, limit: int = 60) -> str:
    # A stance can span paragraphs; a message needs only enough to recognise it.
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _core(cls: type[_M], item: BaseModel) -> _M:
    # The item was validated as `cls` or a subclass of it; copy its fields across without validating again.
    if isinstance(item, cls) and type(item) is cls:
        return item
    fields = {name: getattr(item, name) for name in cls.model_fields}
    return cls.model_construct(_fields_set=item.model_fields_set & fields.keys(), **fields)


# -- writing -----------------------------------------------------------------------------------------


# A document, its tokens and its annotations as plain data: see write_native_plain.
PlainRecord = tuple[dict[str, Any], Sequence[Sequence[Any]] | None, Sequence[dict[str, Any]]]


def write_native(records: Iterable[Record], out: BinaryIO) -> int:
    """Write one line per annotation of each record (one line if it has none); return the records written.

    Raises RuleError if a span does not fit its document's text: a file must not say one thing in
    `text` and another in `start`/`end`.
    """
    return write_native_plain(map(_plain, records), out)


def write_native_plain(records: Iterable[PlainRecord], out: BinaryIO) -> int:
    """`write_native` for records given as plain data, which a store can hand over without building
    models: `(document, tokens, annotations)`, where the document and each annotation are what their
    `model_dump(mode="json")` gives, except that `created_at` and `updated_at` are datetimes (or
    None), and tokens are `(start, end, ws)` sequences (or None). The bytes are the same."""
    count = 0
    for document, tokens, anns in records:
        head = {"schema_version": SCHEMA_VERSION, "document": document, "tokens": tokens}
        if not anns:
            out.write(_dumps({**head, "annotator": None}, document["id"]))
        for annotation in anns:
            out.write(_dumps({**head, **_annotation_dict(annotation, document)}, document["id"]))
        count += 1
    return count


def _plain(record: Record) -> PlainRecord:
    anns = []
    for annotation in record.annotations:
        dumped = annotation.model_dump(mode="json")
        dumped["created_at"], dumped["updated_at"] = annotation.created_at, annotation.updated_at
        anns.append(dumped)
    # Plain tuples: orjson writes them as arrays (it refuses a NamedTuple).
    tokens = None if record.tokens is None else list(map(tuple, record.tokens))
    return record.document.model_dump(mode="json"), tokens, anns


def _annotation_dict(annotation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if annotation["document_id"] != document["id"]:
        raise RuleError(
            "document_id",
            f"annotation by {annotation['annotator']!r} is for {annotation['document_id']!r}, "
            f"not {document['id']!r}",
        )
    text = document["text"]
    return {
        "annotator": annotation["annotator"],
        "status": annotation["status"],
        "version": annotation["version"],
        "created_at": _timestamp(annotation["created_at"]),
        "updated_at": _timestamp(annotation["updated_at"]),
        "entities": _spans_with_text("entities", annotation["entities"], text),
        "stances": _spans_with_text("stances", annotation["stances"], text),
        "doc_stances": annotation["doc_stances"],
        "extra": annotation["extra"],
    }


def _spans_with_text(key: str, spans: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Each span's keys with its text placed right after `end`, where a reader looks for it."""
    out = []
    length = len(text)
    for i, span in enumerate(spans):
        start, end = span["start"], span["end"]
        if end > length:
            raise RuleError(
                f"{key}[{i}]", f"span {start}-{end} is past the end of the text (length {length})"
            )
        # A span's first keys are id, start and end (_Span's fields): the others follow the text.
        item = {"id": span["id"], "start": start, "end": end, "text": text[start:end]}
        item.update(span)
        out.append(item)
    return out


def _timestamp(value: datetime | None) -> str | None:
    """UTC with microseconds, always the same shape. A naive time is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _dumps(line: dict[str, Any], document_id: str) -> bytes:
    try:
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError as exc:
        raise RuleError("", f"document {document_id!r} cannot be written as JSON: {exc}") from None


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes are native JSONL: a first line with schema_version and document."""
    first = first_object(head)
    if first is None:  # a first line longer than the head: our writer puts schema_version first
        return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b'{"schema_version":')
    return "schema_version" in first and isinstance(first.get("document"), dict)
