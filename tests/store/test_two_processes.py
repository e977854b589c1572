"""Two processes on one project file, editing at the same time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from annotator.core.model import Document
from annotator.formats.base import Record
from annotator.store.project import Project

WORKER = textwrap.dedent(
    """
    import sys
    from annotator.core.edits import AddEntity
    from annotator.core.errors import ConflictError
    from annotator.core.model import EntitySpan
    from annotator.store.project import Project

    location, annotator, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Project.open(location) as project:
        session = project.open_session("d1", annotator)
        saved = conflicts = 0
        for i in range(60):
            start = offset + i * 2
            try:
                session.apply(AddEntity(entity=EntitySpan(start=start, end=start + 1, label="MISC")))
                saved += 1
            except ConflictError as exc:
                conflicts += 1
                print("conflict:", exc, file=sys.stderr)
                session = project.open_session("d1", annotator)  # reopen, as the window offers
        print(saved, conflicts)
    """
)


def _run_pair(location: Path, first: tuple[str, int], second: tuple[str, int]) -> list[tuple[int, int, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(location), name, str(offset)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, offset in (first, second)
    ]
    outputs = []
    for proc in procs:
        with proc:
            outputs.append((proc.returncode, *proc.communicate(timeout=120)))
    results = []
    for _, out, err in outputs:
        assert out, err
        saved, conflicts = map(int, out.split())
        results.append((saved, conflicts, err))
    return results


def _project(tmp_path: Path) -> Path:
    location = tmp_path / "p"
    with Project.open(location) as p:
        p.import_records([Record(document=Document(id="d1", text="x" * 400))])
    return location


def test_different_annotators_both_keep_all_their_work(tmp_path: Path) -> None:
    location = _project(tmp_path)
    results = _run_pair(location, ("alice", 0), ("bob", 1))
    assert [(saved, conflicts) for saved, conflicts, _ in results] == [(60, 0), (60, 0)]
    with Project.open(location) as p:
        assert len(p.annotation("d1", "alice").entities) == 60
        assert len(p.annotation("d1", "bob").entities) == 60


def test_same_annotator_in_two_processes_gets_conflicts_never_a_silent_overwrite(tmp_path: Path) -> None:
    location = _project(tmp_path)
    results = _run_pair(location, ("ann", 0), ("ann", 1))
    saved_total = sum(saved for saved, _, _ in results)
    with Project.open(location) as p:
        stored = p.annotation("d1", "ann")
        # Every edit a process was told was saved is stored: nothing was overwritten.
        assert len(stored.entities) == saved_total
        assert stored.version == saved_total
    for saved, conflicts, err in results:
        assert saved + conflicts == 60
        if conflicts:
            assert "changed in another window or process" in err
