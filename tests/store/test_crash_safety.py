"""Kill the process at random moments: every edit it confirmed is there, the database is intact, the
history replays to the stored annotation, and an import is wholly there or wholly absent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from annotator.core.edits import EditContext, edit_from_json
from annotator.core.model import Annotation, Document
from annotator.formats.base import Record
from annotator.formats.native import write_native
from annotator.store.project import Project

TEXT = "Angela Merkel met Emmanuel Macron in Paris 🇫🇷 and 東京 on Monday.\r\nThey disagreed."

EDITOR = textwrap.dedent(
    """
    import random, sys
    from annotator.core.edits import AddEntity, RemoveEntity, RelabelEntity, SetStatus
    from annotator.core.model import EntitySpan, Status
    from annotator.store.project import Project

    project = Project.open(sys.argv[1])
    session = project.open_session("d1", "ann")
    rng = random.Random(int(sys.argv[2]))
    text = session.document.text
    n = 0
    while True:
        ents = session.annotation.entities
        roll = rng.random()
        if roll < 0.15 and session.can_undo:
            session.undo()
        elif roll < 0.2 and session.can_redo:
            session.redo()
        elif roll < 0.5 and ents:
            e = rng.choice(ents)
            session.apply(RemoveEntity(entity_id=e.id))
        elif roll < 0.6 and ents:
            e = rng.choice(ents)
            session.apply(RelabelEntity(entity_id=e.id, label=rng.choice(["PERSON", "GPE", "MISC"])))
        elif roll < 0.65:
            session.apply(SetStatus(status=rng.choice(list(Status))))
        else:
            start = rng.randrange(len(text) - 1)
            end = rng.randrange(start + 1, min(len(text), start + 8) + 1)
            if any(e.start < end and start < e.end for e in ents):
                continue
            session.apply(AddEntity(entity=EntitySpan(start=start, end=end, label="MISC")))
        n += 1
        # Confirmed: the call returned, so the edit is committed.
        print(session.annotation.version, flush=True)
    """
)


def _replay(project: Project, doc_id: str, annotator: str) -> Annotation:
    """Apply every edit in the history, in order, to an empty annotation."""
    replayed = Annotation(document_id=doc_id, annotator=annotator)
    ctx = EditContext(project.document(doc_id), replayed, project.scheme)
    for _, _, edit_json in project.history(doc_id, annotator):
        edit_from_json(edit_json).apply(ctx)
    return replayed


@pytest.mark.timeout(300)
def test_edits_survive_fifty_kills(tmp_path: Path) -> None:
    location = tmp_path / "p"
    with Project.open(location) as p:
        p.import_records([Record(document=Document(id="d1", text=TEXT))])
    rng = random.Random(1234)
    for round_ in range(50):
        with subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(location), str(round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None and child.stderr is not None
            wanted = rng.randrange(1, 40)
            confirmed = 0
            for line in child.stdout:
                confirmed = int(line)
                wanted -= 1
                if wanted <= 0:
                    break
            # Sometimes kill right after a confirmation, sometimes in the middle of the next edit.
            time.sleep(rng.random() * 0.004)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            assert child.returncode == -signal.SIGKILL, child.stderr.read()
        with Project.open(location) as p:
            with p.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            stored = p.annotation("d1", "ann")
            # Every confirmed edit is there (the version counts saved edits; one more may have landed).
            assert stored.version >= confirmed
            history = p.history("d1", "ann")
            assert [v for v, _, _ in history] == list(range(1, stored.version + 1))
            replayed = _replay(p, "d1", "ann")
            # The same spans; their list order after undo may differ from the stored order.
            assert sorted(replayed.entities, key=lambda e: e.id) == sorted(
                stored.entities, key=lambda e: e.id
            )
            assert replayed.status == stored.status


IMPORTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from annotator.operations import import_paths
    from annotator.store.project import Project

    with Project.open(sys.argv[1]) as project:
        def progress(done, total):
            if done == 1:
                print("started", flush=True)
        import_paths(project, [Path(sys.argv[2])], format="native", progress=progress)
    print("finished", flush=True)
    """
)


@pytest.mark.timeout(300)
def test_an_import_killed_midway_is_wholly_absent(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    records = [
        Record(document=Document(id=f"doc{i}", text=f"Article {i}: " + "words " * 200)) for i in range(3000)
    ]
    with source.open("wb") as fh:
        write_native(records, fh)
    rng = random.Random(7)
    outcomes = set()
    for round_ in range(6):
        location = tmp_path / f"p{round_}"
        Project.open(location).close()
        with subprocess.Popen(
            [sys.executable, "-c", IMPORTER, str(location), str(source)], stdout=subprocess.PIPE, text=True
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "started"
            time.sleep(rng.random() * 0.5)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        with Project.open(location) as p:
            with p.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            count = p.document_count()
        assert count in (0, 3000)
        outcomes.add(count)
    assert 0 in outcomes  # at least one kill really landed in the middle
