"""Prodigy JSONL: what `prodigy db-out` writes, and the input files Prodigy reads.

Reading
-------
One task per line. The text is under `text` (a record without it, such as an image task, is an error
naming the line). The document id is content-based, so every record of the same text becomes one
document, whoever annotated it and whatever it asked.

Who annotated: `_annotator_id`, else `_session_id`, else "imported" (`read_prodigy(path,
annotator=...)` overrides them before records are merged). All records of one text by one annotator
become ONE annotation, so nothing is lost when a text was asked about several times (`ner.teach`
asks once per suggested span, `textcat.teach` once per label): each record is kept as a "task" in
`Annotation.extra["prodigy"]`, a list with one entry per record, in file order. An entry holds the
record's keys in their order with their values as given (`answer`, `_input_hash`, `_task_hash`,
`_view_id`, `_session_id`, `label`, `cats`, `accept`, `options`, `priority`, `versions`, any unknown
key), except for the keys the model holds, whose value there is only what is needed to write them
back:

- `text`: null;
- `meta`: null when the document's metadata gives it back, else the record's own object (a value
  that is not an object is kept inside a one-item list). The document's metadata is the first
  record's: string `title`, `author`, `source` and `url` fill the DocumentMeta fields, the other
  keys go into `DocumentMeta.extra` as they are;
- `tokens`: null for the usual `{text, start, end, id, ws}` tokens; `{"keys": [...], "disabled":
  [indices]}` when the tokens have other keys (no `ws`, or `disabled` flags, which are kept as the
  list of disabled token indices); the tokens as given when they are unusual in another way or
  differ from the document's tokens. The document's tokens are the first record's;
- `spans`: null when the record's spans are exactly the annotation's entities; else a list whose
  items are entity ids, or span objects as given for spans that are not entities (below);
- `relations`: the relations as given, except that a head or child span that is one of the record's
  entities is replaced by that entity's id (and `head`/`child` by null), so that relations follow
  the entities when they are relabelled and are left out when they are deleted;
- `stance_spans`, `doc_stances`: null, marking where the annotation's stances are written again.

Spans become entities (source "imported"/"prodigy"); a span's keys besides start, end and label
(`text`, `token_start`, `token_end`, `source`, `score`, `rank`, `input_hash`, `answer`, `type`, ...)
are kept in `EntitySpan.extra["prodigy"]` (with start, end and label as null placeholders when the
file had the span's keys in an order of its own, so that the order comes back). In a binary task
(`_view_id` "ner", or without a view id, spans that carry their own `answer`, as old `ner.teach`
data does) a span is an entity only when it was accepted (its own `answer`, else the record's): a
rejected suggestion says what the text is *not*. Rejected and ignored spans stay in the task as
given. The same span object in two records of one annotation (a span accepted in one task and
repeated in the next) is one entity.

Status: `answer` "accept" is done, "ignore" is skipped, "reject" is done (a rejection is an answer)
except in manual views (`ner_manual`, `spans_manual`, `relations`), where a rejected example is
skipped, as Prodigy's training skips it. A record without `answer` is done, as `prodigy db-in` takes
it (answer "accept"). A merged annotation is done when any of its records is. A record with neither
`answer` nor any annotation (spans, relations, cats, label, accept, stances) is an input task: a
document without annotation; its keys other than text and meta, if any, are kept in
`DocumentMeta.extra["prodigy"]`.

Spans that do not fall on the record's tokens (or, without tokens, on spaCy's English tokens) are
kept as given and counted in a warning. Labels the project lacks are added by the store.

The file is read twice: first to find the texts that have several records. Those records are held
back until the last of them has been read, so such a document comes later in the project (and in
an export) than its first record came in the file; every other record streams.

Writing
-------
One line per task of each annotation, rebuilt from its entry: the keys come back in their order,
`answer`, hashes and unknown keys as given (hashes that a file had are never changed), tokens with
the file's keys, spans with their own keys and their `text`, `token_start` and `token_end` taken from
the document. Entities added later go into the first task that is not binary (else into a new
record). When the annotation's status or annotator was changed here, the tasks' `answer` (done:
"accept", skipped: "ignore") and `_annotator_id` follow.

Annotations made here (with no Prodigy task behind them) are written as `ner_manual`-style records:
text, meta, `_input_hash`, `_task_hash`, tokens, spans with `token_start`/`token_end`, `answer`
("accept" when done, "ignore" when skipped; in progress and not started have no answer and carry
`"annotation_status"` instead), `_view_id` ("ner_manual", or "spans_manual" when entities overlap)
and `_annotator_id` (unless "imported"). The hashes are those of the document's input task or of
another annotator's task of the same text when there is one. Otherwise they are computed the way
Prodigy describes it (MurmurHash3, 32-bit signed, of the JSON of the input keys, and of the input
hash followed by the JSON of the task keys) but not byte for byte as Prodigy does: the values are
stable (same text and spans, same hashes) but differ from those Prodigy itself would give.

A document without annotation is written as an input task: text and meta (or its kept input records).

Stances
-------
Prodigy has no stances. They are written with the annotation's first task:

- `"stance_spans": [{"id", "start", "end", "token_start", "token_end", "label": <polarity>}]`,
  with `"holder": "author"` when the article's author holds the stance and `"topic": "<topic>"` when
  the target is a topic (an unknown holder or target is left out);
- a holder or target that is an entity is a relation in `relations`, in Prodigy's shape (`head`,
  `child`, `head_span`, `child_span`): label "STANCE_HOLDER" from the entity's span to the stance
  span, "STANCE_TARGET" from the stance span to the entity's span. The stance span in a relation
  carries the stance's `id`;
- article stances: `"doc_stances": [{"label": <polarity>, "topic": "<topic>"}]`, or with
  `"span": {start, end, token_start, token_end, label}` naming the target entity.

Reading takes these back, from any record of the annotation; other keys on a stance span are not
kept. Stance ids are kept, so that an export of an import gives the same file.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    AUTHOR,
    UNKNOWN,
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
    Token,
    TopicRef,
    new_id,
)
from annotator.formats.base import ReadItem, Record, iter_lines
from annotator.formats.jsonl import UTF8_BOM, first_object, read_objects
from annotator.formats.text import document_id

NAME = "prodigy"
SOURCE = SpanSource(kind="imported", name=NAME)
EXTRA_KEY = "prodigy"
STATUS_KEY = "annotation_status"
STANCE_SPANS = "stance_spans"
DOC_STANCES = "doc_stances"
HOLDER_RELATION = "STANCE_HOLDER"
TARGET_RELATION = "STANCE_TARGET"
DEFAULT_ANNOTATOR = "imported"

_STANDARD_TOKEN_KEYS = ("text", "start", "end", "id", "ws")
_TOKEN_KEYS = frozenset({"text", "start", "end", "id", "ws", "disabled"})
_MANUAL_VIEWS = frozenset({"ner_manual", "spans_manual", "relations"})
_BINARY_VIEWS = frozenset({"ner"})
_META_FIELDS = ("title", "author", "source", "url")
_ANNOTATION_KEYS = ("spans", "relations", "cats", "accept", STANCE_SPANS, DOC_STANCES)
# Prodigy's task keys and the keys it leaves out of hashes.
_TASK_HASH_KEYS = ("spans", "label", "options", "arcs", STANCE_SPANS, DOC_STANCES)
_IGNORE_HASH_KEYS = frozenset(
    {"score", "rank", "model", "source", "pattern", "priority", "path", "_view_id", "_session_id",
     "_annotator_id", "answer"}
)
_SPAN_DERIVED = ("text", "token_start", "token_end")
_STATUS_VALUES = frozenset(s.value for s in Status)
_MAX_LABEL = 64
_MAX_ANNOTATOR = 200

_start = itemgetter(0)
_end = itemgetter(1)


# -- hashes ------------------------------------------------------------------------------------------


def _murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit as a signed int (what `murmurhash.hash` and `mmh3.hash` return)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    length = len(data)
    tail = length - length % 4
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    k = 0
    rest = length & 3
    if rest == 3:
        k ^= data[tail + 2] << 16
    if rest >= 2:
        k ^= data[tail + 1] << 8
    if rest >= 1:
        k ^= data[tail]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


try:  # the C implementation spaCy brings; the same numbers, faster
    from murmurhash.mrmr import hash_bytes as _fast_hash
except ImportError:  # pragma: no cover - spaCy depends on murmurhash
    _fast_hash = None


def murmurhash32(data: bytes) -> int:
    return int(_fast_hash(data)) if _fast_hash is not None else _murmur3_32(data)


def input_hash(text: str) -> int:
    """A stable signed 32-bit hash of the input (Prodigy's scheme; not Prodigy's exact numbers)."""
    return murmurhash32(orjson.dumps({"text": text}, option=orjson.OPT_SORT_KEYS))


def task_hash(record: dict[str, Any], input_hash_value: int) -> int:
    """A stable signed 32-bit hash of the input hash and the record's task keys (spans, label, ...)."""
    values = {key: _hash_value(record[key]) for key in _TASK_HASH_KEYS if key in record}
    return murmurhash32(str(input_hash_value).encode() + orjson.dumps(values, option=orjson.OPT_SORT_KEYS))


