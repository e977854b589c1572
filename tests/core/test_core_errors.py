"""Error types and the translation of pydantic errors into field paths a person can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from annotator.core.errors import AnnotatorError, ConflictError, InputError, ProjectError, RuleError
from annotator.core.model import Annotation, Document, Stance
from annotator.core.validation import describe, field_path, first_problem


def test_rule_error_message_and_field() -> None:
    err = RuleError("entities[2].end", "is past the end")
    assert err.field == "entities[2].end"
    assert err.message == "is past the end"
    assert str(err) == "entities[2].end: is past the end"
    assert isinstance(err, ValueError) and isinstance(err, AnnotatorError)
    assert str(RuleError("", "bad")) == "bad"


def test_rule_error_within() -> None:
    err = RuleError("entity.label", "unknown").within("edits[3]")
    assert err.field == "edits[3].entity.label"
    assert str(err) == "edits[3].entity.label: unknown"
    assert RuleError("", "x").within("line 4").field == "line 4"
    assert RuleError("f", "x").within("").field == "f"


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"path": "a.json", "line": 3, "field": "labels[0].name"}, "a.json:3: labels[0].name: bad"),
        ({"path": Path("a.json")}, "a.json: bad"),
        ({"line": 7}, "line 7: bad"),
        ({"field": "x"}, "x: bad"),
        ({}, "bad"),
    ],
)
def test_input_error_describe(kwargs: dict[str, object], expected: str) -> None:
    err = InputError("bad", **kwargs)  # type: ignore[arg-type]
    assert str(err) == expected
    assert err.describe() == expected
    assert err.message == "bad"


def test_every_user_error_is_an_annotator_error() -> None:
    for cls in (RuleError, InputError, ConflictError, ProjectError):
        assert issubclass(cls, AnnotatorError)


@pytest.mark.parametrize(
    "loc, expected",
    [
        (("entities", 2, "end"), "entities[2].end"),
        (("labels",), "labels"),
        ((0, "name"), "[0].name"),
        (("a", "b", 1, 2), "a.b[1][2]"),
        ((), ""),
    ],
)
def test_field_path(loc: tuple[int | str, ...], expected: str) -> None:
    assert field_path(loc) == expected


def test_first_problem_strips_union_tags_and_value_error_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        Annotation.model_validate({
            "document_id": "d",
            "annotator": "a",
            "stances": [
                {"start": 0, "end": 1, "polarity": "FAVOR"},
                {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "entity", "entity_id": ""}},
            ],
        })
    field, message = first_problem(info.value)
    assert field == "stances[1].target.entity_id"
    assert message


def test_first_problem_messages() -> None:
    with pytest.raises(ValidationError) as info:
        Stance.model_validate({"start": 3, "end": 2, "polarity": "FAVOR"})
    assert first_problem(info.value) == ("", "start (3) must be less than end (2)")
    with pytest.raises(ValidationError) as info:
        Annotation.model_validate({"document_id": "d"})
    assert first_problem(info.value) == ("annotator", "is required")
    with pytest.raises(ValidationError) as info:
        Annotation.model_validate({"document_id": "d", "annotator": "a", "bogus": 1})
    assert first_problem(info.value) == ("bogus", "is not a known field")


def test_describe_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Annotation.model_validate({"document_id": "", "version": -1})
    lines = describe(info.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("document_id: ")
    assert "annotator: is required" in lines
    assert any(line.startswith("version: ") for line in lines)


# Only the tag that pydantic inserts for a discriminated union may be dropped; a real field that happens to
# share a tag's name ("author", "topic") is part of the path.
def test_first_problem_keeps_a_field_named_author() -> None:
    with pytest.raises(ValidationError) as info:
        Document.model_validate({"id": "d", "text": "t", "meta": {"author": 5}})
    assert first_problem(info.value)[0] == "meta.author"


def test_first_problem_keeps_the_topic_field_of_a_topic_ref() -> None:
    with pytest.raises(ValidationError) as info:
        Stance.model_validate(
            {"start": 0, "end": 1, "polarity": "FAVOR", "target": {"kind": "topic", "topic": ""}}
        )
    assert first_problem(info.value)[0] == "target.topic"
