"""CoNLL / IOB files: one token per line, its entity tag in the last column, sentences apart.

Reading
-------
- A line holds a token, any number of middle columns (CoNLL-2003: part of speech and chunk) and a
  tag. Columns are split on tabs when the file's first line has a tab (a token may then hold
  spaces), else on runs of spaces. A blank line (or one holding only spaces and tabs, like the
  ``\\t\\r`` lines of some corpora) ends a sentence; several blank lines count as one.
- ``-DOCSTART-`` lines start documents. In a file that has them, the sentences from one marker to the
  next are one document (sentences before the first marker are a document too). In a file without
  them, **each sentence is a document**: that is what such files (WNUT, CoNLL exports of sentence
  collections) mean.
- The document text is the tokens joined by single spaces, sentences joined by ``"\\n"``. The record
  carries the tokens (each word, and a ``"\\n"`` token between sentences, as spaCy would), so nothing
  is re-tokenized. The id is the content id of the text; when the same text comes again in the same
  file (WNUT has repeated tweets, some tagged differently), the n-th copy gets ``<id>#n``, so no
  sentence is lost and reading the same file again gives the same ids.
- Tags: ``O``, and ``B-``, ``I-``, ``E-``, ``S-``, ``L-``, ``U-`` followed by the label (any text:
  ``B-12`` gives label ``12``). BIO, IOB1, IOBES and BILOU are all read by one lenient rule: an
  ``I-``/``E-``/``L-`` continues an open entity of the same label, and otherwise starts one. In IOB1
  files (entities start with ``I-``; ``B-`` only splits two adjacent entities of one label) that is
  the rule; in other files such a start is accepted and reported as a warning on the record.
- The tag scheme is detected per file: ``L-``/``U-`` tags make it BILOU, ``E-``/``S-`` IOBES; else
  IOB1 when entities start with ``I-`` and no ``B-`` starts an entity after ``O``; else BIO.
- Errors. Raised for the whole file: it cannot be read, is not UTF-8, is CoNLL-U, holds no token,
  or its first line is not a token line. Yielded per document (the rest of the file is read): a
  line without a tag column, a tag that is not one of the above or whose label the project cannot
  hold (labels are one word of at most 64 characters), a line whose column count differs from the
  lines before it in the document, an empty token. Whitespace around a token is dropped; a token
  that is only whitespace (e.g. a no-break space) cannot be one of the text's tokens: its line is
  skipped with a warning.
- Every annotation is by ``imported`` with status DONE (CoNLL files hold finished annotations);
  spans have ``source=SpanSource(kind="imported", name="conll")``.

What is kept for writing the file back
--------------------------------------
Every document read from a CoNLL file has ``DocumentMeta.extra["conll"]``, its layout: only the
keys that differ from the default, a tab-separated two-column BIO file with ``"\\n"`` line ends and
no -DOCSTART- (whose documents get an empty ``{}``). The key, even empty, is what tells such a
document from one that did not come from a CoNLL file::

    sep        " " for space-separated files
    eol        "\\r\\n" (or "\\r")
    blank      what the sentence-separator lines hold, e.g. "\\t"
    columns    the middle columns, one entry per column: a list with a value per token, or one
               string when every token has the same value ("_")
    scheme     "IOB1", "IOBES" or "BILOU"
    docstarts  true in a file with -DOCSTART- lines
    docstart   the document's exact -DOCSTART- line when it is not the default one, or null for
               sentences before the first marker
    docstart_blank  false when no blank line follows the -DOCSTART- line
    bom        true on the first document of a file that starts with a UTF-8 byte order mark
    file_end   on the last document of a file: "newline" when the file does not end with a blank
               line, "none" when its last line has no line end

An entity whose tags are not the ones the writer would produce (``I-PER`` starting an entity in a
BIO file, a lone ``B-PER`` in a BILOU file) keeps its exact tags in ``EntitySpan.extra
["conll_tags"]``; the writer uses them while they still describe the same entity.

Writing
-------
The first document written decides the file's layout (separator, line end, column count, tag
scheme, -DOCSTART- lines, byte order mark). A document read from a CoNLL file is written in its own
layout, so a file read without -DOCSTART- lines (WNUT) is written back without them, byte for byte.
A document with no ``"conll"`` key (an article, imported from elsewhere) is written tab-separated,
two columns, BIO, **with** -DOCSTART- lines: each document starts with ``-DOCSTART-<TAB>O`` and a
blank line, so that reading the file back gives each article whole rather than one document per
line. In a file with -DOCSTART- lines, every document gets one. In a file without them (its first
document decides), a document of several lines reads back as one document per line; that is
reported as a warning. Middle columns a document does not have are written as ``_``.

- Tokens are the record's own (whitespace tokens skipped; a token holding a line break or the
  separator is written as its pieces); without tokens, the text is tokenized with spaCy.
- Sentences: the lines of the text. Tokens with a line break between them are in different
  sentences, written with a blank line between them.
- Entities are written as tags in the file's scheme. An entity that does not fall on token
  boundaries is widened to whole tokens; one that covers no token is dropped; one that crosses a
  line break is written as one entity per line. Overlapping entities: the one that starts first
  is kept, then the longest (then the first in the annotation); every entity that overlaps a kept
  one is dropped. Each change is reported in ``warnings`` with the document's id.
- A document with several annotations is written once per annotation (CoNLL has no annotator
  column); one without annotations is written with every tag ``O``.
- Not written (CoNLL cannot hold them): stances and document stances (reported once), the status,
  the annotator, annotation and span extras other than the above.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

from pydantic import ValidationError

from annotator.core.errors import InputError
from annotator.core.model import (
    Annotation,
    Document,
    DocumentMeta,
    EntitySpan,
    SpanSource,
    Status,
    Token,
)
from annotator.core.scheme import EntityLabel
from annotator.core.validation import first_problem
from annotator.formats.base import ReadItem, Record
from annotator.formats.text import UTF8_BOM, decode, document_id

FORMAT = "conll"
ANNOTATOR = "imported"
SOURCE = SpanSource(kind="imported", name=FORMAT)
DOCSTART = "-DOCSTART-"
# Key of the layout in DocumentMeta.extra, and of an entity's exact tags in EntitySpan.extra.
META_KEY = "conll"
TAGS_KEY = "conll_tags"

SCHEMES = ("BIO", "IOB1", "IOBES", "BILOU")
_TAG = re.compile(r"([BIESLU])-(.+)", re.DOTALL)
_SPACES = re.compile(r"[ \t]+")
# What ends a line in the text, for finding sentences when writing (str.splitlines' set).
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# How many lines a warning lists before it says "...".
_LIST_LINES = 5


@dataclass
class _Layout:
    sep: str = "\t"
    eol: str = "\n"
    blank: str = ""
    columns: list[str | list[str]] = field(default_factory=list)
    scheme: str = "BIO"
    docstarts: bool = False
    docstart: str | None = ""  # "" means the default line
    docstart_blank: bool = True
    bom: bool = False
    file_end: str = ""  # "", "newline" or "none"

    def default_docstart(self) -> str:
        return self.sep.join([DOCSTART, *["-X-"] * len(self.columns), "O"])

    def to_extra(self) -> dict[str, Any]:
        """Only what differs from the default, so that common files add only an empty dict."""
        out: dict[str, Any] = {}
        default = _Layout()
        for key in ("sep", "eol", "blank", "columns", "scheme", "docstarts"):
            if getattr(self, key) != getattr(default, key):
                out[key] = getattr(self, key)
        if self.docstarts:
            if self.docstart != "":
                out["docstart"] = self.docstart
            if not self.docstart_blank:
                out["docstart_blank"] = False
        if self.bom:
            out["bom"] = True
        if self.file_end:
            out["file_end"] = self.file_end
        return out

    @classmethod
    def from_extra(cls, extra: Any) -> _Layout | None:
        """The layout kept on a document, or None when it has none. Values of the wrong type (the
        extra could have been edited) fall back to the default."""
        if not isinstance(extra, dict):
            return None
        layout = cls()
        if extra.get("sep") in ("\t", " "):
            layout.sep = extra["sep"]
        if extra.get("eol") in ("\n", "\r\n", "\r"):
            layout.eol = extra["eol"]
        blank = extra.get("blank")
        if isinstance(blank, str) and blank.strip(" \t") == "":
            layout.blank = blank
        columns = extra.get("columns")
        if isinstance(columns, list) and all(_is_column(c) for c in columns):
            layout.columns = columns
        if extra.get("scheme") in SCHEMES:
            layout.scheme = extra["scheme"]
        layout.docstarts = extra.get("docstarts") is True
        docstart = extra.get("docstart", "")
        if docstart is None or (isinstance(docstart, str) and docstart.startswith(DOCSTART)):
            layout.docstart = docstart
        layout.docstart_blank = extra.get("docstart_blank") is not False
        layout.bom = extra.get("bom") is True
        if extra.get("file_end") in ("newline", "none"):
            layout.file_end = extra["file_end"]
        return layout


def _is_column(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


# -- tags --------------------------------------------------------------------------------------------

# A parsed tag: None for O, else (prefix letter, label).
_Tag = tuple[str, str] | None
# An entity over tokens of one sentence: (first, last, label), last inclusive.
_Chunk = tuple[int, int, str]


def _is_tag(tag: str) -> bool:
    return tag == "O" or _TAG.fullmatch(tag) is not None


def parse_tag(tag: str) -> _Tag:
    """`O` -> None, `B-PER` -> ("B", "PER"); ValueError for anything else."""
    if tag == "O":
        return None
    m = _TAG.fullmatch(tag)
    if m is None:
        raise ValueError(tag)
    return m.group(1), m.group(2)


def decode_tags(tags: Sequence[_Tag], scheme: str = "BIO") -> tuple[list[_Chunk], list[int]]:
    """The entities a sentence's tags describe, and the token indices where an entity starts with a
    tag that, in `scheme`, does not start one (I-, E-, L-; an I- start is regular in IOB1)."""
    chunks: list[_Chunk] = []
    irregular: list[int] = []
    first = -1
    label = ""
    for i, tag in enumerate(tags):
        if tag is None:
            if first >= 0:
                chunks.append((first, i - 1, label))
                first = -1
            continue
        prefix, name = tag
        if prefix in "IEL" and first >= 0 and name == label:
            pass  # continues the open entity
        else:
            if first >= 0:
                chunks.append((first, i - 1, label))
            first, label = i, name
            if prefix in "EL" or (prefix == "I" and scheme != "IOB1"):
                irregular.append(i)
        if prefix in "ELSU":
            chunks.append((first, i, label))
            first = -1
    if first >= 0:
        chunks.append((first, len(tags) - 1, label))
    return chunks, irregular


def encode_tags(chunks: Sequence[_Chunk], length: int, scheme: str = "BIO") -> list[str]:
    """Tags for non-overlapping entities, sorted by position, over `length` tokens."""
    tags = ["O"] * length
    previous: _Chunk | None = None
    for first, last, label in chunks:
        if scheme in ("BILOU", "IOBES"):
            single, end = ("U", "L") if scheme == "BILOU" else ("S", "E")
            if first == last:
                tags[first] = f"{single}-{label}"
            else:
                tags[first] = f"B-{label}"
                tags[last] = f"{end}-{label}"
        elif scheme == "IOB1":
            adjacent = previous is not None and previous[1] == first - 1 and previous[2] == label
            tags[first] = f"{'B' if adjacent else 'I'}-{label}"
        else:
            tags[first] = f"B-{label}"
        for i in range(first + 1, last + (0 if scheme in ("BILOU", "IOBES") and first != last else 1)):
            tags[i] = f"I-{label}"
        previous = (first, last, label)
    return tags


def detect_scheme(sentences: Iterable[Sequence[_Tag]]) -> str:
    """BILOU, IOBES, IOB1 or BIO, from every sentence of a file (see the module's docstring)."""
    letters: set[str] = set()
    i_starts = b_starts = 0
    for tags in sentences:
        previous: _Tag = None
        for tag in tags:
            if tag is not None:
                letters.add(tag[0])
                starts = previous is None or previous[1] != tag[1]
                if tag[0] == "I" and starts:
                    i_starts += 1
                elif tag[0] == "B" and starts:
                    b_starts += 1
            previous = tag
    if letters & {"L", "U"}:
        return "BILOU"
    if letters & {"E", "S"}:
        return "IOBES"
    if i_starts and not b_starts:
        return "IOB1"
    return "BIO"


# -- reading -----------------------------------------------------------------------------------------


@dataclass
class _Sentence:
    lines: list[int] = field(default_factory=list)  # 1-based line number of each token
    columns: list[list[str]] = field(default_factory=list)


@dataclass
class _Block:
    """A document as read: its sentences, or the problem that keeps it out."""

    line: int
    docstart: str | None = None  # the -DOCSTART- line, if the document has one
    docstart_blank: bool = True
    sentences: list[_Sentence] = field(default_factory=list)
    error: InputError | None = None
    skipped: list[int] = field(default_factory=list)  # lines of whitespace-only tokens


def read_conll(path: Path | str) -> Iterator[ReadItem]:
    """One Record per document (see the module's docstring for what a document is)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    try:
        text = decode(data)
    except InputError as exc:
        raise InputError(exc.message, path=path, line=exc.line) from None
    lines, eol = _split_lines(text)
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise InputError("the file holds no tokens", path=path)
    first_number, first_line = numbered[0]
    _refuse_conllu(path, numbered)
    sep = "\t" if "\t" in first_line else " "
    first_cols = _columns(first_line, sep)
    if first_cols[0] != DOCSTART and (len(first_cols) < 2 or not _is_tag(first_cols[-1])):
        raise InputError(
            f"this does not look like a CoNLL/IOB file: the first line, {_short(first_line)}, "
            f"does not end with a tag such as O, B-PER or I-PER",
            path=path,
            line=first_number,
        )
    blocks, blank, docstarts = _blocks(path, lines, sep)
    file_end = _file_end(text, lines)
    parsed = [[_tags_of(s) for s in b.sentences] for b in blocks if b.error is None]
    scheme = detect_scheme(tags for doc in parsed for tags in doc)
    seen: Counter[str] = Counter()
    yielded = False
    # The file's end belongs to its last document (not when that one is bad or empty).
    last = len(blocks) - 1 if blocks and blocks[-1].error is None and blocks[-1].sentences else -1
    for index, block in enumerate(blocks):
        if block.error is not None:
            yield block.error
            yielded = True
            continue
        if not block.sentences:
            continue  # a -DOCSTART- with no sentence after it
        layout = _Layout(
            sep=sep,
            eol=eol,
            blank=blank,
            scheme=scheme,
            docstarts=docstarts,
            docstart=_docstart_value(block, sep),
            docstart_blank=block.docstart_blank,
            bom=data.startswith(UTF8_BOM) and not yielded,
            file_end=file_end if index == last else "",
        )
        item = _record(path, block, layout, seen)
        yielded = True
        yield item


def _split_lines(text: str) -> tuple[list[str], str]:
    """The lines without their ends, and the line end the file uses."""
    if "\n" in text:
        eol = "\r\n" if text.split("\n", 1)[0].endswith("\r") else "\n"
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return [line.removesuffix("\r") for line in lines], eol
    if "\r" in text:
        lines = text.split("\r")
        if lines[-1] == "":
            lines.pop()
        return lines, "\r"
    return ([text] if text else []), "\n"


def _file_end(text: str, lines: list[str]) -> str:
    """How the file ends after its last token line: "" (a blank line), "newline" or "none"."""
    if not text.endswith(("\n", "\r")):
        return "none" if lines and lines[-1].strip() else ""
    return "newline" if lines and lines[-1].strip() else ""


def _refuse_conllu(path: Path, numbered: list[tuple[int, str]]) -> None:
    for number, line in numbered[:200]:
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) == 10 and re.fullmatch(r"\d+(?:[-.]\d+)?", cols[0]):
            raise InputError(
                "this is a CoNLL-U file (10 tab-separated columns, # comment lines): it holds syntax, "
                "not one entity tag per token; convert it to CoNLL/IOB (a token and its tag per line) "
                "to import it",
                path=path,
                line=number,
            )
        return


def _columns(line: str, sep: str) -> list[str]:
    if sep == "\t" and "\t" in line:
        cols = line.rstrip(" \t").split("\t")
        cols[-1] = cols[-1].strip(" ")
        return cols
    return _SPACES.split(line.strip(" \t"))


def _blocks(path: Path, lines: list[str], sep: str) -> tuple[list[_Block], str, bool]:
    """The file's documents, the text of its first blank line, and whether it has -DOCSTART- lines."""
    docstarts = any(_columns(line, sep)[0] == DOCSTART for line in lines if line.strip())
    blocks: list[_Block] = []
    block: _Block | None = None
    sentence = _Sentence()
    blank: str | None = None
    width = 0  # columns of the lines so far in the block
    after_docstart = False

    def end_sentence() -> None:
        nonlocal sentence
        if sentence.lines and block is not None:
            block.sentences.append(sentence)
        sentence = _Sentence()

    def end_block() -> None:
        nonlocal block, width
        end_sentence()
        if block is not None:
            blocks.append(block)
        block, width = None, 0

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if blank is None and (block is not None or after_docstart) and not line.strip(" \t"):
                blank = line
            if after_docstart and block is not None and not block.sentences and not sentence.lines:
                after_docstart = False
                continue
            end_sentence()
            if not docstarts:
                end_block()
            continue
        cols = _columns(line, sep)
        if cols[0] == DOCSTART:
            end_block()
            block = _Block(line=number, docstart=line)
            after_docstart = True
            continue
        if block is not None and after_docstart and not block.sentences and not sentence.lines:
            block.docstart_blank = False
        after_docstart = False
        if block is None:
            block = _Block(line=number)
        if block.error is not None:
            continue
        problem = _line_problem(cols, width, line)
        if problem is not None:
            message, field_name = problem
            block.error = InputError(message, path=path, line=number, field=field_name)
            continue
        # Whitespace around a token is not part of it; a token that is only whitespace cannot be one.
        cols[0] = cols[0].strip()
        if not cols[0]:
            block.skipped.append(number)
            continue
        width = len(cols)
        sentence.lines.append(number)
        sentence.columns.append(cols)
    end_block()
    return blocks, blank or "", docstarts


def _line_problem(cols: list[str], width: int, line: str) -> tuple[str, str] | None:
    if len(cols) < 2:
        return f"the line {_short(line)} has no tag column (a token and a tag are needed)", "tag"
    if width and len(cols) != width:
        return (
            f"the line has {len(cols)} columns; the lines before it in its document have {width}",
            "columns",
        )
    if cols[0] == "":
        return "the token is empty", "token"
    if not _is_tag(cols[-1]):
        return (
            f"{_short(cols[-1])} is not a tag: O, or B-, I-, E-, S-, L- or U- and a label (B-PER)",
            "tag",
        )
    if cols[-1] != "O":
        problem = _label_problem(cols[-1][2:])
        if problem is not None:
            return f"{_short(cols[-1])}: {problem}", "tag"
    return None


@lru_cache(maxsize=1024)
def _label_problem(label: str) -> str | None:
    """Why a label cannot be a label of the project's scheme (the scheme's own rule), or None."""
    try:
        EntityLabel(name=label)
    except ValidationError as exc:
        return first_problem(exc)[1]
    return None


def _tags_of(sentence: _Sentence) -> list[_Tag]:
    return [parse_tag(cols[-1]) for cols in sentence.columns]


def _docstart_value(block: _Block, sep: str) -> str | None:
    """"" for the default -DOCSTART- line, the exact line when it differs, None when there is none."""
    if block.docstart is None:
        return None
    width = len(block.sentences[0].columns[0]) if block.sentences else 2
    default = sep.join([DOCSTART, *["-X-"] * (width - 2), "O"])
    return "" if block.docstart == default else block.docstart


def _record(path: Path, block: _Block, layout: _Layout, seen: Counter[str]) -> Record:
    tokens: list[Token] = []
    word_tokens: list[Token] = []  # the same without the "\n" tokens: one per line of the file
    parts: list[str] = []
    position = 0
    for s, sentence in enumerate(block.sentences):
        if s:
            parts.append("\n")
            tokens.append(Token(position, position + 1, False))
            position += 1
        for t, cols in enumerate(sentence.columns):
            if t:
                parts.append(" ")
                position += 1
            word = cols[0]
            follows = t < len(sentence.columns) - 1
            token = Token(position, position + len(word), follows)
            tokens.append(token)
            word_tokens.append(token)
            parts.append(word)
            position += len(word)
    text = "".join(parts)

    entities: list[EntitySpan] = []
    irregular_lines: list[int] = []
    offset = 0
    for sentence in block.sentences:
        raw = [cols[-1] for cols in sentence.columns]
        tags = [parse_tag(tag) for tag in raw]
        chunks, irregular = decode_tags(tags, layout.scheme)
        irregular_lines.extend(sentence.lines[i] for i in irregular)
        canonical = encode_tags(chunks, len(tags), layout.scheme)
        for first, last, label in chunks:
            exact = raw[first:last + 1]
            extra = {TAGS_KEY: exact} if exact != canonical[first:last + 1] else {}
            entities.append(
                EntitySpan(
                    start=word_tokens[offset + first].start,
                    end=word_tokens[offset + last].end,
                    label=label,
                    source=SOURCE,
                    extra=extra,
                )
            )
        offset += len(tags)

    middle = len(block.sentences[0].columns[0]) - 2
    rows = [cols for sentence in block.sentences for cols in sentence.columns]
    columns: list[str | list[str]] = []
    for k in range(1, middle + 1):
        values = [cols[k] for cols in rows]
        columns.append(values[0] if len(set(values)) == 1 else values)
    layout.columns = columns

    base = document_id(text)
    seen[base] += 1
    doc_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
    extra = layout.to_extra()
    document = Document(id=doc_id, text=text, meta=DocumentMeta(extra={META_KEY: extra}))
    annotation = Annotation(document_id=doc_id, annotator=ANNOTATOR, status=Status.DONE, entities=entities)
    warnings = []
    if irregular_lines:
        warnings.append(
            f"{len(irregular_lines)} entit{'y starts' if len(irregular_lines) == 1 else 'ies start'} "
            f"with I-, E- or L- in a {layout.scheme} file (read as the start of an entity): "
            f"line {_list(irregular_lines)}"
        )
    if block.skipped:
        warnings.append(f"a token that is only whitespace was skipped: line {_list(block.skipped)}")
    if seen[base] > 1:
        warnings.append(f"the same text came earlier in the file; this copy is document {doc_id}")
    return Record(
        document=document,
        annotations=[annotation],
        tokens=tokens,
        path=str(path),
        line=block.line,
        warnings=warnings,
    )


def _list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_LIST_LINES])
    return shown + (", ..." if len(numbers) > _LIST_LINES else "")


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