def _hash_value(value: Any) -> Any:
    if isinstance(value, list):
        if all(type(v) is dict and _IGNORE_HASH_KEYS.isdisjoint(v) for v in value):
            return value  # the usual spans: nothing to leave out (nested values are plain numbers)
        return [_hash_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _hash_value(v) for k, v in value.items() if k not in _IGNORE_HASH_KEYS}
    return value


# -- reading -----------------------------------------------------------------------------------------


@dataclass
class _Span:
    start: int
    end: int
    label: str
    raw: dict[str, Any]
    entity: bool


@dataclass
class _Task:
    """One record, checked and taken apart; put together with the other records of its text later."""

    line: int
    data: dict[str, Any]
    annotator: str
    status: Status
    annotated: bool
    tokens: list[Token] | None = None
    token_form: Any = None
    spans: list[_Span] = field(default_factory=list)
    stances: list[Stance] = field(default_factory=list)


def read_prodigy(path: Path | str, *, annotator: str | None = None) -> Iterator[ReadItem]:
    """One Record per text and annotator, holding all that annotator's records of the text in one
    annotation (the store puts the annotations of one text together in one document).

    `annotator` (the `--annotator` option) replaces the file's annotators before records are
    merged, so that the records of one text become one annotation rather than several that the
    store would keep only the first of.

    The file is read twice: first to find which texts have several records by one annotator, so
    that only those are held back (until their last record) and the rest streams. A bad record is
    yielded as an InputError naming its line and field; problems with the whole file are raised.
    """
    path = Path(path)
    groups, documents = _plan(path, annotator)
    pending: dict[tuple[str, str], list[_Task]] = {}
    # The document as the first Record of a text had it (which is what the store keeps), for the
    # texts that several annotators' Records share.
    references: dict[str, _Reference] = {}
    for item in read_objects(path):
        if isinstance(item, InputError):
            yield item
            continue
        number, data = item
        text = data.get("text")
        if not isinstance(text, str):
            yield InputError(_no_text(data), path=path, line=number, field="text")
            continue
        doc_id = document_id(text)
        task: _Task | None = None
        try:
            task = _parse_task(data, text, number, annotator)
        except RuleError as exc:
            yield InputError(exc.message, path=path, line=number, field=exc.field or None)
        key = (doc_id, annotator or _annotator_of(data))
        last = groups.get(key)
        tasks: list[_Task] = []
        if last is None:
            tasks = [task] if task is not None else []
        else:
            group = pending.setdefault(key, [])
            if task is not None:
                group.append(task)
            if number == last:
                tasks = pending.pop(key)
        shared = doc_id in documents
        if tasks:
            reference = references.get(doc_id) if shared else None
            result, made = _record_or_error(doc_id, text, tasks, path, reference, shared)
            if made is not None and reference is None:
                references[doc_id] = made
            yield result
        if shared and number == documents[doc_id]:
            references.pop(doc_id, None)
    for (doc_id, _), group in pending.items():  # pragma: no cover - only if the file changed while read
        if group:
            text = group[0].data["text"]
            yield _record_or_error(doc_id, text, group, path, references.get(doc_id), False)[0]


def _plan(path: Path, override: str | None) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """From a first reading: the line of the last record of each (document, annotator) that has
    several records, and of each document that several annotators' records share.

    When the annotator is given, only the text is needed: when a line starts with it (as `prodigy
    db-out` writes), only its string is parsed. Bad lines are left to the reading proper, which
    reports them.
    """
    group_last: dict[tuple[str, str], int] = {}
    groups: set[tuple[str, str]] = set()
    doc_last: dict[str, int] = {}
    doc_first: dict[str, str] = {}
    shared: set[str] = set()
    try:
        fh = path.open("rb")
    except OSError:
        return {}, {}  # the reading proper says why
    with fh:
        for number, raw in iter_lines(fh):
            if number == 1:
                raw = raw.removeprefix(UTF8_BOM)
            text = _leading_text(raw) if override else None
            who = override
            if text is None or who is None:
                try:
                    data = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                    continue
                text, who = data["text"], override or _annotator_of(data)
            doc_id = document_id(text)
            key = (doc_id, who)
            if key in group_last:
                groups.add(key)
            group_last[key] = number
            if doc_first.setdefault(doc_id, who) != who:
                shared.add(doc_id)
            doc_last[doc_id] = number
    return {key: group_last[key] for key in groups}, {doc_id: doc_last[doc_id] for doc_id in shared}


