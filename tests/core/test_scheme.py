"""Label schemes: the bundled news scheme, and every way a scheme file can be wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from annotator.core.errors import InputError
from annotator.core.scheme import (
    DEFAULT_POLARITIES,
    EntityLabel,
    LabelScheme,
    Polarity,
    default_scheme,
    load_scheme,
    parse_scheme,
)
from annotator.resources import default_scheme_path


def _valid() -> dict[str, Any]:
    return {
        "name": "test",
        "language": "en",
        "labels": [
            {"name": "PERSON", "colour": "#1f77b4", "shortcut": "1"},
            {"name": "ORG", "colour": "#ff7f0e", "shortcut": "2"},
        ],
        "polarities": [
            {"name": "FAVOR", "colour": "#2ca02c", "shortcut": "f"},
            {"name": "AGAINST", "colour": "#d62728", "shortcut": "a"},
        ],
        "topics": ["economy"],
    }


def _write(tmp_path: Path, data: dict[str, Any] | str, name: str = "scheme.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# -- the bundled scheme ---------------------------------------------------------------------------


def test_default_scheme_loads_from_resources() -> None:
    assert default_scheme_path().is_file()
    scheme = default_scheme()
    assert scheme.name == "news"
    assert scheme.language == "en"
    assert scheme.allow_overlap is False


@pytest.mark.parametrize("name, shortcut", [("PERSON", "1"), ("ORG", "2"), ("GPE", "3")])
def test_default_scheme_shortcuts(name: str, shortcut: str) -> None:
    assert default_scheme().label(name).shortcut == shortcut


def test_default_scheme_has_news_labels_and_polarities() -> None:
    scheme = default_scheme()
    for name in ("PERSON", "ORG", "GPE", "NORP", "EVENT", "DATE"):
        assert name in scheme.label_names
    assert set(scheme.polarity_names) >= {"FAVOR", "AGAINST", "NEUTRAL"}


def test_default_scheme_round_trips_through_its_json() -> None:
    scheme = default_scheme()
    assert parse_scheme(scheme.to_json()) == scheme


def test_colours_are_normalised_to_lower_case() -> None:
    data = _valid()
    data["labels"][0]["colour"] = "#1F77B4"
    assert parse_scheme(json.dumps(data)).label("PERSON").colour == "#1f77b4"


def test_lookups_raise_key_error_for_unknown_names() -> None:
    scheme = parse_scheme(json.dumps(_valid()))
    with pytest.raises(KeyError):
        scheme.label("NOPE")
    with pytest.raises(KeyError):
        scheme.polarity("NOPE")


def test_polarities_default_when_missing() -> None:
    data = _valid()
    del data["polarities"]
    assert parse_scheme(json.dumps(data)).polarities == DEFAULT_POLARITIES


def test_scheme_is_frozen() -> None:
    scheme = parse_scheme(json.dumps(_valid()))
    with pytest.raises(ValidationError):
        scheme.allow_overlap = True  # type: ignore[misc]


# -- bad files ------------------------------------------------------------------------------------


def _labels(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["labels"]


BAD: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("missing labels", lambda d: d.pop("labels"), "labels"),
    ("empty labels", lambda d: d.update(labels=[]), "labels"),
    ("duplicate label", lambda d: _labels(d).append({"name": "PERSON"}), "labels[2]"),
    ("duplicate polarity", lambda d: d["polarities"].append({"name": "FAVOR"}), "polarities[2]"),
    ("duplicate topic", lambda d: d["topics"].append("economy"), "topics[1]"),
    ("shortcut twice among labels", lambda d: _labels(d)[1].update(shortcut="1"), "labels[1].shortcut"),
    ("shortcut of a label reused by a polarity", lambda d: d["polarities"][0].update(shortcut="1"),
     "polarities[0].shortcut"),
    ("shortcut clash ignores case", lambda d: d["polarities"][1].update(shortcut="F"),
     "polarities[1].shortcut"),
    ("shortcut of two keys", lambda d: _labels(d)[0].update(shortcut="ab"), "labels[0].shortcut"),
    ("bad colour word", lambda d: _labels(d)[1].update(colour="red"), "labels[1].colour"),
    ("short colour", lambda d: _labels(d)[0].update(colour="#fff"), "labels[0].colour"),
    ("colour not hex", lambda d: d["polarities"][0].update(colour="#gggggg"), "polarities[0].colour"),
    ("label with a space", lambda d: _labels(d)[1].update(name="BAD LABEL"), "labels[1].name"),
    ("label with a tab", lambda d: _labels(d)[1].update(name="BAD\tLABEL"), "labels[1].name"),
    ("empty label name", lambda d: _labels(d)[0].update(name=""), "labels[0].name"),
    ("label name too long", lambda d: _labels(d)[0].update(name="X" * 65), "labels[0].name"),
    ("polarity with a space", lambda d: d["polarities"][0].update(name="IN FAVOUR"), "polarities[0].name"),
    ("unknown top-level key", lambda d: d.update(colours={}), "colours"),
    ("unknown label key", lambda d: _labels(d)[0].update(hotkey="1"), "labels[0].hotkey"),
    ("label without a name", lambda d: _labels(d)[0].pop("name"), "labels[0].name"),
    ("labels not a list", lambda d: d.update(labels="PERSON"), "labels"),
    ("language too short", lambda d: d.update(language="e"), "language"),
    ("allow_overlap not a bool", lambda d: d.update(allow_overlap="sometimes"), "allow_overlap"),
]


@pytest.mark.parametrize("what, change, field", BAD, ids=[b[0] for b in BAD])
def test_bad_scheme_file_names_file_and_field(
    tmp_path: Path, what: str, change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    data = _valid()
    change(data)
    path = _write(tmp_path, data, "my-scheme.json")
    with pytest.raises(InputError) as info:
        load_scheme(path)
    message = str(info.value)
    assert str(path) in message
    assert info.value.path == str(path)
    assert field in message, message


# Errors found by the scheme-wide check (duplicates, shortcut clashes) are as exact as per-field ones:
# the field is known, so callers that show `InputError.field` separately must get it.
@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: _labels(d).append({"name": "PERSON"}), "labels[2]"),
        (lambda d: d["polarities"][0].update(shortcut="1"), "polarities[0].shortcut"),
    ],
    ids=["duplicate label", "duplicate shortcut"],
)
def test_scheme_wide_errors_set_the_field_attribute(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    data = _valid()
    change(data)
    with pytest.raises(InputError) as info:
        load_scheme(_write(tmp_path, data))
    assert info.value.field == field


@pytest.mark.parametrize(
    "change",
    [
        lambda d: _labels(d)[0].update(name="PERSON\n"),
        lambda d: d["polarities"][0].update(name="FAVOR\n"),
    ],
    ids=["label", "polarity"],
)
def test_name_with_trailing_newline_is_refused(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any]
) -> None:
    # A newline is whitespace: "PERSON\n" would be a second, invisible PERSON label.
    data = _valid()
    change(data)
    with pytest.raises(InputError):
        load_scheme(_write(tmp_path, data))


def test_colour_with_trailing_newline_is_refused(tmp_path: Path) -> None:
    data = _valid()
    data["labels"][0]["colour"] = "#1f77b4\n"
    with pytest.raises(InputError) as info:
        load_scheme(_write(tmp_path, data))
    assert "labels[0].colour" in str(info.value)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "name": "x",\n  "labels": [\n}\n', "broken.json")
    with pytest.raises(InputError) as info:
        load_scheme(path)
    message = str(info.value)
    assert str(path) in message
    assert "not valid JSON" in message
    assert info.value.line == 4
    assert f"{path}:4" in message


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(InputError) as info:
        load_scheme(path)
    assert str(path) in str(info.value)


def test_json_that_is_not_an_object_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "[1, 2]")
    with pytest.raises(InputError) as info:
        load_scheme(path)
    assert str(path) in str(info.value)


def test_parse_scheme_names_its_source() -> None:
    with pytest.raises(InputError) as info:
        parse_scheme("{}", source="project settings")
    assert str(info.value).startswith("project settings: labels")


def test_valid_file_loads(tmp_path: Path) -> None:
    scheme = load_scheme(_write(tmp_path, _valid()))
    assert scheme.label_names == ("PERSON", "ORG")
    assert scheme.polarity_names == ("FAVOR", "AGAINST")
    assert scheme.topics == ("economy",)


def test_shortcuts_may_be_absent_on_many_labels() -> None:
    data = _valid()
    for item in data["labels"] + data["polarities"]:
        item.pop("shortcut")
    assert parse_scheme(json.dumps(data)).label("ORG").shortcut is None


# -- adding labels, topics and polarities -----------------------------------------------------------


def test_with_labels_adds_new_and_keeps_existing() -> None:
    scheme = default_scheme()
    grown = scheme.with_labels(["PERSON", "WORK_OF_ART", "LAW", "WORK_OF_ART"])
    assert grown.labels[: len(scheme.labels)] == scheme.labels
    assert grown.label_names == (*scheme.label_names, "WORK_OF_ART", "LAW")
    new = grown.label("WORK_OF_ART")
    assert new.shortcut is None
    assert new.colour.startswith("#") and len(new.colour) == 7
    assert grown.label("LAW").colour != new.colour
    # the original is untouched
    assert "LAW" not in scheme.label_names


def test_with_labels_result_is_still_a_valid_scheme() -> None:
    grown = default_scheme().with_labels(["WORK_OF_ART", "LAW"])
    assert LabelScheme.model_validate(grown.model_dump()) == grown


def test_with_labels_refuses_a_bad_name() -> None:
    with pytest.raises(ValidationError):
        default_scheme().with_labels(["HAS SPACE"])


def test_with_topics_adds_new_and_keeps_existing_in_order() -> None:
    scheme = parse_scheme(json.dumps(_valid()))
    grown = scheme.with_topics(["tariffs", "economy", "tariffs", "housing"])
    assert grown.topics == ("economy", "tariffs", "housing")
    assert scheme.topics == ("economy",)


def test_with_polarities_adds_new_and_keeps_existing() -> None:
    scheme = default_scheme()
    grown = scheme.with_polarities(["FAVOR", "MIXED", "MIXED"])
    assert grown.polarities[: len(scheme.polarities)] == scheme.polarities
    assert grown.polarity_names == (*scheme.polarity_names, "MIXED")
    assert grown.polarity("MIXED").shortcut is None
    assert "MIXED" not in scheme.polarity_names


def test_model_copy_can_allow_overlap() -> None:
    scheme = default_scheme()
    overlapping = scheme.model_copy(update={"allow_overlap": True})
    assert overlapping.allow_overlap is True
    assert overlapping.labels == scheme.labels


def test_label_and_polarity_models_forbid_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        EntityLabel(name="X", hotkey="1")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Polarity(name="X", weight=1)  # type: ignore[call-arg]
