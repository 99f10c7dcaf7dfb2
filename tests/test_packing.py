import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.bitstream.packing import (
    SHORT_FIELD_BITS, bit_lengths, pack_bit_fields, pack_fixed_width, padded_for_short_fields,
    read_bit_fields, read_short_fields, unpack_fixed_width, words_for_reading,
)
from lib.bitstream.stream import BitWriter
from lib.errors import FormatError
from tests.test_stream import bit_fields, write_all


@settings(max_examples=200, deadline=None)
@given(bit_fields(), st.lists(st.integers(0, 64), max_size=5))
def test_vectorized_packing_matches_the_writer(fields, zero_width_positions):
    widths, values = fields
    expected = write_all(widths, values).to_bytes()
    # Zero-width fields (with junk values) must be skipped.
    widths_with_gaps, values_with_gaps = list(widths), list(values)
    for position in zero_width_positions:
        at = min(position, len(widths_with_gaps))
        widths_with_gaps.insert(at, 0)
        values_with_gaps.insert(at, 12345)
    packed = pack_bit_fields(np.array(values_with_gaps, dtype=np.uint64), np.array(widths_with_gaps))
    assert packed == expected


@settings(max_examples=200, deadline=None)
@given(bit_fields())
def test_clean_packing_matches_the_writer(fields):
    widths, values = fields
    packed = pack_bit_fields(np.array(values, dtype=np.uint64), np.array(widths), clean=True)
    assert packed == write_all(widths, values).to_bytes()


def test_a_field_that_spills_into_the_next_word_by_hand():
    # Widths 60 and 8: 0xAB ends at bit 68, in word 1. Its top four bits 1010 end word 0 (byte 7 is
    # 0000 1010) and its low four bits 1011 start word 1 (byte 8 is 1011 0000).
    assert pack_bit_fields(np.array([0, 0xAB], dtype=np.uint64), np.array([60, 8])) == bytes(7) + b"\x0a\xb0"
    # 64-bit fields fill whole words; zero-width fields before, between and after them write nothing.
    values = np.array([7, 2**64 - 1, 9, 1, 5], dtype=np.uint64)
    assert pack_bit_fields(values, np.array([0, 64, 0, 64, 0])) == b"\xff" * 8 + bytes(7) + b"\x01"


@pytest.mark.parametrize("width", [-1, 65])
def test_a_width_outside_0_to_64_is_refused(width):
    with pytest.raises(ValueError, match="bits wide"):
        pack_bit_fields(np.array([1, 1], dtype=np.uint64), np.array([3, width]))


def test_only_zero_width_fields_need_no_bytes():
    assert pack_bit_fields(np.array([5, 6], dtype=np.uint64), np.array([0, 0])) == b""
    assert pack_bit_fields(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)) == b""


@settings(max_examples=200, deadline=None)
@given(bit_fields())
def test_vectorized_reading_matches_the_writer(fields):
    widths, values = fields
    data = write_all(widths, values).to_bytes()
    offsets = np.cumsum([0] + widths[:-1]) if widths else np.zeros(0)
    read = read_bit_fields(words_for_reading(data), offsets, widths)
    assert read.tolist() == values


def test_packing_ignores_bits_above_the_width():
    # 0xFF in a 4-bit field is 1111; 0x3 in a 4-bit field is 0011.
    assert pack_bit_fields(np.array([0xFF, 0x3], dtype=np.uint64), np.array([4, 4])) == b"\xf3"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, SHORT_FIELD_BITS), max_size=60), st.randoms(use_true_random=False))
def test_short_fields_read_what_the_writer_wrote_and_what_read_bit_fields_reads(widths, rng):
    values = [rng.getrandbits(w) if w else 0 for w in widths]
    writer = BitWriter()
    for width, value in zip(widths, values):
        if width:
            writer.write_bits(value, width)
    data = writer.to_bytes()
    offsets = np.cumsum([0] + widths[:-1]).astype(np.int64) if widths else np.zeros(0, np.int64)
    shifts = (63 - np.array(widths, dtype=np.int64)).astype(np.uint64)
    assert read_short_fields(padded_for_short_fields(data), offsets, shifts).tolist() == values
    nonzero = [i for i, w in enumerate(widths) if w]
    reference = read_bit_fields(words_for_reading(data), offsets[nonzero], np.array(widths)[nonzero])
    assert reference.tolist() == [values[i] for i in nonzero]


def test_short_field_by_hand():
    # 0x0A 0x2F = 00001010 00101111: 5 bits at offset 4 are 10100 = 20; 7 bits at offset 9 are 0101111 = 47.
    padded = padded_for_short_fields(b"\x0a\x2f")
    fields = read_short_fields(padded, np.array([4, 9, 3]), np.array([58, 56, 63], dtype=np.uint64))
    assert fields.tolist() == [20, 47, 0]


def test_fixed_width_packing_by_hand():
    # 5, 0, 7 in 3 bits: 101 000 111, zero-padded: 1010 0011 1000 0000 = A3 80.
    packed = pack_fixed_width(np.array([5, 0, 7], dtype=np.uint64), 3)
    assert packed == b"\xa3\x80"
    assert unpack_fixed_width(packed, 3, 3).tolist() == [5, 0, 7]


# Both sides of the thresholds where packing (10,000) and unpacking (4096) turn to the per-lane loop.
@pytest.mark.parametrize("count", [1, 63, 64, 65, 4095, 4096, 4097, 9_999, 10_000, 10_001])
@pytest.mark.parametrize("width", [0, 1, 3, 7, 13, 32, 40, 63, 64])
def test_fixed_width_packing_matches_bit_writer(count, width):
    values = np.random.default_rng(count * 100 + width).integers(0, 2**64 - 1, count, dtype=np.uint64)
    packed = pack_fixed_width(values, width)
    expected = pack_bit_fields(values, np.full(count, width)) if width else b""
    assert packed == expected
    mask = np.uint64((1 << width) - 1) if width < 64 else np.uint64(2**64 - 1)
    np.testing.assert_array_equal(unpack_fixed_width(packed, count, width), values & mask)


def test_bit_lengths_are_exact():
    values = [0, 1, 2, 3, 255, 256, 2**53 - 1, 2**53, 2**53 + 1, 2**54 - 1, 2**63 - 1, 2**63, 2**64 - 1]
    expected = [v.bit_length() for v in values]
    np.testing.assert_array_equal(bit_lengths(np.array(values, dtype=np.uint64)), expected)


@pytest.mark.parametrize("count, width, length", [(3, 3, 1), (9, 8, 8), (4096, 1, 511), (1, 64, 7), (-1, 3, 1)])
def test_fields_the_bytes_cannot_hold_are_refused(count, width, length):
    # 3 fields of 3 bits need 9 bits: one byte is short; 4096 one-bit fields need 512 bytes.
    with pytest.raises(FormatError, match="cannot hold"):
        unpack_fixed_width(bytes(length), count, width)


@pytest.mark.parametrize("count, width, length", [(2, 4, 1), (8, 8, 8), (4096, 1, 512), (1, 64, 8), (5, 0, 0)])
def test_fields_that_exactly_fill_the_bytes_are_read(count, width, length):
    assert unpack_fixed_width(b"\xff" * length, count, width).tolist() == [(1 << width) - 1] * count


def test_no_fields_need_no_bytes():
    assert unpack_fixed_width(b"", 0, 3).tolist() == []
    assert unpack_fixed_width(b"", 0, 0).tolist() == []
