"""doccano JSONL: what doccano exports (and imports) for sequence labelling, relations and text
classification, in every shape its versions have written.

Reading
-------
One record per line. The text is under `text`, `data` (the export of doccano 1.2 to 1.5) or
`column_data` (the column-name example); a record without it is an error naming the line. The spans
may be given as

- `"label": [[start, end, "LABEL"], ...]`: sequence labelling; also under `labels` (the old "text
  label" export), `column_label`, or `entities` (intent detection, next to `"cats": [...]`);
- `"entities": [{"id": 0, "label", "start_offset", "end_offset"}, ...]` with
  `"relations": [{"id", "from_id", "to_id", "type"}, ...]`: relation mode;
- `"annotations": [{"label": 12, "start_offset", "end_offset", "user": 1}, ...]`: doccano 1.0 and
  1.1. Each user becomes an annotator of their own, named by the user id ("1"). A label given as an
  integer id stays its string form ("12"): the file does not say which label the id stands for.

Items of a label list that are not spans (`"label": ["negative"]`, or `annotations` entries without
offsets) are text-classification labels: they, `cats`, the relations, `annotation_approver` and
`Comments` are kept with the annotation, in `Annotation.extra["doccano"]`, together with which shape
the record had. Every other key (`id`, `meta`, the metadata keys doccano writes at the top level) is
document metadata: string `title`, `author`, `published`, `source` and `url` fill the DocumentMeta
fields, the rest goes into `DocumentMeta.extra` as it is. Span-level keys besides the offsets and
the label (relation mode's `id`, and any other) are kept in `EntitySpan.extra["doccano"]`.

A record with any annotation key (a span key, `annotations`, `relations`, `cats`,
`annotation_approver`, `Comments`) is one annotation per annotator, status DONE: doccano exports
what people confirmed. A record with only text and metadata is a document without annotation. The
annotator is the `user` of the old shape, else a top-level `"annotator"` (which this writer adds),
else "imported". The document id is content-based, so the same text annotated by several people
becomes one document. The file has no tokens; spans that do not fall on spaCy's English tokens are
kept as given and counted in a warning.

Stances
-------
doccano has no stances; relation mode carries them:

- a stance is an entity labelled `STANCE:<POLARITY>` over its evidence text;
- a holder or target that is an entity is a relation from the stance to that entity, of type
  `stance_holder` or `stance_target`;
- the article's author as holder is `"holder": "author"` on the stance entity; a topic as target is
  `"topic": "<topic>"` on it; an unknown holder or target is left out;
- an article stance is a text-classification label in `cats`: `STANCE:<topic>:<POLARITY>`, or
  `STANCE:@<entity id>:<POLARITY>` when its target is an entity (a polarity must not contain ":").

Reading turns these back into stances, also in files made in doccano with the same labels and
relation types. The doccano ids of stance entities and relations are kept too.

Writing
-------
One line per annotation, with the document's metadata on each; a document nobody annotated is one
line with text and metadata. The shape is the one the annotation was read in: the same text key, span
key, span form and annotation keys (old-style `annotations` of several users go back into one line).
Annotations from elsewhere are written as sequence labelling (`label`). When stances need relations
or entity keys that the shape cannot hold, the line is written in relation mode (`entities` with
ids, and `relations`) instead. Entity ids read from the file are written again; spans without one
get the next free integer. Relations whose entities were deleted are left out. An annotator other
than "imported" is written as `"annotator"` (except in the old shape, which has `user`); a status
other than done as `"annotation_status"`, so `--all` exports come back as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    Annotation,
    AuthorRef,
    Document,
    DocumentMeta,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanSource,
    Stance,
    Status,
    TopicRef,
    UnknownRef,
)
from annotator.core.scheme import EntityLabel, Polarity
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.formats.jsonl import UTF8_BOM, first_object, read_objects
from annotator.formats.text import document_id

NAME = "doccano"
SOURCE = SpanSource(kind="imported", name=NAME)
# The key under which this format keeps what it needs in Annotation.extra and EntitySpan.extra.
NS = "doccano"
DEFAULT_ANNOTATOR = "imported"

STANCE_PREFIX = "STANCE:"
HOLDER_RELATION = "stance_holder"
TARGET_RELATION = "stance_target"

TEXT_KEYS = ("text", "data", "column_data")  # in order of precedence
SPAN_KEYS = ("entities", "label", "labels", "column_label")  # in order of preference
ANNOTATION_KEYS = frozenset(
    {*SPAN_KEYS, "annotations", "relations", "cats", "annotation_approver", "Comments"}
)
ANNOTATOR_KEY = "annotator"
STATUS_KEY = "annotation_status"
TYPED_META = ("title", "author", "published", "source", "url")
_UNFINISHED = {s.value for s in Status if s is not Status.DONE}
# Keys of other JSONL formats: a line with one of them is not doccano's.
_FOREIGN_KEYS = ("spans", "tokens", "_input_hash", "_task_hash", "answer", "_view_id", "schema_version")


# -- reading -----------------------------------------------------------------------------------------


def read_doccano(path: Path | str) -> Iterator[ReadItem]:
    """One Record per line; a bad line is yielded as an InputError naming the line and field.

    Raised, as problems with the whole file: it cannot be opened, it has no records, or it is one
    pretty-printed JSON object or a JSON array rather than JSON Lines.
    """
    path = Path(path)
    for item in read_objects(path):
        if isinstance(item, InputError):
            yield item
            continue
        number, data = item
        try:
            yield _record(data, path, number)
        except RuleError as exc:
            yield InputError(exc.message, path=path, line=number, field=exc.field or None)


def _record(data: dict[str, Any], path: Path, number: int) -> Record:
    text_key = _text_key(data)
    text: str = data[text_key]
    annotated = any(key in data for key in ANNOTATION_KEYS)
    consumed = {text_key}
    annotations: list[Annotation] = []
    doc_id = document_id(text)
    if annotated:
        consumed |= ANNOTATION_KEYS & data.keys()
        fallback = DEFAULT_ANNOTATOR
        annotator = data.get(ANNOTATOR_KEY)
        if isinstance(annotator, str) and 0 < len(annotator) <= 200:
            fallback = annotator
            consumed.add(ANNOTATOR_KEY)
        status = Status.DONE
        if data.get(STATUS_KEY) in _UNFINISHED:
            status = Status(data[STATUS_KEY])
            consumed.add(STATUS_KEY)
        reader = _Annotations(data, text, text_key, doc_id, fallback, status)
        annotations = reader.read()
    document = Document(id=doc_id, text=text, meta=_meta(data, consumed))
    warnings = _boundary_warning(text, annotations)
    return Record(
        document=document, annotations=annotations, path=str(path), line=number, warnings=warnings
    )


def _text_key(data: dict[str, Any]) -> str:
    for key in TEXT_KEYS:
        if key not in data:
            continue
        if isinstance(data[key], str):
            return key
        if key == "text":
            raise RuleError("text", f"must be the document's text (a string), not {_kind(data[key])}")
    keys = ", ".join(data) or "none"
    raise RuleError("text", f"missing: every doccano record needs the document's text (this one has: {keys})")


def _meta(data: dict[str, Any], consumed: set[str]) -> DocumentMeta:
    fields: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in consumed:
            continue
        if key in TYPED_META and isinstance(value, str):
            fields[key] = value
        else:
            extra[key] = value
    return DocumentMeta(**fields, extra=extra)


def _boundary_warning(text: str, annotations: list[Annotation]) -> list[str]:
    spans = [(s.start, s.end) for a in annotations for s in (*a.entities, *a.stances)]
    if not spans:
        return []
    from annotator.nlp.tokens import token_span, tokenize

    tokens = tokenize(text, "en")
    off = sum(1 for start, end in spans if token_span(tokens, start, end) is None)
    if not off:
        return []
    return [f"{off} of {len(spans)} spans do not fall on token boundaries (kept as given)"]


@dataclass
class _PendingStance:
    start: int
    end: int
    polarity: str
    doccano_id: Any = None
    holder: EntityRef | AuthorRef | UnknownRef = field(default_factory=UnknownRef)
    target: EntityRef | TopicRef | UnknownRef = field(default_factory=UnknownRef)
    holder_relation: Any = None
    target_relation: Any = None


@dataclass
class _Spans:
    """What one list of spans held: entities, stances, and the items that are not spans."""

    entities: list[EntitySpan] = field(default_factory=list)
    stances: list[_PendingStance] = field(default_factory=list)
    categories: list[Any] = field(default_factory=list)
    dict_form: bool = False
    # doccano id -> our entity id (entities) or index into `stances`
    entity_ids: dict[Any, str] = field(default_factory=dict)
    stance_ids: dict[Any, int] = field(default_factory=dict)


class _Annotations:
    """Reads the annotation keys of one record into one Annotation per annotator."""

    def __init__(
        self, data: dict[str, Any], text: str, text_key: str, doc_id: str, annotator: str, status: Status
    ) -> None:
        self.data = data
        self.text = text
        self.text_key = text_key
        self.doc_id = doc_id
        self.annotator = annotator
        self.status = status

    def read(self) -> list[Annotation]:
        if "annotations" in self.data:
            return self._per_user()
        return [self._single()]

    # -- the shapes ----------------------------------------------------------------------------------
    def _single(self) -> Annotation:
        data = self.data
        span_key = self._span_key()
        spans = _Spans()
        if span_key is not None:
            self._spans(span_key, data[span_key], spans)
        ns: dict[str, Any] = self._base_ns()
        ns["span_key"] = span_key
        dict_form = spans.dict_form or "relations" in data
        ns["form"] = "dict" if dict_form else "list"
        if "relations" in data:
            ns["relations"] = self._relations(data["relations"], spans)
        keys = self._raw_keys(exclude={span_key, "relations"})
        doc_stances, stance_key = self._doc_stances(span_key, spans, keys)
        if spans.categories:
            ns["categories"] = spans.categories
        if stance_key is not None and stance_key != "cats":
            ns["stance_key"] = stance_key
        if keys:
            ns["keys"] = keys
        stances = self._stances(spans, ns)
        return self._annotation(self.annotator, spans.entities, stances, doc_stances, ns)

    def _per_user(self) -> list[Annotation]:
        entries = self.data["annotations"]
        if not isinstance(entries, list):
            raise RuleError("annotations", f"must be a list, not {_kind(entries)}")
        groups: dict[str, tuple[Any, _Spans]] = {}
        for i, entry in enumerate(entries):
            where = f"annotations[{i}]"
            if not isinstance(entry, dict):
                message = f"must be an object with label, start_offset, end_offset, user; not {_kind(entry)}"
                raise RuleError(where, message)
            user = entry.get("user", _MISSING)
            if user is not _MISSING and not (_is_id(user) and 0 < len(str(user)) <= 200):
                raise RuleError(f"{where}.user", f"must be a user id (a number or a name), not {user!r}")
            # Users are annotators by name: 1 and "1" are the same person.
            annotator = self.annotator if user is _MISSING else str(user)
            if annotator not in groups:
                groups[annotator] = (user, _Spans())
            spans = groups[annotator][1]
            body = {k: v for k, v in entry.items() if k != "user"}
            if "start_offset" in entry or "end_offset" in entry:
                self._span(body, where, spans)
            else:
                spans.categories.append(body)
        if not groups:
            groups[self.annotator] = (_MISSING, _Spans())
        keys = self._raw_keys(exclude={"annotations"})
        out = []
        for annotator, (user, spans) in groups.items():
            ns = self._base_ns()
            ns["span_key"] = "annotations"
            if user is not _MISSING:
                ns["user"] = user
            if spans.categories:
                ns["categories"] = spans.categories
            user_keys = dict(keys)
            doc_stances, stance_key = self._doc_stances(None, spans, user_keys)
            if stance_key is not None and stance_key != "cats":
                ns["stance_key"] = stance_key
            if user_keys:
                ns["keys"] = user_keys
            stances = self._stances(spans, ns)
            out.append(self._annotation(annotator, spans.entities, stances, doc_stances, ns))
        return out

    # -- pieces --------------------------------------------------------------------------------------
    def _base_ns(self) -> dict[str, Any]:
        return {"text_key": self.text_key} if self.text_key != "text" else {}

    def _annotation(
        self,
        annotator: str,
        entities: list[EntitySpan],
        stances: list[Stance],
        doc_stances: list[DocumentStance],
        ns: dict[str, Any],
    ) -> Annotation:
        return Annotation(
            document_id=self.doc_id,
            annotator=annotator,
            status=self.status,
            entities=entities,
            stances=stances,
            doc_stances=doc_stances,
            extra={NS: ns},
        )

    def _span_key(self) -> str | None:
        """The key whose list holds the spans: the first that has a span, else the first list."""
        lists = [k for k in SPAN_KEYS if isinstance(self.data.get(k), list)]
        for key in lists:
            if any(isinstance(item, list | dict) for item in self.data[key]):
                return key
        return lists[0] if lists else None

    def _raw_keys(self, exclude: set[str | None]) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k in ANNOTATION_KEYS and k not in exclude}

    def _spans(self, key: str, items: list[Any], spans: _Spans) -> None:
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if isinstance(item, list):
                if len(item) != 3:
                    raise RuleError(where, f"a span is [start, end, label], not a list of {len(item)} items")
                fields = (f"{where}[0]", f"{where}[2]")
                self._span_values(item[0], item[1], item[2], where, {}, spans, fields)
            elif isinstance(item, dict):
                self._span(item, where, spans)
            else:
                spans.categories.append(item)

    def _span(self, item: dict[str, Any], where: str, spans: _Spans) -> None:
        for name in ("start_offset", "end_offset", "label"):
            if name not in item:
                raise RuleError(f"{where}.{name}", "is required")
        spans.dict_form = True
        rest = {k: v for k, v in item.items() if k not in ("start_offset", "end_offset", "label")}
        self._span_values(
            item["start_offset"],
            item["end_offset"],
            item["label"],
            where,
            rest,
            spans,
            (f"{where}.start_offset", f"{where}.label"),
        )

    def _span_values(
        self,
        start: Any,
        end: Any,
        label: Any,
        where: str,
        rest: dict[str, Any],
        spans: _Spans,
        fields: tuple[str, str],
    ) -> None:
        offsets_field, label_field = fields
        if not (_is_int(start) and _is_int(end)):
            raise RuleError(offsets_field, f"offsets must be whole numbers, not {start!r} and {end!r}")
        if not 0 <= start < end <= len(self.text):
            raise RuleError(
                where,
                f"span {start}-{end} must satisfy 0 <= start < end <= {len(self.text)} (the text's length)",
            )
        label_id = None
        if _is_int(label):
            label_id, label = label, str(label)
        elif not isinstance(label, str) or not label:
            raise RuleError(label_field, f"must be a label name or id, not {label!r}")
        has_id = "id" in rest
        doccano_id = rest.get("id")
        if has_id and not _is_id(doccano_id):
            raise RuleError(f"{where}.id", f"must be a number or a string, not {doccano_id!r}")
        if has_id and (doccano_id in spans.entity_ids or doccano_id in spans.stance_ids):
            raise RuleError(f"{where}.id", f"id {doccano_id!r} is used twice")
        if label.startswith(STANCE_PREFIX):
            polarity = label[len(STANCE_PREFIX):]
            _check_name(Polarity, polarity, label_field, "polarity")
            stance = _PendingStance(start, end, polarity, doccano_id)
            holder = rest.get("holder", _MISSING)
            if holder is not _MISSING:
                if holder != "author":
                    message = f'must be "author" (other holders are relations), not {holder!r}'
                    raise RuleError(f"{where}.holder", message)
                stance.holder = AuthorRef()
            topic = rest.get("topic", _MISSING)
            if topic is not _MISSING:
                if not isinstance(topic, str) or not topic.strip():
                    raise RuleError(f"{where}.topic", f"must be a topic name, not {topic!r}")
                stance.target = TopicRef(topic=topic)
            if has_id:
                spans.stance_ids[doccano_id] = len(spans.stances)
            spans.stances.append(stance)
            return
        _check_name(EntityLabel, label, label_field, "label")
        kept = dict(rest)
        if label_id is not None:
            kept["label_id"] = label_id
        extra = {NS: kept} if kept else {}
        entity = EntitySpan(start=start, end=end, label=label, source=SOURCE, extra=extra)
        if has_id:
            spans.entity_ids[doccano_id] = entity.id
        spans.entities.append(entity)

    def _relations(self, relations: Any, spans: _Spans) -> list[Any]:
        if not isinstance(relations, list):
            raise RuleError("relations", f"must be a list, not {_kind(relations)}")
        kept = []
        for j, rel in enumerate(relations):
            where = f"relations[{j}]"
            if not isinstance(rel, dict):
                raise RuleError(where, f"must be an object with from_id, to_id and type, not {_kind(rel)}")
            for end in ("from_id", "to_id"):
                if end not in rel:
                    raise RuleError(f"{where}.{end}", "is required")
                value = rel[end]
                if not _is_id(value) or (value not in spans.entity_ids and value not in spans.stance_ids):
                    message = f"refers to entity {value!r}, which the record does not have"
                    raise RuleError(f"{where}.{end}", message)
            kind = rel.get("type")
            source = rel["from_id"]
            if kind in (HOLDER_RELATION, TARGET_RELATION) and source in spans.stance_ids:
                self._stance_relation(rel, where, kind, spans)
            else:
                kept.append(rel)
        return kept

    def _stance_relation(self, rel: dict[str, Any], where: str, kind: str, spans: _Spans) -> None:
        stance = spans.stances[spans.stance_ids[rel["from_id"]]]
        target = rel["to_id"]
        if target not in spans.entity_ids:
            message = f"a {kind} relation must point to an entity, not to another stance"
            raise RuleError(f"{where}.to_id", message)
        ref = EntityRef(entity_id=spans.entity_ids[target])
        if kind == HOLDER_RELATION:
            if not isinstance(stance.holder, UnknownRef):
                raise RuleError(where, f"the stance {rel['from_id']!r} already has a holder")
            stance.holder, stance.holder_relation = ref, rel.get("id")
        else:
            if not isinstance(stance.target, UnknownRef):
                raise RuleError(where, f"the stance {rel['from_id']!r} already has a target")
            stance.target, stance.target_relation = ref, rel.get("id")

    def _stances(self, spans: _Spans, ns: dict[str, Any]) -> list[Stance]:
        out = []
        ids: dict[str, dict[str, Any]] = {}
        for p in spans.stances:
            stance = Stance(
                start=p.start, end=p.end, polarity=p.polarity, holder=p.holder, target=p.target, source=SOURCE
            )
            found = (("id", p.doccano_id), ("holder", p.holder_relation), ("target", p.target_relation))
            kept = {name: value for name, value in found if value is not None}
            if kept:
                ids[stance.id] = kept
            out.append(stance)
        if ids:
            ns["stance_ids"] = ids
        return out

    def _doc_stances(
        self, span_key: str | None, spans: _Spans, keys: dict[str, Any]
    ) -> tuple[list[DocumentStance], str | None]:
        """Article stances from `STANCE:<target>:<POLARITY>` labels, taken out of the lists they were
        in: the labels among the spans, `cats`, or another label list."""
        found: list[DocumentStance] = []
        stance_key: str | None = None
        sources: list[tuple[str, list[Any], bool]] = []
        if span_key is not None:
            sources.append((span_key, spans.categories, False))
        for key, value in keys.items():
            if isinstance(value, list) and (key == "cats" or key in SPAN_KEYS):
                sources.append((key, value, True))
        for key, items, raw in sources:
            rest = []
            for item in items:
                stance = self._doc_stance(item, spans, key, found)
                if stance is None:
                    rest.append(item)
                else:
                    found.append(stance)
                    stance_key = stance_key or key
            if raw:
                keys[key] = rest
            else:
                spans.categories[:] = rest
        return found, stance_key

    def _doc_stance(
        self, item: Any, spans: _Spans, key: str, found: list[DocumentStance]
    ) -> DocumentStance | None:
        if not isinstance(item, str) or not item.startswith(STANCE_PREFIX):
            return None
        target, sep, polarity = item[len(STANCE_PREFIX):].rpartition(":")
        if not sep or not target.strip() or not polarity:
            return None
        _check_name(Polarity, polarity, key, "polarity")
        ref: EntityRef | TopicRef = TopicRef(topic=target)
        if target.startswith("@"):
            wanted = target[1:]
            entity = next((ours for theirs, ours in spans.entity_ids.items() if str(theirs) == wanted), None)
            if entity is not None:
                ref = EntityRef(entity_id=entity)
        stance = DocumentStance(target=ref, polarity=polarity)
        if any(d.key == stance.key for d in found):
            raise RuleError(key, f"{item!r}: the article already has a stance towards this target")
        return stance


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return _is_int(value) or isinstance(value, str)


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")


def _check_name(model: type[EntityLabel] | type[Polarity], name: str, where: str, what: str) -> None:
    """A label or polarity must be one the project's scheme can hold (no spaces, not too long)."""
    try:
        model(name=name)
    except ValidationError as exc:
        raise RuleError(where, f"{what} {name!r}: {first_problem(exc)[1]}") from None