# -- sniffing ----------------------------------------------------------------------------------------


def sniff(head: bytes) -> bool:
    """Whether the start of a file is CoNLL/IOB: every non-blank line among the first 200 has a
    token and a tag (or is a -DOCSTART- line), with as many columns as the others. CoNLL-U, JSON and
    files with # comments are not."""
    truncated = len(head) >= 64 * 1024
    text = head.removeprefix(UTF8_BOM).decode("utf-8", errors="replace")
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines.pop()  # it may be cut short
    lines = [line.removesuffix("\r") for line in lines if line.strip()][:200]
    if not lines or lines[0].lstrip().startswith(("{", "[")):
        return False
    sep = "\t" if "\t" in lines[0] else " "
    width = 0
    tokens = 0
    for line in lines:
        if line.startswith("#"):
            return False
        cols = _columns(line, sep)
        if cols[0] == DOCSTART:
            continue
        if len(cols) < 2 or len(cols) == 10 or (width and len(cols) != width):
            return False
        if not _is_tag(cols[-1]):
            return False
        width = len(cols)
        tokens += 1
    return tokens > 0


# -- writing -----------------------------------------------------------------------------------------


@dataclass
class _Written:
    """One token as written: its text and character range in the document."""

    text: str
    start: int
    end: int
    sentence: int


