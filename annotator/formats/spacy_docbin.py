"""spaCy's DocBin (`.spacy`): the binary training data that `spacy train` reads.

Each (document, annotator) annotation becomes one `Doc`; a document nobody annotated becomes a Doc
with no spans and no NER annotation (every token "missing", so that training learns nothing from it).

What a Doc holds, so that spaCy can train on it:

- `doc.spans["sc"]`: every entity, in the annotation's order, overlapping ones and identical duplicates
  included (what spaCy's span categorizer reads).
- `doc.ents`: the entities that do not overlap, which is what the NER component reads. Where entities
  overlap, the longest is kept, then the earliest; the others stay in `doc.spans["sc"]` only, and each
  such Doc is reported. Tokens outside `doc.ents` are "O" (known not to be an entity).
- `doc.spans["stance"]`: the stances' evidence, labelled with their polarity.
- `doc.cats`: the article stances, as `{"<target>:<POLARITY>": 1.0}`, where `<target>` is the topic's
  name or the target entity's text (`{"ferry:FAVOR": 1.0, "Tom Reyes:AGAINST": 1.0}`), merged with any
  `cats` the annotation brought from another file (kept in `Annotation.extra["cats"]`).

The tokens are the document's own tokens (whitespace tokens such as "\\r\\n" included), so the Doc's text
is the document's text exactly. Tokens that leave whitespace uncovered get it as extra whitespace
tokens (spaCy's way); tokens that cannot give back the text are replaced by spaCy's tokenization (the
original tokens are kept in the user data). The text is never changed.

Spans are placed with `Doc.char_span(..., alignment_mode="strict")`. A span whose ends are not token
boundaries is written widened to whole tokens (`"expand"`), and reported; a span that covers no token
cannot be a Span at all and lives only in the user data.

What a Span cannot hold (ids, stance holders and targets, sources, span extras, exact offsets, the
annotator, status, version, times, the document's id and metadata, the article stances' targets) is
kept in `doc.user_data["annotator"]`, a JSON string (written with `DocBin(store_user_data=True)`), so
that exporting and importing again loses nothing. spaCy ignores it when training.

Reading takes any DocBin. Without our user data (a file made by `spacy convert`, Prodigy's
`data-to-spacy` or a script): `doc.ents` and `doc.spans["sc"]` become entities (a span in both, with
the same offsets and label, is one entity), `doc.spans["stance"]` stances with unknown holder and
target, the annotator is "imported" and the status done. What the model has no place for is kept in
the annotation's `extra` and written back on export: `cats`, other span groups (`spacy_spans`),
token annotations such as tags, lemmas, dependencies, sentence starts and tokens whose NER is missing
(`spacy_tokens`), and other user data (`spacy_user_data`). The document id is the text's hash
(`document_id`), so the same text by several annotators is one document.

A file's records are numbered by the Doc's position (1-based), given as the "line" in messages.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    UNKNOWN,
    Annotation,
    Document,
    DocumentMeta,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanSource,
    Stance,
    Status,
    Token,
    TopicRef,
)
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.formats.text import document_id
from annotator.nlp.tokens import token_span

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span
    from spacy.vocab import Vocab

FORMAT_NAME = "spacy"
SOURCE = SpanSource(kind="imported", name=FORMAT_NAME)
USER_DATA_KEY = "annotator"
PAYLOAD_FORMAT = "annotator"
PAYLOAD_VERSION = 1
ENTITY_GROUP = "sc"
STANCE_GROUP = "stance"
DEFAULT_ANNOTATOR = "imported"

# Annotation.extra keys that hold what a foreign Doc carried; they are written into the Doc itself.
EXTRA_CATS = "cats"
EXTRA_SPANS = "spacy_spans"
EXTRA_TOKENS = "spacy_tokens"
EXTRA_USER_DATA = "spacy_user_data"

# Token annotations kept from foreign Docs: Annotation.extra["spacy_tokens"] key -> Doc() argument.
_TOKEN_LISTS = {"tag": "tags", "pos": "pos", "morph": "morphs", "lemma": "lemmas", "dep": "deps"}


# -- the user data -----------------------------------------------------------------------------------


class _PayloadEntity(EntitySpan):
    text: str
    span: tuple[int, int] | None = Field(description="the Span written for it, or null: none")


class _PayloadStance(Stance):
    text: str
    span: tuple[int, int] | None


class _PayloadDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    meta: DocumentMeta = Field(default_factory=DocumentMeta)


class _Payload(BaseModel):
    """What `doc.user_data["annotator"]` holds (as JSON)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["annotator"]
    version: Literal[1]
    document: _PayloadDocument
    tokens: list[Token] | None = None
    annotator: str | None = Field(default=None, min_length=1, max_length=200)
    status: Status = Status.NOT_STARTED
    annotation_version: int = Field(default=0, ge=0)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    entities: list[_PayloadEntity] = Field(default_factory=list)
    stances: list[_PayloadStance] = Field(default_factory=list)
    doc_stances: list[DocumentStance] = Field(default_factory=list)
    stance_cats: list[str] = Field(default_factory=list, description="doc.cats keys made from doc_stances")
    extra: dict[str, Any] = Field(default_factory=dict)