# -- writing -----------------------------------------------------------------------------------------


def write_doccano(records: Iterable[Record], out: BinaryIO) -> int:
    """Write each record as doccano JSONL (one line per annotation, see the module's notes); return the
    number of records written.

    Raises RuleError if a span does not fit its document's text.
    """
    count = 0
    for record in records:
        for line in _lines(record):
            out.write(_dumps(line, record.document))
        count += 1
    return count


def _lines(record: Record) -> Iterator[dict[str, Any]]:
    doc = record.document
    if not record.annotations:
        yield _head(doc, "text")
        return
    # Old-style annotations of several users share one line (per status), where the shape allows.
    groups: dict[Any, list[Annotation]] = {}
    for i, ann in enumerate(record.annotations):
        _check_spans(ann, doc)
        ns = _ns(ann)
        key: Any = ("line", i)
        if ns.get("span_key") == "annotations" and not _needs_entity_dicts(ann, ns):
            key = ("users", i) if ann.doc_stances else ("users", ann.status, ns.get("text_key", "text"))
        groups.setdefault(key, []).append(ann)
    for key, group in groups.items():
        yield _user_line(doc, group) if key[0] == "users" else _line(doc, group[0])


def _ns(obj: Annotation | EntitySpan) -> dict[str, Any]:
    value = obj.extra.get(NS)
    return value if isinstance(value, dict) else {}


