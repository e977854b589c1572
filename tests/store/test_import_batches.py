"""Imports check records one by one but write them in batches: whatever the batch size, the same
records are stored, the same report is made and the same first error is raised."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.errors import InputError
from annotator.core.model import Annotation, Document, EntitySpan, Token
from annotator.formats.base import ReadItem, Record
from annotator.store import importer
from annotator.store.project import Project


def record(doc_id: str, text: str, *annotators: str, label: str = "PERSON", line: int = 1) -> Record:
    anns = [
        Annotation(
            document_id=doc_id,
            annotator=who,
            entities=[EntitySpan(id=f"{who}-e", start=0, end=min(3, len(text)), label=label)],
        )
        for who in annotators
    ]
    tokens = [Token(0, len(text), False)] if line % 2 else None
    document = Document(id=doc_id, text=text)
    return Record(document=document, annotations=anns, tokens=tokens, path="f", line=line)


ITEM = st.one_of(
    st.builds(
        lambda doc, text, who, label, line: record(f"d{doc}", f"text {text}", *who, label=label, line=line),
        st.integers(0, 4),
        st.integers(0, 1),  # the same id with another text is refused
        st.lists(st.sampled_from(["anna", "ben", "anna"]), max_size=3),  # repeats are kept once
        st.sampled_from(["PERSON", "PERSON", "NEWLABEL", "BAD LABEL " * 20]),
        st.integers(1, 99),
    ),
    st.builds(lambda line: InputError("broken line", path="f", line=line), st.integers(1, 99)),
)


def _state(project: Project) -> list[Any]:
    out = []
    for r in project.records(include_unannotated=True):
        out.append(
            (
                r.document.id,
                r.document.text,
                r.tokens,
                [(a.annotator, [e.model_dump() for e in a.entities]) for a in r.annotations],
            )
        )
    with project.engine.connect() as conn:
        positions = conn.exec_driver_sql("SELECT id, position FROM documents ORDER BY position").all()
    return [out, [tuple(p) for p in positions], project.reload_scheme().label_names]


def _report(report: importer.ImportReport) -> dict[str, Any]:
    fields = dict(vars(report))
    fields["skipped"] = [str(e) for e in report.skipped]
    return fields


def _import(items: list[ReadItem], batch: int, skip_invalid: bool, tokenizer: Any = None) -> Any:
    old = importer.BATCH_RECORDS
    importer.BATCH_RECORDS = batch
    try:
        with tempfile.TemporaryDirectory() as d, Project.open(Path(d) / "p") as project:
            project.import_records([record("d0", "text 0", "anna")])  # already there
            try:
                report = project.import_records(
                    items, skip_invalid=skip_invalid, tokenizer=tokenizer or (lambda t: [Token(0, 1, True)])
                )
                outcome: Any = _report(report)
            except InputError as exc:
                outcome = ("raised", str(exc))
            return outcome, _state(project)
    finally:
        importer.BATCH_RECORDS = old


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ITEM, max_size=14), st.booleans())
def test_batch_size_changes_nothing(items: list[ReadItem], skip_invalid: bool) -> None:
    one_by_one = _import(items, 1, skip_invalid)
    assert _import(items, 3, skip_invalid) == one_by_one
    assert _import(items, 500, skip_invalid) == one_by_one


def test_documents_and_annotations_met_in_an_earlier_batch_are_existing() -> None:
    items: list[ReadItem] = [
        record("a", "x y", "anna"),
        record("b", "z", "anna"),
        record("a", "x y", "anna", "ben"),
    ]
    outcome, state = _import(items, 2, skip_invalid=False)
    assert (outcome["documents_added"], outcome["documents_existing"]) == (2, 1)
    assert (outcome["annotations_added"], outcome["annotations_existing"]) == (3, 1)
    assert [(doc, [who for who, _ in anns]) for doc, _, _, anns in state[0]] == [
        ("d0", ["anna"]),
        ("a", ["anna", "ben"]),
        ("b", ["anna"]),
    ]


def test_the_first_bad_record_is_raised_and_nothing_is_stored() -> None:
    items: list[ReadItem] = [record("a", "x"), record("d0", "another text", line=7), record("b", "y")]
    outcome, state = _import(items, 500, skip_invalid=False)
    assert outcome == ("raised", "f:7: id: document 'd0' is already in the project with a different text")
    assert [doc for doc, *_ in state[0]] == ["d0"]


def _failing_reader(first: list[ReadItem], problem: Exception) -> Iterator[ReadItem]:
    yield from first
    raise problem


def test_a_bad_record_before_a_broken_file_is_the_error() -> None:
    first = [record("a", "x"), record("d0", "changed", line=3)]
    items = _failing_reader(first, InputError("broken file", path="g"))
    outcome, state = _import(items, 500, skip_invalid=False)  # type: ignore[arg-type]
    assert outcome[0] == "raised" and outcome[1].startswith("f:3: id:")
    assert [doc for doc, *_ in state[0]] == ["d0"]


def test_a_broken_file_after_good_records_stores_nothing() -> None:
    items = _failing_reader([record("a", "x"), record("b", "y")], InputError("broken file", path="g"))
    outcome, state = _import(items, 500, skip_invalid=True)  # type: ignore[arg-type]
    assert outcome == ("raised", "g: broken file")
    assert [doc for doc, *_ in state[0]] == ["d0"]


def test_a_cancel_from_the_progress_callback_stops_at_once(tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    seen: list[int] = []

    def progress(count: int) -> None:
        seen.append(count)
        if count == 3:
            raise Cancelled

    with Project.open(tmp_path / "p") as project:
        with pytest.raises(Cancelled):
            project.import_records([record(f"r{i}", "x") for i in range(10)], progress=progress)
        assert project.document_count() == 0
    assert seen == [1, 2, 3]


def test_memory_stays_bounded_by_the_batch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sizes: list[int] = []
    run = importer._Batch.run

    def spy(self, items):  # type: ignore[no-untyped-def]
        sizes.append(len(items))
        return run(self, items)

    monkeypatch.setattr(importer._Batch, "run", spy)
    monkeypatch.setattr(importer, "BATCH_CHARS", 10)
    with Project.open(tmp_path / "p") as project:
        report = project.import_records([record(f"r{i}", "four", line=2) for i in range(7)])
    assert report.documents_added == 7
    assert sizes == [3, 3, 1]  # 4 characters each: a batch ends once it holds 10 or more
