"""A project: one database holding documents, every annotator's annotations, the label scheme and
the history of edits.

Every edit is its own short transaction (`persist`); an import is one transaction. The store knows
no file format: readers and writers exchange `Record`s with it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from annotator.core.edits import Changes, Edit, edit_to_json
from annotator.core.errors import ConflictError, InputError, ProjectError, RuleError
from annotator.core.model import Annotation, Document, EntitySpan, Status, Token, utcnow
from annotator.core.rules import check_annotation
from annotator.core.scheme import LabelScheme, parse_scheme
from annotator.core.session import AnnotationSession, EditKind
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.store import rows
from annotator.store.schema import (
    HEAD_REVISION,
    doc_stances,
    documents,
    entities,
    history,
    project_meta,
    stances,
)
from annotator.store.schema import (
    annotations as ann_table,
)

PROJECT_FILE = "project.annotator"
_CHUNK = 200


@dataclass
class DocumentSummary:
    """A line of the document list: enough to show and sort, without the text."""

    id: str
    position: int
    title: str | None
    status: Status


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


Tokenizer = Callable[[str], list[Token]]
Progress = Callable[[int], None]


def resolve_location(location: str | os.PathLike[str]) -> tuple[str, Path | None]:
    """The SQLAlchemy URL and the file (None for a server database) for a project location.

    A location is a database URL (postgresql://...), a project file, or a folder that holds (or will
    hold) `project.annotator`.
    """
    loc = str(location)
    if "://" in loc:
        return loc, None
    path = Path(loc).expanduser()
    if path.is_dir() or (not path.exists() and path.suffix == ""):
        path = path / PROJECT_FILE
    return f"sqlite:///{path}", path


class Project:
    """Open with `Project.open(location)`; close with `close()` (or use it as a context manager)."""

    def __init__(self, engine: Engine, file: Path | None) -> None:
        self.engine = engine
        self.file = file
        self._scheme: LabelScheme | None = None
        self._annotation_ids: dict[tuple[str, str], int] = {}

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(
        cls, location: str | os.PathLike[str], *, create: bool = True, scheme: LabelScheme | None = None
    ) -> Project:
        url, file = resolve_location(location)
        if file is not None:
            if not file.exists():
                if not create:
                    raise ProjectError(f"{file}: no project here")
                file.parent.mkdir(parents=True, exist_ok=True)
            elif file.is_dir():
                raise ProjectError(f"{file}: is a folder, not a project file")
        engine = _make_engine(url)
        project = cls(engine, file)
        try:
            project._migrate(file)
            if project._get_meta("scheme") is None:
                if scheme is None:
                    from annotator.core.scheme import default_scheme

                    scheme = default_scheme()
                project._set_meta("scheme", scheme.to_json())
        except BaseException:
            engine.dispose()
            raise
        return project

    def _migrate(self, file: Path | None) -> None:
        where = file or self.engine.url.render_as_string(hide_password=True)
        try:
            with self._writing() as conn:
                current = _current_revision(conn)
                if current == HEAD_REVISION:
                    return
                from alembic.script import ScriptDirectory

                script = ScriptDirectory(str(Path(__file__).parent / "migrations"))
                known = {rev.revision for rev in script.walk_revisions()}
                if current is not None and current not in known:
                    raise ProjectError(
                        f"{where}: this project was written by a newer version of annotator "
                        f"(database revision {current!r}; this version knows up to {HEAD_REVISION!r}). "
                        "Upgrade annotator to open it."
                    )
                if current is None and _has_foreign_tables(conn):
                    raise ProjectError(f"{where}: this database is not an annotator project")
                from alembic import command
                from alembic.config import Config

                cfg = Config()
                cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except DatabaseError as exc:
            raise ProjectError(f"{where}: cannot open the project: {_reason(exc)}") from None

    def _writing(self) -> Any:
        """A transaction that writes: on SQLite it takes the write lock at BEGIN (waiting for it), so
        that it never fails half-way because another process wrote after it had read."""
        return self.engine.execution_options(immediate=True).begin()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- key/value settings ------------------------------------------------------------------------
    def _get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(project_meta.c.value).where(project_meta.c.key == key))

    def _set_meta(self, key: str, value: str, conn: Connection | None = None) -> None:
        if conn is None:
            with self._writing() as c:
                self._set_meta(key, value, c)
            return
        conn.execute(delete(project_meta).where(project_meta.c.key == key))
        conn.execute(insert(project_meta).values(key=key, value=value))

    def get_setting(self, key: str) -> str | None:
        return self._get_meta(f"setting:{key}")

    def set_setting(self, key: str, value: str) -> None:
        self._set_meta(f"setting:{key}", value)

    # -- the label scheme --------------------------------------------------------------------------
    @property
    def scheme(self) -> LabelScheme:
        if self._scheme is None:
            raw = self._get_meta("scheme")
            if raw is None:  # pragma: no cover - set when the project is created
                raise ProjectError("the project has no label scheme")
            self._scheme = parse_scheme(raw, "the project's scheme")
        return self._scheme

    def reload_scheme(self) -> LabelScheme:
        """The scheme as stored now (another connection, an import say, may have added labels)."""
        self._scheme = None
        return self.scheme

    def set_scheme(self, new: LabelScheme) -> None:
        """Replace the scheme, refusing (ProjectError, with the reason) when stored annotations would
        no longer be valid under it."""
        with self._writing() as conn:
            problems = _scheme_conflicts(conn, new)
            if problems:
                raise ProjectError("the new scheme was refused: " + "; ".join(problems))
            self._set_meta("scheme", new.to_json(), conn)
        self._scheme = new

    # -- documents ---------------------------------------------------------------------------------
    def document_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(documents)) or 0

    def document(self, document_id: str) -> Document:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).first()
        if row is None:
            raise KeyError(document_id)
        return rows.document_from_row(row)

    def tokens(self, document_id: str) -> list[Token] | None:
        with self.engine.connect() as conn:
            value = conn.scalar(select(documents.c.tokens).where(documents.c.id == document_id))
        return rows.tokens_from_json(value)

    def summaries(self, annotator: str) -> list[DocumentSummary]:
        """Every document in import order, with this annotator's status."""
        ann = ann_table.alias()
        query = (
            select(documents.c.id, documents.c.position, documents.c.title, ann.c.status)
            .select_from(
                documents.outerjoin(
                    ann, (ann.c.document_id == documents.c.id) & (ann.c.annotator == annotator)
                )
            )
            .order_by(documents.c.position)
        )
        with self.engine.connect() as conn:
            return [
                DocumentSummary(
                    r.id, r.position, r.title, Status(r.status) if r.status else Status.NOT_STARTED
                )
                for r in conn.execute(query)
            ]

    # -- annotations -------------------------------------------------------------------------------
    def annotation(self, document_id: str, annotator: str) -> Annotation:
        """This annotator's annotation of the document; a new empty one (not stored yet) if none."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ann_table).where(
                    (ann_table.c.document_id == document_id) & (ann_table.c.annotator == annotator)
                )
            ).first()
            if row is None:
                return Annotation(document_id=document_id, annotator=annotator)
            self._annotation_ids[(document_id, annotator)] = row.id
            return _load_annotation(conn, row)

    def open_session(self, document_id: str, annotator: str) -> AnnotationSession:
        document = self.document(document_id)
        return AnnotationSession(document, self.annotation(document_id, annotator), self.scheme, sink=self)

    def persist(
        self, annotation: Annotation, changes: Changes, edit: Edit, kind: EditKind, expected_version: int
    ) -> None:
        """Save one edit: the annotation's changed rows, its new version and a history line, in one
        transaction. Raises ConflictError if someone else saved this annotation in between."""
        key = (annotation.document_id, annotation.annotator)
        now = annotation.updated_at or utcnow()
        new_version = expected_version + 1
        with self._writing() as conn:
            ann_id = self._annotation_ids.get(key)
            if ann_id is None:
                ann_id = conn.scalar(
                    select(ann_table.c.id).where(
                        (ann_table.c.document_id == key[0]) & (ann_table.c.annotator == key[1])
                    )
                )
            if ann_id is None:
                if expected_version != 0:
                    raise _conflict(annotation)
                values = rows.annotation_row(annotation) | {"version": new_version, "created_at": now}
                try:
                    ann_id = _insert_annotation_row(conn, values)
                except IntegrityError:
                    raise _conflict(annotation) from None
                annotation.created_at = now
            else:
                result = conn.execute(
                    update(ann_table)
                    .where((ann_table.c.id == ann_id) & (ann_table.c.version == expected_version))
                    .values(version=new_version, status=annotation.status.value, updated_at=now)
                )
                if result.rowcount != 1:
                    raise _conflict(annotation)
            _write_changed_rows(conn, ann_id, annotation, changes)
            conn.execute(
                insert(history).values(
                    annotation_id=ann_id, version=new_version, kind=kind, edit=edit_to_json(edit), at=now
                )
            )
        self._annotation_ids[key] = ann_id

    def history(self, document_id: str, annotator: str) -> list[tuple[int, str, str]]:
        """(version, kind, edit JSON) of every saved edit, oldest first."""
        query = (
            select(history.c.version, history.c.kind, history.c.edit)
            .join(ann_table, ann_table.c.id == history.c.annotation_id)
            .where((ann_table.c.document_id == document_id) & (ann_table.c.annotator == annotator))
            .order_by(history.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.version, r.kind, r.edit) for r in conn.execute(query)]

    # -- import ------------------------------------------------------------------------------------
    def import_records(
        self,
        items: Iterable[ReadItem],
        *,
        tokenizer: Tokenizer | None = None,
        skip_invalid: bool = False,
        strict_labels: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Store the records in one transaction: all of them, or (on the first bad one) nothing,
        unless `skip_invalid`, which stores the good ones and reports each bad one."""
        report = ImportReport()
        scheme = self.scheme
        with self._writing() as conn:
            position = (conn.scalar(select(func.max(documents.c.position))) or 0) + 1
            now = utcnow()
            for count, item in enumerate(items, start=1):
                if progress is not None:
                    progress(count)
                if isinstance(item, InputError):
                    if not skip_invalid:
                        raise item
                    report.skipped.append(item)
                    continue
                savepoint = conn.begin_nested()
                try:
                    # Counted apart, so that a record that fails half-way leaves no trace in the report.
                    counts = ImportReport()
                    extended = _extend_scheme(scheme, item, strict_labels, counts)
                    position = _import_record(conn, item, extended, tokenizer, position, now, counts)
                    savepoint.commit()
                    scheme = extended
                    report.add(counts)
                except (InputError, RuleError) as exc:
                    savepoint.rollback()
                    error = (
                        exc
                        if isinstance(exc, InputError)
                        else InputError(exc.message, path=item.path, line=item.line, field=exc.field)
                    )
                    if not skip_invalid:
                        raise error from None
                    report.skipped.append(error)
            if scheme != self.scheme:
                self._set_meta("scheme", scheme.to_json(), conn)
        self._scheme = scheme
        return report

    # -- export ------------------------------------------------------------------------------------
    def records(
        self,
        *,
        annotator: str | None = None,
        statuses: set[Status] | None = None,
        include_unannotated: bool = False,
    ) -> Iterator[Record]:
        """Stream documents with their matching ann_table, in import order, a chunk at a time.

        `statuses=None` means every status. Documents with no matching annotation are left out
        unless `include_unannotated`.
        """
        last = -1
        while True:
            with self.engine.connect() as conn:
                doc_rows = conn.execute(
                    select(documents)
                    .where(documents.c.position > last)
                    .order_by(documents.c.position)
                    .limit(_CHUNK)
                ).all()
                if not doc_rows:
                    return
                last = doc_rows[-1].position
                by_doc = _load_annotations(conn, [r.id for r in doc_rows], annotator, statuses)
            for row in doc_rows:
                anns = by_doc.get(row.id, [])
                if anns or include_unannotated:
                    yield Record(
                        document=rows.document_from_row(row),
                        annotations=anns,
                        tokens=rows.tokens_from_json(row.tokens),
                    )

    # -- statistics --------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            docs = conn.scalar(select(func.count()).select_from(documents)) or 0
            by_status = _counts(conn, ann_table.c.status)
            by_label = _counts(conn, entities.c.label)
            by_polarity = _counts(conn, stances.c.polarity)
            doc_polarity = _counts(conn, doc_stances.c.polarity)
            annotators = list(
                conn.scalars(select(ann_table.c.annotator).distinct().order_by(ann_table.c.annotator))
            )
        return {
            "documents": docs,
            "annotations": {s.value: by_status.get(s.value, 0) for s in Status},
            "annotators": annotators,
            "entities": by_label,
            "stances": by_polarity,
            "document_stances": doc_polarity,
        }