_LEADING_TEXT = re.compile(rb'\s*\{\s*"text"\s*:\s*"')


def _leading_text(raw: bytes) -> str | None:
    """The value of `text` when it is the line's first key; None when it is not or cannot be read."""
    match = _LEADING_TEXT.match(raw)
    if match is None:
        return None
    opening = match.end() - 1
    i = match.end()
    while True:
        quote = raw.find(b'"', i)
        if quote < 0:
            return None
        backslashes = 0
        while raw[quote - 1 - backslashes] == 0x5C:  # the quote is escaped by an odd number of them
            backslashes += 1
        if backslashes % 2 == 0:
            break
        i = quote + 1
    try:
        value = orjson.loads(raw[opening:quote + 1])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _no_text(data: dict[str, Any]) -> str:
    if "text" not in data:
        other = next((k for k in ("image", "audio", "video", "html") if k in data), None)
        if other:
            return f"is required: records without text (this one has {other!r}) cannot be imported"
        return "is required"
    return "must be a string"


def _parse_task(data: dict[str, Any], text: str, number: int, override: str | None) -> _Task:
    answer = data.get("answer")
    annotated = (
        "answer" in data
        or STATUS_KEY in data
        or any(data.get(key) for key in _ANNOTATION_KEYS)
        or data.get("label") not in (None, "")
    )
    task = _Task(
        line=number,
        data=data,
        annotator=override or _file_annotator(data),
        status=Status.DONE,
        annotated=annotated,
    )
    if "tokens" in data:
        task.tokens, task.token_form = _parse_tokens(data["tokens"], text)
    binary = False
    if "spans" in data:
        spans = data["spans"]
        binary = _is_binary(data.get("_view_id"), spans)
        task.spans = _parse_spans(spans, text, answer if binary else None, binary)
    task.status = _status(data, binary)
    if data.get(STANCE_SPANS) is not None:
        task.stances = _parse_stance_spans(data[STANCE_SPANS], text)
    return task


def _annotator_of(data: dict[str, Any]) -> str:
    """Who a record says annotated it (without refusing anything)."""
    for key in ("_annotator_id", "_session_id"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return DEFAULT_ANNOTATOR


def _file_annotator(data: dict[str, Any]) -> str:
    who = _annotator_of(data)
    if len(who) > _MAX_ANNOTATOR:
        key = "_annotator_id" if data.get("_annotator_id") == who else "_session_id"
        raise RuleError(key, f"an annotator name is at most {_MAX_ANNOTATOR} characters")
    return who


def _is_binary(view: Any, spans: Any) -> bool:
    if isinstance(view, str):
        return view in _BINARY_VIEWS
    return isinstance(spans, list) and any(isinstance(s, dict) and "answer" in s for s in spans)


def _status(data: dict[str, Any], binary: bool) -> Status:
    given = data.get(STATUS_KEY)
    if given in _STATUS_VALUES:
        return Status(given)
    answer = data.get("answer")
    if answer == "ignore":
        return Status.SKIPPED
    if answer == "reject" and not binary and data.get("_view_id") in _MANUAL_VIEWS:
        return Status.SKIPPED
    return Status.DONE


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise RuleError(f"{where}.{key}", "is required" if key not in obj else "must be an integer")


def _parse_tokens(value: Any, text: str) -> tuple[list[Token] | None, Any]:
    """The tokens, and how to write them back (see the module's docstring)."""
    if not isinstance(value, list):
        raise RuleError("tokens", "must be a list of token objects")
    if not value:
        return None, value
    length = len(text)
    tokens: list[Token] = []
    append = tokens.append
    new_token = tuple.__new__  # Token(...) goes through Python code; this does not
    previous_end = 0
    for i, tok in enumerate(value):
        if type(tok) is not dict:
            raise RuleError(f"tokens[{i}]", "must be an object with start and end")
        start, end = tok.get("start"), tok.get("end")
        if type(start) is not int or type(end) is not int:
            start, end = _int(tok, "start", f"tokens[{i}]"), _int(tok, "end", f"tokens[{i}]")
        if not previous_end <= start < end <= length:
            raise RuleError(
                f"tokens[{i}]",
                f"token {start}-{end} must be non-empty, after the previous token (which ends at "
                f"{previous_end}) and inside the text (length {length})",
            )
        word = text[start:end]
        given = tok.get("text", word)
        if given != word:
            raise RuleError(
                f"tokens[{i}].text", f"{_short(given)} is not the text at {start}-{end} ({_short(word)})"
            )
        ws = tok.get("ws")
        if type(ws) is not bool:
            ws = text[end:end + 1] == " "
        append(new_token(Token, (start, end, ws)))
        previous_end = end
    return tokens, _token_form(value)


def _token_form(value: list[dict[str, Any]]) -> Any:
    """null for the usual token keys, {"keys", "disabled"} for other keys that every token has in
    the same order, else the tokens themselves."""
    shapes = set(map(tuple, value))
    if len(shapes) != 1:
        return value
    keys = shapes.pop()
    if not _TOKEN_KEYS.issuperset(keys):
        return value
    if "id" in keys and list(map(itemgetter("id"), value)) != list(range(len(value))):
        return value
    if "ws" in keys and set(map(type, map(itemgetter("ws"), value))) != {bool}:
        return value
    form: dict[str, Any] = {"keys": list(keys)}
    if "disabled" in keys:
        flags = list(map(itemgetter("disabled"), value))
        if set(map(type, flags)) != {bool}:
            return value
        form["disabled"] = [i for i, f in enumerate(flags) if f]
    return None if keys == _STANDARD_TOKEN_KEYS else form


def _parse_spans(value: Any, text: str, task_answer: Any, binary: bool) -> list[_Span]:
    if not isinstance(value, list):
        raise RuleError("spans", "must be a list of span objects")
    out = []
    for i, span in enumerate(value):
        start, end, label = _check_span(span, f"spans[{i}]", text)
        entity = True
        if binary:
            verdict = span.get("answer", task_answer)
            entity = verdict == "accept"
        if entity:
            _check_name(label, f"spans[{i}].label", "label")
        out.append(_Span(start, end, label, span, entity))
    return out


def _check_span(span: Any, where: str, text: str) -> tuple[int, int, str]:
    if not isinstance(span, dict):
        raise RuleError(where, "must be an object with start, end and label")
    start, end = _int(span, "start", where), _int(span, "end", where)
    if not 0 <= start < end <= len(text):
        raise RuleError(
            where, f"span {start}-{end} must satisfy 0 <= start < end <= {len(text)} (the text's length)"
        )
    label = span.get("label")
    if not isinstance(label, str) or not label:
        problem = "is required" if "label" not in span else "must be a non-empty string"
        raise RuleError(f"{where}.label", problem)
    if "text" in span and span["text"] != text[start:end]:
        raise RuleError(
            f"{where}.text",
            f"{_short(span['text'])} is not the text at {start}-{end} ({_short(text[start:end])})",
        )
    return start, end, label


def _check_name(name: str, where: str, what: str) -> None:
    if len(name) > _MAX_LABEL or any(c.isspace() for c in name):
        raise RuleError(
            where, f"{what} {name!r} cannot be used: names have at most {_MAX_LABEL} characters and no spaces"
        )


def _short(value: Any, limit: int = 60) -> str:
    if not isinstance(value, str):
        return repr(value)
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value)} characters)"


