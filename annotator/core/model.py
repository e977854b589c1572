"""The annotation model: documents, entity spans, stances and per-annotator annotations.

Offsets are Python code points (what `len()` and slicing count) into the exact stored text, end
exclusive. The text is never rewritten.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator


def new_id() -> str:
    """A short random id for spans and stances (unique within a document in practice)."""
    return secrets.token_hex(6)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def display_name(self) -> str:
        return self.value.replace("_", " ")


class Token(NamedTuple):
    """A token's character range and whether whitespace follows it (spaCy's `whitespace_`)."""

    start: int
    end: int
    ws: bool


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentMeta(BaseModel):
    """What is known about an article besides its text. `extra` keeps any other keys as given."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    author: str | None = None
    published: str | None = Field(default=None, description="ISO 8601 date when it could be read")
    source: str | None = Field(default=None, description="Publication or file the article came from")
    url: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    text: str
    meta: DocumentMeta = Field(default_factory=DocumentMeta)


class SpanSource(_Frozen):
    """Where a span came from: drawn by hand, imported from a file, or suggested by a model/pattern."""

    kind: Literal["manual", "imported", "suggested"] = "manual"
    name: str | None = None


MANUAL = SpanSource()


class _Span(_Frozen):
    id: str = Field(default_factory=new_id, min_length=1)
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Span:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start}) must be less than end ({self.end})")
        return self


class EntitySpan(_Span):
    label: str = Field(min_length=1)
    source: SpanSource = MANUAL
    extra: dict[str, Any] = Field(
        default_factory=dict, description="Format-specific keys kept for round trips"
    )


class EntityRef(_Frozen):
    kind: Literal["entity"] = "entity"
    entity_id: str = Field(min_length=1)


class AuthorRef(_Frozen):
    kind: Literal["author"] = "author"


class UnknownRef(_Frozen):
    kind: Literal["unknown"] = "unknown"


class TopicRef(_Frozen):
    kind: Literal["topic"] = "topic"
    topic: str = Field(min_length=1)


UNKNOWN = UnknownRef()
AUTHOR = AuthorRef()

Holder = Annotated[EntityRef | AuthorRef | UnknownRef, Field(discriminator="kind")]
Target = Annotated[EntityRef | TopicRef | UnknownRef, Field(discriminator="kind")]
DocumentTarget = Annotated[EntityRef | TopicRef, Field(discriminator="kind")]


def target_key(target: EntityRef | TopicRef | UnknownRef) -> str:
    """A stable key for a target: `entity:<id>` or `topic:<name>`."""
    if isinstance(target, EntityRef):
        return f"entity:{target.entity_id}"
    if isinstance(target, TopicRef):
        return f"topic:{target.topic}"
    return "unknown"


class Stance(_Span):
    """Evidence text in the article, a polarity, who holds the stance, and what it is about."""

    polarity: str = Field(min_length=1)
    holder: Holder = UNKNOWN
    target: Target = UNKNOWN
    source: SpanSource = MANUAL


class DocumentStance(_Frozen):
    """The article as a whole, for or against one target."""

    target: DocumentTarget
    polarity: str = Field(min_length=1)

    @property
    def key(self) -> str:
        return target_key(self.target)


class Annotation(BaseModel):
    """One annotator's work on one document. `version` counts saved edits (optimistic locking)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    document_id: str = Field(min_length=1)
    annotator: str = Field(min_length=1, max_length=200)
    status: Status = Status.NOT_STARTED
    version: int = Field(default=0, ge=0)
    entities: list[EntitySpan] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)
    doc_stances: list[DocumentStance] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="Format-specific data (answer, relations, labels) kept for round trips",
    )

    # -- lookups (linear: documents hold thousands of spans at most) ------------------------------
    def entity(self, entity_id: str) -> EntitySpan | None:
        for e in self.entities:
            if e.id == entity_id:
                return e
        return None

    def stance(self, stance_id: str) -> Stance | None:
        for s in self.stances:
            if s.id == stance_id:
                return s
        return None

    def doc_stance(self, key: str) -> DocumentStance | None:
        for d in self.doc_stances:
            if d.key == key:
                return d
        return None
