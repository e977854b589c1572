"""The annotation model: documents, entity spans, stances and per-annotator annotations.

Offsets are Python code points (what `len()` and slicing count) into the exact stored text, end
exclusive. The text is never rewritten.
"""

from __future__ import annotations

import secrets
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, KeysView
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from operator import attrgetter, index, itemgetter, le, lt
from typing import Annotated, Any, Literal, NamedTuple, SupportsIndex, TypeVar, overload

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


_SpanT = TypeVar("_SpanT", bound=_Span)
_ID = attrgetter("id")
_START_OF = attrgetter("start")
_END_OF = attrgetter("end")
_START = itemgetter(0)
_END = itemgetter(1)


class SpanList(list[_SpanT]):
    """The list an annotation keeps its entities (or stances) in: a plain list in every way, which
    also knows where each id sits and, for overlap checks, the spans in text order.

    Documents can hold ten thousand spans, and an edit must not walk them all. Edits change these
    lists in place, and so may any code holding one: every method that changes the list keeps the
    lookups true (most in constant time; a position that moved is found again on the next lookup).
    With duplicate ids, or overlapping spans, it falls back to scanning, and answers exactly as a
    scan of a plain list would.
    """

    __slots__ = ("_at", "_by_start", "_disjoint", "_moved", "_unique")

    def __init__(self, items: Iterable[_SpanT] = ()) -> None:
        super().__init__(items)
        self._forget()

    def _forget(self) -> None:
        # _at: id -> position of its first occurrence, exact below _moved (None: not built yet).
        self._at: dict[str, int] | None = None
        self._moved = 0
        self._unique = True
        # (start, end, id) sorted; _disjoint: no two overlap and every span is non-empty.
        self._by_start: list[tuple[int, int, str]] | None = None
        self._disjoint = False

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # Copies and pickles rebuild the lookups rather than carry them.
        return (type(self), (list(self),))

    # -- lookups ---------------------------------------------------------------------------------
    def _index(self) -> dict[str, int]:
        at = self._at
        if at is None:
            n = len(self)
            # Built backwards so that the first occurrence of a duplicate id wins, as a scan finds it.
            at = dict(zip(map(_ID, reversed(self)), range(n - 1, -1, -1), strict=True))
            self._at, self._moved, self._unique = at, n, len(at) == n
        return at

    def position(self, span_id: str) -> int | None:
        """Where the span with this id is (its first occurrence), or None."""
        at = self._index()
        i = at.get(span_id)
        if i is None or (i < len(self) and self[i].id == span_id):
            return i
        if i < self._moved:  # cannot happen while the list is changed through its own methods
            self._at = None
            return self.position(span_id)
        # Spans moved since the lookups were made: find them again from the first place that moved.
        m = self._moved
        at.update(zip(map(_ID, islice(self, m, None)), range(m, len(self)), strict=True))
        self._moved = len(self)
        return at[span_id]

    def get(self, span_id: str) -> _SpanT | None:
        i = self.position(span_id)
        return None if i is None else self[i]

    def ids(self) -> KeysView[str]:
        """The ids in the list, as a set (a view: read it before the list changes)."""
        return self._index().keys()

    def first_overlap(self, span: _Span) -> _SpanT | None:
        """The first span in list order, other than one with `span`'s id, that overlaps `span`."""
        bs = self._sorted()
        self._index()  # and so `_unique` is up to date
        if bs is None or not self._unique or not self._disjoint or span.start >= span.end:
            for other in self:
                if other.id != span.id and other.start < span.end and span.start < other.end:
                    return other
            return None
        # Disjoint spans sorted by start are sorted by end too: those overlapping are one run.
        hi = bisect_left(bs, span.end, key=_START)
        lo = bisect_right(bs, span.start, 0, hi, key=_END)
        hits = [self.position(t[2]) for t in bs[lo:hi] if t[2] != span.id]
        return self[min(p for p in hits if p is not None)] if hits else None

    def prepare(self) -> None:
        """Make the lookups now rather than on first use (so that the first edit is as quick as the rest)."""
        self._sorted()

    def _sorted(self) -> list[tuple[int, int, str]] | None:
        if self._by_start is None:
            self._index()
            bs = sorted(zip(map(_START_OF, self), map(_END_OF, self), map(_ID, self), strict=True))
            starts, ends = list(map(_START, bs)), list(map(_END, bs))
            # Non-empty, and each ends before the next starts.
            self._disjoint = all(map(lt, starts, ends)) and all(map(le, ends, islice(starts, 1, None)))
            self._by_start = bs
        return self._by_start

    # -- keeping the lookups true ----------------------------------------------------------------
    def _added(self, i: int, span: _SpanT) -> None:
        try:
            at = self._at
            if at is not None:
                if not self._unique or span.id in at:
                    self._at = None
                else:
                    at[span.id] = i
                    if i < len(self) - 1:
                        self._moved = min(self._moved, i)
            bs = self._by_start
            if bs is not None:
                t = (span.start, span.end, span.id)
                k = bisect_left(bs, t)
                bs.insert(k, t)
                if self._disjoint and (
                    not t[0] < t[1]
                    or (k > 0 and bs[k - 1][1] > t[0])
                    or (k + 1 < len(bs) and t[1] > bs[k + 1][0])
                ):
                    self._disjoint = False
        except Exception:
            self._forget()

    def _removed(self, i: int, span: _SpanT) -> None:
        try:
            at = self._at
            if at is not None:
                if not self._unique:
                    self._at = None
                else:
                    del at[span.id]
                    if i < len(self):
                        self._moved = min(self._moved, i)
            bs = self._by_start
            if bs is not None:
                t = (span.start, span.end, span.id)
                k = bisect_left(bs, t)
                if k < len(bs) and bs[k] == t:
                    del bs[k]
                else:
                    self._by_start = None
        except Exception:
            self._forget()

    def _position_of(self, i: SupportsIndex) -> int:
        n = len(self)
        k = index(i)
        k = k + n if k < 0 else k
        if not 0 <= k < n:
            raise IndexError("list assignment index out of range")
        return k

    def append(self, span: _SpanT) -> None:
        super().append(span)
        self._added(len(self) - 1, span)

    def insert(self, i: SupportsIndex, span: _SpanT) -> None:
        n = len(self)
        k = index(i)
        k = max(0, k + n) if k < 0 else min(k, n)
        super().insert(k, span)
        self._added(k, span)

    def extend(self, spans: Iterable[_SpanT]) -> None:
        items = list(spans)
        start = len(self)
        super().extend(items)
        for k, span in enumerate(items, start):
            self._added(k, span)

    def __iadd__(self, spans: Iterable[_SpanT]) -> SpanList[_SpanT]:  # type: ignore[override,misc]
        self.extend(spans)
        return self

    def pop(self, i: SupportsIndex = -1) -> _SpanT:
        k = index(i)
        if k < 0:
            k += len(self)
        span = super().pop(k if k >= 0 else i)  # out of range: list.pop raises
        self._removed(k, span)
        return span

    def remove(self, span: _SpanT) -> None:
        del self[self.index(span)]

    @overload
    def __setitem__(self, i: SupportsIndex, span: _SpanT) -> None: ...

    @overload
    def __setitem__(self, i: slice, spans: Iterable[_SpanT]) -> None: ...

    def __setitem__(self, i: Any, value: Any) -> None:
        if isinstance(i, slice):
            super().__setitem__(i, value)
            self._forget()
            return
        k = self._position_of(i)
        old = self[k]
        super().__setitem__(k, value)
        moved = self._moved
        self._removed(k, old)
        self._added(k, value)
        if self._at is not None:
            self._moved = moved  # only this place changed: nothing moved

    def __delitem__(self, i: SupportsIndex | slice) -> None:
        if isinstance(i, slice):
            super().__delitem__(i)
            self._forget()
            return
        k = self._position_of(i)
        span = self[k]
        super().__delitem__(k)
        self._removed(k, span)

    def __imul__(self, n: SupportsIndex) -> SpanList[_SpanT]:
        super().__imul__(n)
        self._forget()
        return self

    def clear(self) -> None:
        super().clear()
        self._forget()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._at = None

    def reverse(self) -> None:
        super().reverse()
        self._at = None


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

    def model_post_init(self, context: Any, /) -> None:
        # Entities and stances live in SpanLists, so that finding one by id does not scan them all.
        fields = self.__dict__
        for name in ("entities", "stances"):
            value = fields.get(name)
            if type(value) is list:
                fields[name] = SpanList(value)

    # -- lookups (by id, without scanning; a list put in later by hand is scanned) -----------------
    def entity(self, entity_id: str) -> EntitySpan | None:
        i = self.entity_position(entity_id)
        return None if i is None else self.entities[i]

    def stance(self, stance_id: str) -> Stance | None:
        i = self.stance_position(stance_id)
        return None if i is None else self.stances[i]

    def entity_position(self, entity_id: str) -> int | None:
        """Where in `entities` the entity with this id is, or None."""
        return _position(self.entities, entity_id)

    def stance_position(self, stance_id: str) -> int | None:
        """Where in `stances` the stance with this id is, or None."""
        return _position(self.stances, stance_id)

    def doc_stance(self, key: str) -> DocumentStance | None:
        for d in self.doc_stances:
            if d.key == key:
                return d
        return None


def _position(spans: list[Any], span_id: str) -> int | None:
    if isinstance(spans, SpanList):
        return spans.position(span_id)
    for i, span in enumerate(spans):
        if span.id == span_id:
            return i
    return None
