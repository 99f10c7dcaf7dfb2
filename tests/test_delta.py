import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.codecs.transforms import (
    decode_delta, decode_delta_in_place, decode_delta_of_delta, decode_delta_of_delta_in_place, encode_delta, encode_delta_of_delta,
    operate_per_block, to_signed64,
)
from tests.conftest import INT64_MAX, INT64_MIN, int64s


def i64(values):
    return np.array(values, dtype=np.int64)


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


def test_running_sums_restart_at_each_segment_in_place():
    values = np.array([1, 2, 3, 4, 5, 6], dtype=np.uint64)
    sums = decode_delta_in_place(values, np.array([0, 3, 5]))
    assert sums is values
    assert values.tolist() == [1, 3, 6, 4, 9, 6]


def test_delta_of_delta_restarts_at_each_segment_in_place():
    # Segments [10, 2, 1] and [5, 3]: deltas 2, 3 (10 -> 12 -> 15) and 3 (5 -> 8).
    values = i64([10, 2, 1, 5, 3])
    assert decode_delta_of_delta_in_place(values, np.array([0, 3])) is values
    assert values.tolist() == [10, 12, 15, 5, 8]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(int64s, min_size=1, max_size=20), min_size=1, max_size=5))
def test_segments_decode_as_if_each_were_alone(segments):
    counts = [len(segment) for segment in segments]
    firsts = np.cumsum([0] + counts[:-1])
    for encode, decode, decode_in_place in ((encode_delta, decode_delta, decode_delta_in_place),
                                            (encode_delta_of_delta, decode_delta_of_delta,
                                             decode_delta_of_delta_in_place)):
        encoded = [encode(i64(segment)) for segment in segments]
        together = decode_in_place(np.concatenate(encoded), firsts)
        assert together.tolist() == [v for segment in segments for v in segment]
        assert [decode(e).tolist() for e in encoded] == segments


@pytest.mark.parametrize(
    "value, signed",
    [
        (0, 0),
        (2**63 - 1, 2**63 - 1),
        (2**63, -(2**63)),  # the top bit set: negative
        (2**64 - 1, -1),
        (2**64, 0),  # bits above 64 are dropped
        (-1, -1),
        (-(2**63) - 1, 2**63 - 1),  # one below INT64_MIN wraps to INT64_MAX
    ],
)
def test_to_signed64_wraps_modulo_2_to_the_64(value, signed):
    assert to_signed64(value) == signed


def test_a_number_per_block_is_applied_over_its_block_or_skipped():
    def uint64s(numbers):
        return np.array(numbers, dtype=np.uint64)

    array = np.ones(3, dtype=np.uint64)
    operate_per_block(array, [3, 5], [2, 1], np.add, 0, uint64s)  # each block its own number
    assert array.tolist() == [4, 4, 6]
    operate_per_block(array, [2, 2], [2, 1], np.multiply, 1, uint64s)  # one shared: a scalar
    assert array.tolist() == [8, 8, 12]
    operate_per_block(array, [2**64 - 8, 0], [2, 1], np.add, 0, uint64s)  # modulo 2**64
    assert array.tolist() == [0, 0, 12]

    def refuse(numbers):
        raise AssertionError("the identity needs no array")

    operate_per_block(array, [1, 1], [2, 1], np.multiply, 1, refuse)
    assert array.tolist() == [0, 0, 12]
