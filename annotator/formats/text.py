"""Plain-text articles: one `.txt` file per article, or a directory of them.

The document text is the file's text exactly as written (only a UTF-8 byte order mark is dropped: it
marks the encoding and is not part of the text). A title, date and byline at the top are read into
the document's metadata, and stay in the text.

Header detection is a heuristic for articles pasted from news sites, which usually start like::

    Council backs tram line over Harbour Bridge      <- title: short, not ending like a sentence
                                                     <- blank lines are skipped
    Tue Mar 10 2026                                  <- date: a line that is only a date (and time)
    By Anna Keller                                   <- byline: "By NAME", "NAME (12 articles)",
                                                        "NAME, Staff Reporter", "NAME | Outlet"

Date and byline are looked for among the first few non-blank lines after the title, in any order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.model import Document, DocumentMeta
from annotator.formats.base import ReadItem, Record

UTF8_BOM = b"\xef\xbb\xbf"

# How many non-blank lines after the title may hold the date and the byline.
HEADER_LINES = 5
# The header is looked for in this many leading characters, so a huge article is not split whole.
HEADER_CHARS = 4000
MAX_TITLE = 200


# -- reading -----------------------------------------------------------------------------------------


def read_text(path: Path | str) -> Iterator[ReadItem]:
    """One Record per article: `path` is a text file, or a directory whose `*.txt` files are read.

    In a directory, files are taken in name order, not recursively; hidden files (".name.txt", such
    as the "._name.txt" files macOS leaves behind) are skipped. A file that cannot be read, is not
    UTF-8 or is empty is yielded as an InputError, so the other files can still be imported.
    """
    path = Path(path)
    if path.is_dir():
        yield from _read_dir(path)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    yield _record(path, data)


def _read_dir(directory: Path) -> Iterator[ReadItem]:
    try:
        files = sorted(
            (p for p in directory.iterdir() if p.suffix.lower() == ".txt" and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
    except OSError as exc:
        raise InputError(f"cannot list the directory: {exc.strerror}", path=directory) from None
    files = [p for p in files if not p.is_dir()]
    if not files:
        raise InputError("the directory has no .txt files", path=directory)
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as exc:
            yield InputError(f"cannot read the file: {exc.strerror}", path=file)
            continue
        yield _record(file, data)


def _record(path: Path, data: bytes) -> ReadItem:
    try:
        text = decode(data)
    except InputError as exc:
        return InputError(exc.message, path=path, line=exc.line)
    if not text.strip():
        return InputError("empty article: the file has no text", path=path)
    return Record(document=text_document(text, path.name), path=str(path))


def decode(data: bytes) -> str:
    """The text of UTF-8 bytes, a leading byte order mark dropped; nothing else is changed.

    Other encodings are not guessed: a wrong guess would silently corrupt names in the article.
    """
    skipped = 0
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
        skipped = len(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        offset = exc.start + skipped
        message = (
            f"the file is not UTF-8: byte 0x{data[exc.start]:02X} at byte offset {offset} (line {line}) "
            f"is not valid UTF-8; save the file as UTF-8 and import it again"
        )
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            message += " (it starts like a UTF-16 file)"
        raise InputError(message, line=line) from None


def document_id(text: str) -> str:
    """A content-based id, so the same article imported twice is the same document."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def text_document(text: str, name: str) -> Document:
    """A Document for an article's text; `name` (a file name) is its source and fallback title."""
    return Document(id=document_id(text), text=text, meta=detect_meta(text, name))


# -- header detection ------------------------------------------------------------------------------


def detect_meta(text: str, name: str) -> DocumentMeta:
    """Title, date and author read from the top of an article; the title falls back to the name's stem."""
    lines = [line.strip() for line in text[:HEADER_CHARS].splitlines()]
    lines = [line for line in lines if line][: HEADER_LINES + 1]
    title = None
    if lines and looks_like_title(lines[0]):
        title = lines.pop(0)
    published = author = None
    for line in lines[:HEADER_LINES]:
        if published is None:
            published = parse_date(line) or _first(parse_date(part) for part in _parts(line))
        if author is None:
            author = parse_byline(line)
    return DocumentMeta(title=title or Path(name).stem, author=author, published=published, source=name)