def _parse_stance_spans(value: Any, text: str) -> list[Stance]:
    if not isinstance(value, list):
        raise RuleError(STANCE_SPANS, "must be a list of span objects")
    out: list[Stance] = []
    seen: set[str] = set()
    for i, span in enumerate(value):
        where = f"{STANCE_SPANS}[{i}]"
        start, end, polarity = _check_span(span, where, text)
        _check_name(polarity, f"{where}.label", "polarity")
        sid = span.get("id")
        if sid is None:
            sid = new_id()
        elif not isinstance(sid, str) or not sid:
            raise RuleError(f"{where}.id", "must be a non-empty string")
        if sid in seen:
            raise RuleError(f"{where}.id", f"id {sid!r} is used twice")
        seen.add(sid)
        holder = span.get("holder")
        if holder not in (None, "author", "unknown"):
            raise RuleError(f"{where}.holder", 'must be "author" (an entity holder is a relation)')
        topic = span.get("topic")
        if topic is not None and (not isinstance(topic, str) or not topic.strip()):
            raise RuleError(f"{where}.topic", "must be a non-blank string")
        out.append(
            Stance(
                id=sid,
                start=start,
                end=end,
                polarity=polarity,
                holder=AUTHOR if holder == "author" else UNKNOWN,
                target=TopicRef(topic=topic) if topic is not None else UNKNOWN,
                source=SOURCE,
            )
        )
    return out


@dataclass
class _Reference:
    """What the first Record of a text that several annotators share said about the document."""

    meta: DocumentMeta
    tokens: bytes | None  # a fingerprint


def _fingerprint(tokens: list[Token] | None) -> bytes | None:
    if tokens is None:
        return None
    flat = array("q", itertools.chain.from_iterable(tokens))
    return hashlib.blake2b(flat.tobytes(), digest_size=16).digest()


def _record_or_error(
    doc_id: str, text: str, tasks: list[_Task], path: Path, reference: _Reference | None, shared: bool
) -> tuple[ReadItem, _Reference | None]:
    try:
        return _record(doc_id, text, tasks, path, reference, shared)
    except RuleError as exc:
        return InputError(exc.message, path=path, line=tasks[0].line, field=exc.field or None), None


def _record(
    doc_id: str, text: str, tasks: list[_Task], path: Path, reference: _Reference | None, shared: bool
) -> tuple[Record, _Reference | None]:
    tokens = next((t.tokens for t in tasks if t.tokens is not None), None)
    same_tokens: Callable[[list[Token] | None], bool]
    made = None
    if reference is None:
        meta_value = next((t.data["meta"] for t in tasks if isinstance(t.data.get("meta"), dict)), None)
        meta = _document_meta(meta_value)
        same_tokens = tokens.__eq__
        if shared:
            made = _Reference(meta.model_copy(deep=True), _fingerprint(tokens))
    else:
        meta = reference.meta.model_copy(deep=True)
        fingerprint = reference.tokens
        same_tokens = lambda given: given is not None and _fingerprint(given) == fingerprint  # noqa: E731
    rebuilt_meta = meta_dict(meta)
    builders: dict[str, _AnnotationBuilder] = {}
    inputs: list[dict[str, Any]] = []
    for task in tasks:
        if task.annotated:
            builder = builders.get(task.annotator)
            if builder is None:
                builder = builders[task.annotator] = _AnnotationBuilder(doc_id, task.annotator, text)
            builder.add(task)
        else:
            inputs.append(_rest(task, rebuilt_meta, same_tokens))
    if inputs and not _trivial_inputs(inputs, rebuilt_meta):
        meta.extra[EXTRA_KEY] = inputs
    annotations = [b.finish(rebuilt_meta, same_tokens) for b in builders.values()]
    warnings = _boundary_warning(text, tokens, tasks)
    document = Document(id=doc_id, text=text, meta=meta)
    record = Record(
        document=document, annotations=annotations, tokens=tokens, path=str(path), line=tasks[0].line,
        warnings=warnings,
    )
    return record, made


def _document_meta(value: dict[str, Any] | None) -> DocumentMeta:
    if not value:
        return DocumentMeta()
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        if key in _META_FIELDS and isinstance(item, str):
            fields[key] = item
        elif key != EXTRA_KEY:
            extra[key] = item
    return DocumentMeta(**fields, extra=extra)


def meta_dict(meta: DocumentMeta) -> dict[str, Any]:
    """A document's metadata as a Prodigy `meta` object (without this module's own entry)."""
    out: dict[str, Any] = {}
    for key in ("title", "author", "published", "source", "url"):
        value = getattr(meta, key)
        if value is not None:
            out[key] = value
    for key, value in meta.extra.items():
        if key != EXTRA_KEY:
            out[key] = value
    return out


def _trivial_inputs(inputs: list[dict[str, Any]], rebuilt_meta: dict[str, Any]) -> bool:
    """Whether a document's input records say no more than its text and metadata do."""
    if len(inputs) != 1:
        return False
    keys = list(inputs[0])
    if keys == ["text"]:
        return not rebuilt_meta
    return keys == ["text", "meta"] and inputs[0]["meta"] is None and bool(rebuilt_meta)


_KEEP: Any = object()


