import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.bitstream.bits import (
    SHORT_FIELD_BITS, BitReader, BitWriter, pack_bit_fields, padded_for_short_fields, read_bit_fields, read_short_fields,
    words_for_reading,
)
from lib.errors import FormatError


@st.composite
def bit_fields(draw, max_fields=60):
    widths = draw(st.lists(st.integers(1, 64), max_size=max_fields))
    values = [draw(st.integers(0, (1 << w) - 1)) for w in widths]
    return widths, values


def write_all(widths, values):
    writer = BitWriter()
    for width, value in zip(widths, values):
        writer.write_bits(value, width)
    return writer


def test_fields_are_packed_msb_first_without_alignment():
    # 1 | 01 | 11111 -> 0b1_01_11111 = 0xBF
    assert write_all([1, 2, 5], [1, 1, 31]).to_bytes() == b"\xbf"


def test_last_byte_is_zero_padded():
    # 101 + 00000 padding -> 0xA0
    writer = write_all([3], [0b101])
    assert writer.bit_length == 3
    assert writer.to_bytes() == b"\xa0"


def test_field_crossing_a_word_boundary():
    # 4 bits of 1s, then 64 bits 0x0123456789ABCDEF, then 4 bits of 0: the value is shifted
    # by half a byte: F0 12 34 56 78 9A BC DE F0.
    writer = write_all([4, 64, 4], [0xF, 0x0123456789ABCDEF, 0])
    assert writer.to_bytes() == bytes.fromhex("f0123456789abcdef0")


def test_empty_writer_gives_no_bytes():
    assert BitWriter().to_bytes() == b""


def test_reader_reads_the_known_vector_back():
    reader = BitReader(b"\xbf")
    assert [reader.read_bits(1), reader.read_bits(2), reader.read_bits(5)] == [1, 1, 31]
    assert reader.bits_left == 0


@pytest.mark.parametrize("width", [0, 65])
def test_widths_outside_1_to_64_are_rejected(width):
    with pytest.raises(ValueError):
        BitWriter().write_bits(0, width)
    with pytest.raises(ValueError):
        BitReader(b"\x00" * 16).read_bits(width)


def test_value_wider_than_its_field_is_rejected():
    with pytest.raises(ValueError):
        BitWriter().write_bits(4, 2)
    with pytest.raises(ValueError):
        BitWriter().write_bits(-1, 8)


def test_reading_past_the_end_raises_format_error():
    reader = BitReader(b"\xff")
    reader.read_bits(6)
    with pytest.raises(FormatError):
        reader.read_bits(3)
    with pytest.raises(FormatError):
        BitReader(b"").read_bit()


@settings(max_examples=200, deadline=None)
@given(bit_fields())
def test_reader_returns_what_the_writer_wrote(fields):
    widths, values = fields
    writer = write_all(widths, values)
    data = writer.to_bytes()
    assert writer.bit_length == sum(widths)
    assert len(data) == (sum(widths) + 7) // 8
    reader = BitReader(data)
    assert [reader.read_bits(w) for w in widths] == values
    assert reader.bits_left < 8


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