# -- sniffing ----------------------------------------------------------------------------------------


def sniff(head: bytes) -> bool:
    """Whether the first bytes of a file are a DocBin: zlib-compressed msgpack whose first map keys
    are DocBin's ("version", then "attrs"; spaCy 2 files start with "attrs")."""
    if len(head) < 2 or head[0] != 0x78 or ((head[0] << 8) | head[1]) % 31:
        return False  # not a zlib stream header
    try:
        data = zlib.decompressobj().decompress(head, 64)
    except zlib.error:
        return False
    if not data or not (0x80 <= data[0] <= 0x8F or data[0] == 0xDE):
        return False  # not a msgpack map
    return data[1:9] == b"\xa7version" or b"\xa5attrs" in data[:24]


# -- reading -----------------------------------------------------------------------------------------


def read_spacy(path: Path | str) -> Iterator[ReadItem]:
    """One Record per Doc, with its one annotation (none for a Doc exported without one).

    Raised, as problems with the whole file: it cannot be read, is empty, is not a DocBin (or is
    truncated), holds no Docs, or was written by a newer version of this program. A Doc whose user data
    or spans cannot be used is yielded as an InputError.
    """
    path = Path(path)
    docs = _load_docs(path)
    for number, doc in enumerate(docs, start=1):
        yield _record(doc, path, number)


def _load_docs(path: Path) -> Iterator[Doc]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    if not data:
        raise InputError("no records: the file is empty", path=path)
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    try:
        docbin = DocBin().from_bytes(data)
    except Exception as exc:  # spaCy, zlib and msgpack raise many kinds for data that is not a DocBin
        raise InputError(_why_not_docbin(data, exc), path=path) from None
    if len(docbin) == 0:
        raise InputError("no records: the DocBin holds no documents", path=path)
    docs = docbin.get_docs(Vocab())
    number = 0
    while True:
        number += 1
        try:
            doc = next(docs)
        except StopIteration:
            return
        except Exception as exc:
            raise InputError(
                f"{_NOT_DOCBIN}: document {number} cannot be read: {_reason(exc)}", path=path
            ) from None
        yield doc


_NOT_DOCBIN = "not a spaCy DocBin (.spacy) file, or a damaged one"


def _why_not_docbin(data: bytes, exc: Exception) -> str:
    if not sniff(data[:64]):
        return f"{_NOT_DOCBIN}: it does not start like one (zlib-compressed msgpack)"
    try:
        zlib.decompress(data)
    except zlib.error as error:
        if "incomplete" in str(error) or "truncated" in str(error):
            return f"{_NOT_DOCBIN}: the file is truncated ({len(data)} bytes)"
        return f"{_NOT_DOCBIN}: {error}"
    return f"{_NOT_DOCBIN}: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _record(doc: Doc, path: Path, number: int) -> ReadItem:
    try:
        payload = _payload(doc, path, number)
    except ValidationError as exc:
        field, message = first_problem(exc)
        where = f"user_data.{USER_DATA_KEY}" + (f".{field}" if field else "")
        return InputError(message, path=path, line=number, field=where)
    try:
        if payload is None:
            return _foreign_record(doc, path, number)
        return _own_record(doc, payload, path, number)
    except RuleError as exc:
        return InputError(exc.message, path=path, line=number, field=exc.field or None)
    except ValidationError as exc:
        field, message = first_problem(exc)
        return InputError(message, path=path, line=number, field=field or None)