def _needs_entity_dicts(ann: Annotation, ns: dict[str, Any]) -> bool:
    """Whether the annotation needs relation mode: relations, stances with a holder or a target, or
    article stances towards entities."""
    return (
        bool(ns.get("relations"))
        or any(_has_refs(s) for s in ann.stances)
        or any(isinstance(d.target, EntityRef) for d in ann.doc_stances)
    )


def _has_refs(s: Stance) -> bool:
    return not isinstance(s.holder, UnknownRef) or not isinstance(s.target, UnknownRef)


def _head(doc: Document, text_key: str) -> dict[str, Any]:
    """`id`, the text and the document's metadata."""
    extra = doc.meta.extra
    line: dict[str, Any] = {}
    if "id" in extra:
        line["id"] = extra["id"]
    line[text_key] = doc.text
    for name in TYPED_META:
        value = getattr(doc.meta, name)
        if value is not None:
            line[name] = value
    # Metadata must not look like annotations, nor like the text to a reader that prefers its key.
    shadowing = TEXT_KEYS[: TEXT_KEYS.index(text_key)]
    for key, value in extra.items():
        if key not in line and key not in ANNOTATION_KEYS and key not in shadowing:
            line[key] = value
    return line


def _line(doc: Document, ann: Annotation) -> dict[str, Any]:
    """One annotation in the shape it was read in; in relation mode if that shape cannot hold it."""
    ns = _ns(ann)
    line = _head(doc, ns.get("text_key", "text"))
    keys: dict[str, Any] = dict(ns.get("keys", {}))
    orig_key: str | None = ns.get("span_key", "label")
    form = ns.get("form", "list")
    span_key = orig_key
    dicts = _needs_entity_dicts(ann, ns)
    if orig_key == "annotations" or (dicts and form != "dict"):
        span_key, form = "entities", "dict"
    if span_key is None and (ann.entities or ann.stances or form == "dict"):
        span_key = "entities" if form == "dict" or "label" in keys else "label"
    ids = _Ids(ann, ns)
    lists: dict[str, list[Any]] = {}
    if span_key is not None:
        lists[span_key] = _span_items(ann, ids, form)
    categories = ns.get("categories", [])
    if orig_key is not None and orig_key != "annotations" and categories:
        lists.setdefault(orig_key, []).extend(categories)
    _add_doc_stances(ann, ns, ids, lists, keys)
    if span_key is not None:
        line[span_key] = lists.pop(span_key)
        if form == "dict" and ("relations" in ns or dicts):
            line["relations"] = ids.relations(ann, ns)
    line.update(lists)
    line.update(keys)
    if ann.annotator != DEFAULT_ANNOTATOR:
        line[ANNOTATOR_KEY] = ann.annotator
    if ann.status is not Status.DONE:
        line[STATUS_KEY] = ann.status.value
    return line


