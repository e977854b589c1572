"""Tokens as compact bytes for the database, decoded at C speed.

A long article has hundreds of thousands of tokens; as JSON (`[[start, end, ws], ...]`) they took
longer to read back than anything else about it. Here they are the distances between consecutive
token boundaries (the gap before each token, then its length), in the narrowest whole-byte integers
that hold them, then one byte per token for the whitespace flag; the lot is zlib-compressed
when that makes it markedly smaller. Decoding is `array.frombytes` and `itertools.accumulate`, with no
Python-level loop per token.

Layout (little-endian): a header `<BBBI` (format version, integer width in bytes, flags, token
count), then the payload: n gaps (each token's start minus the previous token's end, or minus 0),
then n lengths, as integers of that width, then n whitespace bytes (0 or 1).
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain, repeat
from operator import sub
from typing import Any

from annotator.core.model import Token
from annotator.store.bulk import collector_paused

FORMAT_VERSION = 1
_HEADER = struct.Struct("<BBBI")
_SIGNED = 1  # flag: the deltas are signed (tokens out of order or overlapping)
_ZLIB = 2  # flag: the payload is zlib-compressed
_BOOLS = (False, True)

# array typecodes by (width in bytes, signed); `I` and `L` differ between platforms.
_TYPECODES: dict[tuple[int, bool], str] = {}
for _code in "bBhHiIlLqQ":
    _TYPECODES.setdefault((array(_code).itemsize, _code.islower()), _code)


class TokenDataError(ValueError):
    """Stored token bytes that cannot be read (damaged, or written by a newer version)."""


def encode_tokens(tokens: Sequence[Sequence[Any]]) -> bytes:
    """The bytes for a token list: each token `(start, end, ws)` with int offsets (Token or not)."""
    n = len(tokens)
    if n:
        starts, ends, ws = zip(*tokens, strict=True)
    else:
        starts = ends = ws = ()
    gaps = list(map(sub, starts, chain((0,), ends)))  # from the previous token's end (or 0)
    lengths = list(map(sub, ends, starts))
    low = min(min(gaps, default=0), min(lengths, default=0))
    high = max(max(gaps, default=0), max(lengths, default=0))
    signed = low < 0
    for width in (1, 2, 4, 8):
        bits = 8 * width - signed
        if -(1 << bits) <= low and high < (1 << bits):
            break
    else:
        raise OverflowError(f"token offsets too large to store ({low}..{high})")
    code = _TYPECODES[(width, signed)]
    packed = array(code, gaps)
    packed.extend(array(code, lengths))
    if sys.byteorder == "big":  # pragma: no cover - stored little-endian everywhere
        packed.byteswap()
    payload = packed.tobytes() + bytes(map(bool, ws))
    flags = _SIGNED if signed else 0
    if len(payload) >= 256:
        packed_small = zlib.compress(payload, 1)
        if len(packed_small) * 4 <= len(payload) * 3:
            payload, flags = packed_small, flags | _ZLIB
    return _HEADER.pack(FORMAT_VERSION, width, flags, n) + payload


def _fields(data: bytes) -> tuple[array[int], bytes]:
    """The token boundaries as deltas, each from the one before (gap, length, gap, length, ...),
    and the whitespace bytes."""
    try:
        version, width, flags, n = _HEADER.unpack_from(data)
    except struct.error:
        raise TokenDataError("token data is cut short") from None
    if version != FORMAT_VERSION:
        raise TokenDataError(
            f"token data of format {version}, newer than this version reads ({FORMAT_VERSION})"
        )
    payload = bytes(data[_HEADER.size :])
    if flags & _ZLIB:
        try:
            payload = zlib.decompress(payload)
        except zlib.error as exc:
            raise TokenDataError(f"token data is damaged: {exc}") from None
    code = _TYPECODES.get((width, bool(flags & _SIGNED)))
    if code is None or len(payload) != (2 * width + 1) * n:
        raise TokenDataError("token data is damaged: its length does not match its header")
    columns = array(code)
    columns.frombytes(payload[: 2 * width * n])
    if sys.byteorder == "big":  # pragma: no cover
        columns.byteswap()
    deltas = array(code, bytes(2 * width * n))
    deltas[0::2] = columns[:n]
    deltas[1::2] = columns[n:]
    return deltas, payload[2 * width * n :]


def decode_tokens(data: bytes) -> list[Token]:
    deltas, ws = _fields(data)
    bounds = iter(accumulate(deltas))
    with collector_paused():
        # tuple.__new__ builds each Token in C, as Token._make would in Python.
        triples = zip(bounds, bounds, map(_BOOLS.__getitem__, ws), strict=True)
        return list(map(tuple.__new__, repeat(Token), triples))


def iter_token_triples(data: bytes) -> Iterator[tuple[int, int, bool]]:
    """The tokens as plain `(start, end, ws)` tuples (what a JSON writer wants), without Tokens."""
    deltas, ws = _fields(data)
    bounds = iter(accumulate(deltas))
    return zip(bounds, bounds, map(_BOOLS.__getitem__, ws), strict=True)