def _rest(
    task: _Task,
    rebuilt_meta: dict[str, Any],
    same_tokens: Callable[[list[Token] | None], bool],
    spans: Any = _KEEP,
) -> dict[str, Any]:
    """The record's keys in order, each holding its value or what it takes to write it back."""
    rest: dict[str, Any] = {}
    for key, value in task.data.items():
        if key == "text":
            rest[key] = None
        elif key == "meta":
            rest[key] = _meta_entry(value, rebuilt_meta)
        elif key == "tokens":
            rest[key] = task.token_form if same_tokens(task.tokens) else value
        elif key == "spans":
            rest[key] = value if spans is _KEEP else spans
        elif key in (STANCE_SPANS, DOC_STANCES):
            rest[key] = None  # the annotation's stances are written here again
        else:
            rest[key] = value
    return rest


_SPAN_FIELDS = ("start", "end", "label")


def _span_extra(raw: dict[str, Any]) -> dict[str, Any]:
    """A span's keys besides start, end and label; with those three as null placeholders when the
    keys are not in the order the writer uses, so that the order comes back."""
    keys = list(raw)
    derived = [k for k in _SPAN_DERIVED if k in raw]
    usual = ["start", "end", *derived, "label"]
    usual += [k for k in keys if k not in usual]
    if keys == usual:
        return {k: v for k, v in raw.items() if k not in _SPAN_FIELDS}
    return {k: None if k in _SPAN_FIELDS else v for k, v in raw.items()}


def _meta_entry(value: Any, rebuilt_meta: dict[str, Any]) -> Any:
    """null: the document's metadata; an object: itself; anything else is kept inside a list."""
    if isinstance(value, dict):
        return None if value == rebuilt_meta else value
    return [value]


class _AnnotationBuilder:
    """Merges one annotator's records of one text into one annotation."""

    def __init__(self, doc_id: str, annotator: str, text: str) -> None:
        self.doc_id = doc_id
        self.annotator = annotator
        self.text = text
        self.tasks: list[tuple[_Task, list[Any]]] = []
        self.entities: list[EntitySpan] = []
        self.by_span: dict[bytes, list[EntitySpan]] = {}

    def add(self, task: _Task) -> None:
        layout: list[Any] = []
        used: set[str] = set()
        for span in task.spans:
            if not span.entity:
                layout.append(span.raw)
                continue
            key = orjson.dumps(span.raw)
            same = self.by_span.setdefault(key, [])
            entity = next((e for e in same if e.id not in used), None)
            if entity is None:
                extra = _span_extra(span.raw)
                entity = EntitySpan(
                    start=span.start,
                    end=span.end,
                    label=span.label,
                    source=SOURCE,
                    extra={EXTRA_KEY: extra} if extra else {},
                )
                same.append(entity)
                self.entities.append(entity)
            used.add(entity.id)
            layout.append(entity.id)
        self.tasks.append((task, layout))

    def finish(
        self, rebuilt_meta: dict[str, Any], same_tokens: Callable[[list[Token] | None], bool]
    ) -> Annotation:
        by_id = {e.id: e for e in self.entities}
        stances: list[Stance] = []
        stance_ids: set[str] = set()
        doc_stances: list[DocumentStance] = []
        entries: list[dict[str, Any]] = []
        single = len(self.tasks) == 1
        for task, layout in self.tasks:
            task_entities = [by_id[i] for i in layout if isinstance(i, str)]
            own = {s.id: s for s in task.stances}
            relations = task.data.get("relations")
            kept_relations: Any = relations
            if isinstance(relations, list):
                kept_relations = []
                for i, relation in enumerate(relations):
                    if self._stance_relation(relation, own):
                        continue
                    kept_relations.append(_link_relation(relation, i, task_entities, task.tokens))
            for stance in own.values():
                sid = stance.id
                n = 2
                while sid in stance_ids:
                    sid = f"{stance.id}-{n}"
                    n += 1
                stance_ids.add(sid)
                stances.append(stance if sid == stance.id else stance.model_copy(update={"id": sid}))
            if task.data.get(DOC_STANCES) is not None:
                doc_stances.extend(self._doc_stances(task.data[DOC_STANCES]))
            all_entities = single and all(isinstance(i, str) for i in layout)
            rest = _rest(task, rebuilt_meta, same_tokens, None if all_entities else layout)
            if "relations" in rest:
                rest["relations"] = kept_relations
            entries.append(rest)
        status = _overall([task.status for task, _ in self.tasks])
        return Annotation(
            document_id=self.doc_id,
            annotator=self.annotator,
            status=status,
            entities=self.entities,
            stances=stances,
            doc_stances=doc_stances,
            extra={EXTRA_KEY: entries},
        )

    def _entity_at(self, span: Any) -> EntitySpan | None:
        if not isinstance(span, dict):
            return None
        where = (span.get("start"), span.get("end"), span.get("label"))
        return next((e for e in self.entities if (e.start, e.end, e.label) == where), None)

    def _stance_relation(self, relation: Any, stances: dict[str, Stance]) -> bool:
        """Take a STANCE_HOLDER/STANCE_TARGET relation into its stance; False if it is not one."""
        if not isinstance(relation, dict) or relation.get("label") not in (HOLDER_RELATION, TARGET_RELATION):
            return False
        holder = relation["label"] == HOLDER_RELATION
        entity_side, stance_side = ("head_span", "child_span") if holder else ("child_span", "head_span")
        entity = self._entity_at(relation.get(entity_side))
        stance_span = relation.get(stance_side)
        stance = None
        if isinstance(stance_span, dict):
            sid = stance_span.get("id")
            if isinstance(sid, str):
                stance = stances.get(sid)
            else:
                where = (stance_span.get("start"), stance_span.get("end"), stance_span.get("label"))
                stance = next((s for s in stances.values() if (s.start, s.end, s.polarity) == where), None)
        if entity is None or stance is None:
            return False
        ref = EntityRef(entity_id=entity.id)
        if holder and stance.holder == UNKNOWN:
            stances[stance.id] = stance.model_copy(update={"holder": ref})
        elif not holder and stance.target == UNKNOWN:
            stances[stance.id] = stance.model_copy(update={"target": ref})
        else:
            return False
        return True

    def _doc_stances(self, value: Any) -> list[DocumentStance]:
        if not isinstance(value, list):
            raise RuleError(DOC_STANCES, "must be a list of objects with label and topic or span")
        out = []
        for i, item in enumerate(value):
            where = f"{DOC_STANCES}[{i}]"
            if not isinstance(item, dict):
                raise RuleError(where, "must be an object with label and topic or span")
            polarity = item.get("label")
            if not isinstance(polarity, str) or not polarity:
                raise RuleError(f"{where}.label", "must be a non-empty string")
            _check_name(polarity, f"{where}.label", "polarity")
            topic, span = item.get("topic"), item.get("span")
            if isinstance(topic, str) and topic.strip():
                out.append(DocumentStance(target=TopicRef(topic=topic), polarity=polarity))
            elif isinstance(span, dict):
                entity = self._entity_at(span)
                if entity is None:
                    raise RuleError(f"{where}.span", "is not one of the record's entity spans")
                out.append(DocumentStance(target=EntityRef(entity_id=entity.id), polarity=polarity))
            else:
                raise RuleError(where, "needs a topic (a non-blank string) or a span (an entity)")
        return out


