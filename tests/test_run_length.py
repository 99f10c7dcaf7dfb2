import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.codecs.transforms import run_length_decode, run_length_encode
from lib.errors import FormatError
from tests.conftest import INT64_MAX, INT64_MIN


def i64(values):
    return np.array(values, dtype=np.int64)


def u64(values):
    return np.array(values, dtype=np.uint64)


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
