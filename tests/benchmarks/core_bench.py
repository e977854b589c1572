"""Figures for the core: import and export of many generated articles, and one durable edit.

Run: `python tests/benchmarks/core_bench.py [N]` (or `pytest tests/benchmarks -m benchmark -s`).
Each step runs in its own process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "the council said on Tuesday that its plan would cut costs while critics warned of delays "
    "and higher fares for families across the region in the coming years"
).split()
NAMES = [
    "Margaret Osei",
    "Derek Hollins",
    "José Álvarez",
    "佐藤 由紀",
    "Port Alder",
    "Valdoria",
    "Kesten",
    "Northmoor University",
    "Zoë Hartigan",
    "the Business Alliance",
]
LABELS = ["PERSON", "PERSON", "PERSON", "PERSON", "GPE", "GPE", "GPE", "ORG", "PERSON", "ORG"]


def generate(path: Path, n: int, seed: int = 0) -> None:
    """A native JSONL file of n articles, each about 2 KB with 20 entities, 2 stances and tokens."""
    from annotator.core.model import Annotation, Document, DocumentMeta, EntitySpan, Stance, Status, Token
    from annotator.formats.base import Record
    from annotator.formats.native import write_native

    rng = random.Random(seed)

    def records():  # type: ignore[no-untyped-def]
        for i in range(n):
            parts: list[str] = []
            spans: list[tuple[int, int, str]] = []
            pos = 0
            while pos < 2000:
                if len(spans) < 20 and rng.random() < 0.12:
                    k = rng.randrange(len(NAMES))
                    piece = NAMES[k]
                    spans.append((pos, pos + len(piece), LABELS[k]))
                else:
                    piece = rng.choice(WORDS)
                parts.append(piece)
                pos += len(piece) + 1
            text = " ".join(parts) + "."
            tokens, start = [], 0
            for word in text.split(" "):
                tokens.append(Token(start, start + len(word), True))
                start += len(word) + 1
            ents = [EntitySpan(id=f"e{j}", start=s, end=e, label=lb) for j, (s, e, lb) in enumerate(spans)]
            stances = [
                Stance(
                    id=f"s{j}",
                    start=spans[j][0],
                    end=min(len(text), spans[j][1] + 40),
                    polarity="FAVOR" if j else "AGAINST",
                )
                for j in range(min(2, len(spans)))
            ]
            doc = Document(id=f"doc{i:06}", text=text, meta=DocumentMeta(title=f"Article {i}"))
            ann = Annotation(
                document_id=doc.id,
                annotator="bench",
                status=Status.DONE,
                version=1,
                entities=ents,
                stances=stances,
            )
            yield Record(document=doc, annotations=[ann], tokens=tokens)

    with path.open("wb") as fh:
        write_native(records(), fh)


def step_orjson(source: str) -> dict[str, float]:
    """The floor: parse the same lines with orjson, and serialise the parsed records again."""
    import orjson

    with open(source, "rb") as fh:
        lines = fh.read().split(b"\n")
    t = time.perf_counter()
    records = [orjson.loads(line) for line in lines if line]
    parse = time.perf_counter() - t
    t = time.perf_counter()
    size = sum(len(orjson.dumps(r)) + 1 for r in records)
    dump = time.perf_counter() - t
    return {"parse_s": parse, "dump_s": dump, "mb": size / 1e6}


def _peak_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec, so a child of a
    # big pytest process would report the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_import(project: str, source: str, fmt: str = "native") -> dict[str, float]:
    from annotator.operations import import_paths
    from annotator.store.project import Project

    with Project.open(project) as p:
        t = time.perf_counter()
        import_paths(p, [Path(source)], format=fmt)
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_mb": _peak_mb()}


def step_export(project: str, out: str, fmt: str = "native") -> dict[str, float]:
    from annotator.operations import export_project
    from annotator.store.project import Project

    with Project.open(project) as p:
        t = time.perf_counter()
        report = export_project(p, Path(out), format=fmt)
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_mb": _peak_mb(), "records": report.records}


def step_edit(project: str, n: int = 500) -> dict[str, float]:
    from annotator.core.edits import AddEntity, RemoveEntity
    from annotator.core.model import EntitySpan
    from annotator.store.project import Project

    with Project.open(project) as p:
        doc_id = p.summaries("bench")[0].id
        session = p.open_session(doc_id, "editor")
        times = []
        for i in range(n):
            edit = (
                AddEntity(entity=EntitySpan(id=f"x{i}", start=0, end=3, label="MISC"))
                if i % 2 == 0
                else RemoveEntity(entity_id=f"x{i - 1}")
            )
            t = time.perf_counter()
            session.apply(edit)
            times.append(time.perf_counter() - t)
    # The floor: a bare SQLite commit of one small row, same file system, WAL and synchronous=FULL.
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        floor = []
        for i in range(n):
            t = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
            db.execute("COMMIT")
            floor.append(time.perf_counter() - t)
        db.close()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": sorted(times)[int(n * 0.95)] * 1000,
        "floor_median_ms": statistics.median(floor) * 1000,
    }


def _child(step: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--step", step, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n: int, edits: bool = True, prodigy_import: bool = True) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as d:
        source = Path(d) / "articles.jsonl"
        generate(source, n)
        mb = source.stat().st_size / 1e6
        project = str(Path(d) / "proj")
        floor = _child("orjson", str(source))
        imp = _child("import", project, str(source))
        exp = _child("export", project, str(Path(d) / "out.jsonl"))
        edit = _child("edit", project) if edits else {}
        prodigy_out = Path(d) / "out-prodigy.jsonl"
        exp_prodigy = _child("export", project, str(prodigy_out), "prodigy")
        prodigy_mb = prodigy_out.stat().st_size / 1e6
        exp_prodigy["mb_per_s"] = prodigy_mb / exp_prodigy["seconds"]
        exp_prodigy["file_mb"] = prodigy_mb
        imp_prodigy: dict[str, float] = {}
        if prodigy_import:
            imp_prodigy = _child("import", str(Path(d) / "proj-prodigy"), str(prodigy_out), "prodigy")
            imp_prodigy["mb_per_s"] = prodigy_mb / imp_prodigy["seconds"]
    imp["mb_per_s"] = mb / imp["seconds"]
    exp["mb_per_s"] = mb / exp["seconds"]
    floor["parse_mb_per_s"] = mb / floor["parse_s"]
    floor["dump_mb_per_s"] = mb / floor["dump_s"]
    return {
        "file_mb": {"value": mb},
        "orjson": floor,
        "import": imp,
        "export": exp,
        "edit": edit,
        "export_prodigy": exp_prodigy,
        "import_prodigy": imp_prodigy,
    }


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        step, args = sys.argv[2], sys.argv[3:]
        steps = {"import": step_import, "export": step_export, "edit": step_edit, "orjson": step_orjson}
        result = steps[step](*args)
        print(json.dumps(result))
    else:
        count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
        print(json.dumps(run(count), indent=2))
