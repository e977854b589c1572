"""Converting core objects to table rows and back. JSON columns are written with orjson."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter

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
from annotator.store.schema import doc_stances, entities, stances
from annotator.store.token_codec import decode_tokens, encode_tokens

_HOLDER: TypeAdapter[Any] = TypeAdapter(Holder)
_TARGET: TypeAdapter[Any] = TypeAdapter(Target)
_M = TypeVar("_M", bound=BaseModel)
_ENTITY_FIELDS = tuple(EntitySpan.model_fields)
_STANCE_FIELDS = tuple(Stance.model_fields)

# The columns that entity_from_row and stance_from_row read, in this order.
ENTITY_COLUMNS = tuple(
    entities.c[name]
    for name in (
        "annotation_id", "id", "start_char", "end_char", "label", "source_kind", "source_name", "extra",
    )
)
STANCE_COLUMNS = tuple(
    stances.c[name]
    for name in (
        "annotation_id", "id", "start_char", "end_char", "polarity", "holder", "target", "source_kind",
        "source_name",
    )
)

DOC_STANCE_COLUMNS = (doc_stances.c.annotation_id, doc_stances.c.target, doc_stances.c.polarity)

# BaseModel's own slots, set straight through their descriptors, as model_construct does.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _construct(cls: type[_M], names: tuple[str, ...], values: dict[str, Any]) -> _M:
    """What `cls.model_construct(**values)` makes when every field is given, without its overhead;
    for values that come from rows this program validated before writing them."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, set(names))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


# Sources, holders and targets are frozen models that many spans share: each stored value is read once.
@lru_cache(maxsize=1024)
def _source(kind: str, name: str | None) -> SpanSource:
    return SpanSource(kind=kind, name=name)


@lru_cache(maxsize=4096)
def _holder(raw: str) -> Any:
    return _HOLDER.validate_python(loads(raw))


@lru_cache(maxsize=4096)
def _target(raw: str) -> Any:
    return _TARGET.validate_python(loads(raw))


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits, which valid JSON (and so an imported file) may hold.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str) -> Any:
    return orjson.loads(value)


def document_row(
    doc: Document, position: int, tokens: list[Token] | bytes | None, now: Any
) -> dict[str, Any]:
    """The documents row; tokens as a list, or already encoded (token_codec)."""
    if tokens is not None and not isinstance(tokens, bytes):
        tokens = encode_tokens(tokens)
    return {
        "id": doc.id,
        "position": position,
        "title": doc.meta.title,
        "text": doc.text,
        "meta": dumps(doc.meta.model_dump(mode="json")),
        "token_data": tokens,
        "created_at": now,
    }


def document_from_row(row: Any) -> Document:
    return Document(id=row.id, text=row.text, meta=DocumentMeta.model_validate(loads(row.meta)))


def tokens_from_data(value: bytes | None) -> list[Token] | None:
    return None if value is None else decode_tokens(value)


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
        "extra": dumps(e.extra) if e.extra else "{}",
    }


def entity_from_row(row: Sequence[Any]) -> EntitySpan:
    """The entity in a row of ENTITY_COLUMNS. Rows were validated on their way in: the model is
    built without validating again (ten thousand entities took 100 ms that way), exactly as
    validation would have built it."""
    _, id_, start, end, label, kind, name, extra = row
    return _construct(
        EntitySpan,
        _ENTITY_FIELDS,
        {
            "id": id_,
            "start": start,
            "end": end,
            "label": label,
            "source": _source(kind, name),
            "extra": {} if extra == "{}" else loads(extra),
        },
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


def stance_from_row(row: Sequence[Any]) -> Stance:
    """The stance in a row of STANCE_COLUMNS, built as entity_from_row builds an entity."""
    _, id_, start, end, polarity, holder, target, kind, name = row
    return _construct(
        Stance,
        _STANCE_FIELDS,
        {
            "id": id_,
            "start": start,
            "end": end,
            "polarity": polarity,
            "holder": _holder(holder),
            "target": _target(target),
            "source": _source(kind, name),
        },
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
    """The article stance in a row of DOC_STANCE_COLUMNS."""
    return DocumentStance(target=loads(row.target), polarity=row.polarity)


# -- plain data (what model_dump(mode="json") gives), for writers that only serialise ---------------


def plain_annotation(row: Any, ents: Sequence[Any], sts: Sequence[Any], dss: Sequence[Any]) -> dict[str, Any]:
    """`annotation_from_rows(...).model_dump(mode="json")`, but with `created_at` and `updated_at`
    left as datetimes, built without the models. Sources, holders and targets are shared dicts."""
    return {
        "document_id": row.document_id,
        "annotator": row.annotator,
        "status": row.status,
        "version": row.version,
        "entities": [
            {
                "id": id_,
                "start": start,
                "end": end,
                "label": label,
                "source": _plain_source(kind, name),
                "extra": {} if extra == "{}" else loads(extra),
            }
            for _, id_, start, end, label, kind, name, extra in ents
        ],
        "stances": [
            {
                "id": id_,
                "start": start,
                "end": end,
                "polarity": polarity,
                "holder": _plain_ref(holder),
                "target": _plain_ref(target),
                "source": _plain_source(kind, name),
            }
            for _, id_, start, end, polarity, holder, target, kind, name in sts
        ],
        "doc_stances": [{"target": _plain_ref(r.target), "polarity": r.polarity} for r in dss],
        "created_at": as_utc(row.created_at),
        "updated_at": as_utc(row.updated_at),
        "extra": loads(row.extra),
    }


_META_FIELDS = tuple(DocumentMeta.model_fields)


def plain_document(row: Any) -> dict[str, Any]:
    """`document_from_row(row).model_dump(mode="json")`, without the models when the stored
    metadata has the fields the model has (as everything this version writes does)."""
    meta = loads(row.meta)
    if tuple(meta) != _META_FIELDS:
        meta = DocumentMeta.model_validate(meta).model_dump(mode="json")
    return {"id": row.id, "text": row.text, "meta": meta}


@lru_cache(maxsize=1024)
def _plain_source(kind: str, name: str | None) -> dict[str, Any]:
    return {"kind": kind, "name": name}


@lru_cache(maxsize=4096)
def _plain_ref(raw: str) -> Any:
    # Stored as model_dump() of the reference, which is also its model_dump(mode="json").
    return loads(raw)


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