def _overall(statuses: list[Status]) -> Status:
    """A merged annotation is done when any of its records is."""
    return next(
        (s for s in (Status.DONE, Status.IN_PROGRESS, Status.SKIPPED) if s in statuses), Status.NOT_STARTED
    )


def _ref_span(entity: EntitySpan, tokens: Sequence[Token] | None) -> dict[str, Any]:
    """An entity as relations name it: start, end, token_start, token_end, label."""
    out: dict[str, Any] = {"start": entity.start, "end": entity.end}
    found = _token_span(tokens, entity.start, entity.end)
    if found is not None:
        out["token_start"], out["token_end"] = found
    out["label"] = entity.label
    return out


def _link_relation(relation: Any, i: int, entities: list[EntitySpan], tokens: list[Token] | None) -> Any:
    if not isinstance(relation, dict):
        return relation
    out = dict(relation)
    for side, token_key in (("head_span", "head"), ("child_span", "child")):
        span = relation.get(side)
        if span is None:
            continue
        if not isinstance(span, dict):
            raise RuleError(f"relations[{i}].{side}", "must be a span object")
        where = (span.get("start"), span.get("end"), span.get("label"))
        entity = next((e for e in entities if (e.start, e.end, e.label) == where), None)
        if entity is None:
            continue
        ref = _ref_span(entity, tokens)
        if span != ref or (token_key in relation and relation[token_key] != ref.get("token_end", None)):
            continue
        out[side] = entity.id
        if token_key in relation:
            out[token_key] = None
    return out


def _boundary_warning(text: str, tokens: list[Token] | None, tasks: list[_Task]) -> list[str]:
    spans = {(s.start, s.end) for t in tasks for s in t.spans if s.entity}
    if not spans:
        return []
    if tokens is None:
        from annotator.nlp.tokens import tokenize

        tokens = tokenize(text, "en")
    off = sum(1 for start, end in spans if _token_span(tokens, start, end) is None)
    if not off:
        return []
    return [f"{off} of {len(spans)} spans do not fall on token boundaries (kept as given)"]


def _token_span(tokens: Sequence[Token] | None, start: int, end: int) -> tuple[int, int] | None:
    """(first, last) token indices, last inclusive, of a span on token boundaries; else None."""
    if not tokens:
        return None
    first = bisect_left(tokens, start, key=_start)
    if first == len(tokens) or tokens[first].start != start:
        return None
    last = bisect_left(tokens, end, lo=first, key=_end)
    if last == len(tokens) or tokens[last].end != end:
        return None
    return first, last


# -- writing -----------------------------------------------------------------------------------------


def write_prodigy(records: Iterable[Record], out: BinaryIO) -> int:
    """Write each record's tasks (one line each; an input task for a record without annotation);
    return how many records were written.

    Raises RuleError if a span does not fit its document's text.
    """
    count = 0
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    for record in records:
        lines = _Writer(record).lines()
        try:
            out.write(b"".join([dumps(line, option=option) for line in lines]))
        except orjson.JSONEncodeError as exc:
            raise RuleError(
                "", f"document {record.document.id!r} cannot be written as JSON: {exc}"
            ) from None
        count += 1
    return count


