"""The command line, driven as a user would: commands, exit codes, messages, nothing changed on error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.cli import main
from annotator.core.edits import AddEntity, AddStance, SetStatus
from annotator.core.model import EntityRef, EntitySpan, Stance, Status
from annotator.resources import samples_dir
from annotator.store.project import Project


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def proj(tmp_path: Path) -> str:
    return str(tmp_path / "proj")


def test_init_creates_a_project_with_the_news_scheme(capsys: pytest.CaptureFixture[str], proj: str) -> None:
    code, out, _ = run(capsys, "--project", proj, "init")
    assert code == 0 and "news" in out
    code, out, _ = run(capsys, "--project", proj, "scheme")
    scheme = json.loads(out)
    assert [lb["name"] for lb in scheme["labels"]][:3] == ["PERSON", "ORG", "GPE"]
    code, _, err = run(capsys, "--project", proj, "init")
    assert code == 1 and "already here" in err


def test_init_with_a_bad_scheme_names_the_file_and_field(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"labels": [{"name": "A", "colour": "red"}]}))
    code, _, err = run(capsys, "--project", proj, "init", "--scheme", str(bad))
    assert code == 1
    assert str(bad) in err and "labels[0].colour" in err
    assert not Path(proj).exists()


def test_import_samples_then_stats(capsys: pytest.CaptureFixture[str], proj: str) -> None:
    code, out, _ = run(capsys, "--project", proj, "import", str(samples_dir()))
    assert code == 0 and "6 documents added" in out
    code, out, _ = run(capsys, "--project", proj, "import", str(samples_dir()))
    assert "0 documents added, 6 already there" in out
    code, out, _ = run(capsys, "--project", proj, "stats", "--json")
    stats = json.loads(out)
    assert stats["documents"] == 6
    assert set(stats["annotations"]) == {"not_started", "in_progress", "done", "skipped"}
    assert stats["entities"] == {} and stats["stances"] == {}


def test_sample_texts_are_stored_byte_for_byte(capsys: pytest.CaptureFixture[str], proj: str) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    with Project.open(proj) as p:
        stored = {p.document(s.id).meta.source: p.document(s.id).text for s in p.summaries("x")}
    for path in sorted(samples_dir().glob("*.txt")):
        assert stored[path.name].encode("utf-8") == path.read_bytes().removeprefix(b"\xef\xbb\xbf")


def test_export_writes_done_by_default_and_all_when_asked(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    with Project.open(proj) as p:
        first = p.summaries("ann")[0].id
        session = p.open_session(first, "ann")
        text = session.document.text
        start = text.index("Margaret Osei")
        person = EntitySpan(start=start, end=start + len("Margaret Osei"), label="PERSON")
        session.apply(AddEntity(entity=person))
        session.apply(
            AddStance(
                stance=Stance(
                    start=start, end=start + 40, polarity="FAVOR", holder=EntityRef(entity_id=person.id)
                )
            )
        )
        session.apply(SetStatus(status=Status.DONE))
    out_file = tmp_path / "out" / "done.jsonl"
    code, out, _ = run(capsys, "--project", proj, "export", str(out_file))
    assert code == 0 and "Exported 1 records" in out
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["annotator"] == "ann" and record["status"] == "done"
    assert record["entities"][0]["label"] == "PERSON"
    everything = tmp_path / "all.jsonl"
    code, out, _ = run(capsys, "--project", proj, "export", str(everything), "--all")
    assert code == 0
    assert len(everything.read_bytes().split(b"\n")) - 1 == 6


def test_native_round_trip_gives_identical_lines(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    with Project.open(proj) as p:
        for i, summary in enumerate(p.summaries("ann")[:3]):
            s = p.open_session(summary.id, "ann")
            s.apply(AddEntity(entity=EntitySpan(start=0, end=5, label="MISC")))
            s.apply(SetStatus(status=[Status.DONE, Status.SKIPPED, Status.IN_PROGRESS][i]))
    first = tmp_path / "first.jsonl"
    run(capsys, "--project", proj, "export", str(first), "--all")
    second_proj = str(tmp_path / "second")
    code, _, err = run(capsys, "--project", second_proj, "import", str(first))
    assert code == 0, err
    second = tmp_path / "second.jsonl"
    run(capsys, "--project", second_proj, "export", str(second), "--all")
    assert first.read_bytes() == second.read_bytes()


def test_export_without_out_writes_into_exports(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run(capsys, "--project", proj, "import", str(samples_dir()))
    code, out, _err = run(capsys, "--project", proj, "export", "--all")
    assert code == 0
    files = list((tmp_path / "exports").glob("annotations-*.jsonl"))
    assert len(files) == 1 and str(files[0].name) in out


def test_bad_import_names_the_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    before = json.loads(run(capsys, "--project", proj, "stats", "--json")[1])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Title\n\nbody \xff\xfe broken")
    code, _, err = run(capsys, "--project", proj, "import", str(bad))
    assert code == 1
    assert str(bad) in err and "UTF-8" in err
    assert "Traceback" not in err
    after = json.loads(run(capsys, "--project", proj, "stats", "--json")[1])
    assert after == before


def test_skip_invalid_imports_the_good_files_and_lists_the_bad(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("A good article\n\nSome text.", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"\xff\xfe\x00broken")
    code, _, err = run(capsys, "--project", proj, "import", str(folder))
    assert code == 1 and "b.txt" in err
    code, out, err = run(capsys, "--project", proj, "import", str(folder), "--skip-invalid")
    assert code == 0 and "1 documents added" in out
    assert "Skipped 1 invalid records" in err and "b.txt" in err


def test_unknown_format_of_a_file_is_said_clearly(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    odd = tmp_path / "data.jsonl"
    odd.write_text('{"hello": 1}\n')
    code, _, err = run(capsys, "--project", proj, "import", str(odd))
    assert code == 1 and "cannot tell the format" in err and "--format" in err


def test_replacing_the_scheme_is_refused_when_a_used_label_goes(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    with Project.open(proj) as p:
        s = p.open_session(p.summaries("ann")[0].id, "ann")
        s.apply(AddEntity(entity=EntitySpan(start=0, end=5, label="PERSON")))
    scheme = json.loads(run(capsys, "--project", proj, "scheme")[1])
    scheme["labels"] = [lb for lb in scheme["labels"] if lb["name"] != "PERSON"]
    new = tmp_path / "scheme.json"
    new.write_text(json.dumps(scheme))
    code, _, err = run(capsys, "--project", proj, "scheme", str(new))
    assert code == 1 and "PERSON" in err
    scheme["labels"].append({"name": "PERSON", "colour": "#123456", "shortcut": "1"})
    scheme["topics"] = ["tram line"]
    new.write_text(json.dumps(scheme))
    code, _out, _ = run(capsys, "--project", proj, "scheme", str(new))
    assert code == 0
    assert json.loads(run(capsys, "--project", proj, "scheme")[1])["topics"] == ["tram line"]


def test_schema_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and "schema_version" in json.dumps(schema)


def test_project_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_PROJECT", str(tmp_path / "envproj"))
    run(capsys, "import", str(samples_dir()))
    assert (tmp_path / "envproj" / "project.annotator").exists()


def test_default_project_is_seeded_with_the_samples(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANNOTATOR_PROJECT", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0 and json.loads(out)["documents"] == 6
    assert (tmp_path / "data" / "annotator" / "default" / "project.annotator").exists()


def test_python_dash_m_works_and_errors_have_no_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, ANNOTATOR_PROJECT=str(tmp_path / "p"))
    result = subprocess.run(
        [sys.executable, "-m", "annotator", "import", str(tmp_path / "missing.txt")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"annotator: error: {tmp_path / 'missing.txt'}: no such file or folder"
    result = subprocess.run([sys.executable, "-m", "annotator", "--help"], capture_output=True, text=True)
    for command in ("gui", "init", "scheme", "import", "export", "stats", "schema"):
        assert command in result.stdout


def test_importing_annotator_loads_neither_spacy_nor_qt() -> None:
    code = (
        "import annotator, annotator.cli, sys, json; "
        "print(json.dumps(sorted(m for m in ('spacy', 'PySide6') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_split_writes_train_and_dev_with_whole_documents(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    run(capsys, "--project", proj, "import", str(samples_dir()))
    code, _out, _ = run(
        capsys,
        "--project",
        proj,
        "export",
        str(tmp_path / "data.jsonl"),
        "--all",
        "--split",
        "0.5",
        "--seed",
        "3",
    )
    assert code == 0
    train, dev = tmp_path / "data-train.jsonl", tmp_path / "data-dev.jsonl"
    train_ids = [json.loads(line)["document"]["id"] for line in train.read_text("utf-8").splitlines()]
    dev_ids = [json.loads(line)["document"]["id"] for line in dev.read_text("utf-8").splitlines()]
    assert len(train_ids) == 3 and len(dev_ids) == 3
    assert not set(train_ids) & set(dev_ids)
    again = tmp_path / "again"
    run(
        capsys,
        "--project",
        proj,
        "export",
        str(again / "data.jsonl"),
        "--all",
        "--split",
        "0.5",
        "--seed",
        "3",
    )
    assert (again / "data-train.jsonl").read_bytes() == train.read_bytes()
    code, _, err = run(capsys, "--project", proj, "export", str(tmp_path / "x.jsonl"), "--split", "1.5")
    assert code == 1 and "--split" in err


def test_a_bare_annotator_opens_the_gui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []
    import annotator.gui.app as app

    monkeypatch.setattr(
        app, "run", lambda location, seed, annotator: calls.append((location, seed, annotator)) or 0
    )
    monkeypatch.setenv("ANNOTATOR_PROJECT", str(tmp_path / "p"))
    assert main([]) == 0
    assert calls == [(str(tmp_path / "p"), False, None)]


def test_annotator_option_merges_one_texts_prodigy_records(
    capsys: pytest.CaptureFixture[str], proj: str, tmp_path: Path
) -> None:
    text = "Margaret Osei met Derek Hollins."
    lines = [
        {
            "text": text,
            "spans": [{"start": 0, "end": 13, "label": "PERSON"}],
            "answer": "accept",
            "_annotator_id": "news-alice",
            "_view_id": "ner_manual",
        },
        {
            "text": text,
            "spans": [{"start": 18, "end": 31, "label": "PERSON"}],
            "answer": "accept",
            "_annotator_id": "news-bob",
            "_view_id": "ner_manual",
        },
    ]
    source = tmp_path / "two.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code, _, err = run(capsys, "--project", proj, "import", str(source), "--annotator", "lead")
    assert code == 0, err
    with Project.open(proj) as p:
        doc_id = p.summaries("lead")[0].id
        spans = sorted((e.start, e.end) for e in p.annotation(doc_id, "lead").entities)
    assert spans == [(0, 13), (18, 31)]  # both records kept, not the first only