def _user_line(doc: Document, group: list[Annotation]) -> dict[str, Any]:
    """The old shape: every user's spans in one `annotations` list, each with its user."""
    first = group[0]
    ns = _ns(first)
    line = _head(doc, ns.get("text_key", "text"))
    keys: dict[str, Any] = dict(ns.get("keys", {}))
    entries: list[Any] = []
    for ann in group:
        ann_ns = _ns(ann)
        user = _user(ann, ann_ns)
        with_user = {} if user is _MISSING else {"user": user}
        for e in ann.entities:
            rest = {k: v for k, v in _ns(e).items() if k != "label_id"}
            entries.append(
                {"label": _label(e), "start_offset": e.start, "end_offset": e.end, **with_user, **rest}
            )
        stance_ids = ann_ns.get("stance_ids", {})
        for s in ann.stances:
            label = STANCE_PREFIX + s.polarity
            kept_id = {"id": stance_ids[s.id]["id"]} if "id" in stance_ids.get(s.id, {}) else {}
            offsets = {"start_offset": s.start, "end_offset": s.end}
            entries.append({"label": label, **offsets, **with_user, **kept_id})
        for category in ann_ns.get("categories", []):
            entries.append({**category, **with_user} if isinstance(category, dict) else category)
    line["annotations"] = entries
    lists: dict[str, list[Any]] = {}
    _add_doc_stances(first, ns, _Ids(first, ns), lists, keys)
    line.update(lists)
    line.update(keys)
    if first.status is not Status.DONE:
        line[STATUS_KEY] = first.status.value
    return line