def _payload(doc: Doc, path: Path, number: int) -> _Payload | None:
    raw = doc.user_data.get(USER_DATA_KEY)
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None  # someone else's value under the same key: kept as foreign user data
    if not isinstance(data, dict) or data.get("format") != PAYLOAD_FORMAT:
        return None
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > PAYLOAD_VERSION:
        raise InputError(
            f"written by a newer version of annotator (user data version {version}; this version reads "
            f"{PAYLOAD_VERSION}): update annotator to import this file",
            path=path,
            line=number,
            field=f"user_data.{USER_DATA_KEY}.version",
        )
    return _Payload.model_validate(data)


def _doc_tokens(doc: Doc) -> list[Token]:
    return [Token(t.idx, t.idx + len(t.text), bool(t.whitespace_)) for t in doc]


_SpanKey = tuple[int, int, str]


def _key(span: Span) -> _SpanKey:
    return (span.start_char, span.end_char, span.label_)


def _entity_spans(doc: Doc) -> list[tuple[str, Span]]:
    """The Doc's entity spans, each with where it is: `spans["sc"]` in order, then the `ents` that
    are not in it (same offsets and label)."""
    group = list(doc.spans.get(ENTITY_GROUP, []))
    unmatched: dict[_SpanKey, int] = {}
    for span in group:
        unmatched[_key(span)] = unmatched.get(_key(span), 0) + 1
    out = [(f'spans["{ENTITY_GROUP}"][{i}]', span) for i, span in enumerate(group)]
    for i, ent in enumerate(doc.ents):
        if unmatched.get(_key(ent), 0) > 0:
            unmatched[_key(ent)] -= 1
        else:
            out.append((f"ents[{i}]", ent))
    return out


def _entity(span: Span, field: str) -> EntitySpan:
    if not span.label_:
        raise RuleError(f"{field}.label", "the span has no label")
    extra: dict[str, Any] = {}
    if span.kb_id_:
        extra["kb_id"] = span.kb_id_
    if span.id_:
        extra["span_id"] = span.id_
    return EntitySpan(start=span.start_char, end=span.end_char, label=span.label_, source=SOURCE, extra=extra)


def _stance(span: Span, field: str) -> Stance:
    if not span.label_:
        raise RuleError(f"{field}.label", "a stance span needs its polarity as label")
    return Stance(start=span.start_char, end=span.end_char, polarity=span.label_, source=SOURCE)


def _foreign_record(doc: Doc, path: Path, number: int) -> Record:
    text = doc.text
    entities = [_entity(span, field) for field, span in _entity_spans(doc)]
    stance_group = doc.spans.get(STANCE_GROUP, [])
    stances = [_stance(span, f'spans["{STANCE_GROUP}"][{i}]') for i, span in enumerate(stance_group)]
    annotation = Annotation(
        document_id=document_id(text),
        annotator=DEFAULT_ANNOTATOR,
        status=Status.DONE,
        entities=entities,
        stances=stances,
        extra=_doc_extra(doc, set()),
    )
    document = Document(id=document_id(text), text=text, meta=DocumentMeta(source=path.name))
    return Record(document, [annotation], tokens=_doc_tokens(doc), path=str(path), line=number)


def _doc_extra(doc: Doc, stance_cats: set[str]) -> dict[str, Any]:
    """What the Doc holds beyond entities and stances, as Annotation.extra keys."""
    extra: dict[str, Any] = {}
    cats = {k: v for k, v in doc.cats.items() if k not in stance_cats}
    if cats:
        extra[EXTRA_CATS] = cats
    groups = {
        key: [_span_dict(s) for s in group]
        for key, group in doc.spans.items()
        if key not in (ENTITY_GROUP, STANCE_GROUP)
    }
    if groups:
        extra[EXTRA_SPANS] = groups
    tokens = _token_annotations(doc)
    if tokens:
        extra[EXTRA_TOKENS] = tokens
    user_data = [
        [_jsonable(k), _jsonable(v)] for k, v in doc.user_data.items() if k != USER_DATA_KEY
    ]
    if isinstance(doc.user_data.get(USER_DATA_KEY), str) and _is_foreign(doc.user_data[USER_DATA_KEY]):
        user_data.append([USER_DATA_KEY, doc.user_data[USER_DATA_KEY]])
    if user_data:
        extra[EXTRA_USER_DATA] = user_data
    return extra


