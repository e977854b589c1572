"""A project that can no longer be written: a clear message, nothing half-saved, the edit recoverable."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from annotator.core.edits import AddEntity
from annotator.core.errors import ProjectError
from annotator.core.model import Document, EntitySpan
from annotator.formats.base import Record
from annotator.store.project import Project
from annotator.store.recovery import unsaved_edits


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "recovery"
    monkeypatch.setenv("ANNOTATOR_RECOVERY_DIR", str(folder))
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "p")
    p.import_records([Record(document=Document(id="d1", text="Margaret Osei met Derek Hollins."))])
    yield p
    p.close()


def _edit(start: int, end: int, entity_id: str) -> AddEntity:
    return AddEntity(entity=EntitySpan(id=entity_id, start=start, end=end, label="PERSON"))


def test_a_deleted_project_file_gives_a_clear_message_and_keeps_the_edit(project: Project) -> None:
    session = project.open_session("d1", "ann")
    session.apply(_edit(0, 13, "first"))
    assert project.file is not None
    os.remove(project.file)
    with pytest.raises(ProjectError, match="deleted or moved") as info:
        session.apply(_edit(18, 31, "second"))
    assert [e.id for e in session.annotation.entities] == ["first"]  # taken back, as shown
    kept = unsaved_edits()
    assert len(kept) == 1 and kept[0]["document_id"] == "d1" and kept[0]["annotator"] == "ann"
    assert kept[0]["edit"] == json.loads(_edit(18, 31, "second").model_dump_json())
    assert "unsaved-edits.jsonl" in str(info.value)


def test_a_locked_project_gives_a_clear_message_and_keeps_the_edit(project: Project, tmp_path: Path) -> None:
    session = project.open_session("d1", "ann")
    session.apply(_edit(0, 13, "first"))
    # Another process holds the write lock for longer than the busy timeout.
    assert project.file is not None
    other = sqlite3.connect(project.file, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        project.engine.dispose()  # new connections pick the short timeout up below
        from sqlalchemy import event

        @event.listens_for(project.engine, "connect")
        def _short(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA busy_timeout=50")

        with pytest.raises(ProjectError, match="locked") as info:
            session.apply(_edit(18, 31, "second"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "could not be saved" in str(info.value)
    assert [e.id for e in session.annotation.entities] == ["first"]
    assert json.dumps(unsaved_edits()).count('"second"') == 1
    # Once the lock is gone, saving works again and nothing was half-written.
    session.apply(_edit(18, 31, "second"))
    assert [e.id for e in project.annotation("d1", "ann").entities] == ["first", "second"]


def test_a_read_only_database(project: Project) -> None:
    """`PRAGMA query_only` makes SQLite refuse writes as a read-only file does (chmod would not stop
    root, and CI runs as root)."""
    from sqlalchemy import event

    session = project.open_session("d1", "ann")
    project.engine.dispose()

    @event.listens_for(project.engine, "connect")
    def _read_only(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA query_only=1")

    with pytest.raises(ProjectError, match="could not be saved"):
        session.apply(_edit(0, 13, "first"))
    assert session.annotation.entities == []
    assert len(unsaved_edits()) == 1
