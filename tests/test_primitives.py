import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import FormatError
from tests.conftest import INT64_MAX, INT64_MIN, int64s
from lib.bitstream.primitives import (
    decode_delta,
    decode_delta_of_delta,
    decode_varints,
    encode_delta,
    encode_delta_of_delta,
    encode_varints,
    read_varints,
    run_length_decode,
    run_length_encode,
    zigzag_decode,
    zigzag_encode,
)

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


def test_huge_varint_count_fails_fast():
    started = time.perf_counter()
    with pytest.raises(FormatError):
        decode_varints(b"\x01\x02", 10**12)
    assert time.perf_counter() - started < 1.0


def test_delta_known_vector():
    assert encode_delta(i64([10, 12, 15, 15])).tolist() == [10, 2, 3, 0]
    assert decode_delta(i64([10, 2, 3, 0])).tolist() == [10, 12, 15, 15]


def test_delta_of_delta_known_vector():
    # deltas 2, 3, 3, 1 -> changes 1, 0, -2; the first delta is kept as is.
    assert encode_delta_of_delta(i64([10, 12, 15, 18, 19])).tolist() == [10, 2, 1, 0, -2]
    assert decode_delta_of_delta(i64([10, 2, 1, 0, -2])).tolist() == [10, 12, 15, 18, 19]


def test_delta_wraps_at_the_extremes():
    # INT64_MAX - INT64_MIN = 2**64 - 1, which is -1 modulo 2**64.
    assert encode_delta(i64([INT64_MIN, INT64_MAX])).tolist() == [INT64_MIN, -1]
    assert decode_delta(i64([INT64_MIN, -1])).tolist() == [INT64_MIN, INT64_MAX]


@pytest.mark.parametrize("size", [0, 1, 2])
def test_delta_of_tiny_arrays(size):
    values = [7, -3][:size]
    assert decode_delta(encode_delta(i64(values))).tolist() == values
    assert decode_delta_of_delta(encode_delta_of_delta(i64(values))).tolist() == values


@settings(max_examples=100, deadline=None)
@given(st.lists(int64s, max_size=50))
def test_delta_round_trips(values):
    assert decode_delta(encode_delta(i64(values))).tolist() == values
    assert decode_delta_of_delta(encode_delta_of_delta(i64(values))).tolist() == values


def test_run_length_known_vector():
    run_values, run_lengths = run_length_encode(i64([7, 7, 7, 2, 2, 7]))
    assert run_values.tolist() == [7, 2, 7]
    assert run_lengths.tolist() == [3, 2, 1]


def test_run_length_compares_floats_by_bit_pattern():
    # NaN == NaN by bits, and -0.0 differs from 0.0.
    values = np.array([np.nan, np.nan, 0.0, -0.0, -0.0])
    run_values, run_lengths = run_length_encode(values)
    assert run_lengths.tolist() == [2, 1, 2]
    restored = run_length_decode(run_values, run_lengths)
    assert restored.view(np.uint64).tolist() == values.view(np.uint64).tolist()


def test_run_length_of_nothing():
    run_values, run_lengths = run_length_encode(np.zeros(0))
    assert run_values.size == 0 and run_lengths.size == 0
    assert run_length_decode(run_values, run_lengths).size == 0


@pytest.mark.parametrize(
    "run_values, run_lengths",
    [([1, 2], [3]), ([1], [0]), ([1], [-2])],
)
def test_bad_runs_raise_format_error(run_values, run_lengths):
    with pytest.raises(FormatError):
        run_length_decode(i64(run_values), i64(run_lengths))


def test_run_length_decode_checks_the_expected_total_before_allocating():
    with pytest.raises(FormatError):
        run_length_decode(i64([1]), i64([10**15]), expected_count=3)
    assert run_length_decode(i64([1, 2]), i64([2, 1]), expected_count=3).tolist() == [1, 1, 2]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0, 1, INT64_MIN, INT64_MAX]), max_size=60))
def test_run_length_round_trip(values):
    run_values, run_lengths = run_length_encode(i64(values))
    assert run_lengths.sum() == len(values)
    assert np.all(run_values[1:] != run_values[:-1])
    assert run_length_decode(run_values, run_lengths).tolist() == values


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 0x8000000000000000, 0x7FF8000000000001, 0x7FF0000000000000]),
                max_size=60))
def test_run_length_round_trip_float_patterns(patterns):
    values = u64(patterns).view(np.float64)
    run_values, run_lengths = run_length_encode(values)
    restored = run_length_decode(run_values, run_lengths)
    assert restored.view(np.uint64).tolist() == patterns
