"""Phase 5's percentile lesson (lib/rollup/percentile_merging.py): merged sketches against the
average of percentiles, the bug it shows."""
import math

import numpy as np
import pytest

from lib.data.dataset import MINUTE_NS, NS_PER_SECOND, Series
from lib.rollup.percentile_merging import compare_percentile_merging
from lib.rollup.sketch import SKETCH_ALPHA


def test_percentile_comparison_exposes_the_averaging_bug():
    # One hour of 10 s samples: 59 quiet minutes at 1.0, one minute at 100.0 (6 of 360 samples).
    # Exact p99: rank floor(0.99 * 359) = 355 of the sorted values, i.e. 100.0.
    # Naive: average of the minutes' p99s = (59 * 1 + 100) / 60 = 2.65.
    ts = np.arange(360, dtype=np.int64) * 10 * NS_PER_SECOND
    values = np.where((ts >= 30 * MINUTE_NS) & (ts < 31 * MINUTE_NS), 100.0, 1.0)
    comparison = compare_percentile_merging([Series("latency_seconds", {}, ts, values)], "p99")
    assert list(comparison.exact) == [100.0]
    assert list(comparison.naive) == pytest.approx([2.65])
    assert comparison.sketch[0] == pytest.approx(100.0, rel=SKETCH_ALPHA)
    summary = comparison.summary()
    assert summary["buckets"] == 1
    assert summary["sketch_max_relative_error"] <= SKETCH_ALPHA
    assert summary["naive_max_relative_error"] == pytest.approx(1 - 2.65 / 100)


def test_percentile_comparison_skips_counters_and_empty_buckets():
    ts = np.arange(4, dtype=np.int64) * MINUTE_NS
    dataset = [
        Series("jobs_total", {}, ts, [1.0, 2.0, 3.0, 4.0]),
        Series("latency_seconds", {}, ts, [math.nan, 2.0, 4.0, 6.0]),
    ]
    comparison = compare_percentile_merging(dataset, "p50")
    assert list(comparison.exact) == [4.0]
    assert list(comparison.naive) == [4.0]
