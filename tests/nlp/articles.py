"""Generated news articles with known entities, for the training and suggestion tests.

Loaded by path (`load_articles_module`), since the tests are not a package. Articles are built from
sentence templates with PERSON, ORG and GPE slots; `HELDOUT_TEMPLATES` put the same names in
contexts the training templates never use. Filler sentences carry emoji, CJK and capitalised words
that are not entities.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from annotator.core.model import Annotation, Document, EntitySpan, Status
from annotator.formats.base import Record

FIRST = [
    "Anna", "Marcus", "Yuki", "Fatima", "Oliver", "Priya", "Lukas", "Chen", "Sofia", "Kwame",
    "Elena", "Tomas", "Aisha", "Hiroshi", "Maria", "David", "Leila", "Pavel", "Ingrid", "Samuel",
]  # fmt: skip
LAST = [
    "Keller", "Tanaka", "Okafor", "Novak", "Lindqvist", "Haddad", "Moreau", "Sato", "Brennan",
    "Kowalski", "Mendes", "Ivanova", "Park", "Osei", "Fischer", "Rossi", "Nakamura", "Petrov",
    "Dubois", "Silva",
]  # fmt: skip
ORGS = [
    "Kyodo News", "Northwind Bank", "Harbour Authority", "Greenfield University", "Atlas Motors",
    "Meridian Energy", "Bluewater Shipping", "Redstone Mining", "Lakeside Council", "Orion Telecom",
    "Silverline Rail", "Crestview Hospital",
]  # fmt: skip
GPES = [
    "Tokyo", "Berlin", "Nairobi", "Lisbon", "Ottawa", "Seoul", "Lima", "Oslo", "Cairo", "Warsaw",
    "Manila", "Dublin", "France", "Kenya", "Japan", "Brazil",
]  # fmt: skip

TRAIN_TEMPLATES = [
    "{PERSON} told {ORG} on Monday that the plan for {GPE} would go ahead.",
    "In {GPE}, {PERSON} said the decision by {ORG} was a mistake.",
    "{ORG} hired {PERSON} to lead its office in {GPE}.",
    "Officials at {ORG} met {PERSON} in {GPE} to discuss the budget.",
    "{PERSON}, a spokesperson for {ORG}, declined to comment.",
    "The vote in {GPE} was welcomed by {PERSON}.",
    "Shares in {ORG} fell after {PERSON} warned of losses.",
    "Protesters gathered outside the offices of {ORG} in {GPE} on Tuesday.",
    "{PERSON} flew to {GPE} for talks with {PERSON}.",
    "A report by {ORG} found that prices in {GPE} rose sharply.",
]
HELDOUT_TEMPLATES = [
    "Speaking in {GPE} on Friday, {PERSON} criticised {ORG} for the delays.",
    "{ORG} said {PERSON} would visit {GPE} next week.",
    "According to {PERSON}, talks between {ORG} and the government of {GPE} have stalled.",
    "{PERSON} left {ORG} after ten years and moved to {GPE}.",
    "Last year {ORG} opened a new plant near {GPE}, {PERSON} recalled.",
]
FILLERS = [
    "The meeting lasted three hours.",
    "Readers reacted with 👍 and 🇯🇵 on social media.",
    "Prices have risen for the third month in a row.",
    "Officials declined to give details.",
    "The headline read 東京の会議 in the morning edition.",
    "Nobody expected the result.",
    "Monday was a public holiday.",
]

_SLOT = re.compile(r"\{(PERSON|ORG|GPE)\}")


@dataclass(frozen=True)
class Article:
    doc_id: str
    text: str
    entities: list[tuple[int, int, str]]


def _name(rng: random.Random, label: str) -> str:
    if label == "PERSON":
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return rng.choice(ORGS if label == "ORG" else GPES)


def article(
    rng: random.Random,
    doc_id: str,
    templates: Sequence[str] = TRAIN_TEMPLATES,
    sentences: tuple[int, int] = (3, 6),
) -> Article:
    text = ""
    entities: list[tuple[int, int, str]] = []
    for i in range(rng.randint(*sentences)):
        if i and rng.random() < 0.3:
            text += rng.choice(FILLERS) + " "
        template = rng.choice(templates)
        pos = 0
        for m in _SLOT.finditer(template):
            text += template[pos : m.start()]
            value = _name(rng, m.group(1))
            entities.append((len(text), len(text) + len(value), m.group(1)))
            text += value
            pos = m.end()
        text += template[pos:] + (" " if rng.random() < 0.8 else "\n\n")
    return Article(doc_id, text.rstrip(), entities)


def articles(
    n: int,
    seed: int = 0,
    templates: Sequence[str] = TRAIN_TEMPLATES,
    prefix: str = "a",
    sentences: tuple[int, int] = (3, 6),
) -> list[Article]:
    """`n` articles of 3 to 6 sentences (about 60 tokens) unless `sentences` says otherwise."""
    rng = random.Random(seed)
    return [article(rng, f"{prefix}{i:04d}", templates, sentences) for i in range(n)]


def records(arts: Sequence[Article], annotator: str = "gold", status: Status = Status.DONE) -> list[Record]:
    """Articles as import records, annotated by `annotator` with the given status."""
    return [
        Record(
            document=Document(id=a.doc_id, text=a.text),
            annotations=[
                Annotation(
                    document_id=a.doc_id,
                    annotator=annotator,
                    status=status,
                    entities=[EntitySpan(start=s, end=e, label=lb) for s, e, lb in a.entities],
                )
            ],
        )
        for a in arts
    ]


def prf(
    gold: Sequence[Sequence[tuple[int, int, str]]], pred: Sequence[Sequence[tuple[int, int, str]]]
) -> float:
    """Exact-match F over all articles (span and label)."""
    tp = fp = fn = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


_CAPS = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*")


def capitalised_baseline(text: str, label: str = "PERSON") -> list[tuple[int, int, str]]:
    """A trivial tagger: every run of capitalised words is an entity of the commonest label."""
    return [(m.start(), m.end(), label) for m in _CAPS.finditer(text)]
