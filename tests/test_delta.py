import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.codecs.delta import (
    decode_delta, decode_delta_of_delta, encode_delta, encode_delta_of_delta, to_signed64,
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
