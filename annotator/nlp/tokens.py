"""Tokenize article text with spaCy and map character selections onto tokens.

Tokens are the `Token(start, end, ws)` tuples of the core model: code-point offsets into the exact
text. Every spaCy token is kept, whitespace tokens such as "\\n\\n" included, so token indices match
spaCy's and Prodigy's `token_start`/`token_end`.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING

from annotator.core.errors import AnnotatorError
from annotator.core.model import Token

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spacy.language import Language


class LanguageError(AnnotatorError, ValueError):
    """spaCy cannot tokenize this language (unknown code, or an extra package is missing)."""


_pipelines: dict[str, Language] = {}
# Loading a blank pipeline takes about 0.15 s; the lock keeps two threads from doing it twice.
_load_lock = threading.Lock()

_start = itemgetter(0)
_end = itemgetter(1)


def blank_pipeline(language: str) -> Language:
    """The tokenizer-only spaCy pipeline for `language` (an ISO code such as "en"), loaded once."""
    nlp = _pipelines.get(language)
    if nlp is not None:
        return nlp
    with _load_lock:
        nlp = _pipelines.get(language)
        if nlp is None:
            nlp = _load_blank(language)
            _pipelines[language] = nlp
    return nlp


def _load_blank(language: str) -> Language:
    import spacy

    try:
        nlp = spacy.blank(language)
    except ImportError as exc:
        # spaCy raises ImportError both for codes it does not know (E048) and for languages whose
        # tokenizer needs another package (Japanese, Korean, Thai, Vietnamese).
        if "[E048]" in str(exc):
            raise LanguageError(
                f"spaCy has no tokenizer for language {language!r}: use a code such as 'en', 'de' or "
                f"'xx' (multi-language)"
            ) from None
        raise LanguageError(f"spaCy cannot tokenize language {language!r}: {exc}") from None
    # spaCy's length limit guards the parser and NER; the tokenizer alone handles long articles.
    nlp.max_length = 2**31
    return nlp


def tokenize(text: str, language: str = "en") -> list[Token]:
    """spaCy's tokens of `text`, in order, covering every character except single trailing spaces.

    The same (text, language) is tokenized once: recent results are cached.
    """
    # A copy, so that a caller changing its list cannot change what the cache hands out next.
    return list(_tokenize_cached(text, language))


@lru_cache(maxsize=64)
def _tokenize_cached(text: str, language: str) -> tuple[Token, ...]:
    doc = blank_pipeline(language).make_doc(text)
    return tuple([Token(t.idx, t.idx + len(t.text), t.whitespace_ != "") for t in doc])


def snap(tokens: Sequence[Token], text: str, start: int, end: int) -> tuple[int, int] | None:
    """Widen a character selection to whole tokens, without surrounding whitespace.

    Whitespace is trimmed off both ends first (None if nothing else is selected); then `start` moves
    back to the start of its token and `end` forward to the end of the token holding `end - 1`. This
    is spaCy's `Doc.char_span(..., alignment_mode="expand")` on the trimmed selection. A character
    that no token covers (tokens from a file may leave gaps) stays where it is.
    """
    start = max(0, start)
    end = min(len(text), end)
    if start >= end:
        return None
    selected = text[start:end]
    kept = selected.strip()
    if not kept:
        return None
    start += len(selected) - len(selected.lstrip())
    end = start + len(kept)
    # After trimming, `start` and `end - 1` are not whitespace, so whitespace-only tokens never hold them.
    i = bisect_right(tokens, start, key=_start) - 1
    if i >= 0 and start < tokens[i].end:
        start = tokens[i].start
    j = bisect_right(tokens, end - 1, key=_start) - 1
    if j >= 0 and end - 1 < tokens[j].end:
        end = tokens[j].end
    return start, end


def token_span(tokens: Sequence[Token], start: int, end: int) -> tuple[int, int] | None:
    """(first, last) token indices, last inclusive, of a span that starts and ends on token
    boundaries; None when it does not (Prodigy's `token_start`/`token_end`)."""
    if start >= end:
        return None
    first = bisect_left(tokens, start, key=_start)
    if first == len(tokens) or tokens[first].start != start:
        return None
    # Tokens do not overlap, so their ends are sorted too.
    last = bisect_left(tokens, end, lo=first, key=_end)
    if last == len(tokens) or tokens[last].end != end:
        return None
    return first, last
