"""Edits: the only way an annotation changes, from the GUI, the command line or an import.

Each edit is a small serialisable object. `apply(ctx)` checks the rules it touches, changes the
annotation in place, and returns what changed plus the edit that undoes it. Nothing is changed when a
rule is broken.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from annotator.core.errors import RuleError
from annotator.core.model import (
    UNKNOWN,
    Annotation,
    Document,
    DocumentStance,
    DocumentTarget,
    EntityRef,
    EntitySpan,
    Holder,
    SpanList,
    Stance,
    Status,
    Target,
    target_key,
)
from annotator.core.rules import (
    check_doc_stance,
    check_entity,
    check_no_overlap,
    check_polarity,
    check_ref,
    check_stance,
)
from annotator.core.scheme import LabelScheme


@dataclass(frozen=True)
class Changes:
    """What an edit changed, by id, so that views redraw only that.

    An id listed here was added, removed or modified: look it up in the annotation to know which.
    """

    entities: frozenset[str] = frozenset()
    stances: frozenset[str] = frozenset()
    doc_stances: frozenset[str] = frozenset()  # target keys
    status: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.entities | other.entities,
            self.stances | other.stances,
            self.doc_stances | other.doc_stances,
            self.status or other.status,
        )

    def __bool__(self) -> bool:
        return bool(self.entities or self.stances or self.doc_stances or self.status)


NO_CHANGES = Changes()


@dataclass
class EditContext:
    document: Document
    annotation: Annotation
    scheme: LabelScheme

    def entity_ids(self) -> AbstractSet[str]:
        """The annotation's entity ids (a view, without copying them: read it before the next change)."""
        entities = self.annotation.entities
        return entities.ids() if isinstance(entities, SpanList) else {e.id for e in entities}


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:  # pragma: no cover - abstract
        raise NotImplementedError


def _find_entity(ann: Annotation, entity_id: str, field_name: str = "entity_id") -> int:
    i = ann.entity_position(entity_id)
    if i is None:
        raise RuleError(field_name, f"no entity with id {entity_id!r}")
    return i


def _find_stance(ann: Annotation, stance_id: str) -> int:
    i = ann.stance_position(stance_id)
    if i is None:
        raise RuleError("stance_id", f"no stance with id {stance_id!r}")
    return i


def _refers_to(ref: object, entity_ref: EntityRef) -> bool:
    # The cheap test first: most stances are not about the entity being removed.
    return isinstance(ref, EntityRef) and ref.entity_id == entity_ref.entity_id and ref == entity_ref


class AddEntity(_Edit):
    op: Literal["add_entity"] = "add_entity"
    entity: EntitySpan
    index: int | None = Field(
        default=None, ge=0, description="Where in the list (undo puts it back); default: last"
    )

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann, e = ctx.annotation, self.entity
        check_entity("entity", e, ctx.document.text, ctx.scheme)
        if ann.entity(e.id) is not None:
            raise RuleError("entity.id", f"id {e.id!r} is already used")
        check_no_overlap("entity", e, ann.entities, ctx.scheme)
        ann.entities.insert(len(ann.entities) if self.index is None else self.index, e)
        return Changes(entities=frozenset({e.id})), RemoveEntity(entity_id=e.id)


class RemoveEntity(_Edit):
    """Removes an entity; stances that refer to it lose that reference (undo restores it)."""

    op: Literal["remove_entity"] = "remove_entity"
    entity_id: str

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_entity(ann, self.entity_id)
        entity = ann.entities[i]
        ref = EntityRef(entity_id=self.entity_id)
        restore: list[Edit] = [AddEntity(entity=entity, index=i)]
        stance_ids: set[str] = set()
        for j, s in enumerate(ann.stances):
            update = {}
            if _refers_to(s.holder, ref):
                update["holder"] = UNKNOWN
                restore.append(SetStanceHolder(stance_id=s.id, holder=ref))
            if _refers_to(s.target, ref):
                update["target"] = UNKNOWN
                restore.append(SetStanceTarget(stance_id=s.id, target=ref))
            if update:
                ann.stances[j] = s.model_copy(update=update)
                stance_ids.add(s.id)
        key = target_key(ref)
        doc_keys: set[str] = set()
        for j, ds in enumerate(ann.doc_stances):
            if ds.key == key:
                del ann.doc_stances[j]
                restore.append(SetDocumentStance(target=ds.target, polarity=ds.polarity, index=j))
                doc_keys.add(key)
                break
        del ann.entities[i]
        changes = Changes(
            entities=frozenset({self.entity_id}),
            stances=frozenset(stance_ids),
            doc_stances=frozenset(doc_keys),
        )
        inverse: Edit = restore[0] if len(restore) == 1 else Batch(edits=restore)
        return changes, inverse


class RelabelEntity(_Edit):
    op: Literal["relabel_entity"] = "relabel_entity"
    entity_id: str
    label: str

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_entity(ann, self.entity_id)
        old = ann.entities[i]
        if self.label not in ctx.scheme.label_names:
            raise RuleError("label", f"label {self.label!r} is not in the scheme")
        new = old.model_copy(update={"label": self.label})
        ann.entities[i] = new
        return Changes(entities=frozenset({old.id})), RelabelEntity(entity_id=old.id, label=old.label)


