"""Tables of a project database. Portable SQL only: the same schema runs on SQLite and PostgreSQL.

Changing a table means a new Alembic migration in `migrations/versions/` and a new HEAD_REVISION.
"""


from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# The newest migration this version knows; a project stamped with anything else that is not an
# older known revision was written by a newer version.
HEAD_REVISION = "0003_compact_tokens"

metadata = MetaData()

project_meta = Table(
    "project_meta",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("title", Text, nullable=True),
    Column("text", Text, nullable=False),
    Column("meta", Text, nullable=False),
    # token_codec bytes; NULL: not tokenized yet.
    Column("token_data", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("extra", Text, nullable=False),
    UniqueConstraint("document_id", "annotator", name="uq_annotation_document_annotator"),
)

entities = Table(
    "entities",
    metadata,
    Column("annotation_id", Integer, ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("label", String(64), nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("source_name", String(200), nullable=True),
    Column("extra", Text, nullable=False),
)

stances = Table(
    "stances",
    metadata,
    Column("annotation_id", Integer, ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("polarity", String(32), nullable=False),
    Column("holder", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("source_name", String(200), nullable=True),
)

doc_stances = Table(
    "doc_stances",
    metadata,
    Column("annotation_id", Integer, ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True),
    Column("target_key", String(300), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("target", Text, nullable=False),
    Column("polarity", String(32), nullable=False),
)

history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("annotation_id", Integer, ForeignKey("annotations.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("edit", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Entities proposed by a pipeline, a pattern file or the project's model; not annotations until an
# annotator accepts one (then it is an entity with source kind "suggested").
suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("label", String(64), nullable=False),
    Column("source_name", String(200), nullable=False),
    Column("score", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("document_id", "start_char", "end_char", "label", "source_name", name="uq_suggestion"),
)

# A rejection hides a suggestion (span and label, from any source) from one annotator on one
# document. Acceptance needs no row: an accepted suggestion is an entity of that annotator, and
# undoing the acceptance brings the suggestion back.
suggestion_rejections = Table(
    "suggestion_rejections",
    metadata,
    Column("document_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(200), nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("label", String(64), nullable=False),
    Column("rejected_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint(
        "document_id", "annotator", "start_char", "end_char", "label", name="pk_suggestion_rejections"
    ),
)

Index("ix_annotations_annotator", annotations.c.annotator)
Index("ix_suggestions_source", suggestions.c.source_name)
Index("ix_history_annotation", history.c.annotation_id, history.c.version)
