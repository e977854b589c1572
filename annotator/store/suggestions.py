"""Stored suggestions: what a suggester proposed for each document, and who rejected what.

Suggestions are kept apart from annotations: storing or replacing them never changes anyone's
annotation, version or history. What an annotator sees is the document's suggestions minus those
they rejected and minus those that are already one of their entities (same span and label).
Accepting is an `AddEntity` edit through the annotator's session (`annotator.nlp.suggest.accept_edit`),
so that undo, history and conflicts work as for any edit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from annotator.core.errors import RuleError
from annotator.core.model import Annotation, utcnow
from annotator.nlp.suggest import Suggestion, SuggestionKey
from annotator.store.project import Project
from annotator.store.schema import annotations as ann_table
from annotator.store.schema import documents, entities, suggestion_rejections, suggestions


def store_suggestions(
    project: Project,
    document_id: str,
    found: Iterable[Suggestion],
    *,
    replace_sources: Collection[str] | None = None,
) -> int:
    """Store suggestions for a document in one transaction; return how many new ones were stored.

    With `replace_sources`, the document's stored suggestions from those sources are removed first
    (a re-run replaces what the same model or pattern file proposed before). Suggestions already
    stored (same span, label and source) are kept, not doubled. KeyError if there is no such
    document; RuleError if a span does not fit its text.
    """
    found = list(found)
    with project._writing() as conn:
        text = conn.scalar(select(documents.c.text).where(documents.c.id == document_id))
        if text is None:
            raise KeyError(document_id)
        length = len(text)  # code points, as spans count (SQLite's length() stops at a NUL)
        for i, s in enumerate(found):
            if s.end > length:
                raise RuleError(
                    f"suggestions[{i}]",
                    f"span {s.start}-{s.end} goes past the end of the text ({length} characters)",
                )
        if replace_sources:
            conn.execute(
                delete(suggestions).where(
                    (suggestions.c.document_id == document_id)
                    & suggestions.c.source_name.in_(list(replace_sources))
                )
            )
        stored = {
            (r.start_char, r.end_char, r.label, r.source_name)
            for r in conn.execute(
                select(
                    suggestions.c.start_char,
                    suggestions.c.end_char,
                    suggestions.c.label,
                    suggestions.c.source_name,
                ).where(suggestions.c.document_id == document_id)
            )
        }
        now = utcnow()
        new: list[dict[str, Any]] = []
        for s in found:
            ident = (s.start, s.end, s.label, s.source)
            if ident in stored:
                continue
            stored.add(ident)
            new.append(
                {
                    "document_id": document_id,
                    "start_char": s.start,
                    "end_char": s.end,
                    "label": s.label,
                    "source_name": s.source,
                    "score": s.score,
                    "created_at": now,
                }
            )
        if new:
            conn.execute(insert(suggestions), new)
    return len(new)


def stored_suggestions(project: Project, document_id: str) -> list[Suggestion]:
    """Every stored suggestion of the document, whoever rejected it, in text order."""
    with project.engine.connect() as conn:
        return _load(conn, document_id)


def suggestions_for(
    project: Project, document_id: str, annotator: str, *, annotation: Annotation | None = None
) -> list[Suggestion]:
    """What `annotator` should be shown for the document: stored suggestions, in text order, minus
    those they rejected and minus those that match one of their entities exactly (span and label).

    The same span and label from two sources is shown once (the first source by name); labels the
    scheme no longer has are left out. Pass the annotation held in memory to compare with it
    instead of the stored one.
    """
    labels = set(project.scheme.label_names)
    with project.engine.connect() as conn:
        found = _load(conn, document_id)
        if not found:
            return []
        hidden = _rejected(conn, document_id, annotator)
        if annotation is not None:
            hidden |= {SuggestionKey(e.start, e.end, e.label) for e in annotation.entities}
        else:
            hidden |= {
                SuggestionKey(r.start_char, r.end_char, r.label)
                for r in conn.execute(
                    select(entities.c.start_char, entities.c.end_char, entities.c.label)
                    .join(ann_table, ann_table.c.id == entities.c.annotation_id)
                    .where((ann_table.c.document_id == document_id) & (ann_table.c.annotator == annotator))
                )
            }
    out = []
    for s in found:
        if s.key not in hidden and s.label in labels:
            hidden.add(s.key)
            out.append(s)
    return out


def reject(project: Project, document_id: str, annotator: str, key: Suggestion | SuggestionKey) -> None:
    """Hide a suggestion (its span and label, from any source) from `annotator` on this document,
    now and after later runs of `suggest`. Other annotators still see it. KeyError if there is no
    such document."""
    k = key.key if isinstance(key, Suggestion) else key
    values = {
        "document_id": document_id,
        "annotator": annotator,
        "start_char": k.start,
        "end_char": k.end,
        "label": k.label,
    }
    with project._writing() as conn:
        if conn.scalar(select(documents.c.id).where(documents.c.id == document_id)) is None:
            raise KeyError(document_id)
        if _rejection_exists(conn, values):
            return
        try:
            with conn.begin_nested():
                conn.execute(insert(suggestion_rejections).values(**values, rejected_at=utcnow()))
        except IntegrityError:
            # Rejected in another window at the same moment: the outcome is the same.
            pass


def unreject(project: Project, document_id: str, annotator: str, key: Suggestion | SuggestionKey) -> bool:
    """Take a rejection back (the suggestion shows again); False if it was not rejected."""
    k = key.key if isinstance(key, Suggestion) else key
    with project._writing() as conn:
        result = conn.execute(
            delete(suggestion_rejections).where(
                (suggestion_rejections.c.document_id == document_id)
                & (suggestion_rejections.c.annotator == annotator)
                & (suggestion_rejections.c.start_char == k.start)
                & (suggestion_rejections.c.end_char == k.end)
                & (suggestion_rejections.c.label == k.label)
            )
        )
    return bool(result.rowcount)


def rejected(project: Project, document_id: str, annotator: str) -> set[SuggestionKey]:
    with project.engine.connect() as conn:
        return _rejected(conn, document_id, annotator)


def clear_suggestions(
    project: Project, *, sources: Collection[str] | None = None, document_id: str | None = None
) -> int:
    """Remove stored suggestions (of some sources, of one document, or all); rejections stay."""
    query = delete(suggestions)
    if sources is not None:
        query = query.where(suggestions.c.source_name.in_(list(sources)))
    if document_id is not None:
        query = query.where(suggestions.c.document_id == document_id)
    with project._writing() as conn:
        return int(conn.execute(query).rowcount or 0)


def suggestion_counts(project: Project) -> dict[str, Counter[str]]:
    """Stored suggestions by source name, then by label."""
    out: dict[str, Counter[str]] = {}
    query = select(suggestions.c.source_name, suggestions.c.label, func.count()).group_by(
        suggestions.c.source_name, suggestions.c.label
    )
    with project.engine.connect() as conn:
        for source, label, n in conn.execute(query):
            out.setdefault(source, Counter())[label] = int(n)
    return out


def _load(conn: Connection, document_id: str) -> list[Suggestion]:
    query = (
        select(suggestions)
        .where(suggestions.c.document_id == document_id)
        .order_by(
            suggestions.c.start_char, suggestions.c.end_char, suggestions.c.label, suggestions.c.source_name
        )
    )
    return [
        Suggestion(r.start_char, r.end_char, r.label, r.source_name, r.score) for r in conn.execute(query)
    ]


def _rejected(conn: Connection, document_id: str, annotator: str) -> set[SuggestionKey]:
    t = suggestion_rejections.c
    query = select(t.start_char, t.end_char, t.label).where(
        (t.document_id == document_id) & (t.annotator == annotator)
    )
    return {SuggestionKey(*r) for r in conn.execute(query)}


def _rejection_exists(conn: Connection, values: dict[str, Any]) -> bool:
    t = suggestion_rejections.c
    query = select(func.count()).where(
        (t.document_id == values["document_id"])
        & (t.annotator == values["annotator"])
        & (t.start_char == values["start_char"])
        & (t.end_char == values["end_char"])
        & (t.label == values["label"])
    )
    return bool(conn.scalar(query))
