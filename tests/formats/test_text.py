import hashlib
from pathlib import Path

import pytest

from annotator.core.errors import InputError
from annotator.formats.base import Record
from annotator.formats.text import (
    detect_meta,
    document_id,
    looks_like_name,
    looks_like_title,
    parse_byline,
    parse_date,
    read_text,
)
from annotator.resources import samples_dir

ARTICLE = (
    "Harbour town votes to keep its ferry after a long campaign\n"
    "\n"
    "Wed Feb 11 2026\n"
    "Lena Hartmann (412 articles)\n"
    "Harbour town votes to keep its ferry after a long campaign\n"
    "\n"
    "The council of Kelby voted on Tuesday to keep the town's ferry running for another ten years. "
    "Mayor Tom Reyes said the decision was \u201ca victory for common sense\u201d.\n"
    "\n"
    "Lena Hartmann\n"
)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read_one(path):
    items = list(read_text(path))
    assert len(items) == 1
    return items[0]


def test_article_with_a_header(tmp_path):
    record = read_one(write(tmp_path, "ferry.txt", ARTICLE))
    assert isinstance(record, Record)
    doc = record.document
    assert doc.text == ARTICLE
    assert doc.meta.title == "Harbour town votes to keep its ferry after a long campaign"
    assert doc.meta.published == "2026-02-11"
    assert doc.meta.author == "Lena Hartmann"
    assert doc.meta.source == "ferry.txt"
    assert record.tokens is None
    assert record.annotations == []


def test_id_is_the_content_hash(tmp_path):
    first = read_one(write(tmp_path, "a.txt", ARTICLE)).document
    second = read_one(write(tmp_path, "b.txt", ARTICLE)).document
    assert first.id == second.id == "sha256:" + hashlib.sha256(ARTICLE.encode()).hexdigest()[:16]
    assert document_id(ARTICLE + " ") != first.id


def test_text_without_a_header(tmp_path):
    body = (
        "The council of Kelby voted on Tuesday to keep the town's ferry running for another ten years, "
        "after a campaign that brought hundreds of residents to the town hall on a cold evening.\n"
        "Mayor Tom Reyes said the decision was a victory for common sense.\n"
    )
    doc = read_one(write(tmp_path, "no-header.txt", body)).document
    assert doc.text == body
    assert doc.meta.title == "no-header"
    assert doc.meta.author is None
    assert doc.meta.published is None


def test_short_first_sentence_is_not_a_title(tmp_path):
    doc = read_one(write(tmp_path, "short.txt", "The ferry stays.\nEveryone cheered.\n")).document
    assert doc.meta.title == "short"


def test_crlf_line_endings_are_kept(tmp_path):
    text = ARTICLE.replace("\n", "\r\n")
    doc = read_one(write(tmp_path, "crlf.txt", text)).document
    assert doc.text == text
    assert "\r\n" in doc.text
    assert doc.meta.title == "Harbour town votes to keep its ferry after a long campaign"
    assert (doc.meta.published, doc.meta.author) == ("2026-02-11", "Lena Hartmann")


def test_utf8_bom_is_dropped_and_nothing_else(tmp_path):
    text = "  Ferry vote\n\n2026-02-11\nBy Lena Hartmann\n\nBody text here.  \n\n\n"
    doc = read_one(write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + text.encode())).document
    assert doc.text == text
    assert doc.id == document_id(text)
    assert doc.meta.title == "Ferry vote"


def test_text_is_not_normalised(tmp_path):
    text = "Cafe\u0301 owners\tprotest\u2028again\u2029 \U0001F44D \U0001F468\u200d\U0001F469\u200d\U0001F467"
    doc = read_one(write(tmp_path, "raw.txt", text)).document
    assert doc.text == text


def test_invalid_utf8_names_the_file_offset_and_line(tmp_path):
    path = write(tmp_path, "latin1.txt", "Ferry vote\n\nCaf\u00e9 owners protest\n".encode("latin-1"))
    error = read_one(path)
    assert isinstance(error, InputError)
    assert error.path == str(path)
    assert error.line == 3
    assert "not UTF-8" in error.message
    assert "offset 15" in error.message
    assert "0xE9" in error.message


def test_invalid_utf8_after_a_bom_counts_the_bom(tmp_path):
    error = read_one(write(tmp_path, "bom-bad.txt", b"\xef\xbb\xbfab\xff"))
    assert isinstance(error, InputError)
    assert "offset 5" in error.message