def _is_foreign(raw: str) -> bool:
    try:
        data = json.loads(raw)
    except ValueError:
        return True
    return not (isinstance(data, dict) and data.get("format") == PAYLOAD_FORMAT)


def _jsonable(value: Any) -> Any:
    """msgpack's tuples (DocBin reads user data with use_list=False) as lists, bytes as str."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _span_dict(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {"start": span.start_char, "end": span.end_char, "label": span.label_}
    if span.kb_id_:
        out["kb_id"] = span.kb_id_
    if span.id_:
        out["span_id"] = span.id_
    return out


def _token_annotations(doc: Doc) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if len(doc) == 0:
        return out  # spaCy calls an empty Doc annotated with everything
    values = {
        "tag": [t.tag_ for t in doc],
        "pos": [t.pos_ for t in doc],
        "morph": [str(t.morph) for t in doc],
        "lemma": [t.lemma_ for t in doc],
    }
    for key, items in values.items():
        if any(items):
            out[key] = items
    if doc.has_annotation("DEP"):
        out["dep"] = [t.dep_ for t in doc]
        out["head"] = [t.head.i for t in doc]
    if doc.has_annotation("SENT_START"):
        out["sent_start"] = [_sent_start(t.is_sent_start) for t in doc]
    missing = _runs([t.i for t in doc if t.ent_iob == 0])
    if missing:
        out["ner_missing"] = missing
    return out


def _sent_start(value: bool | None) -> int:
    return 0 if value is None else (1 if value else -1)


def _runs(indices: list[int]) -> list[list[int]]:
    """[[start, end), ...] runs of consecutive token indices."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return runs


def _own_record(doc: Doc, payload: _Payload, path: Path, number: int) -> Record:
    text = doc.text
    tokens = payload.tokens if payload.tokens is not None else _doc_tokens(doc)
    if payload.tokens is not None:
        _check_tokens(payload.tokens, len(text))
    document = Document(id=payload.document.id, text=text, meta=payload.document.meta)
    if payload.annotator is None:
        ignored = []
        if len(doc.ents) or any(len(group) for group in doc.spans.values()) or doc.cats:
            ignored.append("the Doc has spans or cats but its user data says nobody annotated it: ignored")
        return Record(document, [], tokens=tokens, path=str(path), line=number, warnings=ignored)
    warnings: list[str] = []
    entities, entity_ids = _match_entities(doc, payload, text, warnings)
    stances = _match_stances(doc, payload, text, entity_ids, warnings)
    doc_stances = []
    for ds in payload.doc_stances:
        if isinstance(ds.target, EntityRef) and ds.target.entity_id not in entity_ids:
            warnings.append(f"article stance towards a removed entity dropped ({ds.polarity})")
            continue
        doc_stances.append(ds)
    off = sum(token_span(tokens, s.start, s.end) is None for s in [*entities, *stances])
    if off:
        warnings.append(f"{_n(off, 'span')} not on token boundaries (kept exactly)")
    # A key in the payload's extra was not written into the Doc: the Doc has none or a part of it.
    extra = {**_doc_extra(doc, set(payload.stance_cats)), **payload.extra}
    annotation = Annotation(
        document_id=document.id,
        annotator=payload.annotator,
        status=payload.status,
        version=payload.annotation_version,
        created_at=payload.created_at,
        updated_at=payload.updated_at,
        entities=entities,
        stances=stances,
        doc_stances=doc_stances,
        extra=extra,
    )
    return Record(document, [annotation], tokens=tokens, path=str(path), line=number, warnings=warnings)


def _check_tokens(tokens: Sequence[Token], length: int) -> None:
    previous_end = 0
    for i, token in enumerate(tokens):
        if not previous_end <= token.start < token.end <= length:
            raise RuleError(
                f"user_data.{USER_DATA_KEY}.tokens[{i}]",
                f"token {token.start}-{token.end} must be non-empty, after the previous token "
                f"(which ends at {previous_end}) and inside the text (length {length})",
            )
        previous_end = token.end


def _check_text(field: str, span: _PayloadEntity | _PayloadStance, text: str) -> None:
    if span.end > len(text):
        raise RuleError(f"{field}.end", f"{span.end} is past the end of the text (length {len(text)})")
    if text[span.start:span.end] != span.text:
        raise RuleError(
            f"{field}.text",
            f"{span.text[:60]!r} is not the document's text at {span.start}-{span.end} "
            f"({text[span.start:span.end][:60]!r})",
        )


