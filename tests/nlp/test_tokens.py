import itertools
import random
import subprocess
import sys

import pytest

from annotator.core.errors import AnnotatorError
from annotator.core.model import Token
from annotator.nlp import tokens as tok
from annotator.nlp.tokens import LanguageError, snap, token_span, tokenize

HARD_TEXTS = [
    "Great news 👍 for everyone.",
    "The family 👨‍👩‍👧 arrived from Tokyo 🇯🇵 today.",
    "東京都の知事は記者会見で発言した。",
    "قال الرئيس إن المحادثات كانت مثمرة.",
    "Cafe\u0301 owners in Re\u0301union protested.",
    "Line one.\r\nLine two.\r\n\r\nLine three.",
    "Name\tParty\tSeats\nLabour\t411\n",
    "Ends with a break\u2028and a paragraph\u2029here.",
    "  leading and trailing spaces  ",
    "no-break\u00a0space and double  space",
    "",
]


def spans(text: str, tokens: list[Token]) -> list[str]:
    return [text[t.start:t.end] for t in tokens]


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_tokens_rebuild_the_exact_text(text):
    tokens = tokenize(text)
    rebuilt = "".join(text[t.start:t.end] + (" " if t.ws else "") for t in tokens)
    assert rebuilt == text
    assert all(t.start < t.end for t in tokens)
    assert all(a.end + (1 if a.ws else 0) == b.start for a, b in itertools.pairwise(tokens))


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_tokens_match_spacy(text):
    doc = tok.blank_pipeline("en").make_doc(text)
    assert spans(text, tokenize(text)) == [t.text for t in doc]
    assert [t.ws for t in tokenize(text)] == [bool(t.whitespace_) for t in doc]


def test_whitespace_tokens_are_kept():
    text = "First paragraph.\n\nSecond one."
    assert "\n\n" in spans(text, tokenize(text))


def test_offsets_are_code_points():
    text = "👍 ok"
    tokens = tokenize(text)
    assert tokens[0] == Token(0, 1, True)
    assert tokens[1] == Token(2, 4, False)


def test_combining_mark_stays_with_its_letter():
    text = "Re\u0301union"
    assert spans(text, tokenize(text)) == [text]


def test_cache_returns_equal_lists_that_callers_cannot_spoil():
    text = "A cached article."
    first = tokenize(text)
    first.clear()
    assert tokenize(text) == tokenize(text) != []


def test_pipeline_is_loaded_once_per_language():
    assert tok.blank_pipeline("en") is tok.blank_pipeline("en")


def test_other_language():
    text = "Die Kanzlerin sprach in Berlin."
    assert spans(text, tokenize(text, "de"))[-2:] == ["Berlin", "."]


@pytest.mark.parametrize("language", ["qq", "EN", ""])
def test_unknown_language_is_a_clear_error(language):
    with pytest.raises(LanguageError, match=repr(language)) as info:
        tokenize("Some text.", language)
    assert isinstance(info.value, AnnotatorError)


def test_importing_does_not_import_spacy():
    code = "import annotator, annotator.nlp.tokens, sys; assert 'spacy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- snap ------------------------------------------------------------------------------------------


def snapped(text: str, start: int, end: int) -> str | None:
    result = snap(tokenize(text), text, start, end)
    return None if result is None else text[result[0]:result[1]]


def test_snap_expands_to_whole_words():
    text = "Prime Minister Takaichi spoke."
    assert snapped(text, 2, 9) == "Prime Minister"
    assert snapped(text, 16, 17) == "Takaichi"


def test_snap_drops_surrounding_whitespace():
    text = "Prime Minister  Takaichi\n\nspoke."
    assert snapped(text, 5, 16) == "Minister"
    assert snapped(text, 14, 27) == "Takaichi\n\nspoke"


def test_snap_of_whitespace_only_is_none():
    text = "One\n\n  two"
    assert snapped(text, 3, 7) is None
    assert snapped(text, 2, 2) is None


def test_snap_clamps_to_the_text():
    text = "One two"
    assert snapped(text, -5, 100) == "One two"