class _Writer:
    def __init__(self, out: BinaryIO, warnings: list[str] | None, language: str) -> None:
        self.out = out
        self.warnings = warnings if warnings is not None else []
        self.language = language
        self.layout: _Layout | None = None  # the file's, from the first document written
        self.pending = ""  # line end (and blank line) not written yet: the file's end depends on what follows
        self.last_end = ""
        self.count = 0
        self.stances = 0
        self.doc_stances = 0
        self.repeated: list[str] = []
        self.relabelled: set[str] = set()
        self.items = 0

    # -- per record ------------------------------------------------------------------------------
    def record(self, record: Record) -> None:
        document = record.document
        own = _Layout.from_extra(document.meta.extra.get(META_KEY))
        layout = self.layout or _file_layout(own)
        words = self._words(record, layout.sep)
        if not words:
            self.warnings.append(f"{document.id}: the document has no tokens; not written")
            return
        if self.layout is None:
            self.layout = layout
            if layout.bom:
                self.out.write(UTF8_BOM)
        lines = words[-1].sentence + 1
        if not layout.docstarts and lines > 1:
            self.warnings.append(
                f"{document.id}: written without -DOCSTART- lines (the first document decides), so "
                f"its {lines} lines read back as {lines} documents"
            )
        middle = self._middle(document, own, words, layout)
        annotations: list[Annotation | None] = list(record.annotations) or [None]
        if len(annotations) > 1:
            self.repeated.append(document.id)
        for annotation in annotations:
            who = f" (annotator {annotation.annotator})" if annotation and len(annotations) > 1 else ""
            tags = self._tags(document, annotation, words, own, layout, who)
            self._write_document(document, own, words, middle, tags, layout)
            if annotation is not None:
                self.stances += len(annotation.stances)
                self.doc_stances += len(annotation.doc_stances)
        self.last_end = own.file_end if own is not None else ""
        self.count += 1

    def _words(self, record: Record, sep: str) -> list[_Written]:
        """The tokens to write, each with its sentence (a line of the text)."""
        text = record.document.text
        tokens = record.tokens
        if tokens is None:
            from annotator.nlp.tokens import tokenize

            tokens = tokenize(text, self.language)
        breaking = _LINE_BREAKS | ({"\t"} if sep == "\t" else {"\t", " "})
        words: list[_Written] = []
        sentence = 0
        previous_end = 0
        for token in tokens:
            start, end = max(token.start, previous_end), min(token.end, len(text))
            if start >= end:
                continue
            piece = text[start:end]
            if piece.isspace():
                continue
            pieces = [(start, end)]
            if any(c in breaking for c in piece):
                pieces = _split(text, start, end, breaking)
            for a, b in pieces:
                gap = text[previous_end:a]
                if words and any(c in _LINE_BREAKS for c in gap):
                    sentence += 1
                words.append(_Written(text[a:b], a, b, sentence))
                previous_end = b
        return words

    def _middle(
        self, document: Document, own: _Layout | None, words: list[_Written], layout: _Layout
    ) -> list[list[str]]:
        """The middle columns to write, one list per column."""
        width = len(layout.columns)
        if width == 0:
            if own is not None and own.columns:
                self.warnings.append(
                    f"{document.id}: its {len(own.columns)} middle column(s) are not written: the file "
                    f"has only the token and tag columns (the first document decides)"
                )
            return []
        kept = own.columns if own is not None else []
        usable = len(kept) == width and all(isinstance(c, str) or len(c) == len(words) for c in kept)
        if not usable:
            if kept:
                self.warnings.append(
                    f"{document.id}: its middle columns do not fit the file's {width} (or its tokens "
                    f"changed); written as _"
                )
            return [["_"] * len(words) for _ in range(width)]
        out = []
        for column in kept:
            values = [column] * len(words) if isinstance(column, str) else column
            out.append([_clean(v, layout.sep) for v in values])
        return out

    def _tags(
        self,
        document: Document,
        annotation: Annotation | None,
        words: list[_Written],
        own: _Layout | None,
        layout: _Layout,
        who: str,
    ) -> list[str]:
        tags = ["O"] * len(words)
        if annotation is None or not annotation.entities:
            return tags
        text = document.text
        starts = [w.start for w in words]
        ends = [w.end for w in words]
        kept: list[tuple[int, int, str, EntitySpan]] = []
        last_kept = -1
        order = sorted(range(len(annotation.entities)), key=lambda i: (
            annotation.entities[i].start, -annotation.entities[i].end, i
        ))
        for i in order:
            entity = annotation.entities[i]
            label = _clean_label(entity.label)
            if label != entity.label and entity.label not in self.relabelled:
                self.relabelled.add(entity.label)
                self.warnings.append(
                    f"label {entity.label!r} holds whitespace, which CoNLL cannot write; written as {label!r}"
                )
            first = bisect_right(ends, entity.start)
            last = bisect_left(starts, entity.end) - 1
            described = (
                f"{document.id}{who}: entity {_short(text[entity.start:entity.end])} "
                f"({entity.label}, {entity.start}-{entity.end})"
            )
            if first > last:
                self.warnings.append(f"{described} covers no token; dropped")
                continue
            if first <= last_kept:
                other = next(k for k in kept if k[0] <= last and first <= k[1])[3]
                same = (other.start, other.end, other.label) == (entity.start, entity.end, entity.label)
                why = "repeats" if same else "overlaps"
                self.warnings.append(
                    f"{described} {why} {_short(text[other.start:other.end])} ({other.label}, "
                    f"{other.start}-{other.end}); dropped"
                )
                continue
            if (words[first].start, words[last].end) != (entity.start, entity.end):
                self.warnings.append(
                    f"{described} does not fall on token boundaries; written as "
                    f"{_short(text[words[first].start:words[last].end])}"
                )
            if words[first].sentence != words[last].sentence:
                self.warnings.append(f"{described} crosses a line break; written as one entity per line")
            kept.append((first, last, label, entity))
            last_kept = last
        # Per sentence: the canonical tags, or the entity's own exact tags where they still fit.
        by_sentence: dict[int, list[tuple[int, int, str, EntitySpan]]] = {}
        for first, last, label, entity in kept:
            a = first
            while a <= last:
                b = a
                while b < last and words[b + 1].sentence == words[a].sentence:
                    b += 1
                by_sentence.setdefault(words[a].sentence, []).append((a, b, label, entity))
                a = b + 1
        # Entities keep exact tags only when read from a CoNLL file, whose scheme is BIO unless it says.
        exact_ok = (own.scheme if own is not None else "BIO") == layout.scheme
        bounds: dict[int, tuple[int, int]] = {}  # sentence -> (first word, number of words)
        for i, word in enumerate(words):
            base, length = bounds.get(word.sentence, (i, 0))
            bounds[word.sentence] = (base, length + 1)
        for sentence, chunks in by_sentence.items():
            base, length = bounds[sentence]
            local = [(a - base, b - base, label) for a, b, label, _ in chunks]
            written = encode_tags(local, length, layout.scheme)
            if exact_ok:
                candidate = list(written)
                for (a, b, label, entity), (la, lb, _) in zip(chunks, local, strict=True):
                    exact = entity.extra.get(TAGS_KEY)
                    whole = (words[a].start, words[b].end) == (entity.start, entity.end)
                    if whole and _fits(exact, lb - la + 1, label):
                        candidate[la:lb + 1] = list(exact)
                if candidate != written and decode_tags([parse_tag(t) for t in candidate])[0] == local:
                    written = candidate
            tags[base:base + length] = written
        return tags

    def _write_document(
        self,
        document: Document,
        own: _Layout | None,
        words: list[_Written],
        middle: list[list[str]],
        tags: list[str],
        layout: _Layout,
    ) -> None:
        parts: list[str] = []
        if layout.docstarts:
            line: str | None = layout.default_docstart()
            blank_after = True
            if own is not None and own.docstarts and own.sep == layout.sep and len(own.columns) == len(
                layout.columns
            ):
                blank_after = own.docstart_blank
                if own.docstart is None:
                    line = None if self.items == 0 else line
                elif own.docstart:
                    line = own.docstart
            if line is not None:
                parts.append(self._line(line))
                if blank_after:
                    self.pending += layout.blank + layout.eol
        sentence = -1
        for i, word in enumerate(words):
            if word.sentence != sentence and sentence != -1:
                self.pending += layout.blank + layout.eol
            sentence = word.sentence
            columns = [word.text, *(column[i] for column in middle), tags[i]]
            parts.append(self._line(layout.sep.join(columns)))
        self.pending += layout.blank + layout.eol
        self.out.write("".join(parts).encode("utf-8"))

    def _line(self, line: str) -> str:
        assert self.layout is not None
        out = self.pending + line
        self.pending = self.layout.eol
        self.items += 1
        return out

    # -- the end ---------------------------------------------------------------------------------
    def finish(self) -> None:
        if self.layout is not None:
            tail = self.pending
            if self.last_end == "newline":
                tail = self.layout.eol
            elif self.last_end == "none":
                tail = ""
            self.out.write(tail.encode("utf-8"))
        if self.stances or self.doc_stances:
            self.warnings.append(
                f"{self.stances} stance(s) and {self.doc_stances} document stance(s) were not written: "
                f"CoNLL has no place for stances"
            )
        if self.repeated:
            shown = ", ".join(self.repeated[:_LIST_LINES])
            shown += ", ..." if len(self.repeated) > _LIST_LINES else ""
            self.warnings.append(
                f"{len(self.repeated)} document(s) have several annotations and are written once per "
                f"annotation (CoNLL has no annotator column; export one annotator's work with --annotator): "
                f"{shown}"
            )


