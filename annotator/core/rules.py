"""The rules an annotation must keep. Each violation raises RuleError naming the field.

Edits check only what they touch (one span against the others); `check_annotation` checks a whole
annotation, as an import does.
"""

from __future__ import annotations

import itertools
from collections.abc import Container

from annotator.core.errors import RuleError
from annotator.core.model import (
    Annotation,
    Document,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanList,
    Stance,
    TopicRef,
    UnknownRef,
)
from annotator.core.scheme import LabelScheme


def check_bounds(field: str, start: int, end: int, text: str) -> None:
    if not 0 <= start < end <= len(text):
        raise RuleError(
            field, f"span {start}-{end} must satisfy 0 <= start < end <= {len(text)} (the text's length)"
        )


def check_entity(field: str, entity: EntitySpan, text: str, scheme: LabelScheme) -> None:
    check_bounds(field, entity.start, entity.end, text)
    if entity.label not in scheme.label_names:
        raise RuleError(
            f"{field}.label", f"label {entity.label!r} is not in the scheme ({_names(scheme.label_names)})"
        )


def check_no_overlap(field: str, entity: EntitySpan, others: list[EntitySpan], scheme: LabelScheme) -> None:
    """Refuses the first of `others` (in list order) that overlaps `entity`, unless the scheme allows."""
    if scheme.allow_overlap:
        return
    if isinstance(others, SpanList):
        other = others.first_overlap(entity)  # a search in text order, not a scan
    else:
        other = next(
            (o for o in others if o.id != entity.id and o.start < entity.end and entity.start < o.end), None
        )
    if other is not None:
        raise RuleError(
            field,
            f"span {entity.start}-{entity.end} ({entity.label}) overlaps span {other.start}-{other.end} "
            f"({other.label}), and the scheme does not allow overlapping entities",
        )


def check_polarity(field: str, polarity: str, scheme: LabelScheme) -> None:
    if polarity not in scheme.polarity_names:
        raise RuleError(
            field, f"polarity {polarity!r} is not in the scheme ({_names(scheme.polarity_names)})"
        )


def check_ref(field: str, ref: object, entity_ids: Container[str]) -> None:
    if isinstance(ref, EntityRef) and ref.entity_id not in entity_ids:
        raise RuleError(field, f"refers to entity {ref.entity_id!r}, which this annotation does not have")
    if isinstance(ref, TopicRef) and not ref.topic.strip():
        raise RuleError(field, "a topic must not be blank")


def check_stance(
    field: str, stance: Stance, text: str, scheme: LabelScheme, entity_ids: Container[str]
) -> None:
    check_bounds(field, stance.start, stance.end, text)
    check_polarity(f"{field}.polarity", stance.polarity, scheme)
    check_ref(f"{field}.holder", stance.holder, entity_ids)
    check_ref(f"{field}.target", stance.target, entity_ids)


def check_doc_stance(
    field: str, ds: DocumentStance, scheme: LabelScheme, entity_ids: Container[str]
) -> None:
    if isinstance(ds.target, UnknownRef):  # pragma: no cover - excluded by the type
        raise RuleError(f"{field}.target", "an article stance needs a target")
    check_polarity(f"{field}.polarity", ds.polarity, scheme)
    check_ref(f"{field}.target", ds.target, entity_ids)


def check_annotation(annotation: Annotation, document: Document, scheme: LabelScheme) -> None:
    """Check every rule; the first violation raises RuleError."""
    if annotation.document_id != document.id:
        raise RuleError(
            "document_id", f"{annotation.document_id!r} does not match the document's id {document.id!r}"
        )
    text = document.text
    length = len(text)
    labels = frozenset(scheme.label_names)
    ids: set[str] = set()
    for i, e in enumerate(annotation.entities):
        if e.id in ids:
            raise RuleError(f"entities[{i}].id", f"id {e.id!r} is used twice")
        ids.add(e.id)
        if not (0 <= e.start < e.end <= length and e.label in labels):
            check_entity(f"entities[{i}]", e, text, scheme)  # says which rule is broken
    if not scheme.allow_overlap:
        ordered = sorted(range(len(annotation.entities)), key=lambda i: annotation.entities[i].start)
        for a, b in itertools.pairwise(ordered):
            ea, eb = annotation.entities[a], annotation.entities[b]
            if eb.start < ea.end:
                check_no_overlap(f"entities[{b}]", eb, [ea], scheme)
    stance_ids: set[str] = set()
    for i, s in enumerate(annotation.stances):
        field = f"stances[{i}]"
        if s.id in stance_ids:
            raise RuleError(f"{field}.id", f"id {s.id!r} is used twice")
        stance_ids.add(s.id)
        check_stance(field, s, text, scheme, ids)
    keys: set[str] = set()
    for i, d in enumerate(annotation.doc_stances):
        field = f"doc_stances[{i}]"
        if d.key in keys:
            raise RuleError(f"{field}.target", f"the article already has a stance towards {d.key}")
        keys.add(d.key)
        check_doc_stance(field, d, scheme, ids)


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "none"
