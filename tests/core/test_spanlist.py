"""SpanList: the list an annotation keeps its spans in answers lookups without scanning, and always
as a scan of a plain list would, however the list is changed."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.core.edits import AddEntity, EditContext, RemoveEntity
from annotator.core.errors import RuleError
from annotator.core.model import Annotation, Document, EntitySpan, SpanList, Stance
from annotator.core.rules import check_no_overlap
from annotator.core.scheme import LabelScheme


def ent(eid: str, start: int, end: int, label: str = "PERSON") -> EntitySpan:
    return EntitySpan(id=eid, start=start, end=end, label=label)


def scan_position(spans: list[Any], span_id: str) -> int | None:
    return next((i for i, s in enumerate(spans) if s.id == span_id), None)


def scan_overlap(spans: list[EntitySpan], span: EntitySpan) -> EntitySpan | None:
    return next((o for o in spans if o.id != span.id and o.start < span.end and span.start < o.end), None)


def assert_agrees(lst: SpanList[EntitySpan], probes: list[EntitySpan]) -> None:
    plain = list(lst)
    assert lst == plain
    # The overlap search first: a position lookup could bring the lookups up to date before it runs.
    # (Spans just added are most often at the end: their places are looked at first.)
    for span in [ent("probe", s.start, s.end) for s in reversed(plain)] + probes + plain:
        assert lst.first_overlap(span) is scan_overlap(plain, span)
    for span in plain + probes:
        assert lst.position(span.id) == scan_position(plain, span.id)
        got = lst.get(span.id)
        where = scan_position(plain, span.id)
        assert got is (None if where is None else plain[where])
    assert set(lst.ids()) == {s.id for s in plain}


# -- the model keeps its spans in SpanLists ----------------------------------------------------------


def test_annotations_hold_span_lists_however_made() -> None:
    made = [
        Annotation(document_id="d", annotator="a", entities=[ent("x", 0, 1)]),
        Annotation.model_validate({"document_id": "d", "annotator": "a", "stances": []}),
        Annotation.model_validate_json('{"document_id": "d", "annotator": "a"}'),
        Annotation.model_construct(document_id="d", annotator="a", entities=[ent("x", 0, 1)]),
    ]
    for ann in made:
        assert type(ann.entities) is SpanList and type(ann.stances) is SpanList
        assert type(ann.doc_stances) is list


def test_a_span_list_is_a_list_to_everyone_else() -> None:
    ann = Annotation(document_id="d", annotator="a", entities=[ent("x", 0, 1), ent("y", 2, 3)])
    same = Annotation(document_id="d", annotator="a", entities=[ent("x", 0, 1), ent("y", 2, 3)])
    assert ann == same
    assert ann.entities == [ent("x", 0, 1), ent("y", 2, 3)]
    assert isinstance(ann.entities, list)
    assert type(ann.model_dump()["entities"]) is list
    assert Annotation.model_validate_json(ann.model_dump_json()) == ann
    assert repr(ann.entities) == repr(list(ann.entities))


def test_copies_and_pickles_keep_working_lookups() -> None:
    ann = Annotation(document_id="d", annotator="a", entities=[ent("x", 0, 1), ent("y", 2, 3)])
    assert ann.entity("y") is not None
    copies = (copy.deepcopy(ann), pickle.loads(pickle.dumps(ann)), ann.model_copy(deep=True))
    for other in copies:
        assert other == ann and type(other.entities) is SpanList
        other.entities.append(ent("z", 4, 5))
        assert other.entity("z") == ent("z", 4, 5) and other.entity_position("z") == 2
    assert ann.entity("z") is None
    assert copy.copy(ann.entities) == ann.entities and type(copy.copy(ann.entities)) is SpanList
    shallow = ann.model_copy()
    assert shallow.entities is ann.entities  # as with plain lists: a shallow copy shares them


def test_a_plain_list_put_in_by_hand_is_scanned() -> None:
    ann = Annotation(document_id="d", annotator="a")
    ann.entities = [ent("x", 0, 1), ent("x", 2, 3)]
    assert type(ann.entities) is list
    assert ann.entity("x") == ent("x", 0, 1)
    assert ann.entity_position("x") == 0 and ann.entity("nope") is None
    ctx = EditContext(Document(id="d", text="a b c d"), ann, LabelScheme(labels=[{"name": "PERSON"}]))
    assert set(ctx.entity_ids()) == {"x"}


def test_duplicate_ids_answer_with_the_first_as_a_scan_does() -> None:
    lst = SpanList([ent("a", 0, 1), ent("b", 2, 3)])
    lst.append(ent("a", 4, 5))
    assert lst.position("a") == 0
    del lst[0]
    assert lst.position("a") == 1
    assert_agrees(lst, [ent("a", 1, 6)])


def test_list_semantics_are_unchanged() -> None:
    lst = SpanList([ent("a", 0, 1), ent("b", 2, 3), ent("c", 4, 5)])
    with pytest.raises(IndexError):
        lst.pop(7)
    with pytest.raises(IndexError):
        lst[-4] = ent("z", 9, 10)
    with pytest.raises(IndexError):
        del lst[3]
    with pytest.raises(IndexError):
        SpanList().pop()
    with pytest.raises(ValueError):
        lst.remove(ent("zz", 0, 1))
    assert lst.pop(-3).id == "a" and lst.position("b") == 0
    lst.insert(-10, ent("first", 7, 8))
    lst.insert(99, ent("last", 9, 10))
    assert [s.id for s in lst] == ["first", "b", "c", "last"]
    lst += [ent("more", 11, 12)]
    assert lst.position("more") == 4
    lst *= 1
    assert lst.position("more") == 4
    lst.clear()
    assert lst.position("b") is None and lst == []


# -- random changes ---------------------------------------------------------------------------------

SPANS = st.builds(
    lambda i, start, length: ent(f"e{i}", start, start + length),
    st.integers(0, 12),
    st.integers(0, 60),
    st.integers(1, 8),
)
# Spans in slots that do not overlap (until a slot is used twice), with ids that may repeat: the
# search in text order answers for these, not the scan.
SLOTTED = st.builds(
    lambda i, slot: ent(f"e{i}", 10 * slot, 10 * slot + 5), st.integers(0, 12), st.integers(0, 30)
)


def ops(spans: st.SearchStrategy[EntitySpan]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(
        st.tuples(st.just("append"), spans),
        st.tuples(st.just("insert"), st.integers(-15, 15), spans),
        st.tuples(st.just("extend"), st.lists(spans, max_size=3)),
        st.tuples(st.just("pop"), st.integers(-15, 15)),
        st.tuples(st.just("del"), st.integers(-15, 15)),
        st.tuples(st.just("set"), st.integers(-15, 15), spans),
        st.tuples(st.just("slice"), st.integers(0, 5), st.lists(spans, max_size=3)),
        st.tuples(st.just("remove"), st.integers(0, 15)),
        st.tuples(st.just("sort")),
        st.tuples(st.just("reverse")),
        st.tuples(st.just("look"), spans),
    )


def apply(lst: list[Any], op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "append":
        lst.append(op[1])
    elif kind == "insert":
        lst.insert(op[1], op[2])
    elif kind == "extend":
        lst.extend(op[1])
    elif kind == "pop":
        lst.pop(op[1])
    elif kind == "del":
        del lst[op[1]]
    elif kind == "set":
        lst[op[1]] = op[2]
    elif kind == "slice":
        lst[op[1] : op[1] + 2] = op[2]
    elif kind == "remove":
        lst.remove(lst[op[1] % len(lst)] if lst else ent("none", 0, 1))
    elif kind == "sort":
        lst.sort(key=lambda s: (s.end, s.id))
    elif kind == "reverse":
        lst.reverse()


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([SPANS, SLOTTED]).flatmap(
        lambda spans: st.tuples(st.lists(spans, max_size=8), st.lists(ops(spans), max_size=25))
    )
)
def test_lookups_agree_with_a_scan_after_any_changes(case: tuple[list[EntitySpan], list[Any]]) -> None:
    initial, changes = case
    lst = SpanList(initial)
    plain = list(initial)
    lst.position("e0")
    lst.first_overlap(ent("probe", 0, 100))  # build the lookups first, so that changes must keep them
    for op in changes:
        outcomes = []
        for target in (lst, plain):
            try:
                apply(target, op)
                outcomes.append(None)
            except (IndexError, ValueError) as exc:
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1]
        assert lst == plain
        probe = op[-1] if op[0] == "look" else ent("p", 10, 20)
        assert_agrees(lst, [probe])


# -- the overlap rule -------------------------------------------------------------------------------


@st.composite
def disjoint_spans(draw: st.DrawFn) -> list[EntitySpan]:
    """Spans that do not overlap, with distinct ids, in a random list order (what a document under
    a scheme without overlaps holds): the case the search in text order answers."""
    cuts = sorted(draw(st.sets(st.integers(0, 200), max_size=40)))
    spans = [ent(f"d{a}", a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    return draw(st.permutations(spans))


@settings(max_examples=300, deadline=None)
@given(disjoint_spans(), st.integers(0, 200), st.integers(1, 60))
def test_overlap_search_finds_the_first_in_list_order(
    spans: list[EntitySpan], start: int, length: int
) -> None:
    lst = SpanList(spans)
    new = ent("new", start, start + length)
    assert lst.first_overlap(new) is scan_overlap(spans, new)
    assert lst._disjoint  # the search ran, not the scan
    lst.append(new)
    again = ent("again", start, start + length)
    assert lst.first_overlap(again) is scan_overlap(list(lst), again)


@settings(max_examples=200, deadline=None)
@given(st.lists(SPANS, max_size=30), SPANS)
def test_overlap_check_names_the_same_span_as_a_scan(spans: list[EntitySpan], new: EntitySpan) -> None:
    scheme = LabelScheme(labels=[{"name": "PERSON"}])
    fast, slow = SpanList(spans), list(spans)
    messages = []
    for others in (fast, slow):
        try:
            check_no_overlap("entity", new, others, scheme)
            messages.append(None)
        except RuleError as exc:
            messages.append(str(exc))
    assert messages[0] == messages[1]


def test_adding_and_removing_entities_in_a_long_annotation(scheme: LabelScheme) -> None:
    text = "word " * 5000
    doc = Document(id="d", text=text)
    entities = [ent(f"e{i}", 10 * i, 10 * i + 4) for i in range(500)]
    ann = Annotation(document_id="d", annotator="a", entities=entities)
    ctx = EditContext(doc, ann, scheme)
    with pytest.raises(RuleError, match=r"overlaps span 2500-2504"):
        AddEntity(entity=ent("new", 2498, 2512)).apply(ctx)  # overlaps e250 and e251: the first is named
    _, undo = RemoveEntity(entity_id="e250").apply(ctx)
    AddEntity(entity=ent("new", 2498, 2509)).apply(ctx)
    assert ann.entity_position("new") == 499 and ann.entity_position("e251") == 250
    RemoveEntity(entity_id="new").apply(ctx)
    undo.apply(ctx)
    assert [e.id for e in ann.entities] == [f"e{i}" for i in range(500)]
    assert ann.entity_position("e499") == 499


def test_stances_are_looked_up_too() -> None:
    ann = Annotation(
        document_id="d",
        annotator="a",
        stances=[Stance(id=f"s{i}", start=i, end=i + 1, polarity="FAVOR") for i in range(50)],
    )
    assert ann.stance_position("s42") == 42
    del ann.stances[0]
    assert ann.stance("s42") is ann.stances[41]
    assert ann.stance("s0") is None


def test_a_duplicate_id_added_after_the_search_was_built_is_found_as_a_scan_finds_it() -> None:
    lst = SpanList([ent("x", 0, 1), ent("y", 2, 3)])
    assert lst.first_overlap(ent("q", 0, 5)) is lst[0]  # the search in text order is built
    lst.append(ent("x", 10, 12))  # the same id again, far from the first
    probe = ent("q", 10, 11)
    assert lst.first_overlap(probe) is scan_overlap(list(lst), probe) is lst[2]
