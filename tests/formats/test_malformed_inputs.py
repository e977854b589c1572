"""Malformed files for every importer: a clear error naming the file (and line where there is one),
nothing stored changes, nothing crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.core.errors import AnnotatorError
from annotator.operations import import_paths
from annotator.store.project import Project

GOOD_TEXT = "Margaret Osei met Derek Hollins in Port Alder."
NATIVE_LINE = json.dumps(
    {
        "schema_version": 1,
        "document": {"id": "ok", "text": GOOD_TEXT, "meta": {}},
        "tokens": None,
        "annotator": "a",
        "status": "done",
        "version": 1,
        "created_at": None,
        "updated_at": None,
        "entities": [{"id": "e1", "start": 0, "end": 13, "text": "Margaret Osei", "label": "PERSON"}],
        "stances": [],
        "doc_stances": [],
        "extra": {},
    }
)
PRODIGY_LINE = json.dumps(
    {"text": GOOD_TEXT, "spans": [{"start": 0, "end": 13, "label": "PERSON"}], "answer": "accept"}
)
DOCCANO_LINE = json.dumps({"id": 1, "text": GOOD_TEXT, "label": [[0, 13, "PERSON"]]})


def _line_with(base: str, **changes: object) -> str:
    data = json.loads(base)
    data.update(changes)
    return json.dumps(data)


def _deep(n: int) -> str:
    return '{"text": "x", "meta": ' + "[" * n + "]" * n + "}"


MALFORMED: dict[str, bytes] = {
    "empty": b"",
    "only whitespace": b"\n\n  \n",
    "binary": bytes(range(256)) * 40,
    "invalid utf-8": b'{"text": "caf\xe9"}\n',
    "nul bytes": b'{"text": "a\x00b"\x00}\n',
    "truncated json": b'{"text": "Margaret Osei met", "spans": [{"start": 0, "end"\n',
    "deeply nested": _deep(100_000).encode() + b"\n",
    "pretty printed": b'{\n  "text": "x",\n  "label": []\n}\n',
}

JSONL_SEMANTIC = {
    "native": {
        "offsets out of range": _line_with(
            NATIVE_LINE, entities=[{"id": "e", "start": 0, "end": 999, "label": "X"}]
        ),
        "start after end": _line_with(
            NATIVE_LINE, entities=[{"id": "e", "start": 9, "end": 3, "label": "PERSON"}]
        ),
        "wrong types": _line_with(NATIVE_LINE, entities="many"),
    },
    "prodigy": {
        "offsets out of range": _line_with(PRODIGY_LINE, spans=[{"start": 0, "end": 999, "label": "PERSON"}]),
        "start after end": _line_with(PRODIGY_LINE, spans=[{"start": 9, "end": 3, "label": "PERSON"}]),
        "wrong types": _line_with(PRODIGY_LINE, spans={"start": 0}),
    },
    "doccano": {
        "offsets out of range": _line_with(DOCCANO_LINE, label=[[0, 999, "PERSON"]]),
        "start after end": _line_with(DOCCANO_LINE, label=[[9, 3, "PERSON"]]),
        "wrong types": _line_with(DOCCANO_LINE, label=[["a", "b", 3]]),
    },
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "p")
    (tmp_path / "seed.txt").write_text("Seed article\n\nAlready stored.", encoding="utf-8")
    import_paths(p, [tmp_path / "seed.txt"])
    yield p
    p.close()


def _unchanged_after_error(project: Project, path: Path, fmt: str) -> str:
    before = project.stats(), project.scheme
    with pytest.raises(AnnotatorError) as info:
        import_paths(project, [path], format=fmt)
    assert (project.stats(), project.scheme) == before
    message = str(info.value)
    assert str(path) in message, message
    return message


# Valid UTF-8 is a valid plain-text article, whatever it looks like.
_TEXT_ACCEPTS = {"nul bytes", "deeply nested", "truncated json", "pretty printed"}


@pytest.mark.parametrize(
    ("fmt", "case"),
    [
        (fmt, case)
        for fmt in ("native", "prodigy", "doccano", "conll", "spacy", "text")
        for case in MALFORMED
        if not (fmt == "text" and case in _TEXT_ACCEPTS)
    ],
)
def test_malformed_files_give_a_clear_error_and_change_nothing(
    project: Project, tmp_path: Path, fmt: str, case: str
) -> None:
    path = tmp_path / f"bad-{case.replace(' ', '-')}.data"
    path.write_bytes(MALFORMED[case])
    _unchanged_after_error(project, path, fmt)


@pytest.mark.parametrize(("fmt", "case"), [(f, c) for f, cases in JSONL_SEMANTIC.items() for c in cases])
def test_bad_records_name_the_line_and_change_nothing(
    project: Project, tmp_path: Path, fmt: str, case: str
) -> None:
    good = {"native": NATIVE_LINE, "prodigy": PRODIGY_LINE, "doccano": DOCCANO_LINE}[fmt]
    path = tmp_path / "records.jsonl"
    path.write_text(good + "\n" + JSONL_SEMANTIC[fmt][case] + "\n", encoding="utf-8")
    message = _unchanged_after_error(project, path, fmt)
    assert f"{path}:2" in message, message


@pytest.mark.parametrize("fmt", ["native", "prodigy", "doccano"])
def test_a_bom_and_crlf_line_ends_are_fine(project: Project, tmp_path: Path, fmt: str) -> None:
    good = {"native": NATIVE_LINE, "prodigy": PRODIGY_LINE, "doccano": DOCCANO_LINE}[fmt]
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\r\n")
    report = import_paths(project, [path], format=fmt)
    assert report.documents_added == 1


@pytest.mark.parametrize("fmt", ["native", "prodigy", "doccano"])
def test_a_ten_megabyte_line_imports(project: Project, tmp_path: Path, fmt: str) -> None:
    text = ("Margaret Osei met Derek Hollins in Port Alder. " * 220_000)[:10_000_000]
    good = {"native": NATIVE_LINE, "prodigy": PRODIGY_LINE, "doccano": DOCCANO_LINE}[fmt]
    data = json.loads(good)
    if fmt == "native":
        data["document"]["text"] = text
    else:
        data["text"] = text
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_paths(project, [path], format=fmt)
    assert report.documents_added == 1


def test_unknown_labels_are_refused_with_strict_labels(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(_line_with(PRODIGY_LINE, spans=[{"start": 0, "end": 13, "label": "POLITICIAN"}]) + "\n")
    before = project.stats(), project.scheme
    with pytest.raises(AnnotatorError, match="POLITICIAN"):
        import_paths(project, [path], format="prodigy", strict_labels=True)
    assert (project.stats(), project.scheme) == before


def test_a_folder_with_an_unreadable_file_names_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Good\n\nText.", encoding="utf-8")
    locked = folder / "b.txt"
    locked.write_text("Locked\n\nText.", encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    before = project.stats()
    with pytest.raises(AnnotatorError, match=r"b\.txt"):
        import_paths(project, [folder])
    assert project.stats() == before
    report = import_paths(project, [folder], skip_invalid=True)
    assert report.documents_added == 1 and "b.txt" in str(report.skipped[0])
