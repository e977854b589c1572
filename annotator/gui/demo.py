"""A demo state for screenshots and trying the app: the sample articles, the first one annotated,
with a few suggestions waiting in it.

Used by the hidden ANNOTATOR_DEMO=1 switch of `annotator gui`. Every change goes through the same
edits as a user's, and nothing is added when the annotator has already worked on the article.
Suggestions are stored as a suggester would store them (storing them again adds nothing).
"""

from __future__ import annotations

import re

from annotator.core.edits import AddEntity, AddStance, Batch, Edit, SetDocumentStance, SetStatus
from annotator.core.model import EntityRef, EntitySpan, Stance, Status, TopicRef
from annotator.nlp.suggest import Suggestion
from annotator.store.project import Project
from annotator.store.suggestions import store_suggestions

ENTITIES = [
    ("Port Alder Business Alliance", "ORG"),
    ("Port Alder", "GPE"),
    ("Harbour Bridge", "LOC"),
    ("Trams for Eastbank", "ORG"),
    ("Eastbank Quay", "LOC"),
    ("Eastbank", "GPE"),
    ("Margaret Osei", "PERSON"),
    ("Osei", "PERSON"),
    ("Central Station", "LOC"),
    ("spring 2027", "DATE"),
    ("late 2029", "DATE"),
    ("Tuesday", "DATE"),
    ("Derek Hollins", "PERSON"),
    ("Hollins", "PERSON"),
    ("Civic Party", "ORG"),
    ("Graham Pike", "PERSON"),
    ("Sofia Marchetti", "PERSON"),
]

STANCES = [
    # evidence, polarity, holder text, target text or topic
    ("Tonight this council chose the future over the traffic jam", "FAVOR", "Osei", "topic:the tram line"),
    (
        "The proposal was fiercely opposed by the Port Alder Business Alliance",
        "AGAINST",
        "Port Alder Business Alliance",
        "topic:the tram line",
    ),
    ("called the cost estimates “wildly optimistic”", "AGAINST", "Graham Pike", "topic:the tram line"),
    (
        "We are against shutting the city’s main artery for years with no serious plan",
        "AGAINST",
        "Hollins",
        "Margaret Osei",
    ),
]


SUGGESTIONS = [
    # text, label, source, which occurrence (1: the first)
    ("Anna Keller", "PERSON", "news-patterns.jsonl", 1),
    ("two years", "DATE", "project model", 1),
    ("Councillor Graham Pike", "PERSON", "project model", 1),
    ("four years", "DATE", "project model", 1),
    ("Halvorsen Partners", "ORG", "news-patterns.jsonl", 1),
    ("Ingrid Dahl", "PERSON", "news-patterns.jsonl", 1),
    ("1931", "DATE", "project model", 1),
    ("Harbour Bridge", "LOC", "news-patterns.jsonl", 3),
]


def _find_all(text: str, needle: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text)]


def seed_demo(project: Project, annotator: str) -> None:
    if project.document_count() == 0:
        from annotator.cli import seed_samples

        seed_samples(project)
    summaries = project.summaries(annotator)
    if not summaries:
        return
    first = summaries[0]
    session = project.open_session(first.id, annotator)
    _suggest(project, first.id, session.document.text)
    if session.annotation.version:
        return
    text = session.document.text
    limit = text.find("The Harbour Bridge, opened")
    limit = len(text) if limit < 0 else limit
    taken: list[tuple[int, int]] = []
    by_text: dict[str, str] = {}
    edits: list[Edit] = []
    for needle, label in ENTITIES:
        for start, end in _find_all(text, needle):
            if end > limit or any(s < end and start < e for s, e in taken):
                continue
            entity = EntitySpan(start=start, end=end, label=label)
            taken.append((start, end))
            by_text.setdefault(needle, entity.id)
            edits.append(AddEntity(entity=entity))
    for evidence, polarity, holder, target in STANCES:
        at = text.find(evidence)
        if at < 0:
            continue
        target_ref = (
            TopicRef(topic=target[len("topic:") :])
            if target.startswith("topic:")
            else EntityRef(entity_id=by_text[target])
        )
        edits.append(
            AddStance(
                stance=Stance(
                    start=at,
                    end=at + len(evidence),
                    polarity=polarity,
                    holder=EntityRef(entity_id=by_text[holder]),
                    target=target_ref,
                )
            )
        )
    edits.append(SetDocumentStance(target=TopicRef(topic="the tram line"), polarity="NEUTRAL"))
    edits.append(SetStatus(status=Status.IN_PROGRESS))
    session.apply(Batch(edits=edits))
    for summary, status in zip(summaries[1:3], (Status.DONE, Status.DONE), strict=False):
        other = project.open_session(summary.id, annotator)
        if not other.annotation.version:
            other.apply(SetStatus(status=status))
    if len(summaries) > 4:
        other = project.open_session(summaries[4].id, annotator)
        if not other.annotation.version:
            other.apply(SetStatus(status=Status.SKIPPED))


def _suggest(project: Project, doc_id: str, text: str) -> None:
    found = []
    for needle, label, source, occurrence in SUGGESTIONS:
        spans = _find_all(text, needle)
        if len(spans) >= occurrence:
            start, end = spans[occurrence - 1]
            found.append(Suggestion(start, end, label, source))
    if found:
        store_suggestions(project, doc_id, found)