class _Writer:
    """Builds the Prodigy records of one document."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.document = record.document
        self.text = record.document.text
        self.tokens = record.tokens or None
        self._token_dicts: list[dict[str, Any]] | None = None
        self._meta: dict[str, Any] | None = None

    # -- shared pieces ---------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = meta_dict(self.document.meta)
        return self._meta

    def standard_tokens(self) -> list[dict[str, Any]]:
        if self._token_dicts is None:
            text = self.text
            self._token_dicts = [
                {"text": text[s:e], "start": s, "end": e, "id": i, "ws": w}
                for i, (s, e, w) in enumerate(self.tokens or ())
            ]
        return self._token_dicts

    def tokens_out(self, form: Any) -> Any:
        if isinstance(form, list):
            return form
        if form is None:
            return self.standard_tokens()
        text = self.text
        tokens = self.tokens or ()
        keys = form.get("keys") if isinstance(form, dict) else None
        if not isinstance(keys, list):
            return self.standard_tokens()
        if keys == ["text", "start", "end", "id"]:
            return [{"text": text[s:e], "start": s, "end": e, "id": i} for i, (s, e, _) in enumerate(tokens)]
        disabled = set(form.get("disabled") or ())
        if keys == ["text", "start", "end", "id", "ws", "disabled"]:
            return [
                {"text": text[s:e], "start": s, "end": e, "id": i, "ws": w, "disabled": i in disabled}
                for i, (s, e, w) in enumerate(tokens)
            ]
        out = []
        for i, (s, e, w) in enumerate(tokens):
            values = {"text": text[s:e], "start": s, "end": e, "id": i, "ws": w, "disabled": i in disabled}
            out.append({k: values[k] for k in keys if k in values})
        return out

    def check(self, where: str, start: int, end: int) -> None:
        if not 0 <= start < end <= len(self.text):
            raise RuleError(
                where,
                f"span {start}-{end} of document {self.document.id!r} is outside its text "
                f"(length {len(self.text)})",
            )

    def span_out(self, entity: EntitySpan) -> dict[str, Any]:
        start, end = entity.start, entity.end
        self.check("entities", start, end)
        # Spans from a Prodigy file get back the keys they had; others get token indices.
        kept: dict[str, Any] | None = None
        source = entity.source
        if source.kind == "imported" and source.name == NAME:
            given = entity.extra.get(EXTRA_KEY)
            kept = given if isinstance(given, dict) else {}
        found = _token_span(self.tokens, start, end)
        if kept is not None and "start" in kept:
            return self.span_in_order(entity, kept, found)
        out: dict[str, Any] = {"start": start, "end": end}
        if kept is not None and "text" in kept:
            out["text"] = self.text[start:end]
        if kept is None or "token_start" in kept or "token_end" in kept:
            if found is not None:
                out["token_start"], out["token_end"] = found
            elif kept is not None:
                for key in ("token_start", "token_end"):
                    if key in kept:
                        out[key] = kept[key]
        out["label"] = entity.label
        if kept is not None:
            for key, value in kept.items():
                if key not in _SPAN_DERIVED and key not in out:
                    out[key] = value
        return out

    def span_in_order(
        self, entity: EntitySpan, kept: dict[str, Any], found: tuple[int, int] | None
    ) -> dict[str, Any]:
        """A span whose keys the file had in an order of its own."""
        values: dict[str, Any] = {
            "start": entity.start, "end": entity.end, "label": entity.label,
            "text": self.text[entity.start:entity.end],
        }
        if found is not None:
            values["token_start"], values["token_end"] = found
        return {key: values.get(key, value) for key, value in kept.items()}

    def ref_span(self, entity: EntitySpan) -> dict[str, Any]:
        self.check("entities", entity.start, entity.end)
        return _ref_span(entity, self.tokens)

    def stance_ref(self, stance: Stance) -> dict[str, Any]:
        self.check("stances", stance.start, stance.end)
        out: dict[str, Any] = {"start": stance.start, "end": stance.end}
        found = _token_span(self.tokens, stance.start, stance.end)
        if found is not None:
            out["token_start"], out["token_end"] = found
        out["label"] = stance.polarity
        out["id"] = stance.id
        return out

    # -- records ---------------------------------------------------------------------------------
    def lines(self) -> list[dict[str, Any]]:
        record = self.record
        if not record.annotations:
            inputs = self.document.meta.extra.get(EXTRA_KEY)
            if isinstance(inputs, list) and inputs and all(isinstance(i, dict) for i in inputs):
                return [self.task_out(rest, {}, None, None) for rest in inputs]
            line: dict[str, Any] = {"text": self.text}
            if self.meta():
                line["meta"] = self.meta()
            return [line]
        out: list[dict[str, Any]] = []
        for annotation in record.annotations:
            out.extend(self.annotation_out(annotation))
        return out

    def known_input_hash(self) -> int | None:
        """The `_input_hash` a file gave this text (input task or another annotator's task)."""
        sources: list[Any] = [self.document.meta.extra.get(EXTRA_KEY)]
        sources += [a.extra.get(EXTRA_KEY) for a in self.record.annotations]
        for tasks in sources:
            if isinstance(tasks, list):
                for rest in tasks:
                    if isinstance(rest, dict) and _is_int(rest.get("_input_hash")):
                        return int(rest["_input_hash"])
        return None

    def annotation_out(self, annotation: Annotation) -> list[dict[str, Any]]:
        if annotation.document_id != self.document.id:
            raise RuleError(
                "document_id",
                f"annotation by {annotation.annotator!r} is for {annotation.document_id!r}, "
                f"not {self.document.id!r}",
            )
        entries = annotation.extra.get(EXTRA_KEY)
        by_id = {e.id: e for e in annotation.entities}
        if not (isinstance(entries, list) and entries and all(isinstance(t, dict) for t in entries)):
            return [self.new_task(annotation, annotation.entities, stances=True)]
        tasks: list[dict[str, Any]] = [dict(t) for t in entries]
        # Which entities each task writes: null spans (one task) means all of them.
        referenced: set[str] = set()
        for rest in tasks:
            layout = rest.get("spans")
            if isinstance(layout, list):
                referenced.update(i for i in layout if isinstance(i, str))
        takes_all = len(tasks) == 1 and "spans" in tasks[0] and tasks[0]["spans"] is None
        extra_entities = [] if takes_all else [e for e in annotation.entities if e.id not in referenced]
        spill: list[EntitySpan] = []
        if extra_entities:
            host = next((t for t in tasks if not self.binary(t, by_id)), None)
            if host is None:
                spill = extra_entities
            else:
                layout = host.get("spans")
                host["spans"] = (layout if isinstance(layout, list) else []) + [e.id for e in extra_entities]
        self.reconcile(annotation, tasks, by_id)
        out = [
            self.task_out(rest, by_id, annotation if i == 0 else None, annotation.entities)
            for i, rest in enumerate(tasks)
        ]
        if spill:
            out.append(self.new_task(annotation, spill, stances=False))
        return out

    def binary(self, rest: dict[str, Any], by_id: dict[str, EntitySpan]) -> bool:
        view = rest.get("_view_id")
        if isinstance(view, str):
            return view in _BINARY_VIEWS
        layout = rest.get("spans", ())
        if layout is None:  # all the annotation's entities
            layout = list(by_id)
        if not isinstance(layout, list | tuple):
            return False
        for item in layout:
            if isinstance(item, dict) and "answer" in item:
                return True
            entity = by_id.get(item) if isinstance(item, str) else None
            kept = entity.extra.get(EXTRA_KEY) if entity is not None else None
            if isinstance(kept, dict) and "answer" in kept:
                return True
        return False

    def reconcile(
        self, annotation: Annotation, tasks: list[dict[str, Any]], by_id: dict[str, EntitySpan]
    ) -> None:
        """Make `answer` and `_annotator_id` say what the annotation says, if it was changed here."""
        derived = [_status(rest, self.binary(rest, by_id)) for rest in tasks]
        overall = _overall(derived)
        for i, rest in enumerate(tasks):
            if overall != annotation.status and derived[i] != annotation.status:
                _set_status(rest, annotation.status)
            if _annotator_of(rest) != annotation.annotator:
                rest["_annotator_id"] = annotation.annotator

    def task_out(
        self,
        rest: dict[str, Any],
        by_id: dict[str, EntitySpan],
        host: Annotation | None,
        all_entities: list[EntitySpan] | None,
    ) -> dict[str, Any]:
        """One record from a task entry; `host` is the annotation whose stances it carries."""
        out: dict[str, Any] = {} if "text" in rest else {"text": self.text}
        stance_relations = self.stance_relations(host) if host is not None else []
        for key, value in rest.items():
            if key == "text":
                out["text"] = self.text
            elif key == "meta":
                if value is None:
                    out["meta"] = self.meta()
                else:
                    out["meta"] = value[0] if isinstance(value, list) and len(value) == 1 else value
            elif key == "tokens":
                if value is None and self.tokens is None:
                    continue
                out["tokens"] = self.tokens_out(value)
            elif key == "spans":
                out["spans"] = self.spans_out(value, by_id, all_entities)
            elif key == "relations" and isinstance(value, list):
                out["relations"] = self.relations_out(value, by_id) + stance_relations
                stance_relations = []
            elif key == STANCE_SPANS and value is None:
                if host is not None:
                    out[key] = self.stance_spans_out(host)
            elif key == DOC_STANCES and value is None:
                if host is not None:
                    out[key] = self.doc_stances_out(host)
            else:
                out[key] = value
        if host is not None:
            self.add_stances(out, host, stance_relations)
        return out

    def spans_out(
        self, layout: Any, by_id: dict[str, EntitySpan], all_entities: list[EntitySpan] | None
    ) -> Any:
        if layout is None:
            return [self.span_out(e) for e in all_entities or ()]
        if not isinstance(layout, list):
            return layout
        out = []
        for item in layout:
            if isinstance(item, str):
                entity = by_id.get(item)
                if entity is not None:
                    out.append(self.span_out(entity))
            else:
                out.append(item)
        return out

    def relations_out(self, relations: list[Any], by_id: dict[str, EntitySpan]) -> list[Any]:
        out = []
        for relation in relations:
            if not isinstance(relation, dict):
                out.append(relation)
                continue
            rebuilt = dict(relation)
            gone = False
            for side, token_key in (("head_span", "head"), ("child_span", "child")):
                ref = relation.get(side)
                if not isinstance(ref, str):
                    continue
                entity = by_id.get(ref)
                if entity is None:
                    gone = True
                    break
                span = self.ref_span(entity)
                rebuilt[side] = span
                if token_key in relation and relation[token_key] is None:
                    rebuilt[token_key] = span.get("token_end")
            if not gone:
                out.append(rebuilt)
        return out

    def stance_relations(self, annotation: Annotation) -> list[dict[str, Any]]:
        by_id = {e.id: e for e in annotation.entities}
        out = []
        for stance in annotation.stances:
            for ref, label in ((stance.holder, HOLDER_RELATION), (stance.target, TARGET_RELATION)):
                if not isinstance(ref, EntityRef) or ref.entity_id not in by_id:
                    continue
                entity_span = self.ref_span(by_id[ref.entity_id])
                stance_span = self.stance_ref(stance)
                holder = label == HOLDER_RELATION
                head, child = (entity_span, stance_span) if holder else (stance_span, entity_span)
                relation: dict[str, Any] = {}
                if "token_end" in head and "token_end" in child:
                    relation["head"] = head["token_end"]
                    relation["child"] = child["token_end"]
                relation["head_span"] = head
                relation["child_span"] = child
                relation["label"] = label
                out.append(relation)
        return out

    def add_stances(
        self, out: dict[str, Any], annotation: Annotation, relations: list[dict[str, Any]]
    ) -> None:
        """Add what the annotation's stances need and the record does not have yet, at its end."""
        if relations:
            given = out.get("relations")
            out["relations"] = (given if isinstance(given, list) else []) + relations
        if annotation.stances and STANCE_SPANS not in out:
            out[STANCE_SPANS] = self.stance_spans_out(annotation)
        if annotation.doc_stances and DOC_STANCES not in out:
            out[DOC_STANCES] = self.doc_stances_out(annotation)

    def stance_spans_out(self, annotation: Annotation) -> list[dict[str, Any]]:
        spans = []
        for stance in annotation.stances:
            span = {"id": stance.id, **self.stance_ref(stance)}
            if isinstance(stance.holder, AuthorRef):
                span["holder"] = "author"
            if isinstance(stance.target, TopicRef):
                span["topic"] = stance.target.topic
            spans.append(span)
        return spans

    def doc_stances_out(self, annotation: Annotation) -> list[dict[str, Any]]:
        by_id = {e.id: e for e in annotation.entities}
        items = []
        for ds in annotation.doc_stances:
            item: dict[str, Any] = {"label": ds.polarity}
            if isinstance(ds.target, TopicRef):
                item["topic"] = ds.target.topic
            elif ds.target.entity_id in by_id:
                item["span"] = self.ref_span(by_id[ds.target.entity_id])
            else:
                continue
            items.append(item)
        return items

    def new_task(
        self, annotation: Annotation, entities: list[EntitySpan], *, stances: bool
    ) -> dict[str, Any]:
        """A record for work done here: no Prodigy task behind it."""
        inputs = self.document.meta.extra.get(EXTRA_KEY)
        base = inputs[0] if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict) else None
        out: dict[str, Any] = {"text": self.text}
        if base is not None:
            out = self.task_out(base, {}, None, None)
        elif self.meta():
            out["meta"] = self.meta()
        given = out.get("_input_hash")
        if isinstance(given, int) and not isinstance(given, bool):
            ih = given
        else:
            known = self.known_input_hash()
            ih = known if known is not None else input_hash(self.text)
            out["_input_hash"] = ih
        has_task_hash = "_task_hash" in out
        if not has_task_hash:
            out["_task_hash"] = 0  # placeholder keeping the key's place; computed below
        if self.tokens is not None and "tokens" not in out:
            out["tokens"] = self.standard_tokens()
        out["spans"] = [self.span_out(e) for e in entities]
        if stances:
            self.add_stances(out, annotation, self.stance_relations(annotation))
        if not has_task_hash:
            out["_task_hash"] = task_hash(out, ih)
        _set_status(out, annotation.status)
        if self.tokens is not None:
            out["_view_id"] = "spans_manual" if _overlaps(entities) else "ner_manual"
        if annotation.annotator != DEFAULT_ANNOTATOR:
            out["_annotator_id"] = annotation.annotator
        return out


