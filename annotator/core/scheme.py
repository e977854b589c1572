"""Label schemes: the entity labels, stance polarities and topics a project annotates with.

A scheme is data (JSON), validated by pydantic; `load_scheme` turns any problem into a message that
names the file and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from annotator.core.errors import InputError
from annotator.core.validation import first_problem

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_NAME = re.compile(r"[^\s]+")

# Colours handed to labels that an import brings and the scheme lacks: distinct, readable on white
# and on a dark background.
PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#469990",
    "#808000",
    "#000075",
    "#bfef45",
    "#fabed4",
    "#dcbeff",
    "#ffd8b1",
    "#aaffc3",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(v: str) -> str:
    if not _NAME.fullmatch(v):
        raise ValueError(f"name {v!r} must not be empty or contain spaces")
    return v


def _check_colour(v: str) -> str:
    if not _COLOUR.fullmatch(v):
        raise ValueError(f"colour {v!r} must look like #1f77b4")
    return v.lower()


def _check_shortcut(v: str | None) -> str | None:
    if v is not None and len(v) != 1:
        raise ValueError(f"shortcut {v!r} must be a single key")
    return v


def _check_topic(v: str) -> str:
    if not v.strip():
        raise ValueError("a topic must not be blank")
    return v


Topic = Annotated[str, AfterValidator(_check_topic)]
Name = Annotated[str, Field(max_length=64), AfterValidator(_check_name)]
Colour = Annotated[str, AfterValidator(_check_colour)]
Shortcut = Annotated[str | None, AfterValidator(_check_shortcut)]


class EntityLabel(_Strict):
    name: Name
    colour: Colour = "#888888"
    shortcut: Shortcut = None
    description: str = ""


class Polarity(_Strict):
    name: Name
    colour: Colour = "#888888"
    shortcut: Shortcut = None
    description: str = ""


DEFAULT_POLARITIES = (
    Polarity(name="FAVOR", colour="#2ca02c", shortcut="f", description="The holder supports the target."),
    Polarity(name="AGAINST", colour="#d62728", shortcut="a", description="The holder opposes the target."),
    Polarity(name="NEUTRAL", colour="#7f7f7f", shortcut="n", description="Neither for nor against."),
)


class LabelScheme(_Strict):
    """What a project annotates with. Shortcuts must be unique across labels and polarities."""

    name: str = "custom"
    language: str = Field(default="en", min_length=2, max_length=16)
    allow_overlap: bool = False
    labels: tuple[EntityLabel, ...] = Field(min_length=1)
    polarities: tuple[Polarity, ...] = DEFAULT_POLARITIES
    topics: tuple[Topic, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> LabelScheme:
        _no_duplicates([lb.name for lb in self.labels], "labels", "label")
        _no_duplicates([p.name for p in self.polarities], "polarities", "polarity")
        _no_duplicates(list(self.topics), "topics", "topic")
        keys: dict[str, str] = {}
        groups: tuple[tuple[str, tuple[EntityLabel | Polarity, ...]], ...] = (
            ("labels", self.labels),
            ("polarities", self.polarities),
        )
        for kind, items in groups:
            for i, item in enumerate(items):
                if item.shortcut is None:
                    continue
                key = item.shortcut.lower()
                if key in keys:
                    raise ValueError(
                        f"{kind}[{i}].shortcut: key {item.shortcut!r} of {item.name} is already "
                        f"the shortcut of {keys[key]}"
                    )
                keys[key] = item.name
        return self

    # -- lookups ---------------------------------------------------------------------------------
    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(lb.name for lb in self.labels)

    @property
    def polarity_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.polarities)

    def label(self, name: str) -> EntityLabel:
        for lb in self.labels:
            if lb.name == name:
                return lb
        raise KeyError(name)

    def polarity(self, name: str) -> Polarity:
        for p in self.polarities:
            if p.name == name:
                return p
        raise KeyError(name)

    # -- changes -----------------------------------------------------------------------------------
    def with_labels(self, names: list[str]) -> LabelScheme:
        """This scheme plus the given entity labels (new ones get a palette colour, no shortcut)."""
        known = set(self.label_names)
        added = list(self.labels)
        for name in names:
            if name in known:
                continue
            known.add(name)
            added.append(EntityLabel(name=name, colour=PALETTE[len(added) % len(PALETTE)]))
        return self.model_copy(update={"labels": tuple(added)})

    def with_topics(self, topics: list[str]) -> LabelScheme:
        new = list(self.topics) + [t for t in topics if t not in self.topics and t.strip()]
        return self.model_copy(update={"topics": tuple(dict.fromkeys(new))})

    def with_polarities(self, names: list[str]) -> LabelScheme:
        known = set(self.polarity_names)
        added = list(self.polarities)
        for name in names:
            if name not in known:
                known.add(name)
                added.append(Polarity(name=name, colour=PALETTE[len(added) % len(PALETTE)]))
        return self.model_copy(update={"polarities": tuple(added)})

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def _no_duplicates(names: list[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{field}[{i}]: {what} {name!r} appears twice")
        seen.add(name)


def parse_scheme(data: str | bytes, source: str | Path = "<scheme>") -> LabelScheme:
    """Parse a scheme from JSON text; errors name the source and the field."""
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=source, line=exc.lineno) from None
    try:
        return LabelScheme.model_validate(raw)
    except ValidationError as exc:
        field, message = first_problem(exc)
        raise InputError(message, path=source, field=field or None) from None


def load_scheme(path: str | Path) -> LabelScheme:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the scheme: {exc.strerror}", path=path) from None
    return parse_scheme(data, path)


def default_scheme() -> LabelScheme:
    """The bundled news scheme."""
    from annotator.resources import default_scheme_path

    return load_scheme(default_scheme_path())
