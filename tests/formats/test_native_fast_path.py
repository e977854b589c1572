"""The native reader checks ordinary lines the quick way (tokens a column at a time, spans straight
into the core models) and hands anything else to full validation: both give the same result for
every line, good or bad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import annotator.formats.native as native
from annotator.core.errors import InputError
from annotator.formats.base import Record

TEXT = "Zoë met 佐藤 in Paris.\r\nNext\u2028line."
PATH = Path("in.jsonl")

INTS = st.one_of(st.integers(-2, len(TEXT) + 2), st.just(10**30), st.booleans(), st.just(1.0), st.just("3"))
TOKEN = st.one_of(
    st.tuples(INTS, INTS, st.one_of(st.booleans(), st.just(1), st.just("true"), st.none())).map(list),
    st.lists(st.integers(0, 5), max_size=4),
    st.just({"start": 0}),
    st.just("x"),
)


ODD_WS = st.sampled_from([1, 0, "true", "no", None, 1.0])
ODD_OFFSET = st.sampled_from([True, 1.0, "2", None])


@st.composite
def ordered_tokens(draw: st.DrawFn) -> list[list[Any]]:
    """Tokens in order inside the text, now and then with a value of another type (which full
    validation may accept, turned into an int or a bool, or refuse)."""
    cuts = sorted(draw(st.sets(st.integers(0, len(TEXT)), max_size=12)))
    tokens = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        odd = draw(st.integers(0, 19))
        ws = draw(ODD_WS) if odd == 0 else draw(st.booleans())
        tokens.append([draw(ODD_OFFSET) if odd == 1 else a, draw(ODD_OFFSET) if odd == 2 else b, ws])
    return tokens


TOKENS = st.one_of(st.none(), ordered_tokens(), st.lists(TOKEN, max_size=5), st.just("tokens"), st.just({}))


@st.composite
def span(draw: st.DrawFn, kind: str, i: int) -> Any:
    start = draw(st.integers(0, len(TEXT) - 1))
    end = draw(st.integers(start, len(TEXT) + 1))
    item: dict[str, Any] = {"id": f"{kind}{i}", "start": start, "end": end}
    if kind == "e":
        item["label"] = draw(st.sampled_from(["PERSON", "", "GPE"]))
        if draw(st.booleans()):
            item["source"] = draw(st.sampled_from([{"kind": "suggested", "name": "m"}, {"kind": "nope"}]))
        if draw(st.booleans()):
            item["extra"] = draw(st.sampled_from([{}, {"a": [1, None]}, []]))
    else:
        item["polarity"] = draw(st.sampled_from(["FAVOR", ""]))
        holders = [{"kind": "author"}, {"kind": "entity", "entity_id": "e0"}, {"kind": "x"}]
        item["holder"] = draw(st.sampled_from(holders))
    text = draw(st.sampled_from(["right", "wrong", "none", "absent", "number"]))
    if text == "right":
        item["text"] = TEXT[start:end]
    elif text == "wrong":
        item["text"] = "zz"
    elif text == "none":
        item["text"] = None
    elif text == "number":
        item["text"] = 5
    if draw(st.integers(0, 9)) == 0:
        item["bogus"] = 1
    if draw(st.integers(0, 9)) == 0:
        del item["start"]
    return item


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    line: dict[str, Any] = {"schema_version": 1, "document": {"id": "d", "text": TEXT}}
    if draw(st.integers(0, 9)) == 0:
        line["document"] = draw(st.sampled_from([{"id": "d"}, {"id": "d", "text": 3}, "doc"]))
    tokens = draw(TOKENS)
    if tokens is not None or draw(st.booleans()):
        line["tokens"] = tokens
    line["annotator"] = draw(st.sampled_from(["anna", None, ""]))
    for key, kind in (("entities", "e"), ("stances", "s")):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            line[key] = draw(st.sampled_from([None, "x", [3], {}]))
        elif choice < 8:
            line[key] = [draw(span(kind, i)) for i in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        line["status"] = draw(st.sampled_from(["done", "finished"]))
    if draw(st.integers(0, 5)) == 0:
        line["extra"] = draw(st.sampled_from([{}, [], {"k": 1}]))
    return line


def outcome(item: Any) -> Any:
    if isinstance(item, InputError):
        return ("error", str(item), item.field, item.line)
    assert isinstance(item, Record)
    return (
        item.document,
        item.tokens,
        [(type(t), *map(type, t)) for t in item.tokens or []],
        [a.model_dump() for a in item.annotations],
        [[(type(e), e.model_fields_set) for e in a.entities + a.stances] for a in item.annotations],
        item.path,
        item.line,
    )


def both_ways(line: dict[str, Any]) -> tuple[Any, Any]:
    quick = outcome(native._record(line, PATH, 7))
    original = native._plain_line
    native._plain_line = lambda data: None  # type: ignore[assignment]
    try:
        full = outcome(native._record(line, PATH, 7))
    finally:
        native._plain_line = original
    return quick, full


@settings(max_examples=600, deadline=None)
@given(lines())
def test_the_quick_way_and_full_validation_agree(line: dict[str, Any]) -> None:
    quick, full = both_ways(line)
    assert quick == full


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["e", "s"]).flatmap(lambda kind: st.tuples(st.just(kind), span(kind, 0))))
def test_a_span_the_quick_way_and_full_validation_agree(kind_and_span: tuple[str, Any]) -> None:
    kind, item = kind_and_span
    key = "entities" if kind == "e" else "stances"
    line = {"schema_version": 1, "document": {"id": "d", "text": TEXT}, "annotator": "anna", key: [item]}
    quick, full = both_ways(line)
    assert quick == full


@settings(max_examples=400, deadline=None)
@given(TOKENS)
def test_tokens_the_quick_way_and_full_validation_agree(tokens: Any) -> None:
    quick, full = both_ways({"schema_version": 1, "document": {"id": "d", "text": TEXT}, "tokens": tokens})
    assert quick == full


def test_ordinary_lines_take_the_quick_way(monkeypatch: pytest.MonkeyPatch) -> None:
    line = {
        "schema_version": 1,
        "document": {"id": "d", "text": TEXT},
        "tokens": [[0, 3, True], [4, 7, False]],
        "annotator": "anna",
        "entities": [{"id": "e", "start": 0, "end": 3, "text": "Zoë", "label": "PERSON"}],
    }
    original = native._plain_line
    calls = []

    def spy(data: dict[str, Any]) -> Any:
        calls.append(result := original(data))
        return result

    monkeypatch.setattr(native, "_plain_line", spy)
    record = native._record(line, PATH, 1)
    assert isinstance(record, Record) and calls and calls[0] is not None
    assert line["entities"][0]["text"] == "Zoë"  # the caller's data is left as it was
