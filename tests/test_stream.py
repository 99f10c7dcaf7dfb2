import pytest
from hypothesis import given, settings, strategies as st

from lib.bitstream.stream import BitReader, BitWriter
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
