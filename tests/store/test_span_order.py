"""The stored order of an annotation's spans is the order in memory, after any edits, while each
edit writes only the rows it changed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.edits import (
    AddEntity,
    AddStance,
    Batch,
    RelabelEntity,
    RemoveEntity,
    RemoveStance,
    SetDocumentStance,
)
from annotator.core.model import UNKNOWN, Document, EntityRef, EntitySpan, Stance, TopicRef
from annotator.formats.base import Record
from annotator.store import ordering
from annotator.store.project import Project

TEXT = "word " * 200


def test_renumbered_keys_are_spread_out() -> None:
    assert ordering.renumbered(3) == [0, ordering.GAP, 2 * ordering.GAP]
    many = ordering.renumbered(5_000_000)  # more than fit GAP apart in 32 bits
    assert many == sorted(set(many))
    assert many[0] >= ordering.ORD_MIN and many[-1] <= ordering.ORD_MAX


@pytest.mark.parametrize(
    ("count", "low", "high", "expected"),
    [
        (2, None, None, [0, ordering.GAP]),
        (1, 5, None, [5 + ordering.GAP]),  # after the last
        (2, None, 5, [5 - 2 * ordering.GAP, 5 - ordering.GAP]),  # before the first
        (1, 0, 10, [5]),
        (3, 0, 4, [1, 2, 3]),
        (3, 0, 3, None),  # no room: renumber
        (1, 7, 7, None),  # tied neighbours (old projects can have them)
        (1, ordering.ORD_MAX, None, None),
        (1, ordering.ORD_MAX - 1, None, [ordering.ORD_MAX]),
        (2, ordering.ORD_MAX - 10, None, [ordering.ORD_MAX - 7, ordering.ORD_MAX - 4]),
        (1, None, ordering.ORD_MIN + 3, [ordering.ORD_MIN + 1]),
    ],
)
def test_keys_between_neighbours(
    count: int, low: int | None, high: int | None, expected: list[int] | None
) -> None:
    got = ordering.between(count, low, high)
    assert got == expected
    if got is not None:
        below = low if low is not None else ordering.ORD_MIN - 1
        above = high if high is not None else ordering.ORD_MAX + 1
        bounds = [below, *got, above]
        assert bounds == sorted(set(bounds))


def test_runs() -> None:
    assert list(ordering.runs([5, 1, 2, 3, 9, 8])) == [(1, 3), (5, 5), (8, 9)]
    assert list(ordering.runs([])) == []


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "proj")
    p.import_records([Record(document=Document(id="d", text=TEXT))])
    yield p
    p.close()


def stored_order(project: Project) -> tuple[list[str], list[str], list[str]]:
    ann = project.annotation("d", "ann")
    return [e.id for e in ann.entities], [s.id for s in ann.stances], [d.key for d in ann.doc_stances]


def memory_order(session) -> tuple[list[str], list[str], list[str]]:  # type: ignore[no-untyped-def]
    ann = session.annotation
    return [e.id for e in ann.entities], [s.id for s in ann.stances], [d.key for d in ann.doc_stances]


def entity(i: int) -> EntitySpan:
    return EntitySpan(id=f"e{i:03}", start=5 * i, end=5 * i + 4, label="PERSON")


def test_removing_then_adding_keeps_the_order(project: Project) -> None:
    # Once, the stored key was the position at the time of writing, and two rows could tie.
    session = project.open_session("d", "ann")
    for i in (3, 1, 2):
        session.apply(AddEntity(entity=entity(i)))
    session.apply(RemoveEntity(entity_id="e003"))
    session.apply(AddEntity(entity=entity(0)))
    assert stored_order(project)[0] == ["e001", "e002", "e000"] == memory_order(session)[0]


def test_undo_puts_a_span_back_between_its_neighbours_without_rewriting_them(project: Project) -> None:
    session = project.open_session("d", "ann")
    session.apply(Batch(edits=[AddEntity(entity=entity(i)) for i in range(5)]))
    keys_before = _keys(project)
    session.apply(RemoveEntity(entity_id="e002"))
    session.undo()
    keys_after = _keys(project)
    assert stored_order(project) == memory_order(session)
    del keys_before["e002"]
    assert {k: v for k, v in keys_after.items() if k != "e002"} == keys_before
    assert keys_after["e001"] < keys_after["e002"] < keys_after["e003"]


def _keys(project: Project) -> dict[str, int]:
    with project.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT id, ord FROM entities").all())


def test_a_full_gap_renumbers_the_annotation(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ordering, "GAP", 1)  # no room anywhere: every insertion in between renumbers
    session = project.open_session("d", "ann")
    for i in range(4):
        session.apply(AddEntity(entity=entity(i), index=0))
    session.apply(AddEntity(entity=entity(9), index=2))
    assert stored_order(project) == memory_order(session)
    assert stored_order(project)[0] == ["e003", "e002", "e009", "e001", "e000"]


# -- random edits --------------------------------------------------------------------------------------

KINDS = ["add", "remove", "relabel", "stance", "unstance", "doc", "undo", "redo"]
EDITS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6)), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS, st.sampled_from([ordering.GAP, 2]))
def test_random_edits_are_stored_in_the_order_shown(
    tmp_path: Path, edits: list[tuple[str, int]], gap: int
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp_path) as d, Project.open(Path(d) / "p") as project:
        old_gap = ordering.GAP
        ordering.GAP = gap  # small gaps make the store renumber often
        try:
            project.import_records([Record(document=Document(id="d", text=TEXT))])
            session = project.open_session("d", "ann")
            _run(session, edits)
            assert stored_order(project) == memory_order(session)
            reopened = project.open_session("d", "ann")
            assert reopened.annotation.model_dump() == session.annotation.model_dump()
        finally:
            ordering.GAP = old_gap


def _run(session, edits: list[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    free = list(range(200))
    ann = session.annotation
    n = 0
    for kind, seed in edits:
        rng = random.Random(seed)
        ents, sts = ann.entities, ann.stances
        if kind == "add":
            used = {e.start // 5 for e in ents}
            slot = rng.choice([i for i in free if i not in used])
            n += 1
            span = EntitySpan(id=f"n{n}", start=5 * slot, end=5 * slot + 4, label="PERSON")
            session.apply(AddEntity(entity=span, index=rng.randint(0, len(ents))))
        elif kind == "remove" and ents:
            session.apply(RemoveEntity(entity_id=rng.choice(ents).id))
        elif kind == "relabel" and ents:
            session.apply(RelabelEntity(entity_id=rng.choice(ents).id, label=rng.choice(["ORG", "GPE"])))
        elif kind == "stance":
            n += 1
            holder = EntityRef(entity_id=rng.choice(ents).id) if ents else UNKNOWN
            stance = Stance(id=f"s{n}", start=0, end=10, polarity="FAVOR", holder=holder)
            session.apply(AddStance(stance=stance, index=rng.randint(0, len(sts))))
        elif kind == "unstance" and sts:
            session.apply(RemoveStance(stance_id=rng.choice(sts).id))
        elif kind == "doc":
            target = (
                EntityRef(entity_id=rng.choice(ents).id)
                if ents and rng.random() < 0.5
                else TopicRef(topic=f"t{seed % 3}")
            )
            session.apply(SetDocumentStance(target=target, polarity=rng.choice(["FAVOR", None])))
        elif kind == "undo":
            session.undo()
        elif kind == "redo":
            session.redo()