def _set_status(rest: dict[str, Any], status: Status) -> None:
    if status is Status.DONE or status is Status.SKIPPED:
        rest.pop(STATUS_KEY, None)
        rest["answer"] = "accept" if status is Status.DONE else "ignore"
    else:
        rest.pop("answer", None)
        rest[STATUS_KEY] = status.value


def _overlaps(entities: list[EntitySpan]) -> bool:
    ordered = sorted((e.start, e.end) for e in entities)
    return any(b[0] < a[1] for a, b in itertools.pairwise(ordered))


# -- sniffing ----------------------------------------------------------------------------------------

_PRODIGY_KEYS = ("_input_hash", "_task_hash", "_view_id", "_session_id", "_annotator_id", "answer")


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes look like Prodigy JSONL: a first line with a string `text` and
    Prodigy's own keys, or spans/tokens as Prodigy writes them, or a `cats` object."""
    obj = first_object(head)
    if obj is None or not isinstance(obj.get("text"), str) or "document" in obj:
        return False
    if any(key in obj for key in _PRODIGY_KEYS):
        return True
    for key in ("spans", "tokens"):
        items = obj.get(key)
        if isinstance(items, list) and items and all(
            isinstance(i, dict) and "start" in i and "end" in i for i in items
        ):
            return True
    if isinstance(obj.get("relations"), list) and all(
        isinstance(r, dict) and "head" in r and "child" in r for r in obj["relations"]
    ):
        return bool(obj["relations"])
    return isinstance(obj.get("cats"), dict)
