"""Tests for lib/rollup/levels.py: every coarser level computed from the finer one equals, bit for
bit, the level computed straight from the raw points."""
import numpy as np
from hypothesis import given, settings

from lib.data.dataset import Series
from lib.rollup.kinds import COUNTER, GAUGE, INTEGER_FIELDS, STORED_FIELDS
from lib.rollup.levels import coarsen, rollup_dataset, rollup_from_raw
from tests.rollup_reference import LEVELS, WIDTH, bits, counter_points, make_series, points


def assert_rollups_identical(a, b):
    assert a.kind == b.kind
    assert np.array_equal(a.bucket_start, b.bucket_start)
    for name in STORED_FIELDS[a.kind]:
        if name in INTEGER_FIELDS:
            assert np.array_equal(a.fields[name], b.fields[name]), name
        else:
            assert np.array_equal(bits(a.fields[name]), bits(b.fields[name])), name
    if a.kind == GAUGE:
        for column in ("row", "sign", "key", "count"):
            assert np.array_equal(getattr(a.sketch, column), getattr(b.sketch, column)), column


@settings(max_examples=100, deadline=None)
@given(points, counter_points)
def test_coarser_levels_from_finer_equal_direct_from_raw(gauge_pairs, counter_pairs):
    dataset = [make_series(gauge_pairs), make_series(counter_pairs, "jobs_total")]
    cascade = rollup_dataset(dataset, LEVELS)
    for resolution in LEVELS:
        direct = rollup_from_raw(dataset, resolution)
        for from_finer, from_raw in zip(cascade[resolution], direct):
            assert from_finer.resolution_ns == resolution
            assert_rollups_identical(from_finer, from_raw)


@settings(max_examples=50, deadline=None)
@given(points)
def test_coarsen_equals_direct(pairs):
    series = make_series(pairs)
    fine = rollup_from_raw([series], WIDTH)
    assert_rollups_identical(coarsen(fine, 6 * WIDTH)[0], rollup_from_raw([series], 6 * WIDTH)[0])


def test_rollup_dataset_keeps_dataset_order_and_kinds():
    dataset = [
        Series("b_total", {}, [0, 70], [1.0, 3.0]),
        Series("a_gauge", {"host": "y"}, [5, 65, 130], [1.0, 2.0, 3.0]),
        Series("c_total", {}, [0], [9.0]),
    ]
    levels = rollup_dataset(dataset, (60, 120))
    assert [r.name for r in levels[60]] == ["b_total", "a_gauge", "c_total"]
    assert [r.kind for r in levels[120]] == [COUNTER, GAUGE, COUNTER]
    assert levels[60][1].labels == {"host": "y"}
    assert list(levels[60][1].bucket_start) == [0, 60, 120]
    assert list(levels[120][1].bucket_start) == [0, 120]
    assert list(levels[120][0].fields["increase"]) == [2.0]
    # c_total's only sample is its baseline, not a delta from b_total's last value.
    assert list(levels[60][2].fields["increase"]) == [0.0]