def _file_layout(own: _Layout | None) -> _Layout:
    """The layout of a whole file, from its first document's. Documents that did not come from a
    CoNLL file (articles) are written with -DOCSTART- lines, so that each comes back whole."""
    if own is None:
        return _Layout(docstarts=True)
    return _Layout(
        sep=own.sep,
        eol=own.eol,
        blank=own.blank,
        columns=own.columns,
        scheme=own.scheme,
        docstarts=own.docstarts,
        bom=own.bom,
    )


def _split(text: str, start: int, end: int, breaking: frozenset[str]) -> list[tuple[int, int]]:
    """The pieces of text[start:end] between characters in `breaking`."""
    pieces = []
    a = start
    for i in range(start, end + 1):
        if i == end or text[i] in breaking:
            if a < i and not text[a:i].isspace():
                pieces.append((a, i))
            a = i + 1
    return pieces


def _fits(exact: Any, length: int, label: str) -> TypeGuard[list[str]]:
    if not isinstance(exact, list) or len(exact) != length:
        return False
    for tag in exact:
        try:
            parsed = parse_tag(tag) if isinstance(tag, str) else None
        except ValueError:
            return False
        if parsed is None or parsed[1] != label:
            return False
    return True


def _clean(value: str, sep: str) -> str:
    """A middle-column value that cannot break its line."""
    bad = _LINE_BREAKS | ({"\t"} if sep == "\t" else {"\t", " "})
    cleaned = "".join("_" if c in bad else c for c in value)
    return cleaned or "_"


def _clean_label(label: str) -> str:
    return "".join("_" if c.isspace() else c for c in label)


def write_conll(
    records: Iterable[Record],
    out: BinaryIO,
    warnings: list[str] | None = None,
    *,
    language: str = "en",
) -> int:
    """Write each record's tokens and tags (see the module's docstring); return the records written.

    Every entity that is dropped or changed, and what the format cannot hold, is reported as one
    message in `warnings` when a list is given. Records without tokens are tokenized with spaCy's
    tokenizer for `language`.
    """
    writer = _Writer(out, warnings, language)
    for record in records:
        writer.record(record)
    writer.finish()
    return writer.count
