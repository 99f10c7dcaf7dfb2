import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.bitstream.varint import (
    decode_varints, encode_varints, read_varints, varint_size, zigzag_decode, zigzag_decode_int, zigzag_encode,
)
from lib.errors import FormatError
from tests.conftest import INT64_MAX, INT64_MIN, int64s

uint64s = st.integers(0, 2**64 - 1)


def i64(values):
    return np.array(values, dtype=np.int64)


def u64(values):
    return np.array(values, dtype=np.uint64)


def test_zigzag_interleaves_signs():
    assert zigzag_encode(i64([0, -1, 1, -2, 2, -64, 64])).tolist() == [0, 1, 2, 3, 4, 127, 128]


def test_zigzag_extremes_do_not_overflow():
    # INT64_MAX -> 2**64 - 2 (even), INT64_MIN -> 2**64 - 1 (odd).
    assert zigzag_encode(i64([INT64_MAX, INT64_MIN])).tolist() == [2**64 - 2, 2**64 - 1]
    assert zigzag_decode(u64([2**64 - 2, 2**64 - 1])).tolist() == [INT64_MAX, INT64_MIN]


@settings(max_examples=100, deadline=None)
@given(st.lists(int64s, max_size=50))
def test_zigzag_round_trip(values):
    encoded = zigzag_encode(i64(values))
    assert encoded.dtype == np.uint64
    assert zigzag_decode(encoded).tolist() == values


@pytest.mark.parametrize(
    "value, encoded",
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),  # low 7 bits 0 with "more", then 1
        (300, "ac02"),  # 300 = 0b10_0101100 -> 0b1_0101100, 0b0_0000010
        (2**63, "80808080808080808001"),
        (2**64 - 1, "ffffffffffffffffff01"),  # nine groups of 7 ones, then bit 63
    ],
)
def test_varint_known_vectors(value, encoded):
    assert encode_varints(u64([value])).hex() == encoded
    assert decode_varints(bytes.fromhex(encoded), 1).tolist() == [value]


def test_varints_concatenate():
    assert encode_varints(u64([1, 300, 0])) == bytes.fromhex("01ac0200")


def test_array_varints_by_hand():
    # More than SMALL_COUNT values: the array path. Values below 128 are their own bytes; a larger
    # one widens every row to its groups, and only the groups a value needs are written.
    small = list(range(0, 127, 6))
    assert encode_varints(u64(small)) == bytes(small)
    assert encode_varints(u64([5, 300] + small)) == bytes.fromhex("05ac02") + bytes(small)
    widest = bytes.fromhex("ffffffffffffffffff01") + bytes.fromhex("8001") + bytes(small)
    assert encode_varints(u64([2**64 - 1, 128] + small)) == widest


def test_a_long_array_encodes_a_slice_at_a_time_as_at_once():
    values = np.random.default_rng(3).integers(0, 2**64 - 1, 70_000, dtype=np.uint64, endpoint=True)
    values >>= np.random.default_rng(4).integers(0, 64, values.size).astype(np.uint64)  # every length
    data = encode_varints(values)
    pieces = [encode_varints(values[start:start + 1000]) for start in range(0, values.size, 1000)]
    assert data == b"".join(pieces)
    np.testing.assert_array_equal(decode_varints(data, values.size), values)


@settings(max_examples=100, deadline=None)
@given(st.lists(uint64s, max_size=50))
def test_varint_round_trip(values):
    data = encode_varints(u64(values))
    assert decode_varints(data, len(values)).tolist() == values


def test_read_varints_reports_where_it_stopped():
    data = b"\xff" + encode_varints(u64([5, 300])) + b"rest"
    values, end = read_varints(data, 2, offset=1)
    assert values.tolist() == [5, 300]
    assert data[end:] == b"rest"


@pytest.mark.parametrize(
    "data, count",
    [
        (b"\x80", 1),  # "more follows", then nothing
        (b"\x01", 2),  # one varint where two are expected
        (b"\x80" * 10 + b"\x00", 1),  # eleven bytes
        (b"\xff" * 9 + b"\x02", 1),  # the tenth group holds more than bit 63
        (b"\x01\x02", 1),  # trailing byte
        (b"\x01", -1),
    ],
)
def test_bad_varints_raise_format_error(data, count):
    with pytest.raises(FormatError):
        decode_varints(data, count)


PREFIX = b"\x01" * 20  # enough valid varints in front that the decoder takes its numpy path


@pytest.mark.parametrize(
    "data, count",
    [
        (PREFIX + b"\x80", 21),
        (PREFIX + b"\x80" * 10 + b"\x00", 21),
        (PREFIX + b"\xff" * 9 + b"\x02", 21),
        (PREFIX + b"\x01\x02", 21),
    ],
)
def test_bad_varints_after_many_good_ones_raise_format_error(data, count):
    with pytest.raises(FormatError):
        decode_varints(data, count)


@given(st.lists(uint64s, max_size=40))
def test_small_and_numpy_varint_encoders_write_the_same_bytes(values):
    as_list = encode_varints(values[:16])  # a short list takes the plain loop
    as_array = encode_varints(np.array(values[:16] + [0] * 20, dtype=np.uint64))[: len(as_list)]
    assert as_list == as_array


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_a_value_beyond_64_bits_is_refused_not_wrapped(value):
    with pytest.raises(OverflowError):
        encode_varints([value])


def test_huge_varint_count_is_refused_before_allocating():
    tracemalloc.start()
    try:
        with pytest.raises(FormatError):
            decode_varints(b"\x01\x02", 10**12)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # a count of 10**12 varints is judged against the 2 bytes present, not allocated


@given(st.integers(0, 2**64 - 1))
def test_zigzag_decode_int_matches_the_array_version(unsigned):
    assert zigzag_decode_int(unsigned) == int(zigzag_decode(np.array([unsigned], dtype=np.uint64))[0])


def test_zigzag_decode_int_by_hand():
    assert [zigzag_decode_int(u) for u in (0, 1, 2, 3, 4, 2**64 - 1)] == [0, -1, 1, -2, 2, -(2**63)]


@pytest.mark.parametrize("value, encoded", [
    (-1, "ffffffffffffffffff01"),  # viewed as uint64: 2**64 - 1
    (-(2**63), "80808080808080808001"),  # the smallest int64: 2**63
    (0, "00"),
])
def test_negative_int64_in_a_short_list_is_its_uint64(value, encoded):
    assert encode_varints([value]).hex() == encoded
    assert encode_varints(np.array([value] * 20, dtype=np.int64)).hex() == encoded * 20  # the numpy path


def test_ten_byte_varints_are_read_on_both_paths():
    values = [2**63, 2**64 - 1] + list(range(30))
    data = encode_varints(u64(values))
    assert data[:20].hex() == "80808080808080808001" + "ffffffffffffffffff01"
    assert read_varints(data, len(values))[0].tolist() == values  # more than SMALL_COUNT: numpy
    assert read_varints(data, 2)[0].tolist() == values[:2]  # a few: the plain loop


@pytest.mark.parametrize("count", [-1, -2])
def test_a_negative_varint_count_is_refused(count):
    with pytest.raises(FormatError, match="negative"):
        read_varints(b"\x01\x02", count)


def test_varint_sizes_change_at_each_seven_bits():
    values = (0, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, (1 << 64) - 1)
    sizes = [varint_size(v) for v in values]
    assert sizes == [1, 1, 2, 2, 3, 3, 4, 10]
    assert sizes == [len(encode_varints([v])) for v in values]
