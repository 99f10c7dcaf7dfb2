"""Tests for lib/rollup/sketch.py: DDSketch keys, merging, and the 1% bound on every percentile."""
import numpy as np
from hypothesis import given, settings, strategies as st

from lib.rollup.kinds import QUANTILES
from lib.rollup.levels import rollup_series
from lib.rollup.sketch import (
    SKETCH_ALPHA, Sketch, exact_quantile, merge_sketches, sketch_of_values, sketch_quantiles, slice_sketch,
)
from tests.rollup_reference import (
    LEVELS, brute_quantile, brute_rollup, make_series, sketch_values, timestamps,
)

TOLERANCE = 1e-9


@settings(max_examples=200, deadline=None)
@given(st.lists(sketch_values, min_size=1, max_size=200), st.sampled_from(sorted(QUANTILES.values())))
def test_sketch_quantile_within_relative_bound(values, q):
    estimate = sketch_quantiles(sketch_of_values(values), 1, q)[0]
    exact = brute_quantile(values, q)
    assert abs(estimate - exact) <= SKETCH_ALPHA * abs(exact) * (1 + TOLERANCE)
    assert exact_quantile(values, q) == exact


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(sketch_values, max_size=40), min_size=1, max_size=5))
def test_sketch_merge_equals_sketch_of_union(parts):
    merged = merge_sketches([sketch_of_values(part) for part in parts])
    union = sketch_of_values([v for part in parts for v in part])
    for column in ("row", "sign", "key", "count"):
        assert np.array_equal(getattr(merged, column), getattr(union, column))
    assert merged.count.sum() == sum(len(part) for part in parts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(timestamps, sketch_values), min_size=1, max_size=80))
def test_merged_bucket_percentiles_within_bound_of_raw(pairs):
    coarse = rollup_series(make_series(pairs), LEVELS)[LEVELS[-1]]
    for row, bucket in enumerate(brute_rollup(pairs, LEVELS[-1]).values()):
        for name, q in QUANTILES.items():
            exact = brute_quantile(bucket["values"], q)
            estimate = coarse.aggregate(name)[row]
            assert abs(estimate - exact) <= SKETCH_ALPHA * abs(exact) * (1 + TOLERANCE)


def test_sketch_keys_follow_the_ddsketch_definition():
    # gamma = 1.01 / 0.99; gamma**1 = 1.0202..., so 1.0 has key 0, 1.01 key 1, 0.98 key -1 (gamma**-1 = 0.980...).
    sketch = sketch_of_values([1.0, 1.01, 0.98, -1.01, 0.0, 0.0])
    assert list(sketch.sign) == [-1, 0, 1, 1, 1]
    assert list(sketch.key) == [1, 0, -1, 0, 1]
    assert list(sketch.count) == [1, 2, 1, 1, 1]


def test_slice_sketch_renumbers_the_rows():
    # Rows 0, 1, 1, 3; rows 1 to 2 are the two entries of row 1, renumbered 0.
    sketch = Sketch(np.array([0, 1, 1, 3]), np.array([1, -1, 1, 1], np.int8), np.array([5, 2, 7, 1], np.int32),
                    np.array([1, 2, 3, 4]))
    part = slice_sketch(sketch, 1, 3)
    assert (part.row.tolist(), part.sign.tolist(), part.key.tolist(), part.count.tolist()) == (
        [0, 0], [-1, 1], [2, 7], [2, 3])
    assert len(slice_sketch(sketch, 2, 3)) == 0
