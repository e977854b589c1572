"""Imports: records from a reader into the project, in the caller's one transaction.

Records are checked one by one, in file order, entirely in memory (the scheme they extend, the
documents and annotations already stored or brought by an earlier record); only the good ones are
written, a batch of records at a time, with one statement per table per batch. So a bad record
needs no savepoint to be left out, and a file of ten thousand records costs a few dozen statements
instead of ten for each record. Memory stays flat: a batch is at most `BATCH_RECORDS` records and
about `BATCH_CHARS` characters of text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, insert, select

from annotator.core.errors import InputError, RuleError
from annotator.core.model import Annotation, EntitySpan, Token, utcnow
from annotator.core.rules import check_annotation
from annotator.core.scheme import LabelScheme
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.store import ordering, rows
from annotator.store.bulk import collector_paused
from annotator.store.schema import annotations as ann_table
from annotator.store.schema import doc_stances, documents, entities, stances
from annotator.store.token_codec import encode_tokens

Tokenizer = Callable[[str], list[Token]]
Progress = Callable[[int], None]
# A record read, with its tokens as token_codec bytes (and taken out of the record).
_Pending = tuple[ReadItem, bytes | None]

BATCH_RECORDS = 200
BATCH_CHARS = 8_000_000


@dataclass
class ImportReport:
    documents_added: int = 0
    documents_existing: int = 0
    annotations_added: int = 0
    annotations_existing: int = 0
    labels_added: list[str] = field(default_factory=list)
    polarities_added: list[str] = field(default_factory=list)
    skipped: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    overlaps_allowed: bool = False  # the import brought overlapping entities and the scheme now allows them

    def add(self, other: ImportReport) -> None:
        self.overlaps_allowed = self.overlaps_allowed or other.overlaps_allowed
        self.documents_added += other.documents_added
        self.documents_existing += other.documents_existing
        self.annotations_added += other.annotations_added
        self.annotations_existing += other.annotations_existing
        self.labels_added.extend(other.labels_added)
        self.polarities_added.extend(other.polarities_added)
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)


def import_items(
    conn: Connection,
    items: Iterable[ReadItem],
    scheme: LabelScheme,
    *,
    tokenizer: Tokenizer | None = None,
    skip_invalid: bool = False,
    strict_labels: bool = False,
    progress: Progress | None = None,
) -> tuple[ImportReport, LabelScheme]:
    """Store the records (see `Project.import_records`); return the report and the scheme as the
    records extended it. Raises the first bad record's InputError unless `skip_invalid`."""
    batch = _Batch(conn, scheme, tokenizer, skip_invalid, strict_labels)
    it = iter(items)
    count = 0
    while True:
        # A batch is read and written without the garbage collector (see bulk.collector_paused), and
        # let go of before it runs again.
        with collector_paused():
            pending, failure, exhausted, count = _read_batch(it, count, progress)
            # The records read before a failure are checked first: one of them may be the first error.
            batch.run(pending)
            del pending
        if failure is not None:
            raise failure
        if exhausted:
            return batch.report, batch.scheme


def _read_batch(
    it: Iterator[ReadItem], count: int, progress: Progress | None
) -> tuple[list[_Pending], Exception | None, bool, int]:
    """The next batch of items; the exception the reader raised, if it did; whether the items ran
    out; how many items have been read so far."""
    pending: list[_Pending] = []
    chars = 0
    while len(pending) < BATCH_RECORDS and chars < BATCH_CHARS:
        try:
            item = next(it)
        except StopIteration:
            return pending, None, True, count
        except Exception as exc:  # a problem with the whole file, after the records before it
            return pending, exc, False, count
        count += 1
        if progress is not None:
            progress(count)
        if isinstance(item, Record) and item.tokens is not None:
            # Held as bytes until written: a batch of Token lists is hundreds of thousands of objects.
            data = encode_tokens(item.tokens)
            pending.append((replace(item, tokens=None), data))
            chars += len(item.document.text) + len(data)
        else:
            pending.append((item, None))
            chars += len(item.document.text) if isinstance(item, Record) else 0
    return pending, None, False, count


