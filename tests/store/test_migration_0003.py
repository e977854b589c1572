"""Migration 0003: a project written at 0002 (tokens as JSON text) opens with every token, span and
setting as it was; the migration can be taken back."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import create_engine, inspect, text

from annotator.core.edits import AddEntity, RemoveEntity
from annotator.core.model import EntitySpan, Status, Token
from annotator.store.project import Project
from annotator.store.schema import HEAD_REVISION

TEXT = "Angela Merkel met Emmanuel Macron in Paris."
TOKENS = [[0, 6, True], [7, 13, True], [14, 17, True], [18, 26, True], [27, 33, True], [34, 36, True],
          [37, 42, False], [42, 43, False]]


def _alembic(conn, target: str, down: bool = False) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    import annotator.store.project as project_module

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(project_module.__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(cfg, target)


def _old_project(path: Path, many: int = 0) -> None:
    """A project as version 0002 wrote it: tokens as JSON, entity order keys 0, 1, 2... (and, from an
    older bug, two rows with the same key), a suggestion."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        _alembic(conn, "0002_suggestions")
        conn.execute(text("INSERT INTO project_meta (key, value) VALUES ('setting:x', 'kept')"))
        docs = [
            ("d1", 1, TEXT, orjson.dumps(TOKENS).decode()),
            ("d2", 2, "No tokens yet.", None),
            ("d3", 3, "", "[]"),
        ]
        docs += [(f"m{i}", 10 + i, "a b", "[[0,1,true],[2,3,false]]") for i in range(many)]
        for doc_id, position, body, tokens in docs:
            conn.execute(
                text(
                    "INSERT INTO documents (id, position, title, text, meta, tokens, created_at) "
                    "VALUES (:id, :pos, 'T', :text, '{}', :tokens, '2024-01-01 00:00:00')"
                ),
                {"id": doc_id, "pos": position, "text": body, "tokens": tokens},
            )
        conn.execute(
            text(
                "INSERT INTO annotations (id, document_id, annotator, status, version, extra) "
                "VALUES (1, 'd1', 'alice', 'in_progress', 4, '{\"answer\": \"accept\"}')"
            )
        )
        for eid, ord_, start, end, label in [
            ("m", 0, 0, 13, "PERSON"),
            ("b", 1, 37, 42, "GPE"),
            ("a", 1, 18, 33, "PERSON"),  # tied with "b": loads as a, b
        ]:
            conn.execute(
                text(
                    "INSERT INTO entities (annotation_id, id, ord, start_char, end_char, label, source_kind, "
                    "source_name, extra) VALUES (1, :id, :ord, :s, :e, :label, 'manual', NULL, '{}')"
                ),
                {"id": eid, "ord": ord_, "s": start, "e": end, "label": label},
            )
        conn.execute(
            text(
                "INSERT INTO suggestions (document_id, start_char, end_char, label, source_name, created_at) "
                "VALUES ('d1', 0, 13, 'PERSON', 'model', '2024-01-01 00:00:00')"
            )
        )
    engine.dispose()


def test_a_project_made_at_0002_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.annotator"
    _old_project(path, many=700)  # more documents than one conversion page
    with Project.open(path) as p:
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
            columns = {c["name"] for c in inspect(conn).get_columns("documents")}
        assert "token_data" in columns and "tokens" not in columns
        assert p.tokens("d1") == [Token(*t) for t in TOKENS]
        assert p.tokens("d2") is None
        assert p.tokens("d3") == []
        assert p.tokens("m699") == [Token(0, 1, True), Token(2, 3, False)]
        assert p.get_setting("x") == "kept"
        ann = p.annotation("d1", "alice")
        assert [e.id for e in ann.entities] == ["m", "a", "b"]
        assert (ann.status, ann.version, ann.extra) == (Status.IN_PROGRESS, 4, {"answer": "accept"})
        assert p.document("d1").text == TEXT

        # Editing goes on from there, in the order shown, tied keys and all.
        session = p.open_session("d1", "alice")
        session.apply(RemoveEntity(entity_id="a"))
        session.undo()
        session.apply(AddEntity(entity=EntitySpan(id="z", start=14, end=17, label="MISC"), index=1))
        assert [e.id for e in p.annotation("d1", "alice").entities] == ["m", "z", "a", "b"]
        records = {r.document.id: r for r in p.records(include_unannotated=True)}
        assert records["d1"].tokens == [Token(*t) for t in TOKENS]


def test_the_migration_can_be_taken_back(tmp_path: Path) -> None:
    path = tmp_path / "old.annotator"
    _old_project(path)
    Project.open(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        _alembic(conn, "0002_suggestions", down=True)
        rows = dict(conn.execute(text("SELECT id, tokens FROM documents")).all())
        columns = {c["name"] for c in inspect(conn).get_columns("documents")}
    engine.dispose()
    assert "token_data" not in columns
    assert orjson.loads(rows["d1"]) == TOKENS
    assert rows["d2"] is None
    assert orjson.loads(rows["d3"]) == []
    with Project.open(path) as p:  # and forward again
        assert p.tokens("d1") == [Token(*t) for t in TOKENS]
