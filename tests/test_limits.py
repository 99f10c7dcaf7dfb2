import numpy as np
import pytest

from lib.codecs.limits import (
    MAX_COUNT, MAX_OVERHEAD_BYTES, SLICE_VALUES, check_count, groups, is_long, max_stream_bytes, slices,
)
from lib.errors import FormatError


@pytest.mark.parametrize("count", [0, 1, MAX_COUNT, np.int64(MAX_COUNT), np.uint8(3)])
def test_counts_from_0_to_max_count_are_counts(count):
    check_count(count)


@pytest.mark.parametrize("count", [-1, MAX_COUNT + 1, np.int64(-1), np.uint64(MAX_COUNT + 1), 2**64, 1.0, True,
                                   np.bool_(True), "3", None])
def test_anything_else_is_refused(count):
    with pytest.raises(FormatError, match="count"):
        check_count(count)


def test_slices_cover_the_count_in_order():
    assert slices(5, 2) == [(0, 2), (2, 4), (4, 5)]
    assert slices(4, 2) == [(0, 2), (2, 4)]
    assert slices(0, 2) == []
    assert slices(1) == [(0, 1)]
    assert slices(SLICE_VALUES + 1) == [(0, SLICE_VALUES), (SLICE_VALUES, SLICE_VALUES + 1)]


def test_a_count_is_long_from_one_value_beyond_a_slice():
    assert not is_long(SLICE_VALUES) and is_long(SLICE_VALUES + 1)


def test_groups_add_up_to_at_most_their_size_or_hold_one_alone():
    assert groups([3, 3, 5, 1], 6) == [[0, 1], [2, 3]]
    assert groups([6, 1], 6) == [[0], [1]]  # exactly the size still fits
    assert groups([7, 2], 6) == [[0], [1]]  # one too long: alone
    assert groups([], 6) == []


def test_the_most_a_stream_of_count_values_may_inflate_to():
    assert max_stream_bytes(8192) == 32 * 8192 + 64 == 32 * 8192 + MAX_OVERHEAD_BYTES


@pytest.mark.parametrize("count", [np.int64(0), np.uint64(0), np.int32(MAX_COUNT)])
def test_numpy_integers_at_either_end_are_counts(count):
    check_count(count)  # not a Python int: checked by the general rule, not the quick one
