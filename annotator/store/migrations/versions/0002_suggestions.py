"""Suggested entities per document, and each annotator's rejections of them.

Revision ID: 0002_suggestions
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_suggestions"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(200), sa.ForeignKey("documents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("start_char", sa.Integer, nullable=False),
        sa.Column("end_char", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(200), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("document_id", "start_char", "end_char", "label", "source_name",
                            name="uq_suggestion"),
    )
    op.create_index("ix_suggestions_source", "suggestions", ["source_name"])
    op.create_table(
        "suggestion_rejections",
        sa.Column("document_id", sa.String(200), sa.ForeignKey("documents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("start_char", sa.Integer, nullable=False),
        sa.Column("end_char", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "annotator", "start_char", "end_char", "label",
                                name="pk_suggestion_rejections"),
    )


def downgrade() -> None:
    op.drop_table("suggestion_rejections")
    op.drop_index("ix_suggestions_source", table_name="suggestions")
    op.drop_table("suggestions")
