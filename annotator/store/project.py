"""A project: one database holding documents, every annotator's annotations, the label scheme and
the history of edits.

Every edit is its own short transaction (`persist`); an import is one transaction. The store knows
no file format: readers and writers exchange `Record`s with it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from annotator.core.edits import Changes, Edit, edit_to_json
from annotator.core.errors import ConflictError, ProjectError
from annotator.core.model import Annotation, Document, DocumentStance, SpanList, Status, Token, utcnow
from annotator.core.scheme import LabelScheme, parse_scheme
from annotator.core.session import AnnotationSession, EditKind
from annotator.formats.base import ReadItem, Record
from annotator.store import ordering, rows
from annotator.store.bulk import collector_paused
from annotator.store.importer import ImportReport, Progress, Tokenizer, import_items
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
from annotator.store.token_codec import iter_token_triples

PROJECT_FILE = "project.annotator"
_A = TypeVar("_A")
# A document, its tokens and its annotations as plain data: see Project.plain_records.
PlainRecord = tuple[dict[str, Any], list[tuple[int, int, bool]] | None, list[dict[str, Any]]]
_FIRST = itemgetter(0)
_CHUNK = 200


@dataclass
class DocumentSummary:
    """A line of the document list: enough to show and sort, without the text."""

    id: str
    position: int
    title: str | None
    status: Status


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
            row = conn.execute(
                select(documents.c.id, documents.c.text, documents.c.meta).where(
                    documents.c.id == document_id
                )
            ).first()
        if row is None:
            raise KeyError(document_id)
        return rows.document_from_row(row)

    def tokens(self, document_id: str) -> list[Token] | None:
        with self.engine.connect() as conn:
            value = conn.scalar(select(documents.c.token_data).where(documents.c.id == document_id))
        return rows.tokens_from_data(value)

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
        transaction. Raises ConflictError if someone else saved this annotation in between.

        When the project cannot be written (read-only, locked too long, deleted or moved), raises
        ProjectError saying so, after writing the edit to the recovery file so that it is not lost.
        """
        problem = None
        if self.file is not None and not self.file.exists():
            problem = "the project file was deleted or moved"
        else:
            try:
                self._persist(annotation, changes, edit, kind, expected_version)
                return
            except OperationalError as exc:
                problem = _reason(exc)
        from annotator.store.recovery import save_unsaved_edit

        where = (
            str(self.file) if self.file is not None else self.engine.url.render_as_string(hide_password=True)
        )
        saved = save_unsaved_edit(where, annotation, edit, kind, problem)
        raise ProjectError(
            f"{where}: your last edit could not be saved ({problem}), so it was taken back. It was kept "
            f"in {saved}; nothing saved before it is lost."
        )

    def _persist(
        self, annotation: Annotation, changes: Changes, edit: Edit, kind: EditKind, expected_version: int
    ) -> None:
        key = (annotation.document_id, annotation.annotator)
        now = annotation.updated_at or utcnow()
        new_version = expected_version + 1
        with self._writing() as conn:
            ann_id = self._annotation_ids.get(key)
            if ann_id is None:
                ann_id = conn.scalar(_FIND_ANNOTATION, {"doc": key[0], "who": key[1]})
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
                    _BUMP_VERSION,
                    {
                        "ann": ann_id,
                        "expected": expected_version,
                        "new_version": new_version,
                        "new_status": annotation.status.value,
                        "now": now,
                    },
                )
                if result.rowcount != 1:
                    raise _conflict(annotation)
            _write_changed_rows(conn, ann_id, annotation, changes)
            conn.execute(
                _INSERT_HISTORY,
                {
                    "annotation_id": ann_id,
                    "version": new_version,
                    "kind": kind,
                    "edit": edit_to_json(edit),
                    "at": now,
                },
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
        with self._writing() as conn:
            report, scheme = import_items(
                conn,
                items,
                self.scheme,
                tokenizer=tokenizer,
                skip_invalid=skip_invalid,
                strict_labels=strict_labels,
                progress=progress,
            )
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
        for row, anns in self._chunks(_load_annotations, annotator, statuses, include_unannotated):
            yield Record(
                document=rows.document_from_row(row),
                annotations=anns,
                tokens=rows.tokens_from_data(row.token_data),
            )

    def plain_records(
        self,
        *,
        annotator: str | None = None,
        statuses: set[Status] | None = None,
        include_unannotated: bool = False,
    ) -> Iterator[PlainRecord]:
        """What `records` yields, as plain data instead of models, for writers that only serialise:
        `(document, tokens, annotations)`, where `document` and each annotation are what their
        `model_dump(mode="json")` gives, except that an annotation's `created_at` and `updated_at`
        stay datetimes (UTC), and `tokens` are `(start, end, ws)` tuples (or None).

        Nothing is validated or built as a model, which makes a native export about twice as fast.
        Parts may be shared between records: read them, do not change them.
        """
        for row, anns in self._chunks(_load_plain_annotations, annotator, statuses, include_unannotated):
            data = row.token_data
            yield rows.plain_document(row), (None if data is None else list(iter_token_triples(data))), anns

    def _chunks(
        self,
        load: Callable[[Connection, list[str], str | None, set[Status] | None], dict[str, list[_A]]],
        annotator: str | None,
        statuses: set[Status] | None,
        include_unannotated: bool,
    ) -> Iterator[tuple[Any, list[_A]]]:
        """Each document row (id, text, meta, token_data) with its matching annotations, as `load`
        reads them a chunk of documents at a time, in import order."""
        last = -1
        d = documents.c
        query = select(d.id, d.position, d.text, d.meta, d.token_data).order_by(d.position).limit(_CHUNK)
        while True:
            with self.engine.connect() as conn, collector_paused():
                doc_rows = conn.execute(query.where(d.position > last)).all()
                if not doc_rows:
                    return
                last = doc_rows[-1].position
                by_doc = load(conn, [r.id for r in doc_rows], annotator, statuses)
            for row in doc_rows:
                anns = by_doc.get(row.id, [])
                if anns or include_unannotated:
                    yield row, anns

    def document_ids(
        self,
        *,
        annotator: str | None = None,
        statuses: set[Status] | None = None,
        include_unannotated: bool = False,
    ) -> list[str]:
        """The ids of the documents that `records` would yield, in the same order."""
        query = select(documents.c.id).order_by(documents.c.position)
        if not include_unannotated:
            mine = _annotation_filter(annotator, statuses, ann_table.c.document_id == documents.c.id)
            query = query.where(select(ann_table.c.id).where(mine).exists())
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

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


@dataclass(frozen=True)
class _SpanTable:
    """One table of an annotation's spans and the statements that write it, built once."""

    table: Any
    key: Any  # the column naming a span within its annotation
    delete_some: Any = field(init=False)
    delete_all: Any = field(init=False)
    select_ords: Any = field(init=False)
    insert: Any = field(init=False)

    def __post_init__(self) -> None:
        t, mine = self.table, self.table.c.annotation_id == bindparam("ann")
        keys = self.key.in_(bindparam("keys", expanding=True))
        object.__setattr__(self, "delete_some", delete(t).where(mine & keys))
        object.__setattr__(self, "delete_all", delete(t).where(mine))
        object.__setattr__(self, "select_ords", select(self.key, t.c.ord).where(mine & keys))
        object.__setattr__(self, "insert", insert(t))


_ENTITIES = _SpanTable(entities, entities.c.id)
_STANCES = _SpanTable(stances, stances.c.id)
_DOC_STANCES = _SpanTable(doc_stances, doc_stances.c.target_key)
_FIND_ANNOTATION = select(ann_table.c.id).where(
    (ann_table.c.document_id == bindparam("doc")) & (ann_table.c.annotator == bindparam("who"))
)
_BUMP_VERSION = (
    update(ann_table)
    .where((ann_table.c.id == bindparam("ann")) & (ann_table.c.version == bindparam("expected")))
    .values(version=bindparam("new_version"), status=bindparam("new_status"), updated_at=bindparam("now"))
)
_INSERT_HISTORY = insert(history)


def _write_changed_rows(conn: Connection, ann_id: int, ann: Annotation, changes: Changes) -> None:
    """Write what the edit changed, and nothing else: a changed span still in the annotation is
    (re)written with an `ord` between its neighbours' (see `ordering`), a removed one is deleted."""
    if changes.entities:
        _write_changed(
            conn, _ENTITIES, ann_id, ann.entities, changes.entities, ann.entity_position, rows.entity_row
        )
    if changes.stances:
        _write_changed(
            conn, _STANCES, ann_id, ann.stances, changes.stances, ann.stance_position, rows.stance_row
        )
    if changes.doc_stances:
        where = {d.key: i for i, d in enumerate(ann.doc_stances)}
        _write_changed(
            conn, _DOC_STANCES, ann_id, ann.doc_stances, changes.doc_stances, where.get, rows.doc_stance_row
        )


def _span_key(item: Any) -> str:
    return item.key if isinstance(item, DocumentStance) else str(item.id)


def _write_changed(
    conn: Connection,
    t: _SpanTable,
    ann_id: int,
    items: Sequence[Any],
    changed: frozenset[str],
    position: Callable[[str], int | None],
    to_row: Callable[[int, int, Any], dict[str, Any]],
) -> None:
    present = {key: i for key in changed if (i := position(key)) is not None}
    if not present:
        conn.execute(t.delete_some, {"ann": ann_id, "keys": list(changed)})
        return
    spans = list(ordering.runs(present.values()))
    neighbours = {_span_key(items[first - 1]) for first, _ in spans if first > 0}
    neighbours |= {_span_key(items[last + 1]) for _, last in spans if last + 1 < len(items)}
    stored = dict(
        conn.execute(t.select_ords, {"ann": ann_id, "keys": list(present.keys() | neighbours)}).all()
    )
    new_rows = []
    for first, last in spans:
        low = stored.get(_span_key(items[first - 1])) if first > 0 else None
        high = stored.get(_span_key(items[last + 1])) if last + 1 < len(items) else None
        if (first > 0 and low is None) or (last + 1 < len(items) and high is None):
            keys = None  # a neighbour that was never stored: number the whole list afresh
        elif first == last and _fits(stored.get(_span_key(items[first])), low, high):
            keys = [stored[_span_key(items[first])]]  # changed in place: its key still fits
        else:
            keys = ordering.between(last - first + 1, low, high)
        if keys is None:
            _renumber(conn, t, ann_id, items, to_row)
            return
        new_rows += [to_row(ann_id, k, items[i]) for k, i in zip(keys, range(first, last + 1), strict=True)]
    gone = (changed - present.keys()) | (present.keys() & stored.keys())
    if gone:
        conn.execute(t.delete_some, {"ann": ann_id, "keys": list(gone)})
    conn.execute(t.insert, new_rows)


def _fits(key: int | None, low: int | None, high: int | None) -> bool:
    return key is not None and (low is None or low < key) and (high is None or key < high)


def _renumber(
    conn: Connection, t: _SpanTable, ann_id: int, items: Sequence[Any], to_row: Callable[[int, int, Any], Any]
) -> None:
    conn.execute(t.delete_all, {"ann": ann_id})
    if items:
        keys = ordering.renumbered(len(items))
        conn.execute(t.insert, [to_row(ann_id, key, item) for key, item in zip(keys, items, strict=True)])


def _insert_annotation_row(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(insert(ann_table).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _load_annotation(conn: Connection, row: Any) -> Annotation:
    """An annotation to work on: read, and ready for quick lookups by id and position."""
    with collector_paused():  # ten thousand entities are forty thousand new objects
        annotation = _read_annotation(conn, row)
        for spans in (annotation.entities, annotation.stances):
            if isinstance(spans, SpanList):
                spans.prepare()
        return annotation


def _read_annotation(conn: Connection, row: Any) -> Annotation:
    ents = conn.execute(
        select(*rows.ENTITY_COLUMNS)
        .where(entities.c.annotation_id == row.id)
        .order_by(entities.c.ord, entities.c.id)
    ).all()
    sts = conn.execute(
        select(*rows.STANCE_COLUMNS)
        .where(stances.c.annotation_id == row.id)
        .order_by(stances.c.ord, stances.c.id)
    ).all()
    dss = conn.execute(
        select(*rows.DOC_STANCE_COLUMNS)
        .where(doc_stances.c.annotation_id == row.id)
        .order_by(doc_stances.c.ord, doc_stances.c.target_key)
    ).all()
    return rows.annotation_from_rows(row, ents, sts, dss)


def _load_annotations(
    conn: Connection, doc_ids: list[str], annotator: str | None, statuses: set[Status] | None
) -> dict[str, list[Annotation]]:
    ann_rows, children = _annotation_rows(conn, doc_ids, annotator, statuses)
    out: dict[str, list[Annotation]] = {}
    for r in ann_rows:
        ann = rows.annotation_from_rows(
            r, children["e"].get(r.id, []), children["s"].get(r.id, []), children["d"].get(r.id, [])
        )
        out.setdefault(r.document_id, []).append(ann)
    return out


def _load_plain_annotations(
    conn: Connection, doc_ids: list[str], annotator: str | None, statuses: set[Status] | None
) -> dict[str, list[dict[str, Any]]]:
    ann_rows, children = _annotation_rows(conn, doc_ids, annotator, statuses)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in ann_rows:
        ann = rows.plain_annotation(
            r, children["e"].get(r.id, []), children["s"].get(r.id, []), children["d"].get(r.id, [])
        )
        out.setdefault(r.document_id, []).append(ann)
    return out


def _annotation_filter(annotator: str | None, statuses: set[Status] | None, where: Any) -> Any:
    if annotator is not None:
        where = where & (ann_table.c.annotator == annotator)
    if statuses is not None:
        where = where & ann_table.c.status.in_([s.value for s in statuses])
    return where


def _annotation_rows(
    conn: Connection, doc_ids: list[str], annotator: str | None, statuses: set[Status] | None
) -> tuple[list[Any], dict[str, dict[int, list[Any]]]]:
    """The matching annotations' rows, by annotator, and their spans' rows by annotation id (in
    `e`, `s` and `d`: entities, stances, article stances)."""
    mine = _annotation_filter(annotator, statuses, ann_table.c.document_id.in_(doc_ids))
    ann_rows = list(conn.execute(select(ann_table).where(mine).order_by(ann_table.c.annotator)))
    children: dict[str, dict[int, list[Any]]] = {"e": {}, "s": {}, "d": {}}
    if not ann_rows:
        return ann_rows, children
    ids = [r.id for r in ann_rows]
    for key, table, columns, order in (
        ("e", entities, rows.ENTITY_COLUMNS, entities.c.id),
        ("s", stances, rows.STANCE_COLUMNS, stances.c.id),
        ("d", doc_stances, rows.DOC_STANCE_COLUMNS, doc_stances.c.target_key),
    ):
        found = conn.execute(
            select(*columns)
            .where(table.c.annotation_id.in_(ids))
            .order_by(table.c.annotation_id, table.c.ord, order)
        ).all()
        # Every column tuple starts with annotation_id.
        children[key] = {k: list(group) for k, group in itertools.groupby(found, key=_FIRST)}
    return ann_rows, children


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