def _user(ann: Annotation, ns: dict[str, Any]) -> Any:
    if "user" in ns and str(ns["user"]) == ann.annotator:
        return ns["user"]
    if ann.annotator == DEFAULT_ANNOTATOR and "user" not in ns:
        return _MISSING
    return ann.annotator


def _add_doc_stances(
    ann: Annotation, ns: dict[str, Any], ids: _Ids, lists: dict[str, list[Any]], keys: dict[str, Any]
) -> None:
    if not ann.doc_stances:
        return
    labels = [_doc_stance_label(d, ids) for d in ann.doc_stances]
    key = ns.get("stance_key", "cats")
    if key in lists:
        lists[key].extend(labels)
    elif key not in keys:
        lists[key] = labels
    elif isinstance(keys[key], list):
        keys[key] = [*keys[key], *labels]
    else:
        # `cats` holds something else (a dict): the stances get a key of their own.
        lists["stance_cats"] = labels


def _doc_stance_label(d: DocumentStance, ids: _Ids) -> str:
    if isinstance(d.target, EntityRef):
        if d.target.entity_id not in ids.entities:
            raise RuleError("doc_stances", f"the article stance's entity {d.target.entity_id!r} is missing")
        return f"{STANCE_PREFIX}@{ids.entities[d.target.entity_id]}:{d.polarity}"
    return f"{STANCE_PREFIX}{d.target.topic}:{d.polarity}"


