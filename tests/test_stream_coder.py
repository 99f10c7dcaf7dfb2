import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lib.codecs.stream_coder import (
    compact, nonzero_of, nonzero_slices, positions_of_many_runs, positions_of_runs, zero_runs,
)
from lib.errors import FormatError
from tests.conftest import small_slices


def u64(values):
    return np.array(values, dtype=np.uint64)


def test_runs_of_zeros_by_hand():
    runs = zero_runs(np.array([1, 2]), 5)
    assert runs.tolist() == [1, 0, 2]
    positions, values = positions_of_runs(runs, u64([7, 9]), 5)
    assert positions.tolist() == [1, 2] and values.tolist() == [7, 9]


@pytest.mark.parametrize("runs, values, count", [
    ([1, 0, 3], [7, 9], 5),  # six entries, not five
    ([1, 0, 1], [7, 9], 5),  # four
    ([6], [], 5),  # a run longer than the block
    ([0], [], 1),
])
def test_runs_that_do_not_make_the_count_are_refused(runs, values, count):
    with pytest.raises(FormatError):
        positions_of_runs(u64(runs), u64(values), count)


def test_a_run_of_exactly_the_count_is_the_whole_block():
    positions, values = positions_of_runs(u64([5]), u64([]), 5)
    assert positions.size == 0 and values.size == 0


def test_many_streams_of_runs_by_hand():
    # The docstring's example: run + 1 is [2, 1, 3 | 1, 2]; the second stream's first lowered by 6.
    (first, first_values), (second, second_values) = positions_of_many_runs(
        [(u64([1, 0, 2]), u64([7, 9]), 5), (u64([0, 1]), u64([3]), 2)])
    assert first.tolist() == [1, 2] and first_values.tolist() == [7, 9]
    assert second.tolist() == [0] and second_values.tolist() == [3]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), max_size=20), min_size=1, max_size=6))
def test_many_streams_of_runs_place_values_as_one_by_one(streams):
    requests = []
    for entries in streams:
        positions = np.array([i for i, v in enumerate(entries) if v], dtype=np.int64)
        requests.append((zero_runs(positions, len(entries)), u64([v for v in entries if v]), len(entries)))
    placed = positions_of_many_runs([(runs.copy(), values, count) for runs, values, count in requests])
    for (positions, values), entries in zip(placed, streams):
        assert positions.tolist() == [i for i, v in enumerate(entries) if v]
        assert values.tolist() == [v for v in entries if v]


@pytest.mark.parametrize("bad", [([6], [], 5), ([1, 0, 3], [7, 9], 5), ([0], [], 1)])
def test_one_bad_stream_among_many_is_refused(bad):
    good = (u64([1, 0, 2]), u64([7, 9]), 5)
    with pytest.raises(FormatError):
        positions_of_many_runs([good, (u64(bad[0]), u64(bad[1]), bad[2]), good])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=60))
def test_nonzero_of_and_runs_agree_with_the_stream(entries):
    stream = u64(entries)
    expected_positions = [i for i, v in enumerate(entries) if v]
    runs = zero_runs(np.array(expected_positions, dtype=np.int64), len(entries))
    positions, values = positions_of_runs(runs, u64([v for v in entries if v]), len(entries))
    assert positions.tolist() == expected_positions
    positions, values = nonzero_of(stream.copy())
    assert positions.tolist() == expected_positions
    assert values.tolist() == [v for v in entries if v]


@pytest.mark.parametrize("entries", [[7, 0, 9], [0, 7, 9], [7, 9], [0, 0, 7], [7, 0, 0, 0]])
def test_nonzero_of_mostly_and_seldom_non_zero_streams(entries):
    # Two non-zero of three: gathered in place; one of three or four: copied out.
    positions, values = nonzero_of(u64(entries))
    assert positions.tolist() == [i for i, v in enumerate(entries) if v]
    assert values.tolist() == [v for v in entries if v]


@pytest.mark.parametrize("entries, expected", [
    ([0, 7, 0, 0], ([1], [7])),  # one of four: as positions and values
    ([0, 7, 9, 0], ([1, 2], [7, 9])),  # exactly half: still
    ([0, 7, 9], [0, 7, 9]),  # two of three: the whole array
])
def test_compact_keeps_the_smaller_form(entries, expected):
    stream = u64(entries)
    for given_form in (stream.copy(), nonzero_of(stream.copy())):
        result = compact(given_form, len(entries))
        if isinstance(expected, tuple):
            assert [part.tolist() for part in result] == list(expected)
        else:
            assert result.tolist() == expected


@pytest.mark.parametrize("form", ["dense", "nonzero"])
def test_nonzero_slices_give_every_non_zero_entry_once_in_order(form):
    entries = u64([0, 5, 0, 0, 6, 7, 0, 8])
    stream = entries.copy() if form == "dense" else nonzero_of(entries.copy())
    with small_slices(3):
        found = [(p.tolist(), v.tolist()) for p, v in nonzero_slices(stream)]
    positions = [p for part, _ in found for p in part]
    values = [v for _, part in found for v in part]
    assert positions == [1, 4, 5, 7] and values == [5, 6, 7, 8]
    assert all(len(part) <= 3 for part, _ in found)


def test_nonzero_of_gathers_many_non_zero_values_a_slice_at_a_time():
    entries = [3, 0, 4, 5, 0, 6, 7, 8, 9]
    with small_slices(2):
        positions, values = nonzero_of(u64(entries))
    assert positions.tolist() == [0, 2, 3, 5, 6, 7, 8] and values.tolist() == [3, 4, 5, 6, 7, 8, 9]