class _Batch:
    """Checks records in order and writes the good ones; keeps what the import has done so far."""

    def __init__(
        self,
        conn: Connection,
        scheme: LabelScheme,
        tokenizer: Tokenizer | None,
        skip_invalid: bool,
        strict_labels: bool,
    ) -> None:
        self.conn = conn
        self.scheme = scheme
        self.tokenizer = tokenizer
        self.skip_invalid = skip_invalid
        self.strict_labels = strict_labels
        self.report = ImportReport()
        self.position = (conn.scalar(select(func.max(documents.c.position))) or 0) + 1
        self.now = utcnow()

    def run(self, items: Sequence[_Pending]) -> None:
        ids = list({item.document.id for item, _ in items if isinstance(item, Record)})
        texts: dict[str, str] = {}
        taken: set[tuple[str, str]] = set()
        if ids:
            found = self.conn.execute(select(documents.c.id, documents.c.text).where(documents.c.id.in_(ids)))
            texts = {doc_id: text for doc_id, text in found}
            taken = {
                (doc_id, who)
                for doc_id, who in self.conn.execute(
                    select(ann_table.c.document_id, ann_table.c.annotator).where(
                        ann_table.c.document_id.in_(ids)
                    )
                )
            }
        new_documents: list[dict[str, Any]] = []
        new_annotations: list[Annotation] = []
        for item, token_data in items:
            if isinstance(item, InputError):
                self._skip(item)
                continue
            # Counted apart, so that a record refused half-way leaves no trace in the report.
            counts = ImportReport()
            try:
                extended = _extend_scheme(self.scheme, item, self.strict_labels, counts)
                document, annotations = self._check(item, token_data, extended, counts, texts, taken)
            except (InputError, RuleError) as exc:
                error = (
                    exc
                    if isinstance(exc, InputError)
                    else InputError(exc.message, path=item.path, line=item.line, field=exc.field)
                )
                self._skip(error)
                continue
            self.scheme = extended
            self.report.add(counts)
            doc_id = item.document.id
            if document is not None:
                new_documents.append(document)
                texts[doc_id] = item.document.text
                self.position += 1
            for ann in annotations:
                taken.add((doc_id, ann.annotator))
                new_annotations.append(ann)
        _write(self.conn, new_documents, new_annotations)

    def _skip(self, error: InputError) -> None:
        if not self.skip_invalid:
            raise error
        self.report.skipped.append(error)

    def _check(
        self,
        record: Record,
        token_data: bytes | None,
        scheme: LabelScheme,
        report: ImportReport,
        texts: dict[str, str],
        taken: set[tuple[str, str]],
    ) -> tuple[dict[str, Any] | None, list[Annotation]]:
        """The document row to insert (None: stored already) and the annotations to insert."""
        doc = record.document
        row = None
        if doc.id in texts:
            if texts[doc.id] != doc.text:
                raise InputError(
                    f"document {doc.id!r} is already in the project with a different text",
                    path=record.path,
                    line=record.line,
                    field="id",
                )
            report.documents_existing += 1
        else:
            if token_data is None and self.tokenizer is not None:
                token_data = encode_tokens(self.tokenizer(doc.text))
            row = rows.document_row(doc, self.position, token_data, self.now)
            report.documents_added += 1
        added: list[Annotation] = []
        for ann in record.annotations:
            try:
                check_annotation(ann, doc, scheme)
            except RuleError as exc:
                raise InputError(exc.message, path=record.path, line=record.line, field=exc.field) from None
            if (doc.id, ann.annotator) in taken or any(a.annotator == ann.annotator for a in added):
                report.annotations_existing += 1
                continue
            added.append(ann)
            report.annotations_added += 1
        report.warnings.extend(f"{record.path}:{record.line}: {w}" for w in record.warnings)
        return row, added