def _first(values: Iterator[str | None]) -> str | None:
    return next((v for v in values if v is not None), None)


_PART_SEPARATORS = re.compile(r"\s+[|·•—–]\s+|\s+-\s+")


def _parts(line: str) -> Iterator[str]:
    """The pieces of a header line such as "By Anna Keller | 10 March 2026"."""
    parts = _PART_SEPARATORS.split(line)
    if len(parts) > 1:
        yield from (part.strip() for part in parts)


# Closing quotes and brackets that may follow the last word of a sentence.
_CLOSERS = "\"'”’»)]"
# An abbreviation with inner dots ("U.S.", "a.m.") ends a headline without ending a sentence.
_DOTTED_ABBREVIATION = re.compile(r"(?:^|\s)(?:\w\.){2,}$")


def looks_like_title(line: str) -> bool:
    """Whether the first line of an article reads as its headline rather than body text.

    A headline is short (at most 200 characters), has a letter, and does not end the way body
    sentences do: with a full stop (an abbreviation such as "U.S." excepted), comma, semicolon or
    colon. Headlines may end with "?" or "!". A date or a byline is not a title.
    """
    if len(line) > MAX_TITLE or not any(c.isalpha() for c in line):
        return False
    last = line.rstrip(_CLOSERS)
    if last.endswith((",", ";", ":", "，", "；", "：")):
        return False
    if last.endswith((".", "。", "．")) and not _DOTTED_ABBREVIATION.search(last):
        return False
    return parse_date(line) is None and parse_byline(line) is None


# -- dates -----------------------------------------------------------------------------------------

_MONTHS = {
    name[:3]: number
    for number, name in enumerate(
        (
            "january", "february", "march", "april", "may", "june",
            "july", "august", "september", "october", "november", "december",
        ),
        start=1,
    )
}
_MONTH = (
    r"(?P<month>january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_WEEKDAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?,?\s+)?"
)
_PREFIX = r"(?:(?:first\s+)?(?:published|updated|posted|last\s+updated|date)(?:\s+on)?\s*:?\s+)?"
_TIME = (
    r"(?:\s*(?:,|at|-|–|—|\|)?\s*"
    r"(?:\d{1,2}(?:[:.]\d{2}){1,2}(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?)"
    r".{0,50})?"  # time zone and the like: "GMT+0900 (Japan Standard Time)", "ET"
)
_DATE_FORMS = [
    re.compile(_PREFIX + _WEEKDAY + form + _TIME, re.IGNORECASE)
    for form in (
        _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR,  # Jan 03 2026, January 3, 2026
        _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR,  # 3 January 2026
        r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})",  # 2026-01-03
        r"(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日",  # 2026年1月3日
    )
]
_ISO_DATETIME = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})T\d{2}:\d{2}\S*")
_NUMERIC = re.compile(
    _PREFIX + _WEEKDAY + r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)" + _YEAR + _TIME, re.IGNORECASE
)


def parse_date(line: str) -> str | None:
    """The ISO date ("2026-01-03") of a line that is only a date, maybe with weekday and time.

    Day and month given as numbers with "/" or "-" ("03/01/2026") are read only when the order cannot
    matter: one of them is above 12, or both are the same. With dots ("12.03.2026") the day comes
    first: that is how the countries that write dates with dots write them.
    """
    line = line.strip()
    for form in (*_DATE_FORMS, _ISO_DATETIME):
        m = form.fullmatch(line)
        if m:
            month = m["month"]
            number = int(month) if month.isdigit() else _MONTHS[month[:3].lower()]
            return _iso(int(m["year"]), number, int(m["day"]))
    m = _NUMERIC.fullmatch(line)
    if m:
        a, b = int(m["a"]), int(m["b"])
        if m["sep"] == ".":
            return _iso(int(m["year"]), b, a)
        if a > 12 and b <= 12:
            return _iso(int(m["year"]), b, a)
        if b > 12 and a <= 12:
            return _iso(int(m["year"]), a, b)
        if a == b:
            return _iso(int(m["year"]), a, a)
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


