"""Tests for lib/rollup/buckets.py: which bucket a point falls into, ordering, gaps, resolutions."""
import numpy as np
import pytest

from lib.data.dataset import Series
from lib.rollup.buckets import (
    DEFAULT_RESOLUTIONS_NS, bucket_starts, buckets_in_range, check_resolutions, group_bounds,
)
from lib.rollup.levels import rollup_dataset, rollup_from_raw, rollup_series
from tests.rollup_reference import LEVELS


def test_gaps_leave_no_rows_and_partial_buckets_keep_their_count():
    series = Series("temperature", {}, [55, 58, 300, 310, 320], [1.0, 2.0, 3.0, 4.0, 5.0])
    rollup = rollup_from_raw([series], 60)[0]
    assert list(rollup.bucket_start) == [0, 300]
    assert list(rollup.fields["count"]) == [2, 3]


def test_empty_input():
    levels = rollup_series(Series("temperature", {}, [], []), LEVELS)
    for resolution, rollup in levels.items():
        assert rollup.resolution_ns == resolution
        assert len(rollup) == 0 and len(rollup.sketch) == 0
        assert rollup.fields["sum"].dtype == np.float64 and rollup.fields["count"].dtype == np.int64
    assert rollup_dataset([], LEVELS) == {r: [] for r in LEVELS}


def test_negative_timestamps_use_floor_division():
    series = Series("temperature", {}, [-1, -60, -61, 0, 59], [1.0, 2.0, 3.0, 4.0, 5.0])
    rollup = rollup_from_raw([series], 60)[0]
    assert list(rollup.bucket_start) == [-120, -60, 0]
    assert list(rollup.fields["count"]) == [1, 2, 2]
    assert list(rollup.fields["first"]) == [3.0, 2.0, 4.0]


def test_unsorted_and_duplicate_timestamps():
    # Sorted by time: t=3 (input order: 30 then 31), t=5, t=8. Ties keep input order.
    series = Series("temperature", {}, [8, 3, 5, 3], [80.0, 30.0, 50.0, 31.0])
    rollup = rollup_from_raw([series], 10)[0]
    assert rollup.fields["count"][0] == 4
    assert rollup.fields["first"][0] == 30.0
    assert rollup.fields["last"][0] == 80.0
    tie_last = rollup_from_raw([Series("temperature", {}, [3, 3], [30.0, 31.0])], 10)[0]
    assert tie_last.fields["last"][0] == 31.0


def test_resolutions_must_nest():
    with pytest.raises(ValueError):
        check_resolutions((60, 90))
    with pytest.raises(ValueError):
        check_resolutions((60, 60))
    with pytest.raises(ValueError):
        check_resolutions(())
    assert check_resolutions(DEFAULT_RESOLUTIONS_NS) == DEFAULT_RESOLUTIONS_NS


def test_group_bounds_written_out():
    # Rows sorted by (series, bucket): (0, 0), (0, 0), (0, 60), (1, 60): three groups.
    starts, ends, group = group_bounds(np.array([0, 0, 0, 1]), np.array([0, 0, 60, 60]))
    assert (starts.tolist(), ends.tolist(), group.tolist()) == ([0, 2, 3], [2, 3, 4], [0, 0, 1, 2])
    # One key alone: equal neighbours only.
    assert group_bounds(np.array([5, 5, 5]))[2].tolist() == [0, 0, 0]
    starts, ends, group = group_bounds(np.empty(0, np.int64), np.empty(0, np.int64))
    assert (len(starts), len(group)) == (0, 0)


def test_bucket_starts_and_buckets_in_range_written_out():
    assert bucket_starts([-61, -60, -1, 0, 59, 60], 60).tolist() == [-120, -60, -60, 0, 0, 60]
    # [30, 150) touches [0, 60), [60, 120), [120, 180); [60, 120) touches one bucket.
    assert buckets_in_range(30, 150, 60) == 3
    assert buckets_in_range(60, 120, 60) == 1
