"""Stored tokens: compact bytes that decode to exactly the tokens that went in."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.core.model import Token
from annotator.store.token_codec import (
    FORMAT_VERSION,
    TokenDataError,
    decode_tokens,
    encode_tokens,
    iter_token_triples,
)

OFFSETS = st.integers(0, 2**40)


@st.composite
def ordered_tokens(draw: st.DrawFn) -> list[Token]:
    """Tokens as a tokenizer gives them: in order, not overlapping, with gaps of any size."""
    tokens, position = [], draw(st.integers(0, 70_000))
    for gap, length, ws in draw(
        st.lists(st.tuples(st.integers(0, 300), st.integers(1, 70_000), st.booleans()), max_size=60)
    ):
        tokens.append(Token(position + gap, position + gap + length, ws))
        position += gap + length
    return tokens


ANY_TOKENS = st.lists(st.builds(Token, OFFSETS, OFFSETS, st.booleans()), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ordered_tokens(), ANY_TOKENS))
def test_round_trip(tokens: list[Token]) -> None:
    data = encode_tokens(tokens)
    back = decode_tokens(data)
    assert back == tokens
    assert all(type(t) is Token and type(t.ws) is bool for t in back)
    assert list(iter_token_triples(data)) == [tuple(t) for t in tokens]
    assert encode_tokens(back) == data  # deterministic


def test_any_sequences_of_three_encode_like_tokens() -> None:
    assert encode_tokens([[0, 3, True], (4, 9, 0)]) == encode_tokens([Token(0, 3, True), Token(4, 9, False)])
    assert decode_tokens(encode_tokens([(0, 3, 1)])) == [Token(0, 3, True)]


def test_an_empty_list_is_not_none() -> None:
    assert decode_tokens(encode_tokens([])) == []


def test_a_long_article_is_small() -> None:
    tokens, position = [], 0
    for i in range(400_000):
        length = 1 + (i * 7919) % 11
        tokens.append(Token(position, position + length, i % 13 != 0))
        position += length + 1
    data = encode_tokens(tokens)
    assert len(data) < 1_000_000  # JSON was about 8.9 MB
    assert decode_tokens(data) == tokens


def test_both_payloads_decode() -> None:
    small = encode_tokens([Token(0, 1, True)])
    assert small[2] & 2 == 0  # too small to be worth compressing
    big = encode_tokens([Token(i * 2, i * 2 + 1, True) for i in range(1000)])
    assert big[2] & 2  # compressed
    assert decode_tokens(small) == [Token(0, 1, True)]
    assert len(decode_tokens(big)) == 1000


def test_unordered_tokens_use_signed_deltas() -> None:
    tokens = [Token(10, 12, True), Token(0, 5, False), Token(3, 2, True)]
    data = encode_tokens(tokens)
    assert data[2] & 1
    assert decode_tokens(data) == tokens


def test_offsets_beyond_64_bits_are_refused() -> None:
    with pytest.raises(OverflowError):
        encode_tokens([Token(0, 2**70, True)])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "cut short"),
        (b"\x01\x01", "cut short"),
        (struct.pack("<BBBI", FORMAT_VERSION + 1, 1, 0, 0), "newer than this version reads"),
        (struct.pack("<BBBI", FORMAT_VERSION, 1, 0, 2) + b"\x00\x01", "length does not match"),
        (struct.pack("<BBBI", FORMAT_VERSION, 3, 0, 0), "length does not match"),
        (struct.pack("<BBBI", FORMAT_VERSION, 1, 2, 1) + b"not zlib", "damaged"),
        (struct.pack("<BBBI", FORMAT_VERSION, 1, 2, 1) + zlib.compress(b"\x00"), "length does not match"),
    ],
)
def test_damaged_data_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(TokenDataError, match=message):
        decode_tokens(data)


def test_decoding_leaves_the_garbage_collector_as_it_was() -> None:
    import gc

    assert gc.isenabled()
    decode_tokens(encode_tokens([Token(0, 1, True)] * 10))
    assert gc.isenabled()
    gc.disable()
    try:
        decode_tokens(encode_tokens([Token(0, 1, True)] * 10))
        assert not gc.isenabled()
    finally:
        gc.enable()