# -- bylines ---------------------------------------------------------------------------------------

_BY = re.compile(r"by\s+", re.IGNORECASE)
# What may follow the name in a byline: "(3301 articles)", ", Staff Reporter", "| Outlet", "- Outlet".
_AFTER_NAME = re.compile(r"\s*\(|\s*,\s*|\s+[|·•—–-]\s+")
_AND = re.compile(r"\s+(?:and|&)\s+")
MAX_BYLINE = 120
MAX_BYLINE_TAIL_WORDS = 8

# Lower-case words that may sit inside a name ("Ursula von der Leyen", "Luiz Inácio Lula da Silva").
_PARTICLES = {
    "al", "bin", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "el", "ibn",
    "la", "le", "ter", "ten", "van", "von", "y", "zu",
}
_PREFIXED = re.compile(r"(?:al|el|ad|ash|as|at|az)-\w", re.IGNORECASE)
# Capitalised words that say a byline names an organisation or a desk, not a person.
_NOT_NAMES = {
    "the", "staff", "reporter", "reporters", "correspondent", "editor", "editors", "editorial", "board",
    "news", "press", "agency", "agencies", "desk", "team", "online", "service", "wire", "wires",
    "reuters", "associated", "afp", "ap", "bloomberg", "contributor", "guest", "our", "view",
}


def parse_byline(line: str) -> str | None:
    """The author's name in a byline, or None when the line is not one or the name is not a person's.

    Accepted: "By NAME" (anything may follow, as below), "NAME (3301 articles)", "NAME, Staff
    Reporter", "NAME | Outlet"; "By A and B" gives "A and B". A line that is only a name is not taken
    as a byline: a title-case subheading looks just the same.
    """
    line = line.strip()
    if len(line) > MAX_BYLINE:
        return None
    by = _BY.match(line)
    rest = line[by.end():] if by else line
    after = _AFTER_NAME.search(rest)
    if after is None:
        if not by:
            return None
        name, tail = rest, ""
    else:
        name, tail = rest[: after.start()], rest[after.end():]
        if after.group().strip() == "(" and not tail.rstrip().endswith(")"):
            return None
        ends_sentence = tail.rstrip(_CLOSERS).endswith((".", "!", "?"))
        sentence = len(tail.split()) > MAX_BYLINE_TAIL_WORDS or ends_sentence
        if sentence and not by:
            # Too much follows the name: this is a sentence about someone, not a byline.
            return None
    names = _AND.split(name.strip())
    if all(looks_like_name(n) for n in names):
        return " and ".join(names)
    return None


def looks_like_name(name: str) -> bool:
    """2 to 4 capitalised words (any script with capitals), lower-case particles allowed inside."""
    words = name.split()
    if not 2 <= len(words) <= 6:
        return False
    capitalised = 0
    for i, word in enumerate(words):
        if _PREFIXED.match(word):
            capitalised += 1
        elif word in _PARTICLES:
            if i in (0, len(words) - 1):
                return False
        elif word[0].isupper() and all(map(_name_char, word)) and word.lower().strip(".") not in _NOT_NAMES:
            capitalised += 1
        else:
            return False
    return 2 <= capitalised <= 4


def _name_char(c: str) -> bool:
    # Marks too: a decomposed "é" is "e" followed by a combining accent.
    return c.isalpha() or c in "'’-." or unicodedata.category(c).startswith("M")