class _Pool:
    """The Doc's spans (with where they are) by (start, end, label), each to be claimed once."""

    def __init__(self, spans: Iterable[tuple[str, Span]]) -> None:
        self.order = list(spans)
        self.free: dict[_SpanKey, list[int]] = {}
        for i, (_, span) in enumerate(self.order):
            self.free.setdefault(_key(span), []).append(i)

    def claim(self, key: _SpanKey) -> bool:
        slots = self.free.get(key)
        if not slots:
            return False
        slots.pop(0)
        return True

    def left(self) -> list[tuple[str, Span]]:
        indices = sorted(i for slots in self.free.values() for i in slots)
        return [self.order[i] for i in indices]


def _match_entities(
    doc: Doc, payload: _Payload, text: str, warnings: list[str]
) -> tuple[list[EntitySpan], set[str]]:
    """The payload's entities whose Span is still in the Doc, then the Doc's spans it does not know."""
    pool = _Pool(_entity_spans(doc))
    entities: list[EntitySpan] = []
    dropped = 0
    for i, item in enumerate(payload.entities):
        field = f"user_data.{USER_DATA_KEY}.entities[{i}]"
        _check_text(field, item, text)
        if item.span is not None and not pool.claim((*item.span, item.label)):
            dropped += 1
            continue
        entities.append(_core_entity(item))
    if dropped:
        warnings.append(f"{_n(dropped, 'entity')} in the user data no longer among the Doc's spans: dropped")
    added = [_entity(span, field) for field, span in pool.left()]
    if added:
        warnings.append(f"{_n(len(added), 'span')} of the Doc not in its user data: imported as new entities")
    entities.extend(added)
    return entities, {e.id for e in entities}


def _match_stances(
    doc: Doc, payload: _Payload, text: str, entity_ids: set[str], warnings: list[str]
) -> list[Stance]:
    group = doc.spans.get(STANCE_GROUP, [])
    pool = _Pool((f'spans["{STANCE_GROUP}"][{i}]', span) for i, span in enumerate(group))
    stances: list[Stance] = []
    dropped = unlinked = 0
    for i, item in enumerate(payload.stances):
        field = f"user_data.{USER_DATA_KEY}.stances[{i}]"
        _check_text(field, item, text)
        if item.span is not None and not pool.claim((*item.span, item.polarity)):
            dropped += 1
            continue
        stance = _core_stance(item)
        holder, target = stance.holder, stance.target
        if isinstance(holder, EntityRef) and holder.entity_id not in entity_ids:
            holder = UNKNOWN
        if isinstance(target, EntityRef) and target.entity_id not in entity_ids:
            target = UNKNOWN
        if (holder, target) != (stance.holder, stance.target):
            unlinked += 1
            stance = stance.model_copy(update={"holder": holder, "target": target})
        stances.append(stance)
    if dropped:
        warnings.append(f"{_n(dropped, 'stance')} in the user data no longer among the Doc's spans: dropped")
    if unlinked:
        warnings.append(f"{_n(unlinked, 'stance')} referred to dropped entities: holder/target now unknown")
    added = [_stance(span, field) for field, span in pool.left()]
    if added:
        warnings.append(f"{_n(len(added), 'stance span')} of the Doc not in its user data: imported as new")
    stances.extend(added)
    return stances


def _core_entity(item: _PayloadEntity) -> EntitySpan:
    fields = {name: getattr(item, name) for name in EntitySpan.model_fields}
    return EntitySpan.model_construct(_fields_set=item.model_fields_set & fields.keys(), **fields)


def _core_stance(item: _PayloadStance) -> Stance:
    fields = {name: getattr(item, name) for name in Stance.model_fields}
    return Stance.model_construct(_fields_set=item.model_fields_set & fields.keys(), **fields)


# -- writing -----------------------------------------------------------------------------------------


