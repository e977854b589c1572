"""Figures for one long article: about 2 MB of text, 400,000 tokens and 10,000 entities.

Run: `python tests/benchmarks/big_doc_bench.py [ENTITIES]` (or `pytest tests/benchmarks -m benchmark -s`).
It measures what a person opening and editing such an article waits for: reading its tokens,
loading the annotation (opening a session), and one durable edit of each kind (median and p95), next
to a bare SQLite WAL commit on the same disk.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

WORDS = (
    "the council said on Tuesday that its plan would cut costs while critics warned of delays "
    "and higher fares for families across the region in the coming years"
).split()
LABELS = ("PERSON", "ORG", "GPE", "LOC")
ANNOTATOR = "big"


def _ms(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(1000 * statistics.median(ordered), 3),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
    }


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return _ms(times)


def build(project_dir: Path, n_entities: int, chars: int = 2_000_000, seed: int = 0) -> str:
    """A project holding one long article with its tokens and an annotation of `n_entities` entities
    (and a stance for every hundredth), imported as a file would be; returns the document id."""
    from annotator.core.model import Annotation, Document, EntityRef, EntitySpan, Stance, Status, Token
    from annotator.formats.base import Record
    from annotator.store.project import Project

    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    tokens, start = [], 0
    for word in words:
        tokens.append(Token(start, start + len(word), True))
        start += len(word) + 1
    tokens[-1] = Token(tokens[-1].start, tokens[-1].end, False)
    step = len(tokens) // n_entities
    entities = [
        EntitySpan(
            id=f"e{i}",
            start=tokens[i * step].start,
            end=tokens[i * step].end,
            label=LABELS[i % len(LABELS)],
        )
        for i in range(n_entities)
    ]
    stances = [
        Stance(
            id=f"s{i}",
            start=entities[i].start,
            end=entities[i + 1].end,
            polarity="FAVOR",
            holder=EntityRef(entity_id=entities[i].id),
        )
        for i in range(0, n_entities - 1, 100)
    ]
    doc = Document(id="long", text=text)
    ann = Annotation(
        document_id=doc.id,
        annotator=ANNOTATOR,
        status=Status.IN_PROGRESS,
        version=1,
        entities=entities,
        stances=stances,
    )
    with Project.open(project_dir) as p:
        p.import_records([Record(document=doc, annotations=[ann], tokens=tokens)])
    return doc.id


def measure(project_dir: Path, doc_id: str, n_edits: int = 400) -> dict[str, dict[str, float]]:
    from annotator.core.edits import AddEntity, RelabelEntity, RemoveEntity
    from annotator.core.model import EntitySpan
    from annotator.store.project import Project

    out: dict[str, dict[str, float]] = {}
    with Project.open(project_dir) as p:
        out["tokens"] = _timed(lambda: p.tokens(doc_id), 5)
        out["annotation"] = _timed(lambda: p.annotation(doc_id, ANNOTATOR), 5)
        out["open_session"] = _timed(lambda: p.open_session(doc_id, ANNOTATOR), 5)
        session = p.open_session(doc_id, ANNOTATOR)
        text = session.document.text
        # A gap between two entities far from the end, where a new one fits.
        ents = session.annotation.entities
        middle = len(ents) // 2
        gap_start, gap_end = ents[middle].end + 1, ents[middle + 1].start - 1
        assert gap_end - gap_start >= 2 and gap_end <= len(text), (gap_start, gap_end)

        def run(make: Callable[[int], Any], n: int) -> dict[str, float]:
            times = []
            for i in range(n):
                edit = make(i)
                t = time.perf_counter()
                session.apply(edit)
                times.append(time.perf_counter() - t)
            return _ms(times)

        def add_or_remove(prefix: str) -> Callable[[int], Any]:
            def make(i: int) -> Any:
                if i % 2:
                    return RemoveEntity(entity_id=f"{prefix}{i - 1}")
                span = EntitySpan(id=f"{prefix}{i}", start=gap_start, end=gap_end, label="MISC")
                return AddEntity(entity=span)

            return make

        def relabel(i: int) -> Any:
            return RelabelEntity(entity_id=ents[(i * 97) % len(ents)].id, label=LABELS[i % 3])

        # Add a highlight, take it away again (the common gesture and its correction).
        out["add_then_remove"] = run(add_or_remove("x"), n_edits)
        # Relabel entities all over the article.
        out["relabel"] = run(relabel, n_edits // 2)

        # Remove an entity in the middle of the list, then undo (it goes back to its place).
        def remove_and_undo() -> None:
            victim = ents[middle + 3].id
            session.apply(RemoveEntity(entity_id=victim))
            session.undo()

        pairs = _timed(remove_and_undo, n_edits // 4)
        out["remove_middle_and_undo"] = {k: v / 2 for k, v in pairs.items()}  # per edit
        # The same edits in memory only: the core's share.
        session.sink = None
        out["core_only_add_then_remove"] = run(add_or_remove("y"), n_edits)
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        floor = []
        for i in range(n_edits):
            t = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
            db.execute("COMMIT")
            floor.append(time.perf_counter() - t)
        db.close()
    out["sqlite_commit_floor"] = _ms(floor)
    return out


def run(n_entities: int = 10_000) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        doc_id = build(Path(d) / "proj", n_entities)
        built = time.perf_counter() - t
        figures = measure(Path(d) / "proj", doc_id)
    figures["import_one_article"] = {"seconds": round(built, 3)}
    return figures


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(run(count), indent=2))