# -- helpers -----------------------------------------------------------------------------------------


def _counts(conn: Connection, column: Any) -> dict[str, int]:
    query = select(column, func.count()).group_by(column).order_by(column)
    return {str(value): int(n) for value, n in conn.execute(query)}


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 10})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (SQLAlchemy's
        # documented recipe), so that an import is really one transaction with savepoints.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed edit survives a power cut, not only a crash of the program.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")

    return engine


def _current_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested():
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
    except (OperationalError, DatabaseError) as exc:
        if "alembic_version" in str(exc) or "does not exist" in str(exc):
            return None
        raise


def _has_foreign_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).get_table_names())


def _reason(exc: DatabaseError) -> str:
    return str(exc.orig) if exc.orig is not None else str(exc)


def _conflict(annotation: Annotation) -> ConflictError:
    return ConflictError(
        f"{annotation.annotator}'s annotation of document {annotation.document_id} was changed in another "
        "window or process since it was opened here; your last edit was not saved. Reopen the document "
        "to see the saved version."
    )


def _write_changed_rows(conn: Connection, ann_id: int, ann: Annotation, changes: Changes) -> None:
    if changes.entities:
        conn.execute(
            delete(entities).where((entities.c.annotation_id == ann_id) & entities.c.id.in_(changes.entities))
        )
        new = [rows.entity_row(ann_id, i, e) for i, e in enumerate(ann.entities) if e.id in changes.entities]
        if new:
            conn.execute(insert(entities), new)
    if changes.stances:
        conn.execute(
            delete(stances).where((stances.c.annotation_id == ann_id) & stances.c.id.in_(changes.stances))
        )
        new = [rows.stance_row(ann_id, i, s) for i, s in enumerate(ann.stances) if s.id in changes.stances]
        if new:
            conn.execute(insert(stances), new)
    if changes.doc_stances:
        conn.execute(
            delete(doc_stances).where(
                (doc_stances.c.annotation_id == ann_id) & doc_stances.c.target_key.in_(changes.doc_stances)
            )
        )
        new = [
            rows.doc_stance_row(ann_id, i, d)
            for i, d in enumerate(ann.doc_stances)
            if d.key in changes.doc_stances
        ]
        if new:
            conn.execute(insert(doc_stances), new)