def write_spacy(
    records: Iterable[Record],
    out: BinaryIO,
    *,
    warnings: list[str] | None = None,
    language: str = "xx",
) -> int:
    """Write one Doc per annotation of each record (one Doc if it has none); return the records written.

    `warnings` collects one line per Doc that spaCy cannot hold exactly (spans widened to tokens,
    overlapping entities left out of `doc.ents`, tokens replaced); the exact data is in the user data
    either way. `language` is the spaCy tokenizer used when a record's tokens cannot give its text back.
    Raises RuleError if a span does not fit its document's text.
    """
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    docbin = DocBin(store_user_data=True)
    notes = warnings if warnings is not None else []
    count = 0
    for record in records:
        annotations: list[Annotation | None] = [*record.annotations] or [None]
        for annotation in annotations:
            docbin.add(_to_doc(record, annotation, vocab, language, notes))
        count += 1
    out.write(docbin.to_bytes())
    return count


def _words(text: str, tokens: Sequence[Token]) -> tuple[list[str], list[bool]] | None:
    """Words and trailing spaces that give back `text` exactly, from tokens that cover every
    non-whitespace character; None when they cannot."""
    words: list[str] = []
    spaces: list[bool] = []
    position = 0
    for token in tokens:
        if not position <= token.start < token.end <= len(text):
            return None
        if token.start > position and not _fill(text[position:token.start], words, spaces):
            return None
        words.append(text[token.start:token.end])
        spaces.append(False)
        position = token.end
    if position < len(text) and not _fill(text[position:], words, spaces):
        return None
    return words, spaces


def _fill(gap: str, words: list[str], spaces: list[bool]) -> bool:
    """Whitespace between tokens: one space after a word is its trailing space; the rest is a token."""
    if not gap.isspace():
        return False
    if gap[0] == " " and words:
        spaces[-1] = True
        gap = gap[1:]
    if gap:
        words.append(gap)
        spaces.append(False)
    return True


def _make_doc(
    record: Record, vocab: Vocab, language: str, extra: dict[str, Any], notes: list[str]
) -> tuple[Doc, bool]:
    """The Doc of a record's text and tokens, and whether the annotation's `spacy_tokens` are in it."""
    from spacy.tokens import Doc

    text = record.document.text
    built = _words(text, record.tokens) if record.tokens is not None else None
    if built is None:
        if record.tokens is not None:
            notes.append(f"{_where(record)}: its tokens do not cover the text; re-tokenized with spaCy")
        from annotator.nlp.tokens import tokenize

        built = _words(text, tokenize(text, language))
        if built is None:  # pragma: no cover - spaCy's tokens always cover the text
            raise RuleError("tokens", f"document {record.document.id!r} cannot be tokenized")
    words, spaces = built
    attrs = _token_arguments(extra.get(EXTRA_TOKENS), len(words)) if EXTRA_TOKENS in extra else None
    doc = None
    if attrs is not None:
        try:
            doc = Doc(vocab, words=words, spaces=spaces, **attrs)
        except Exception:  # spaCy refuses values it does not know (a part of speech, ...)
            doc = None
    if EXTRA_TOKENS in extra and doc is None:
        notes.append(
            f"{_where(record)}: its spaCy token annotations (tags, lemmas, ...) do not fit its tokens; "
            "kept in the user data only"
        )
    applied = doc is not None
    if doc is None:
        doc = Doc(vocab, words=words, spaces=spaces)
    if doc.text != text:  # pragma: no cover - guarded by _words
        raise RuleError("text", f"document {record.document.id!r}: spaCy changed the text")
    return doc, applied


def _token_arguments(data: Any, length: int) -> dict[str, Any] | None:
    """Doc() keyword arguments from Annotation.extra["spacy_tokens"]; None when they do not fit."""
    if not isinstance(data, dict):
        return None
    out: dict[str, Any] = {"words": None}  # a marker that the data fits, taken out below
    for key, value in data.items():
        if key in _TOKEN_LISTS:
            if not (isinstance(value, list) and len(value) == length):
                return None
            if not all(isinstance(v, str) for v in value):
                return None
            out[_TOKEN_LISTS[key]] = value
        elif key in ("head", "sent_start"):
            if not (
                isinstance(value, list)
                and len(value) == length
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            ):
                return None
            if key == "head":
                if not all(0 <= v < length for v in value):
                    return None
                out["heads"] = value
            else:
                out["sent_starts"] = [None if v == 0 else v == 1 for v in value]
        elif key == "ner_missing":
            if not (isinstance(value, list) and all(_is_run(v, length) for v in value)):
                return None
        else:
            return None
    if ("heads" in out) != ("deps" in out):
        return None
    del out["words"]
    return out


def _is_run(value: Any, length: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] < value[1] <= length
    )