def _label(e: EntitySpan) -> Any:
    label_id = _ns(e).get("label_id")
    return label_id if label_id is not None and str(label_id) == e.label else e.label


def _span_items(ann: Annotation, ids: _Ids, form: str) -> list[Any]:
    items: list[Any] = []
    for e in ann.entities:
        if form == "dict":
            rest = {k: v for k, v in _ns(e).items() if k not in ("label_id", "id")}
            offsets = {"start_offset": e.start, "end_offset": e.end}
            items.append({"id": ids.entities[e.id], "label": _label(e), **offsets, **rest})
        else:
            items.append([e.start, e.end, _label(e)])
    for s in ann.stances:
        label = STANCE_PREFIX + s.polarity
        if form == "dict":
            item: dict[str, Any] = {
                "id": ids.stances[s.id], "label": label, "start_offset": s.start, "end_offset": s.end
            }
            if isinstance(s.holder, AuthorRef):
                item["holder"] = "author"
            if isinstance(s.target, TopicRef):
                item["topic"] = s.target.topic
            items.append(item)
        else:
            items.append([s.start, s.end, label])
    return items


class _Ids:
    """doccano ids for an annotation's entities, stance entities and stance relations: the ids it was
    read with where they are still free, the next free integer otherwise."""

    def __init__(self, ann: Annotation, ns: dict[str, Any]) -> None:
        stance_ids: dict[str, dict[str, Any]] = ns.get("stance_ids", {})
        self.stance_ids = stance_ids
        self.entities: dict[str, Any] = {}
        self.stances: dict[str, Any] = {}
        used: set[Any] = set()
        wanting: list[tuple[dict[str, Any], str]] = []
        wanted = [(self.entities, e.id, _ns(e).get("id")) for e in ann.entities]
        wanted += [(self.stances, s.id, stance_ids.get(s.id, {}).get("id")) for s in ann.stances]
        for table, our_id, kept in wanted:
            if _is_id(kept) and kept not in used:
                table[our_id] = kept
                used.add(kept)
            else:
                wanting.append((table, our_id))
        self.next = _next_free(used)
        for table, our_id in wanting:
            table[our_id] = self.next
            self.next += 1

    def relations(self, ann: Annotation, ns: dict[str, Any]) -> list[Any]:
        """The relations read with the annotation (those whose entities are still there), then the
        stances' holder and target relations."""
        present = set(self.entities.values()) | set(self.stances.values())
        kept = [
            r for r in ns.get("relations", [])
            if isinstance(r, dict) and r.get("from_id") in present and r.get("to_id") in present
        ]
        used = {r["id"] for r in kept if _is_id(r.get("id"))}
        made: list[tuple[dict[str, Any], Any]] = []
        for s in ann.stances:
            refs = (("holder", HOLDER_RELATION, s.holder), ("target", TARGET_RELATION, s.target))
            for slot, kind, ref in refs:
                if not isinstance(ref, EntityRef) or ref.entity_id not in self.entities:
                    continue
                to_id = self.entities[ref.entity_id]
                rel = {"id": None, "from_id": self.stances[s.id], "to_id": to_id, "type": kind}
                kept_id = self.stance_ids.get(s.id, {}).get(slot)
                if _is_id(kept_id) and kept_id not in used:
                    rel["id"] = kept_id
                    used.add(kept_id)
                made.append((rel, kept_id))
        next_id = _next_free(used)
        out = list(kept)
        for rel, _ in made:
            if rel["id"] is None:
                rel["id"] = next_id
                next_id += 1
            out.append(rel)
        return out