class AddStance(_Edit):
    op: Literal["add_stance"] = "add_stance"
    stance: Stance
    index: int | None = Field(
        default=None, ge=0, description="Where in the list (undo puts it back); default: last"
    )

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann, s = ctx.annotation, self.stance
        check_stance("stance", s, ctx.document.text, ctx.scheme, ctx.entity_ids())
        if ann.stance(s.id) is not None:
            raise RuleError("stance.id", f"id {s.id!r} is already used")
        ann.stances.insert(len(ann.stances) if self.index is None else self.index, s)
        return Changes(stances=frozenset({s.id})), RemoveStance(stance_id=s.id)


class RemoveStance(_Edit):
    op: Literal["remove_stance"] = "remove_stance"
    stance_id: str

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_stance(ann, self.stance_id)
        stance = ann.stances.pop(i)
        return Changes(stances=frozenset({stance.id})), AddStance(stance=stance, index=i)


class SetStancePolarity(_Edit):
    op: Literal["set_stance_polarity"] = "set_stance_polarity"
    stance_id: str
    polarity: str

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_stance(ann, self.stance_id)
        check_polarity("polarity", self.polarity, ctx.scheme)
        old = ann.stances[i]
        ann.stances[i] = old.model_copy(update={"polarity": self.polarity})
        return Changes(stances=frozenset({old.id})), SetStancePolarity(
            stance_id=old.id, polarity=old.polarity
        )


class SetStanceHolder(_Edit):
    op: Literal["set_stance_holder"] = "set_stance_holder"
    stance_id: str
    holder: Holder

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_stance(ann, self.stance_id)
        check_ref("holder", self.holder, ctx.entity_ids())
        old = ann.stances[i]
        ann.stances[i] = old.model_copy(update={"holder": self.holder})
        return Changes(stances=frozenset({old.id})), SetStanceHolder(stance_id=old.id, holder=old.holder)


class SetStanceTarget(_Edit):
    op: Literal["set_stance_target"] = "set_stance_target"
    stance_id: str
    target: Target

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        i = _find_stance(ann, self.stance_id)
        check_ref("target", self.target, ctx.entity_ids())
        old = ann.stances[i]
        ann.stances[i] = old.model_copy(update={"target": self.target})
        return Changes(stances=frozenset({old.id})), SetStanceTarget(stance_id=old.id, target=old.target)


class SetDocumentStance(_Edit):
    """Sets the article's polarity towards a target; `polarity=None` removes it."""

    op: Literal["set_document_stance"] = "set_document_stance"
    target: DocumentTarget
    polarity: str | None
    index: int | None = Field(default=None, ge=0, description="Where a new one goes (undo puts it back)")

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        ann = ctx.annotation
        key = target_key(self.target)
        old = ann.doc_stance(key)
        old_index = ann.doc_stances.index(old) if old is not None else None
        if self.polarity is not None:
            new = DocumentStance(target=self.target, polarity=self.polarity)
            check_doc_stance("doc_stance", new, ctx.scheme, ctx.entity_ids())
            if old_index is None:
                ann.doc_stances.insert(len(ann.doc_stances) if self.index is None else self.index, new)
            else:
                ann.doc_stances[old_index] = new
        elif old_index is not None:
            del ann.doc_stances[old_index]
        inverse = SetDocumentStance(
            target=self.target, polarity=old.polarity if old else None, index=old_index
        )
        return Changes(doc_stances=frozenset({key})), inverse


class SetStatus(_Edit):
    op: Literal["set_status"] = "set_status"
    status: Status

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        old = ctx.annotation.status
        ctx.annotation.status = self.status
        return Changes(status=True), SetStatus(status=old)


class Batch(_Edit):
    """Several edits as one step (one gesture, one undo). All apply, or none does."""

    op: Literal["batch"] = "batch"
    edits: list[Edit] = Field(min_length=1)

    def apply(self, ctx: EditContext) -> tuple[Changes, Edit]:
        changes = NO_CHANGES
        inverses: list[Edit] = []
        try:
            for i, edit in enumerate(self.edits):
                try:
                    c, inv = edit.apply(ctx)
                except RuleError as exc:
                    raise exc.within(f"edits[{i}]") from None
                changes |= c
                inverses.append(inv)
        except Exception:
            for inv in reversed(inverses):
                inv.apply(ctx)
            raise
        return changes, Batch(edits=list(reversed(inverses)))


Edit = Annotated[
    AddEntity
    | RemoveEntity
    | RelabelEntity
    | AddStance
    | RemoveStance
    | SetStancePolarity
    | SetStanceHolder
    | SetStanceTarget
    | SetDocumentStance
    | SetStatus
    | Batch,
    Field(discriminator="op"),
]

Batch.model_rebuild()

EDIT_ADAPTER: TypeAdapter[Edit] = TypeAdapter(Edit)


def edit_to_json(edit: Edit) -> str:
    return edit.model_dump_json()


def edit_from_json(data: str | bytes) -> Edit:
    return EDIT_ADAPTER.validate_json(data)