def _where(record: Record, annotation: Annotation | None = None) -> str:
    who = f" ({annotation.annotator})" if annotation is not None else ""
    return f"document {record.document.id}{who}"


def _align(doc: Doc, start: int, end: int, label: str, **ids: Any) -> Span | None:
    span = doc.char_span(start, end, label=label, alignment_mode="strict", **ids)
    if span is None:
        span = doc.char_span(start, end, label=label, alignment_mode="expand", **ids)
    if span is None or len(span) == 0:
        return None
    return span


def _to_doc(
    record: Record, annotation: Annotation | None, vocab: Vocab, language: str, notes: list[str]
) -> Doc:
    document = record.document
    text = document.text
    extra = dict(annotation.extra) if annotation is not None else {}
    doc, tokens_written = _make_doc(record, vocab, language, extra, notes)
    doc_tokens = _doc_tokens(doc)
    tokens = record.tokens
    payload: dict[str, Any] = {
        "format": PAYLOAD_FORMAT,
        "version": PAYLOAD_VERSION,
        "document": {"id": document.id, "meta": document.meta.model_dump(mode="json")},
        "tokens": None if tokens is None or list(tokens) == doc_tokens else [list(t) for t in tokens],
    }
    if annotation is None:
        payload["annotator"] = None
        doc.user_data[USER_DATA_KEY] = _dumps(payload)
        return doc
    if annotation.document_id != document.id:
        raise RuleError(
            "document_id",
            f"annotation by {annotation.annotator!r} is for {annotation.document_id!r}, not {document.id!r}",
        )
    where = _where(record, annotation)
    written = {EXTRA_TOKENS} if tokens_written else set()

    # Entities: all in spans["sc"], the ones that do not overlap in doc.ents.
    entity_items = []
    spans: list[Span] = []
    widened = unplaced = 0
    for i, e in enumerate(annotation.entities):
        _check_bounds(f"entities[{i}]", e.start, e.end, text)
        ids = {k: v for k, v in (("kb_id", e.extra.get("kb_id")), ("span_id", e.extra.get("span_id")))
               if isinstance(v, str) and v}
        span = _align(doc, e.start, e.end, e.label, **ids)
        if span is None:
            unplaced += 1
        else:
            spans.append(span)
            widened += (span.start_char, span.end_char) != (e.start, e.end)
        item = e.model_dump(mode="json")
        item["text"] = text[e.start:e.end]
        item["span"] = None if span is None else [span.start_char, span.end_char]
        entity_items.append(item)
    doc.spans[ENTITY_GROUP] = spans
    ents = _non_overlapping(spans)
    missing = _missing_runs(doc, extra.get(EXTRA_TOKENS), ents) if tokens_written else []
    doc.set_ents(ents, missing=missing, default="outside")
    if len(ents) < len(spans):
        notes.append(
            f"{where}: {_n(len(spans) - len(ents), 'entity')} overlapping others only in doc.spans"
            f"[{ENTITY_GROUP!r}], not in doc.ents (kept the longest, then the earliest)"
        )

    # Stances: their evidence in spans["stance"], labelled with the polarity.
    stance_items = []
    stance_spans: list[Span] = []
    for i, s in enumerate(annotation.stances):
        _check_bounds(f"stances[{i}]", s.start, s.end, text)
        span = _align(doc, s.start, s.end, s.polarity)
        if span is None:
            unplaced += 1
        else:
            stance_spans.append(span)
            widened += (span.start_char, span.end_char) != (s.start, s.end)
        item = s.model_dump(mode="json")
        item["text"] = text[s.start:s.end]
        item["span"] = None if span is None else [span.start_char, span.end_char]
        stance_items.append(item)
    if stance_spans:
        doc.spans[STANCE_GROUP] = stance_spans
    if widened:
        notes.append(
            f"{where}: {_n(widened, 'span')} not on token boundaries, written widened to whole tokens "
            "(exact offsets in the user data)"
        )
    if unplaced:
        notes.append(f"{where}: {_n(unplaced, 'span')} covering no token, only in the user data")

    # Article stances and other document labels.
    cats, stance_cats = _cats(annotation, extra, text, written)
    doc.cats = cats
    _other_groups(doc, extra.get(EXTRA_SPANS), written, where, notes)
    _foreign_user_data(doc, extra.get(EXTRA_USER_DATA), written)

    dumped = annotation.model_dump(mode="json", exclude={"document_id", "entities", "stances", "version"})
    payload.update(
        annotator=annotation.annotator,
        status=dumped["status"],
        annotation_version=annotation.version,
        created_at=dumped["created_at"],
        updated_at=dumped["updated_at"],
        entities=entity_items,
        stances=stance_items,
        doc_stances=dumped["doc_stances"],
        stance_cats=stance_cats,
        extra={k: v for k, v in dumped["extra"].items() if k not in written},
    )
    doc.user_data[USER_DATA_KEY] = _dumps(payload)
    return doc