def _insert_annotation_row(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(insert(ann_table).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _insert_annotation(conn: Connection, ann: Annotation) -> None:
    ann_id = _insert_annotation_row(conn, rows.annotation_row(ann))
    if ann.entities:
        conn.execute(insert(entities), [rows.entity_row(ann_id, i, e) for i, e in enumerate(ann.entities)])
    if ann.stances:
        conn.execute(insert(stances), [rows.stance_row(ann_id, i, s) for i, s in enumerate(ann.stances)])
    if ann.doc_stances:
        conn.execute(
            insert(doc_stances), [rows.doc_stance_row(ann_id, i, d) for i, d in enumerate(ann.doc_stances)]
        )


def _load_annotation(conn: Connection, row: Any) -> Annotation:
    ents = conn.execute(
        select(entities).where(entities.c.annotation_id == row.id).order_by(entities.c.ord, entities.c.id)
    ).all()
    sts = conn.execute(
        select(stances).where(stances.c.annotation_id == row.id).order_by(stances.c.ord, stances.c.id)
    ).all()
    dss = conn.execute(
        select(doc_stances)
        .where(doc_stances.c.annotation_id == row.id)
        .order_by(doc_stances.c.ord, doc_stances.c.target_key)
    ).all()
    return rows.annotation_from_rows(row, ents, sts, dss)


def _load_annotations(
    conn: Connection, doc_ids: list[str], annotator: str | None, statuses: set[Status] | None
) -> dict[str, list[Annotation]]:
    query = select(ann_table).where(ann_table.c.document_id.in_(doc_ids))
    if annotator is not None:
        query = query.where(ann_table.c.annotator == annotator)
    if statuses is not None:
        query = query.where(ann_table.c.status.in_([s.value for s in statuses]))
    ann_rows = conn.execute(query.order_by(ann_table.c.annotator)).all()
    if not ann_rows:
        return {}
    ids = [r.id for r in ann_rows]
    children: dict[str, dict[int, list[Any]]] = {"e": {}, "s": {}, "d": {}}
    for key, table, order in (
        ("e", entities, entities.c.id),
        ("s", stances, stances.c.id),
        ("d", doc_stances, doc_stances.c.target_key),
    ):
        for r in conn.execute(
            select(table)
            .where(table.c.annotation_id.in_(ids))
            .order_by(table.c.annotation_id, table.c.ord, order)
        ):
            children[key].setdefault(r.annotation_id, []).append(r)
    out: dict[str, list[Annotation]] = {}
    for r in ann_rows:
        ann = rows.annotation_from_rows(
            r, children["e"].get(r.id, []), children["s"].get(r.id, []), children["d"].get(r.id, [])
        )
        out.setdefault(r.document_id, []).append(ann)
    return out


def _extend_scheme(scheme: LabelScheme, record: Record, strict: bool, report: ImportReport) -> LabelScheme:
    """The scheme extended by what the record brings: new labels and polarities, and overlapping
    entities (which real files have). `strict` refuses instead."""
    labels = [e.label for a in record.annotations for e in a.entities if e.label not in scheme.label_names]
    used = [s.polarity for a in record.annotations for s in a.stances]
    used += [d.polarity for a in record.annotations for d in a.doc_stances]
    polarities = [p for p in used if p not in scheme.polarity_names]
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


def _import_record(
    conn: Connection,
    record: Record,
    scheme: LabelScheme,
    tokenizer: Tokenizer | None,
    position: int,
    now: Any,
    report: ImportReport,
) -> int:
    doc = record.document
    existing = conn.execute(select(documents.c.text).where(documents.c.id == doc.id)).first()
    if existing is not None:
        if existing.text != doc.text:
            raise InputError(
                f"document {doc.id!r} is already in the project with a different text",
                path=record.path,
                line=record.line,
                field="id",
            )
        report.documents_existing += 1
    else:
        tokens = record.tokens
        if tokens is None and tokenizer is not None:
            tokens = tokenizer(doc.text)
        conn.execute(insert(documents).values(**rows.document_row(doc, position, tokens, now)))
        position += 1
        report.documents_added += 1
    for ann in record.annotations:
        try:
            check_annotation(ann, doc, scheme)
        except RuleError as exc:
            raise InputError(exc.message, path=record.path, line=record.line, field=exc.field) from None
        taken = conn.scalar(
            select(ann_table.c.id).where(
                (ann_table.c.document_id == doc.id) & (ann_table.c.annotator == ann.annotator)
            )
        )
        if taken is not None:
            report.annotations_existing += 1
            continue
        _insert_annotation(conn, ann)
        report.annotations_added += 1
    report.warnings.extend(f"{record.path}:{record.line}: {w}" for w in record.warnings)
    return position


def _scheme_conflicts(conn: Connection, new: LabelScheme) -> list[str]:
    problems = []
    labels = set(conn.scalars(select(entities.c.label).distinct()))
    missing = sorted(labels - set(new.label_names))
    if missing:
        problems.append(f"labels in use would be removed: {', '.join(missing)}")
    polarities = set(conn.scalars(select(stances.c.polarity).distinct())) | set(
        conn.scalars(select(doc_stances.c.polarity).distinct())
    )
    missing = sorted(polarities - set(new.polarity_names))
    if missing:
        problems.append(f"polarities in use would be removed: {', '.join(missing)}")
    if not new.allow_overlap:
        overlapping = _count_overlaps(conn)
        if overlapping:
            problems.append(
                f"{overlapping} annotations have overlapping entities, which the new scheme forbids"
            )
    return problems


def _count_overlaps(conn: Connection) -> int:
    bad: set[int] = set()
    last: tuple[int, int] | None = None
    query = select(entities.c.annotation_id, entities.c.start_char, entities.c.end_char).order_by(
        entities.c.annotation_id, entities.c.start_char
    )
    for ann_id, start, end in conn.execute(query):
        if last is not None and last[0] == ann_id and start < last[1]:
            bad.add(ann_id)
        last = (ann_id, end if last is None or last[0] != ann_id else max(end, last[1]))
    return len(bad)