def test_utf16_is_not_guessed(tmp_path):
    error = read_one(write(tmp_path, "utf16.txt", "Ferry vote\n".encode("utf-16")))
    assert isinstance(error, InputError)
    assert "not UTF-8" in error.message and "UTF-16" in error.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n  \t\n"])
def test_empty_article(tmp_path, data):
    error = read_one(write(tmp_path, "empty.txt", data))
    assert isinstance(error, InputError)
    assert "empty article" in error.message
    assert error.path.endswith("empty.txt")


def test_missing_file_is_raised(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(read_text(tmp_path / "missing.txt"))


def test_directory_reads_txt_files_in_name_order(tmp_path):
    write(tmp_path, "b.txt", "Second article\n\nBody of the second one.\n")
    write(tmp_path, "a.txt", "First article\n\nBody of the first one.\n")
    write(tmp_path, "c.TXT", "Third article\n\nBody of the third one.\n")
    write(tmp_path, "notes.md", "# not an article\n")
    write(tmp_path, "._a.txt", b"\x00\x05\x16\x07binary")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "deep.txt", "Nested article\n\nNot read.\n")
    titles = [item.document.meta.title for item in read_text(tmp_path)]
    assert titles == ["First article", "Second article", "Third article"]


def test_directory_with_a_bad_file_goes_on(tmp_path):
    write(tmp_path, "1-good.txt", "First article\n\nBody.\n")
    bad = write(tmp_path, "2-bad.txt", b"Second article\n\n\x93quoted\x94\n")
    write(tmp_path, "3-empty.txt", "")
    write(tmp_path, "4-good.txt", "Fourth article\n\nBody.\n")
    items = list(read_text(tmp_path))
    assert [type(item).__name__ for item in items] == ["Record", "InputError", "InputError", "Record"]
    assert items[1].path == str(bad) and items[1].line == 3
    assert "empty article" in items[2].message


def test_directory_with_an_unreadable_file(tmp_path, monkeypatch):
    write(tmp_path, "a.txt", "First article\n\nBody.\n")
    locked = write(tmp_path, "b.txt", "Second article\n\nBody.\n")
    # chmod 0 does not stop root (CI runs as root), so the refusal is simulated.
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    items = list(read_text(tmp_path))
    assert isinstance(items[0], Record)
    assert isinstance(items[1], InputError) and "cannot read" in items[1].message


def test_directory_without_txt_files_is_raised(tmp_path):
    write(tmp_path, "notes.md", "nothing\n")
    with pytest.raises(InputError, match=r"no \.txt files"):
        list(read_text(tmp_path))


def test_samples_all_have_a_title_date_and_author():
    samples = sorted(samples_dir().glob("*.txt"))
    assert len(samples) >= 5
    for item in read_text(samples_dir()):
        assert isinstance(item, Record), item
        meta = item.document.meta
        assert meta.title and meta.title != item.path, item.path
        assert meta.published and meta.author, item.path
    assert len(list(read_text(samples_dir()))) == len(samples)


# -- header rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Council backs tram line over Harbour Bridge",
        "Will the ferry survive?",
        "Ferry saved!",
        "Talks with the U.S.",
        "\u201cWe will not give up,\u201d says mayor",
        "東京都知事が会見",
    ],
)
def test_titles(line):
    assert looks_like_title(line)