def _check_bounds(field: str, start: int, end: int, text: str) -> None:
    if not 0 <= start < end <= len(text):
        raise RuleError(field, f"span {start}-{end} does not fit the text (length {len(text)})")


def _non_overlapping(spans: list[Span]) -> list[Span]:
    """The longest spans first, then the earliest, each kept if none of its tokens is taken yet."""
    taken: set[int] = set()
    kept = []
    ranked = sorted(
        enumerate(spans), key=lambda p: (-(p[1].end_char - p[1].start_char), p[1].start_char, p[0])
    )
    for _, span in ranked:
        cover = range(span.start, span.end)
        if taken.isdisjoint(cover):
            taken.update(cover)
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def _missing_runs(doc: Doc, data: Any, ents: list[Span]) -> list[Span]:
    """The tokens a foreign Doc had no NER annotation for, less those now inside an entity."""
    runs = data.get("ner_missing") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(_is_run(run, len(doc)) for run in runs):
        return []
    inside = {i for e in ents for i in range(e.start, e.end)}
    indices = sorted(
        i
        for run in runs
        for i in range(run[0], run[1])
        if i not in inside
    )
    return [doc[a:b] for a, b in _runs(indices)]


def _cats(
    annotation: Annotation, extra: dict[str, Any], text: str, written: set[str]
) -> tuple[dict[str, float], list[str]]:
    cats: dict[str, float] = {}
    given = extra.get(EXTRA_CATS)
    if isinstance(given, dict) and all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in given.items()
    ):
        cats.update(given)
        written.add(EXTRA_CATS)
    stance_cats = []
    for ds in annotation.doc_stances:
        key = f"{_target_name(ds, annotation, text)}:{ds.polarity}"
        cats[key] = 1.0
        stance_cats.append(key)
    return cats, stance_cats


def _target_name(ds: DocumentStance, annotation: Annotation, text: str) -> str:
    if isinstance(ds.target, TopicRef):
        return ds.target.topic
    entity = annotation.entity(ds.target.entity_id)
    return text[entity.start:entity.end] if entity is not None else ds.target.entity_id


def _other_groups(doc: Doc, data: Any, written: set[str], where: str, notes: list[str]) -> None:
    if not isinstance(data, dict):
        return
    groups: dict[str, list[Span]] = {}
    for key, items in data.items():
        if key in (ENTITY_GROUP, STANCE_GROUP) or not isinstance(items, list):
            return
        spans = []
        for item in items:
            if not isinstance(item, dict):
                return
            start, end, label = item.get("start"), item.get("end"), item.get("label")
            if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str)):
                return
            ids = {k: item[k] for k in ("kb_id", "span_id") if isinstance(item.get(k), str)}
            span = _align(doc, start, end, label, **ids) if 0 <= start < end <= len(doc.text) else None
            if span is None or (span.start_char, span.end_char) != (start, end):
                notes.append(f"{where}: span group {key!r} does not fit the tokens; kept in the user data")
                return
            spans.append(span)
        groups[key] = spans
    for key, spans in groups.items():
        doc.spans[key] = spans
    written.add(EXTRA_SPANS)


def _foreign_user_data(doc: Doc, data: Any, written: set[str]) -> None:
    if not isinstance(data, list) or not all(isinstance(p, list) and len(p) == 2 for p in data):
        return
    user_data: dict[Any, Any] = doc.user_data
    complete = True
    for key, value in data:
        if key == USER_DATA_KEY:
            complete = False  # ours takes this key; theirs stays in our payload
            continue
        user_data[tuple(key) if isinstance(key, list) else key] = value
    if complete:
        written.add(EXTRA_USER_DATA)


def _n(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def _dumps(payload: dict[str, Any]) -> str:
    # The standard library's JSON: it writes integers of any size, which extras may hold.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
