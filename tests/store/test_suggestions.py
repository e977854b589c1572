"""Stored suggestions: kept apart from annotations, hidden per annotator once rejected, accepted
through the session like any edit, and added to older projects by a migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from annotator.core.edits import RemoveEntity
from annotator.core.errors import RuleError
from annotator.core.model import Annotation, Document, EntitySpan, SpanSource, Status
from annotator.formats.base import Record
from annotator.nlp.suggest import Suggestion, SuggestionKey, accept_all_edit, accept_edit
from annotator.store.project import Project
from annotator.store.schema import HEAD_REVISION
from annotator.store.suggestions import (
    clear_suggestions,
    reject,
    rejected,
    store_suggestions,
    stored_suggestions,
    suggestion_counts,
    suggestions_for,
    unreject,
)

TEXT = "Anna Keller of Kyodo News flew to Tokyo 🇯🇵 on Monday."
ANNA = Suggestion(0, 11, "PERSON", "en_core_web_sm")
KYODO = Suggestion(15, 25, "ORG", "en_core_web_sm")
TOKYO = Suggestion(34, 39, "GPE", "en_core_web_sm")
MONDAY = Suggestion(46, 52, "DATE", "en_core_web_sm")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "proj")
    p.import_records(
        [Record(document=Document(id="d1", text=TEXT)), Record(document=Document(id="d2", text="x"))]
    )
    yield p
    p.close()


def keys(suggestions: list[Suggestion]) -> list[tuple[int, int, str]]:
    return [tuple(s.key) for s in suggestions]


def test_offsets_fit_the_text() -> None:
    assert TEXT[ANNA.start : ANNA.end] == "Anna Keller" and TEXT[KYODO.start : KYODO.end] == "Kyodo News"
    assert TEXT[TOKYO.start : TOKYO.end] == "Tokyo" and TEXT[MONDAY.start : MONDAY.end] == "Monday"


def test_storing_suggestions_changes_no_annotation(project: Project) -> None:
    session = project.open_session("d1", "ann")
    session.apply(accept_edit(ANNA))
    before = (project.annotation("d1", "ann").model_dump(), project.history("d1", "ann"))
    assert store_suggestions(project, "d1", [KYODO, TOKYO, MONDAY], replace_sources=["en_core_web_sm"]) == 3
    assert (project.annotation("d1", "ann").model_dump(), project.history("d1", "ann")) == before
    assert project.annotation("d1", "other").version == 0  # nobody else got an annotation


def test_a_rejection_hides_it_from_that_annotator_only_and_survives_a_rerun(project: Project) -> None:
    store_suggestions(project, "d1", [TOKYO, ANNA, KYODO])
    assert keys(suggestions_for(project, "d1", "alice")) == [
        tuple(ANNA.key),
        tuple(KYODO.key),
        tuple(TOKYO.key),
    ]
    reject(project, "d1", "alice", KYODO)
    reject(project, "d1", "alice", KYODO)  # twice is the same as once
    assert keys(suggestions_for(project, "d1", "alice")) == [tuple(ANNA.key), tuple(TOKYO.key)]
    assert KYODO.key in [s.key for s in suggestions_for(project, "d1", "bob")]
    assert rejected(project, "d1", "alice") == {SuggestionKey(15, 25, "ORG")}

    # Suggesting again, by the same source or another, does not bring it back for alice.
    store_suggestions(project, "d1", [ANNA, KYODO, TOKYO], replace_sources=["en_core_web_sm"])
    store_suggestions(project, "d1", [Suggestion(15, 25, "ORG", "patterns:orgs.jsonl")])
    assert keys(suggestions_for(project, "d1", "alice")) == [tuple(ANNA.key), tuple(TOKYO.key)]
    # Only for that article.
    store_suggestions(project, "d2", [Suggestion(0, 1, "ORG", "x")])
    reject(project, "d2", "alice", SuggestionKey(0, 1, "ORG"))
    assert keys(suggestions_for(project, "d1", "alice")) == [tuple(ANNA.key), tuple(TOKYO.key)]
    # A different label on the same span is a different suggestion.
    store_suggestions(project, "d1", [Suggestion(15, 25, "GPE", "x")])
    assert (15, 25, "GPE") in keys(suggestions_for(project, "d1", "alice"))

    assert unreject(project, "d1", "alice", KYODO) is True
    assert unreject(project, "d1", "alice", KYODO) is False
    assert (15, 25, "ORG") in keys(suggestions_for(project, "d1", "alice"))


def test_rejections_persist_across_reopening(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=Document(id="d1", text=TEXT))])
        store_suggestions(p, "d1", [ANNA, KYODO])
        reject(p, "d1", "alice", ANNA)
    with Project.open(tmp_path / "p") as p:
        assert keys(suggestions_for(p, "d1", "alice")) == [tuple(KYODO.key)]
        assert keys(stored_suggestions(p, "d1")) == [tuple(ANNA.key), tuple(KYODO.key)]


def test_accepting_is_an_edit_with_its_source_and_undo_brings_the_suggestion_back(project: Project) -> None:
    store_suggestions(project, "d1", [ANNA, KYODO])
    session = project.open_session("d1", "alice")
    session.apply(accept_edit(KYODO))
    stored = project.annotation("d1", "alice")
    (entity,) = stored.entities
    assert entity.source == SpanSource(kind="suggested", name="en_core_web_sm")
    assert (entity.start, entity.end, entity.label) == (15, 25, "ORG")
    assert stored.status == Status.IN_PROGRESS
    assert keys(suggestions_for(project, "d1", "alice")) == [tuple(ANNA.key)]
    assert keys(suggestions_for(project, "d1", "bob")) == [tuple(ANNA.key), tuple(KYODO.key)]
    # The annotation held in memory gives the same answer.
    assert suggestions_for(project, "d1", "alice", annotation=session.annotation) == [ANNA]

    session.undo()
    assert project.annotation("d1", "alice").entities == []
    assert keys(suggestions_for(project, "d1", "alice")) == [tuple(ANNA.key), tuple(KYODO.key)]
    session.redo()
    assert project.annotation("d1", "alice").entities == [entity]
    # Removing the accepted entity by hand shows the suggestion again (it was never rejected).
    session.apply(RemoveEntity(entity_id=entity.id))
    assert tuple(KYODO.key) in keys(suggestions_for(project, "d1", "alice"))


def test_accept_all_is_one_undo_step(project: Project) -> None:
    store_suggestions(project, "d1", [ANNA, KYODO, TOKYO, Suggestion(15, 20, "PERSON", "patterns:p")])
    session = project.open_session("d1", "alice")
    batch = accept_all_edit(suggestions_for(project, "d1", "alice"), session.annotation, session.scheme)
    assert batch is not None
    session.apply(batch)
    got = [(e.start, e.end, e.label, e.source.name) for e in project.annotation("d1", "alice").entities]
    assert got == [
        (0, 11, "PERSON", "en_core_web_sm"),
        (15, 25, "ORG", "en_core_web_sm"),
        (34, 39, "GPE", "en_core_web_sm"),
    ]
    assert keys(suggestions_for(project, "d1", "alice")) == [(15, 20, "PERSON")]
    session.undo()
    stored = project.annotation("d1", "alice")
    assert stored.entities == [] and stored.status == Status.NOT_STARTED


def test_an_existing_entity_with_the_same_span_and_label_hides_the_suggestion(project: Project) -> None:
    ann = Annotation(
        document_id="d1",
        annotator="carol",
        entities=[EntitySpan(start=0, end=11, label="PERSON"), EntitySpan(start=34, end=39, label="LOC")],
    )
    project.import_records([Record(document=Document(id="d1", text=TEXT), annotations=[ann])])
    store_suggestions(project, "d1", [ANNA, TOKYO])
    # Same span, other label: still suggested (the annotator may want to relabel).
    assert keys(suggestions_for(project, "d1", "carol")) == [tuple(TOKYO.key)]


def test_a_rerun_replaces_its_own_source_and_keeps_the_others(project: Project) -> None:
    store_suggestions(project, "d1", [ANNA, KYODO])
    store_suggestions(project, "d1", [Suggestion(34, 39, "GPE", "patterns:p", 1.0)])
    assert store_suggestions(project, "d1", [ANNA], replace_sources=["en_core_web_sm"]) == 1
    assert stored_suggestions(project, "d1") == [ANNA, Suggestion(34, 39, "GPE", "patterns:p", 1.0)]
    # Without replacing, what is stored already is not doubled.
    assert store_suggestions(project, "d1", [ANNA, ANNA]) == 0
    assert suggestion_counts(project) == {"en_core_web_sm": {"PERSON": 1}, "patterns:p": {"GPE": 1}}
    # The same span and label from two sources is shown once.
    store_suggestions(project, "d1", [Suggestion(0, 11, "PERSON", "patterns:p")])
    assert suggestions_for(project, "d1", "x") == [ANNA, Suggestion(34, 39, "GPE", "patterns:p", 1.0)]
    # A label the scheme does not have (any more) is not shown.
    store_suggestions(project, "d1", [Suggestion(15, 25, "MONEY", "x")])
    assert (15, 25, "MONEY") not in keys(suggestions_for(project, "d1", "x"))
    assert clear_suggestions(project, sources=["patterns:p", "x"]) == 3
    assert stored_suggestions(project, "d1") == [ANNA]
    assert clear_suggestions(project) == 1


def test_suggestions_must_fit_a_known_document(project: Project) -> None:
    with pytest.raises(RuleError, match=r"suggestions\[1\]: span 40-99 goes past the end"):
        store_suggestions(project, "d1", [ANNA, Suggestion(40, 99, "ORG", "x")])
    assert stored_suggestions(project, "d1") == []  # nothing of a refused batch is kept
    with pytest.raises(KeyError):
        store_suggestions(project, "nope", [ANNA])
    with pytest.raises(KeyError):
        reject(project, "nope", "alice", ANNA)
    # Offsets count code points: the flag is 2 of them, and a span may end at the last one.
    end = len(TEXT)
    assert store_suggestions(project, "d1", [Suggestion(end - 1, end, "MISC", "x")]) == 1


# -- the migration ------------------------------------------------------------------------------------


def _alembic(conn, target: str, down: bool = False) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    import annotator.store.project as project_module

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(project_module.__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(cfg, target)


def test_a_project_made_at_0001_is_upgraded_on_open_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.annotator"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        _alembic(conn, "0001_initial")
        conn.execute(
            text(
                "INSERT INTO documents (id, position, title, text, meta, tokens, created_at) "
                "VALUES ('d1', 1, NULL, :t, '{}', NULL, '2024-01-01 00:00:00')"
            ),
            {"t": TEXT},
        )
        conn.execute(
            text(
                "INSERT INTO annotations (id, document_id, annotator, status, version, extra) "
                "VALUES (1, 'd1', 'alice', 'done', 3, '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO entities (annotation_id, id, ord, start_char, end_char, label, "
                "source_kind, source_name, extra) "
                "VALUES (1, 'e1', 0, 0, 11, 'PERSON', 'suggested', 'en_core_web_sm', '{}')"
            )
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001_initial"
        assert "suggestions" not in inspect(conn).get_table_names()
    engine.dispose()

    with Project.open(path) as p:
        with p.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        ann = p.annotation("d1", "alice")
        assert (ann.status, ann.version) == (Status.DONE, 3)
        assert ann.entities == [
            EntitySpan(
                id="e1",
                start=0,
                end=11,
                label="PERSON",
                source=SpanSource(kind="suggested", name="en_core_web_sm"),
            )
        ]
        assert p.document("d1").text == TEXT
        store_suggestions(p, "d1", [ANNA, KYODO])
        assert keys(suggestions_for(p, "d1", "alice")) == [tuple(KYODO.key)]


def test_the_migration_can_be_taken_back(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records([Record(document=Document(id="d1", text=TEXT))])
        store_suggestions(p, "d1", [ANNA])
        with p.engine.begin() as conn:
            _alembic(conn, "0001_initial", down=True)
            tables = set(inspect(conn).get_table_names())
        assert "suggestions" not in tables and "suggestion_rejections" not in tables
        assert p.document("d1").text == TEXT