@pytest.mark.parametrize(
    "line",
    [
        "The council voted on Tuesday to keep the ferry.",
        "He said: \u201cWe will not give up.\u201d",
        "The vote, which was close,",
        "Results:",
        "x" * 201,
        "2026-02-11",
        "By Lena Hartmann",
        "* * *",
        "東京都の知事は記者会見で発言した。",
    ],
)
def test_not_titles(line):
    assert not looks_like_title(line)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Sat Jan 03 2026", "2026-01-03"),
        ("January 3, 2026", "2026-01-03"),
        ("Jan. 3, 2026", "2026-01-03"),
        ("3 January 2026", "2026-01-03"),
        ("3rd of January, 2026", "2026-01-03"),
        ("Saturday, 3 January 2026", "2026-01-03"),
        ("2026-01-03", "2026-01-03"),
        ("2026/1/3", "2026-01-03"),
        ("2026-01-03T10:15:00+09:00", "2026-01-03"),
        ("13/01/2026", "2026-01-13"),
        ("01/13/2026", "2026-01-13"),
        ("05/05/2026", "2026-05-05"),
        ("12.03.2026", "2026-03-12"),
        ("2026年1月3日", "2026-01-03"),
        ("Sat Jan 03 2026 10:00:00 GMT+0900 (Japan Standard Time)", "2026-01-03"),
        ("January 3, 2026 at 10:30 a.m. ET", "2026-01-03"),
        ("Published: 3 Jan 2026, 10:30", "2026-01-03"),
        ("Updated on Sept 30, 2026 5pm", "2026-09-30"),
        ("  March 10, 2026  ", "2026-03-10"),
    ],
)
def test_dates(line, expected):
    assert parse_date(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "03/01/2026",  # 3 January or 1 March: not guessed
        "February 30, 2026",
        "January 2026",
        "On January 3, 2026 the council met.",
        "January 3, 2026 was a cold day",
        "2026",
        "Page 3 of 12",
    ],
)
def test_not_dates(line):
    assert parse_date(line) is None


@pytest.mark.parametrize(
    "line, expected",
    [
        ("By Lena Hartmann", "Lena Hartmann"),
        ("by lena hartmann, Kelby", None),
        ("BY LENA HARTMANN", "LENA HARTMANN"),
        ("Lena Hartmann (412 articles)", "Lena Hartmann"),
        ("Lena Hartmann, Staff Reporter", "Lena Hartmann"),
        ("Lena Hartmann | Kelby Courier", "Lena Hartmann"),
        ("By Lena Hartmann | 11 February 2026", "Lena Hartmann"),
        ("By Lena Hartmann and Tom Reyes", "Lena Hartmann and Tom Reyes"),
        ("By Mary Ann van der Berg", "Mary Ann van der Berg"),
        ("By Ahmed al-Rashid", "Ahmed al-Rashid"),
        ("By Zoë O\u2019Brien-Smith", "Zoë O\u2019Brien-Smith"),
        ("By Jose\u0301 Marti\u0301nez", "Jose\u0301 Marti\u0301nez"),
        ("Łukasz Żółkiewski, Warsaw", "Łukasz Żółkiewski"),
        ("By J. K. Rowling", "J. K. Rowling"),
    ],
)
def test_bylines(line, expected):
    assert parse_byline(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Lena Hartmann",  # a bare name: title-case subheadings look the same
        "By The Associated Press",
        "By Reuters Staff",
        "By Madonna",
        "By Lena Hartmann Tom Reyes Ann Lee Bo Li",
        "Mayor Tom Reyes, who won the vote, said on Friday that the ferry would stay.",
        "Tom Reyes, the mayor.",
        "Ferry Service Resumes | Kelby Courier Online Edition Today",
        "By 2030 the ferry will be electric",
        "Lena Hartmann (412 articles",
    ],
)
def test_not_bylines(line):
    assert parse_byline(line) is None


def test_names():
    assert looks_like_name("Ursula von der Leyen")
    assert not looks_like_name("von Leyen")
    assert not looks_like_name("Lena")
    assert not looks_like_name("Lena 2")


def test_date_and_byline_in_either_order_and_on_one_line():
    meta = detect_meta("Ferry saved\nBy Lena Hartmann\nFebruary 11, 2026\n\nBody.", "x.txt")
    assert (meta.author, meta.published) == ("Lena Hartmann", "2026-02-11")
    meta = detect_meta("Ferry saved\n\nLena Hartmann | 11 February 2026\n\nBody.", "x.txt")
    assert (meta.author, meta.published) == ("Lena Hartmann", "2026-02-11")


def test_header_without_a_title():
    meta = detect_meta("11 February 2026\nBy Lena Hartmann\n\nThe council voted to keep the ferry.", "f.txt")
    assert (meta.title, meta.published, meta.author) == ("f", "2026-02-11", "Lena Hartmann")


def test_date_and_byline_far_below_the_title_are_not_taken():
    body = [f"Paragraph {i} of the article." for i in range(6)]
    lines = ["Ferry saved", *body, "2026-02-11", "By Lena Hartmann"]
    meta = detect_meta("\n".join(lines), "f.txt")
    assert (meta.published, meta.author) == (None, None)
