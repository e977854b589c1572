"""Tokens as compact bytes (`token_codec`) in `documents.token_data`, instead of JSON text in
`documents.tokens`; every stored token list is converted.

Revision ID: 0003_compact_tokens
Revises: 0002_suggestions
"""

import orjson
import sqlalchemy as sa
from alembic import op

from annotator.store.token_codec import decode_tokens, encode_tokens

revision = "0003_compact_tokens"
down_revision = "0002_suggestions"
branch_labels = None
depends_on = None

# Documents are converted a batch at a time, a batch holding at most this much JSON.
_BATCH_CHARS = 32_000_000
_PAGE = 500

_documents = sa.table(
    "documents",
    sa.column("id", sa.String),
    sa.column("position", sa.Integer),
    sa.column("tokens", sa.Text),
    sa.column("token_data", sa.LargeBinary),
)


def _can_drop_columns(conn: sa.Connection) -> bool:
    # SQLite drops a column in place from 3.35 on; before that it would copy the table, which the
    # foreign keys pointing at documents make unsafe. An older SQLite keeps the column, emptied.
    if conn.dialect.name != "sqlite":
        return True
    return (conn.dialect.server_version_info or (0,)) >= (3, 35, 0)


def _batches(conn: sa.Connection, column: sa.ColumnElement, length: sa.ColumnElement) -> list[list[str]]:
    """The ids of the documents with a value in `column`, in batches of bounded size."""
    batches: list[list[str]] = []
    batch: list[str] = []
    size = 0
    last = None
    while True:
        query = (
            sa.select(_documents.c.id, _documents.c.position, length)
            .where(column.is_not(None))
            .order_by(_documents.c.position)
            .limit(_PAGE)
        )
        if last is not None:
            query = query.where(_documents.c.position > last)
        page = conn.execute(query).all()
        if not page:
            break
        for doc_id, _position, chars in page:
            if batch and size + (chars or 0) > _BATCH_CHARS:
                batches.append(batch)
                batch, size = [], 0
            batch.append(doc_id)
            size += chars or 0
        last = page[-1].position
    if batch:
        batches.append(batch)
    return batches


def upgrade() -> None:
    op.add_column("documents", sa.Column("token_data", sa.LargeBinary, nullable=True))
    conn = op.get_bind()
    store = (
        sa.update(_documents)
        .where(_documents.c.id == sa.bindparam("doc_id"))
        .values(token_data=sa.bindparam("data"))
    )
    tokens = _documents.c.tokens
    for ids in _batches(conn, tokens, sa.func.length(tokens)):
        rows = conn.execute(sa.select(_documents.c.id, tokens).where(_documents.c.id.in_(ids))).all()
        conn.execute(
            store,
            [
                {"doc_id": doc_id, "data": encode_tokens([(s, e, bool(w)) for s, e, w in orjson.loads(raw)])}
                for doc_id, raw in rows
            ],
        )
    if _can_drop_columns(conn):
        op.drop_column("documents", "tokens")
    else:  # pragma: no cover - SQLite before 3.35
        conn.execute(sa.update(_documents).values(tokens=None))


def downgrade() -> None:
    conn = op.get_bind()
    if "tokens" not in {c["name"] for c in sa.inspect(conn).get_columns("documents")}:
        op.add_column("documents", sa.Column("tokens", sa.Text, nullable=True))
    store = (
        sa.update(_documents)
        .where(_documents.c.id == sa.bindparam("doc_id"))
        .values(tokens=sa.bindparam("data"))
    )
    data = _documents.c.token_data
    for ids in _batches(conn, data, 10 * sa.func.length(data)):
        rows = conn.execute(sa.select(_documents.c.id, data).where(_documents.c.id.in_(ids))).all()
        conn.execute(
            store,
            [
                {"doc_id": doc_id, "data": orjson.dumps([list(t) for t in decode_tokens(raw)]).decode()}
                for doc_id, raw in rows
            ],
        )
    if _can_drop_columns(conn):
        op.drop_column("documents", "token_data")
    else:  # pragma: no cover - SQLite before 3.35
        conn.execute(sa.update(_documents).values(token_data=None))