def test_snap_keeps_emoji_sequences_whole_when_selected_whole():
    text = "The family 👨‍👩‍👧 and the flag 🇯🇵."
    family = text.index("👨")
    assert snapped(text, family, family + len("👨‍👩‍👧")) == "👨‍👩‍👧"
    flag = text.index("🇯")
    assert snapped(text, flag, flag + 2) == "🇯🇵"


def test_snap_in_cjk_arabic_and_combining_text():
    text = "قال الرئيس إن المحادثات"
    assert snapped(text, 5, 7) == "الرئيس"
    text = "Cafe\u0301 owners"
    assert snapped(text, 4, 5) == "Cafe\u0301"


def test_snap_over_crlf_and_tabs():
    text = "Labour\t411\r\nGreens\t4"
    assert snapped(text, 8, 15) == "411\r\nGreens"
    assert snapped(text, 6, 8) == "411"


def test_snap_with_tokens_that_leave_gaps():
    text = "abc def"
    tokens = [Token(0, 3, True)]
    assert snap(tokens, text, 1, 6) == (0, 6)
    assert snap([], text, 1, 2) == (1, 2)


def _expand(doc, start: int, end: int) -> tuple[int, int] | None:
    # The selection snap() works on: the same, with whitespace trimmed off.
    selected = doc.text[start:end]
    if start >= end or not selected.strip():
        return None
    start += len(selected) - len(selected.lstrip())
    end = start + len(selected.strip())
    span = doc.char_span(start, end, alignment_mode="expand")
    return None if span is None else (span.start_char, span.end_char)


@pytest.mark.parametrize("text", HARD_TEXTS[:-1])
def test_snap_agrees_with_spacy_char_span_expand(text):
    doc = tok.blank_pipeline("en").make_doc(text)
    tokens = tokenize(text)
    rng = random.Random(text)
    pairs = [(s, e) for s in range(len(text)) for e in range(s + 1, len(text) + 1)]
    for start, end in rng.sample(pairs, min(len(pairs), 400)):
        assert snap(tokens, text, start, end) == _expand(doc, start, end), (start, end)


def test_snap_agrees_with_spacy_on_a_long_article():
    rng = random.Random(7)
    words = ["Tokyo", "said", "U.S.-Japan", "talks", "—", "“good”", "(2026)", "👍", "\n\n", "e\u0301", "東京"]
    text = " ".join(rng.choice(words) for _ in range(3000))
    doc = tok.blank_pipeline("en").make_doc(text)
    tokens = tokenize(text)
    for _ in range(2000):
        start = rng.randrange(len(text))
        end = min(len(text), start + rng.randrange(1, 40))
        assert snap(tokens, text, start, end) == _expand(doc, start, end), (start, end)


# -- token_span ------------------------------------------------------------------------------------


def test_token_span_on_boundaries():
    text = "Prime Minister Takaichi spoke."
    tokens = tokenize(text)
    assert token_span(tokens, 0, 14) == (0, 1)
    assert token_span(tokens, 15, 23) == (2, 2)
    assert token_span(tokens, 24, 30) == (3, 4)


def test_token_span_off_boundaries_is_none():
    text = "Prime Minister Takaichi spoke."
    tokens = tokenize(text)
    assert token_span(tokens, 1, 14) is None
    assert token_span(tokens, 0, 13) is None
    assert token_span(tokens, 0, 15) is None  # ends after the trailing space
    assert token_span(tokens, 23, 30) is None  # starts on it
    assert token_span(tokens, 5, 5) is None
    assert token_span(tokens, 0, 99) is None


def test_token_span_counts_whitespace_tokens():
    text = "One.\n\nTwo."
    tokens = tokenize(text)
    assert token_span(tokens, 6, 9) == (3, 3)


@pytest.mark.parametrize("text", HARD_TEXTS[:-1])
def test_token_span_agrees_with_spacy_strict(text):
    doc = tok.blank_pipeline("en").make_doc(text)
    tokens = tokenize(text)
    for start in range(len(text)):
        for end in range(start + 1, min(len(text), start + 12) + 1):
            span = doc.char_span(start, end, alignment_mode="strict")
            expected = None if span is None else (span.start, span.end - 1)
            assert token_span(tokens, start, end) == expected, (start, end)