def _write(conn: Connection, new_documents: list[dict[str, Any]], new_annotations: list[Annotation]) -> None:
    if new_documents:
        conn.execute(insert(documents), new_documents)
    if not new_annotations:
        return
    values = [rows.annotation_row(ann) for ann in new_annotations]
    if conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        query = insert(ann_table).returning(ann_table.c.id, sort_by_parameter_order=True)
        ids = list(conn.execute(query, values).scalars())
    else:  # pragma: no cover - SQLite before 3.35
        ids = [conn.execute(insert(ann_table).values(**v)).inserted_primary_key[0] for v in values]  # type: ignore[index]
    children: dict[Any, list[dict[str, Any]]] = {entities: [], stances: [], doc_stances: []}
    for ann_id, ann in zip(ids, new_annotations, strict=True):
        spans: tuple[tuple[Any, Sequence[Any], Callable[[int, int, Any], dict[str, Any]]], ...] = (
            (entities, ann.entities, rows.entity_row),
            (stances, ann.stances, rows.stance_row),
            (doc_stances, ann.doc_stances, rows.doc_stance_row),
        )
        for table, items, to_row in spans:
            if items:
                keys = ordering.renumbered(len(items))
                children[table] += [to_row(ann_id, key, item) for key, item in zip(keys, items, strict=True)]
    for table, values in children.items():
        if values:
            _insert_many(conn, table, values)


def _insert_many(conn: Connection, table: Any, values: list[dict[str, Any]]) -> None:
    """Insert rows of plain values (no type needs converting) through the driver's executemany.
    SQLAlchemy's own executemany prepares each row's parameters in Python, which took longer than
    SQLite took to insert them."""
    dialect = conn.dialect
    key = (table.name, dialect.name, dialect.driver, dialect.paramstyle)
    prepared = _PREPARED.get(key)
    if prepared is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(values[0]))
        order: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
        if compiled.positional and compiled.positiontup:
            names = compiled.positiontup
            order = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        prepared = _PREPARED[key] = (str(compiled), order)
    sql, order = prepared
    conn.exec_driver_sql(sql, list(map(order, values)) if order is not None else values)


_PREPARED: dict[tuple[str, ...], tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]] | None]] = {}


def _extend_scheme(scheme: LabelScheme, record: Record, strict: bool, report: ImportReport) -> LabelScheme:
    """The scheme extended by what the record brings: new labels and polarities, and overlapping
    entities (which real files have). `strict` refuses instead."""
    known_labels = frozenset(scheme.label_names)
    known_polarities = frozenset(scheme.polarity_names)
    labels = [e.label for a in record.annotations for e in a.entities if e.label not in known_labels]
    used = [s.polarity for a in record.annotations for s in a.stances]
    used += [d.polarity for a in record.annotations for d in a.doc_stances]
    polarities = [p for p in used if p not in known_polarities]
    overlaps = not scheme.allow_overlap and any(_has_overlap(a.entities) for a in record.annotations)
    if not labels and not polarities and not overlaps:
        return scheme
    if strict:
        missing = sorted(set(labels) | set(polarities))
        reasons = []
        if missing:
            reasons.append(f"labels not in the project's scheme: {', '.join(missing)}")
        if overlaps:
            reasons.append("overlapping entities, which the project's scheme does not allow")
        raise InputError(
            f"{'; '.join(reasons)} (--strict-labels refuses them)", path=record.path, line=record.line
        )
    new_labels = list(dict.fromkeys(labels))
    new_polarities = list(dict.fromkeys(polarities))
    try:
        extended = scheme.with_labels(new_labels).with_polarities(new_polarities)
    except ValidationError as exc:
        _, message = first_problem(exc)
        raise InputError(
            f"cannot add it to the scheme: {message}", path=record.path, line=record.line, field="label"
        ) from None
    report.labels_added.extend(new_labels)
    report.polarities_added.extend(new_polarities)
    if overlaps:
        report.overlaps_allowed = True
        extended = extended.model_copy(update={"allow_overlap": True})
    return extended


def _has_overlap(spans: list[EntitySpan]) -> bool:
    ordered = sorted(spans, key=lambda e: (e.start, e.end))
    return any(b.start < a.end for a, b in itertools.pairwise(ordered))
