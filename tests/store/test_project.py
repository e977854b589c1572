"""The project store: durable edits, conflicts, imports that are all or nothing, streaming export."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from annotator.core.edits import AddEntity, AddStance, RemoveEntity, SetDocumentStance, SetStatus
from annotator.core.errors import ConflictError, InputError, ProjectError, RuleError
from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentStance,
    EntityRef,
    EntitySpan,
    Stance,
    Status,
    Token,
    TopicRef,
)
from annotator.core.scheme import default_scheme
from annotator.formats.base import Record
from annotator.store.project import Project, resolve_location
from annotator.store.schema import HEAD_REVISION

UNICODE_TEXT = "Zoë met 佐藤 in الرياض 🇯🇵 with 👨‍👩‍👧 and e\u0301clair.\r\nNext\tline."


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "proj")
    yield p
    p.close()


def doc(doc_id: str = "d1", text: str = "Angela Merkel visited Paris and Tokyo.") -> Document:
    return Document(id=doc_id, text=text)


def test_a_folder_location_holds_one_project_file(tmp_path: Path) -> None:
    url, file = resolve_location(tmp_path / "new")
    assert file == tmp_path / "new" / "project.annotator"
    assert url.startswith("sqlite:///")
    with Project.open(tmp_path / "new") as p:
        assert p.scheme == default_scheme()
    assert file.exists()
    assert resolve_location("postgresql://u@h/db") == ("postgresql://u@h/db", None)


def test_sqlite_runs_in_wal_mode_with_full_sync(project: Project) -> None:
    with project.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    Project.open(tmp_path / "p").close()
    db = sqlite3.connect(tmp_path / "p" / "project.annotator")
    db.execute("UPDATE alembic_version SET version_num = '9999_future'")
    db.commit()
    db.close()
    with pytest.raises(ProjectError, match=r"newer version of annotator.*9999_future"):
        Project.open(tmp_path / "p")


def test_a_database_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(ProjectError, match="not an annotator project"):
        Project.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.annotator"
    path.write_text("just some notes\n" * 100)
    with pytest.raises(ProjectError, match="cannot open the project"):
        Project.open(path)
    assert path.read_text() == "just some notes\n" * 100


def test_migrations_reach_the_head_revision(project: Project) -> None:
    with project.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION


def test_edits_are_durable_and_versioned(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=doc())])
        session = p.open_session("d1", "ann")
        person = EntitySpan(start=0, end=13, label="PERSON")
        session.apply(AddEntity(entity=person))
        session.apply(
            AddStance(
                stance=Stance(
                    start=0,
                    end=20,
                    polarity="FAVOR",
                    holder=EntityRef(entity_id=person.id),
                    target=TopicRef(topic="travel"),
                )
            )
        )
        session.apply(SetDocumentStance(target=TopicRef(topic="travel"), polarity="FAVOR"))
        expected = session.annotation.model_dump()
    with Project.open(tmp_path / "p") as p:
        stored = p.annotation("d1", "ann")
        assert stored.model_dump() == expected
        assert stored.version == 3
        assert stored.status == Status.IN_PROGRESS
        kinds = [kind for _, kind, _ in p.history("d1", "ann")]
        assert kinds == ["do", "do", "do"]


def test_undo_and_redo_are_saved_and_logged(project: Project) -> None:
    project.import_records([Record(document=doc())])
    session = project.open_session("d1", "ann")
    person = EntitySpan(start=0, end=13, label="PERSON")
    session.apply(AddEntity(entity=person))
    session.apply(
        AddStance(stance=Stance(start=0, end=20, polarity="AGAINST", holder=EntityRef(entity_id=person.id)))
    )
    session.apply(RemoveEntity(entity_id=person.id))
    assert project.annotation("d1", "ann").stances[0].holder.kind == "unknown"
    session.undo()
    restored = project.annotation("d1", "ann")
    assert restored.entities == [person]
    assert restored.stances[0].holder == EntityRef(entity_id=person.id)
    session.redo()
    assert project.annotation("d1", "ann").entities == []
    assert [kind for _, kind, _ in project.history("d1", "ann")] == ["do", "do", "do", "undo", "redo"]
    assert [version for version, _, _ in project.history("d1", "ann")] == [1, 2, 3, 4, 5]


def test_two_annotators_keep_their_own_work(project: Project) -> None:
    project.import_records([Record(document=doc())])
    a = project.open_session("d1", "alice")
    b = project.open_session("d1", "bob")
    a.apply(AddEntity(entity=EntitySpan(start=0, end=13, label="PERSON")))
    b.apply(AddEntity(entity=EntitySpan(start=22, end=27, label="GPE")))
    assert [e.label for e in project.annotation("d1", "alice").entities] == ["PERSON"]
    assert [e.label for e in project.annotation("d1", "bob").entities] == ["GPE"]


def test_same_annotator_in_two_windows_gets_a_conflict_not_an_overwrite(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=doc())])
    first, second = Project.open(tmp_path / "p"), Project.open(tmp_path / "p")
    try:
        w1 = first.open_session("d1", "ann")
        w2 = second.open_session("d1", "ann")
        w1.apply(AddEntity(entity=EntitySpan(start=0, end=13, label="PERSON")))
        before = w2.annotation.model_dump()
        with pytest.raises(ConflictError, match="changed in another window"):
            w2.apply(AddEntity(entity=EntitySpan(start=22, end=27, label="GPE")))
        assert w2.annotation.model_dump() == before  # taken back in memory too
        assert not w2.can_undo
        stored = first.annotation("d1", "ann")
        assert [e.label for e in stored.entities] == ["PERSON"]
        # Once the first window has saved twice, the second still conflicts (versions differ).
        w1.apply(SetStatus(status=Status.DONE))
        with pytest.raises(ConflictError):
            w2.apply(SetStatus(status=Status.SKIPPED))
        assert second.annotation("d1", "ann").status == Status.DONE
    finally:
        first.close()
        second.close()


def test_a_broken_rule_changes_nothing_stored(project: Project) -> None:
    project.import_records([Record(document=doc())])
    session = project.open_session("d1", "ann")
    with pytest.raises(RuleError, match="not in the scheme"):
        session.apply(AddEntity(entity=EntitySpan(start=0, end=5, label="ALIEN")))
    assert project.annotation("d1", "ann").version == 0
    assert project.history("d1", "ann") == []


def test_unicode_text_and_offsets_survive_exactly(project: Project) -> None:
    project.import_records([Record(document=doc("u", UNICODE_TEXT))])
    assert project.document("u").text == UNICODE_TEXT
    session = project.open_session("u", "ann")
    for needle, label in (
        ("佐藤", "PERSON"),
        ("الرياض", "GPE"),
        ("🇯🇵", "GPE"),
        ("👨‍👩‍👧", "NORP"),
        ("e\u0301clair", "MISC"),
        ("Next", "MISC"),
    ):
        start = UNICODE_TEXT.index(needle)
        session.apply(AddEntity(entity=EntitySpan(start=start, end=start + len(needle), label=label)))
    stored = project.annotation("u", "ann")
    assert [UNICODE_TEXT[e.start : e.end] for e in stored.entities] == [
        "佐藤",
        "الرياض",
        "🇯🇵",
        "👨‍👩‍👧",
        "e\u0301clair",
        "Next",
    ]


def test_import_is_all_or_nothing(project: Project) -> None:
    good = Record(document=doc("a"), path="f.jsonl", line=1)
    bad = Record(
        document=doc("b"),
        annotations=[
            Annotation(
                document_id="b", annotator="x", entities=[EntitySpan(start=0, end=999, label="PERSON")]
            )
        ],
        path="f.jsonl",
        line=2,
    )
    with pytest.raises(InputError) as info:
        project.import_records([good, bad])
    assert str(info.value).startswith("f.jsonl:2: entities[0]")
    assert project.document_count() == 0


def test_skip_invalid_keeps_the_good_and_reports_the_bad(project: Project) -> None:
    good = Record(document=doc("a"), path="f.jsonl", line=1)
    bad = Record(
        document=doc("b"),
        annotations=[
            Annotation(
                document_id="b", annotator="x", entities=[EntitySpan(start=0, end=999, label="PERSON")]
            )
        ],
        path="f.jsonl",
        line=2,
    )
    unreadable = InputError("not valid JSON", path="f.jsonl", line=3)
    report = project.import_records([good, bad, unreadable], skip_invalid=True)
    assert report.documents_added == 1
    assert [(e.line, e.field) for e in report.skipped] == [(2, "entities[0]"), (3, None)]
    # The invalid record's document did not slip in on its own.
    assert [s.id for s in project.summaries("x")] == ["a"]


def test_importing_the_same_document_twice_does_not_duplicate_it(project: Project) -> None:
    project.import_records([Record(document=doc())])
    report = project.import_records([Record(document=doc())])
    assert report.documents_added == 0 and report.documents_existing == 1
    assert project.document_count() == 1


def test_same_id_with_another_text_is_an_error(project: Project) -> None:
    project.import_records([Record(document=doc())])
    with pytest.raises(InputError, match="different text"):
        project.import_records([Record(document=doc("d1", "Something else"), path="x.jsonl", line=4)])


def test_new_labels_are_added_to_the_scheme_unless_strict(project: Project) -> None:
    ann = Annotation(
        document_id="d1",
        annotator="x",
        entities=[EntitySpan(start=0, end=13, label="POLITICIAN")],
        stances=[Stance(start=0, end=5, polarity="SUPPORT")],
    )
    with pytest.raises(InputError, match="POLITICIAN, SUPPORT"):
        project.import_records([Record(document=doc(), annotations=[ann])], strict_labels=True)
    assert "POLITICIAN" not in project.scheme.label_names
    report = project.import_records([Record(document=doc(), annotations=[ann])])
    assert report.labels_added == ["POLITICIAN"] and report.polarities_added == ["SUPPORT"]
    assert "POLITICIAN" in project.scheme.label_names
    assert project.scheme.label("POLITICIAN").colour.startswith("#")
    with Project.open(project.file) as again:  # stored, not only in memory
        assert "POLITICIAN" in again.scheme.label_names


def test_tokens_are_stored_from_the_file_or_the_tokenizer(project: Project) -> None:
    given = [Token(0, 6, True), Token(7, 13, False)]
    project.import_records(
        [Record(document=doc("a", "Angela Merkel"), tokens=given), Record(document=doc("b", "Hi there"))],
        tokenizer=lambda text: [Token(0, 2, True), Token(3, 8, False)],
    )
    assert project.tokens("a") == given
    assert project.tokens("b") == [Token(0, 2, True), Token(3, 8, False)]


def test_replacing_the_scheme_refuses_to_drop_labels_in_use(project: Project) -> None:
    project.import_records([Record(document=doc())])
    session = project.open_session("d1", "ann")
    session.apply(AddEntity(entity=EntitySpan(start=0, end=13, label="PERSON")))
    scheme = project.scheme
    without_person = scheme.model_copy(
        update={"labels": tuple(lb for lb in scheme.labels if lb.name != "PERSON")}
    )
    with pytest.raises(ProjectError, match="labels in use would be removed: PERSON"):
        project.set_scheme(without_person)
    assert project.scheme == scheme
    bigger = scheme.with_labels(["LAW"]).with_topics(["tram line"])
    project.set_scheme(bigger)
    assert Project.open(project.file).scheme == bigger


def test_forbidding_overlaps_is_refused_when_annotations_overlap(project: Project) -> None:
    overlapping = project.scheme.model_copy(update={"allow_overlap": True})
    project.set_scheme(overlapping)
    project.import_records([Record(document=doc())])
    session = project.open_session("d1", "ann")
    session.apply(AddEntity(entity=EntitySpan(start=0, end=13, label="PERSON")))
    session.apply(AddEntity(entity=EntitySpan(start=7, end=13, label="MISC")))
    with pytest.raises(ProjectError, match="overlapping entities"):
        project.set_scheme(overlapping.model_copy(update={"allow_overlap": False}))


def test_records_stream_done_ones_by_default_and_all_when_asked(project: Project) -> None:
    project.import_records([Record(document=doc(f"d{i}", f"Text number {i}.")) for i in range(5)])
    for i, status in enumerate([Status.DONE, Status.IN_PROGRESS, Status.DONE]):
        project.open_session(f"d{i}", "ann").apply(SetStatus(status=status))
    project.open_session("d0", "other").apply(SetStatus(status=Status.SKIPPED))
    done = list(project.records(statuses={Status.DONE}))
    assert [(r.document.id, [a.annotator for a in r.annotations]) for r in done] == [
        ("d0", ["ann"]),
        ("d2", ["ann"]),
    ]
    everything = list(project.records(include_unannotated=True))
    assert [r.document.id for r in everything] == ["d0", "d1", "d2", "d3", "d4"]
    assert [a.annotator for a in everything[0].annotations] == ["ann", "other"]
    only_other = list(project.records(annotator="other"))
    assert [r.document.id for r in only_other] == ["d0"]


def test_records_come_in_chunks_across_many_documents(project: Project) -> None:
    project.import_records([Record(document=doc(f"d{i:04}", f"Text {i}")) for i in range(450)])
    ids = [r.document.id for r in project.records(include_unannotated=True)]
    assert ids == [f"d{i:04}" for i in range(450)]


def test_stats_count_by_status_label_and_polarity(project: Project) -> None:
    project.import_records([Record(document=doc("a")), Record(document=doc("b", "Paris"))])
    s = project.open_session("a", "ann")
    person = EntitySpan(start=0, end=13, label="PERSON")
    s.apply(AddEntity(entity=person))
    s.apply(AddEntity(entity=EntitySpan(start=22, end=27, label="GPE")))
    s.apply(AddStance(stance=Stance(start=0, end=27, polarity="FAVOR", holder=AUTHOR)))
    s.apply(SetDocumentStance(target=EntityRef(entity_id=person.id), polarity="AGAINST"))
    s.apply(SetStatus(status=Status.DONE))
    stats = project.stats()
    assert stats["documents"] == 2
    assert stats["annotations"] == {"not_started": 0, "in_progress": 0, "done": 1, "skipped": 0}
    assert stats["entities"] == {"GPE": 1, "PERSON": 1}
    assert stats["stances"] == {"FAVOR": 1}
    assert stats["document_stances"] == {"AGAINST": 1}
    assert stats["annotators"] == ["ann"]


def test_summaries_give_each_document_with_this_annotators_status(project: Project) -> None:
    project.import_records(
        [Record(document=Document(id="a", text="x", meta={"title": "First"})), Record(document=doc("b"))]
    )
    project.open_session("b", "ann").apply(SetStatus(status=Status.DONE))
    rows = project.summaries("ann")
    assert [(r.id, r.title, r.status) for r in rows] == [
        ("a", "First", Status.NOT_STARTED),
        ("b", None, Status.DONE),
    ]
    assert [r.status for r in project.summaries("someone else")] == [Status.NOT_STARTED, Status.NOT_STARTED]


def test_settings_are_kept(project: Project) -> None:
    assert project.get_setting("last_document:ann") is None
    project.set_setting("last_document:ann", "d7")
    project.set_setting("last_document:ann", "d8")
    assert project.get_setting("last_document:ann") == "d8"


def test_an_imported_annotation_is_not_overwritten_by_a_second_import(project: Project) -> None:
    first = Annotation(
        document_id="d1", annotator="x", entities=[EntitySpan(start=0, end=13, label="PERSON")]
    )
    second = Annotation(document_id="d1", annotator="x", entities=[EntitySpan(start=22, end=27, label="GPE")])
    project.import_records([Record(document=doc(), annotations=[first])])
    report = project.import_records([Record(document=doc(), annotations=[second])])
    assert report.annotations_existing == 1
    assert [e.label for e in project.annotation("d1", "x").entities] == ["PERSON"]


def test_stored_doc_stances_round_trip(project: Project) -> None:
    ann = Annotation(
        document_id="d1",
        annotator="x",
        doc_stances=[DocumentStance(target=TopicRef(topic="trams"), polarity="FAVOR")],
    )
    project.import_records([Record(document=doc(), annotations=[ann])])
    assert project.annotation("d1", "x").doc_stances == ann.doc_stances


def test_an_edit_survives_the_process_being_killed(tmp_path: Path) -> None:
    """The edit call returns only after its transaction is committed: kill right after it."""
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=doc())])
    script = textwrap.dedent(f"""
        import os, signal
        from annotator.store.project import Project
        from annotator.core.edits import AddEntity
        from annotator.core.model import EntitySpan
        p = Project.open({str(tmp_path / "p")!r})
        s = p.open_session("d1", "ann")
        s.apply(AddEntity(entity=EntitySpan(id="kept", start=0, end=13, label="PERSON")))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr
    with Project.open(tmp_path / "p") as p:
        assert [e.id for e in p.annotation("d1", "ann").entities] == ["kept"]
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_overlapping_entities_in_an_import_switch_overlaps_on_unless_strict(project: Project) -> None:
    ann = Annotation(
        document_id="d1",
        annotator="x",
        entities=[EntitySpan(start=0, end=13, label="PERSON"), EntitySpan(start=7, end=13, label="PERSON")],
    )
    assert not project.scheme.allow_overlap
    with pytest.raises(InputError, match="overlapping entities"):
        project.import_records([Record(document=doc(), annotations=[ann])], strict_labels=True)
    assert not project.scheme.allow_overlap
    report = project.import_records([Record(document=doc(), annotations=[ann])])
    assert report.overlaps_allowed and project.scheme.allow_overlap
    assert len(project.annotation("d1", "x").entities) == 2


def test_integers_beyond_64_bits_in_extra_are_kept(project: Project) -> None:
    huge = 2**70
    ann = Annotation(
        document_id="d1",
        annotator="x",
        extra={"_input_hash": huge},
        entities=[EntitySpan(start=0, end=6, label="PERSON", extra={"score": -huge})],
    )
    project.import_records([Record(document=doc(), annotations=[ann])])
    stored = project.annotation("d1", "x")
    assert stored.extra == {"_input_hash": huge}
    assert stored.entities[0].extra == {"score": -huge}