def _next_free(used: set[Any]) -> int:
    return max((v for v in used if _is_int(v)), default=-1) + 1


def _check_spans(ann: Annotation, doc: Document) -> None:
    n = len(doc.text)
    for key, spans in (("entities", ann.entities), ("stances", ann.stances)):
        for i, span in enumerate(spans):
            if span.end > n:
                raise RuleError(
                    f"{key}[{i}]", f"span {span.start}-{span.end} is past the end of the text (length {n})"
                )


def _dumps(line: dict[str, Any], document: Document) -> bytes:
    try:
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError as exc:
        raise RuleError("", f"document {document.id!r} cannot be written as JSON: {exc}") from None


# -- sniffing ----------------------------------------------------------------------------------------


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes look like doccano JSONL: a text and doccano's span or label keys,
    and none of the keys that mark Prodigy or the native format."""
    obj = first_object(head)
    if obj is None:
        # A pretty-printed relation-mode example: say so when reading, rather than "unknown format".
        start = head.removeprefix(UTF8_BOM).lstrip()
        return (
            start.startswith(b"{")
            and b'"start_offset"' in head
            and b'"text"' in head
            and not any(f'"{k}"'.encode() in head for k in _FOREIGN_KEYS)
        )
    if any(k in obj for k in _FOREIGN_KEYS) or "document" in obj:
        return False
    if not any(isinstance(obj.get(k), str) for k in TEXT_KEYS):
        return False
    entries = obj.get("annotations")
    if isinstance(entries, list):
        return all(isinstance(e, dict) and ("start_offset" in e or "user" in e) for e in entries)
    for key in SPAN_KEYS:
        items = obj.get(key)
        if not isinstance(items, list):
            continue
        if key == "entities":
            return all(_looks_like_span(item) for item in items)
        return all(_looks_like_span(item) or isinstance(item, str) for item in items)
    return False


def _looks_like_span(item: Any) -> bool:
    if isinstance(item, dict):
        return "start_offset" in item and "end_offset" in item
    return isinstance(item, list) and len(item) == 3 and _is_int(item[0]) and _is_int(item[1])
