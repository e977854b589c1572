"""Converting core objects to table rows and back. JSON columns are written with orjson."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter

from annotator.core.model import (
    Annotation,
    Document,
    DocumentMeta,
    DocumentStance,
    EntitySpan,
    Holder,
    SpanSource,
    Stance,
    Status,
    Target,
    Token,
)

_HOLDER: TypeAdapter[Any] = TypeAdapter(Holder)
_TARGET: TypeAdapter[Any] = TypeAdapter(Target)


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits, which valid JSON (and so an imported file) may hold.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str) -> Any:
    return orjson.loads(value)


def document_row(doc: Document, position: int, tokens: list[Token] | None, now: Any) -> dict[str, Any]:
    return {
        "id": doc.id,
        "position": position,
        "title": doc.meta.title,
        "text": doc.text,
        "meta": dumps(doc.meta.model_dump(mode="json")),
        "tokens": dumps([list(t) for t in tokens]) if tokens is not None else None,
        "created_at": now,
    }


def document_from_row(row: Any) -> Document:
    return Document(id=row.id, text=row.text, meta=DocumentMeta.model_validate(loads(row.meta)))


def tokens_from_json(value: str | None) -> list[Token] | None:
    if value is None:
        return None
    return [Token(s, e, bool(w)) for s, e, w in loads(value)]


def annotation_row(ann: Annotation) -> dict[str, Any]:
    return {
        "document_id": ann.document_id,
        "annotator": ann.annotator,
        "status": ann.status.value,
        "version": ann.version,
        "created_at": to_utc(ann.created_at),
        "updated_at": to_utc(ann.updated_at),
        "extra": dumps(ann.extra),
    }


def entity_row(annotation_id: int, ord_: int, e: EntitySpan) -> dict[str, Any]:
    return {
        "annotation_id": annotation_id,
        "id": e.id,
        "ord": ord_,
        "start_char": e.start,
        "end_char": e.end,
        "label": e.label,
        "source_kind": e.source.kind,
        "source_name": e.source.name,
        "extra": dumps(e.extra),
    }


def entity_from_row(row: Any) -> EntitySpan:
    return EntitySpan(
        id=row.id,
        start=row.start_char,
        end=row.end_char,
        label=row.label,
        source=SpanSource(kind=row.source_kind, name=row.source_name),
        extra=loads(row.extra),
    )


def stance_row(annotation_id: int, ord_: int, s: Stance) -> dict[str, Any]:
    return {
        "annotation_id": annotation_id,
        "id": s.id,
        "ord": ord_,
        "start_char": s.start,
        "end_char": s.end,
        "polarity": s.polarity,
        "holder": dumps(s.holder.model_dump()),
        "target": dumps(s.target.model_dump()),
        "source_kind": s.source.kind,
        "source_name": s.source.name,
    }


def stance_from_row(row: Any) -> Stance:
    return Stance(
        id=row.id,
        start=row.start_char,
        end=row.end_char,
        polarity=row.polarity,
        holder=_HOLDER.validate_python(loads(row.holder)),
        target=_TARGET.validate_python(loads(row.target)),
        source=SpanSource(kind=row.source_kind, name=row.source_name),
    )


def doc_stance_row(annotation_id: int, ord_: int, d: DocumentStance) -> dict[str, Any]:
    return {
        "annotation_id": annotation_id,
        "target_key": d.key,
        "ord": ord_,
        "target": dumps(d.target.model_dump()),
        "polarity": d.polarity,
    }


def doc_stance_from_row(row: Any) -> DocumentStance:
    return DocumentStance(target=loads(row.target), polarity=row.polarity)


def annotation_from_rows(row: Any, ents: Sequence[Any], sts: Sequence[Any], dss: Sequence[Any]) -> Annotation:
    return Annotation(
        document_id=row.document_id,
        annotator=row.annotator,
        status=Status(row.status),
        version=row.version,
        entities=[entity_from_row(r) for r in ents],
        stances=[stance_from_row(r) for r in sts],
        doc_stances=[doc_stance_from_row(r) for r in dss],
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        extra=loads(row.extra),
    )


def to_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
