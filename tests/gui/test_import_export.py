"""Import and export from the menus, in a worker, with progress, cancel and a report."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QPushButton

from annotator import operations
from annotator.core.model import Document, Status
from annotator.formats.base import Record
from annotator.formats.native import write_native

pytestmark = pytest.mark.timeout(60)


def native_line(doc_id: str, text: str) -> dict:  # type: ignore[type-arg]
    out = io.BytesIO()
    write_native([Record(document=Document(id=doc_id, text=text))], out)
    return json.loads(out.getvalue().decode("utf-8").splitlines()[0])


def wait_for_job(qtbot, window):  # type: ignore[no-untyped-def]
    assert window.jobs, "no job was started"
    job = window.jobs[-1]
    if job.outcome is None:
        with qtbot.waitSignal(job.finished, timeout=30_000):
            pass
    qtbot.waitUntil(lambda: job not in window.jobs)
    return job


def test_import_files_lists_the_bad_records(qtbot, window, project, tmp_path: Path, monkeypatch) -> None:
    good = native_line("n1", "Olaf Scholz spoke in Berlin.")
    bad = native_line("n2", "Another article.")
    bad["document"]["id"] = ""
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(data)], ""))

    window.act_import_files.trigger()
    job = wait_for_job(qtbot, window)
    assert job.outcome == "succeeded"
    dialog = window.dialogs["import"]
    assert dialog.isVisible()
    rows = dialog.skipped_rows()
    assert len(rows) == 1
    assert rows[0][0] == "in.jsonl" and rows[0][1] == "2"
    assert "id" in rows[0][2]
    assert project.document_count() == 4
    assert window.doc_list.model.rowCount() == 4
    assert window.doc_list.progress_text.text() == "0 of 4 done"
    dialog.close()


def test_import_folder(qtbot, window, project, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "one.txt").write_text("First title\n\nBody of the first one.", encoding="utf-8")
    (folder / "two.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window.act_import_folder.trigger()
    job = wait_for_job(qtbot, window)
    assert job.outcome == "succeeded"
    rows = window.dialogs["import"].skipped_rows()
    assert [r[0] for r in rows] == ["two.txt"]
    assert project.document_count() == 4


def test_a_cancelled_import_stores_nothing(qtbot, window, project, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text(f"Title {i}\n\nText {i}.", encoding="utf-8")
    gate = threading.Event()
    real = operations.import_paths

    def gated(project, paths, *, progress=None, **kw):  # type: ignore[no-untyped-def]
        def slow(done, total):  # type: ignore[no-untyped-def]
            gate.wait(10)
            progress(done, total)

        return real(project, paths, progress=slow, **kw)

    monkeypatch.setattr(operations, "import_paths", gated)
    job = window.start_import([folder])
    window.progress_dialog.findChild(QPushButton).click()  # Cancel
    gate.set()
    job = wait_for_job(qtbot, window)
    assert job.outcome == "cancelled"
    assert project.document_count() == 3
    assert "cancelled" in window.statusBar().currentMessage()


def test_an_unreadable_import_is_a_message(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    odd = tmp_path / "data.xyz"
    odd.write_text("what is this", encoding="utf-8")
    window.start_import([odd])
    job = wait_for_job(qtbot, window)
    assert job.outcome == "failed"
    box = window.dialogs["error"]
    assert "data.xyz" in box.text() and "Nothing was imported" in box.text()
    box.close()


def test_export_writes_the_chosen_format_where_asked(
    qtbot, window, driver, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtCore import Qt

    driver.key(window.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # a1 done
    out = tmp_path / "out"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    window.act_export.trigger()
    dialog = window.dialogs["export"]
    assert dialog.format == "native"
    browse = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Choose…")
    browse.click()
    assert dialog.out == out
    dialog.accept()
    job = wait_for_job(qtbot, window)
    assert job.outcome == "succeeded"
    files = list(out.glob("*.jsonl"))
    assert len(files) == 1
    lines = files[0].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["document"]["id"] for line in lines] == ["a1"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    window.dialogs["export_done"].close()


def test_export_everything_and_cancel(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "all"
    job = window.start_export(out, "native", include_all=True)
    wait_for_job(qtbot, window)
    assert job.outcome == "succeeded"
    (file,) = out.glob("*.jsonl")
    assert len(file.read_text(encoding="utf-8").splitlines()) == 3

    gate = threading.Event()
    real = operations.export_project

    def gated(project, out, *, progress=None, **kw):  # type: ignore[no-untyped-def]
        def slow(done, total):  # type: ignore[no-untyped-def]
            gate.wait(10)
            progress(done, total)

        return real(project, out, progress=slow, **kw)

    monkeypatch.setattr(operations, "export_project", gated)
    again = tmp_path / "cancelled"
    job = window.start_export(again, "native", include_all=True)
    window.progress_dialog.findChild(QPushButton).click()
    gate.set()
    wait_for_job(qtbot, window)
    assert job.outcome == "cancelled"
    assert list(again.iterdir()) == []


def test_samples_are_seeded_in_a_worker(qtbot, tmp_path: Path, settings, show_window) -> None:
    from annotator.gui.main_window import MainWindow
    from annotator.store.project import Project

    with Project.open(tmp_path / "empty") as project:
        window = show_window(MainWindow(project, "tester", settings))
        assert window.title_label.text() == "No articles yet"
        window.seed_samples()
        job = wait_for_job(qtbot, window)
        assert job.outcome == "succeeded"
        assert window.doc_list.model.rowCount() == 6
        assert window.current_id() is not None
        assert window.session.annotation.status == Status.NOT_STARTED
        window.close()
