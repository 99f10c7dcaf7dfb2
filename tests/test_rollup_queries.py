"""Tests for lib/rollup/queries.py: which resolution answers a range, and the answers themselves."""
import math

import numpy as np
import pytest

from lib.data.dataset import HOUR_NS, MINUTE_NS, NS_PER_SECOND, Series
from lib.rollup.buckets import RAW_RESOLUTION
from lib.rollup.levels import rollup_series
from lib.rollup.queries import choose_resolution, query
from lib.rollup.sketch import SKETCH_ALPHA
from tests.rollup_reference import brute_quantile


def test_choose_resolution_at_the_boundaries():
    minute, five = 60, 300
    resolutions = (five, minute)
    # [0, 600) overlaps exactly 10 one-minute buckets: still within max_points=10.
    assert choose_resolution(0, 600, resolutions, max_points=10) == minute
    # One nanosecond more touches an 11th bucket.
    assert choose_resolution(0, 601, resolutions, max_points=10) == five
    # An unaligned start still overlaps 10 buckets: [0, 60) ... [540, 600).
    assert choose_resolution(1, 600, resolutions, max_points=10) == minute
    # [59, 601) overlaps [0, 60) ... [600, 660): 11 buckets.
    assert choose_resolution(59, 601, resolutions, max_points=10) == five
    # Too long for every resolution: the coarsest answers anyway.
    assert choose_resolution(0, 10**6, resolutions, max_points=10) == five
    with pytest.raises(ValueError):
        choose_resolution(5, 5, resolutions)


def cpu_host_x():
    # 10 s samples over 3 h of a gauge: value = minute number, plus a spike of 500 at t = 95 min.
    ts = np.arange(0, 3 * HOUR_NS, 10 * NS_PER_SECOND, dtype=np.int64)
    values = (ts // MINUTE_NS).astype(np.float64)
    values[ts == 95 * MINUTE_NS] = 500.0
    return Series("cpu_usage_percent", {"host": "x"}, ts, values)


def test_query_max_over_a_range_uses_a_coarse_level_and_widens_to_buckets():
    series = cpu_host_x()
    rollups = rollup_series(series)
    start, end = 30 * MINUTE_NS + 1, 150 * MINUTE_NS
    result = query(rollups, "max", start, end, max_points=10, raw=series)
    assert result.resolution_ns == 15 * MINUTE_NS
    assert (result.start_ns, result.end_ns, result.buckets) == (30 * MINUTE_NS, 150 * MINUTE_NS, 8)
    assert result.value == 500.0
    # Widening: a range starting at 96 min with 1 h buckets still sees the 60-120 min bucket's spike.
    wide = query(rollups, "max", 96 * MINUTE_NS, 3 * HOUR_NS, max_points=2)
    assert (wide.resolution_ns, wide.start_ns) == (HOUR_NS, HOUR_NS)
    assert wide.value == 500.0


def test_query_short_range_reads_raw_points_exactly():
    series = cpu_host_x()
    rollups = rollup_series(series)
    start, end = 94 * MINUTE_NS + 5 * NS_PER_SECOND, 95 * MINUTE_NS
    result = query(rollups, "max", start, end, max_points=100, raw=series)
    assert result.resolution_ns == RAW_RESOLUTION
    assert (result.start_ns, result.end_ns) == (start, end)
    assert result.value == 94.0
    assert query(rollups, "count", start, end, max_points=100, raw=series).value == 5
    # Without raw data the 1-minute roll-up answers, widened to [94 min, 95 min): 6 samples.
    rolled = query(rollups, "count", start, end, max_points=100)
    assert (rolled.resolution_ns, rolled.value) == (MINUTE_NS, 6)


def test_query_answers_match_brute_force_for_every_aggregate():
    series = cpu_host_x()
    rollups = rollup_series(series)
    start, end = HOUR_NS, 3 * HOUR_NS
    inside = series.values[(series.timestamps >= start) & (series.timestamps < end)].tolist()
    expected = {
        "count": len(inside), "nan_count": 0, "sum": math.fsum(inside), "min": min(inside),
        "max": max(inside), "first": inside[0], "last": inside[-1], "avg": math.fsum(inside) / len(inside),
    }
    for max_points, resolution in ((2, HOUR_NS), (10, 15 * MINUTE_NS), (1000, MINUTE_NS)):
        assert query(rollups, "max", start, end, max_points=max_points).resolution_ns == resolution
        for name, value in expected.items():
            assert query(rollups, name, start, end, max_points=max_points).value == value, name
        p99 = query(rollups, "p99", start, end, max_points=max_points).value
        assert p99 == pytest.approx(brute_quantile(inside, 0.99), rel=SKETCH_ALPHA)
    with pytest.raises(ValueError):
        query(rollups, "increase", start, end)
    with pytest.raises(ValueError):
        query(rollups, "median", start, end)


def test_query_counter_increase_and_rate():
    # A counter growing by 2 per 10 s sample, reset to 0 at t = 60 min.
    ts = np.arange(0, 2 * HOUR_NS, 10 * NS_PER_SECOND, dtype=np.int64)
    values = np.where(ts < HOUR_NS, 2.0 * np.arange(len(ts)), 2.0 * (np.arange(len(ts)) - 360))
    series = Series("jobs_total", {}, ts, values)
    rollups = rollup_series(series)
    # Whole range: 359 deltas of 2 before the reset, the reset sample counts 0, then 359 deltas of 2.
    whole = query(rollups, "increase", 0, 2 * HOUR_NS, max_points=2)
    assert (whole.resolution_ns, whole.value) == (HOUR_NS, 2 * 359 * 2)
    assert query(rollups, "rate", 0, 2 * HOUR_NS, max_points=2).value == 2 * 359 * 2 / 7200
    # Raw range [20 s, 60 s) holds samples at 20, 30, 40, 50 s: four deltas of 2, the first one
    # from the sample at 10 s, before the range.
    raw = query(rollups, "increase", 20 * NS_PER_SECOND, 60 * NS_PER_SECOND, raw=series)
    assert (raw.resolution_ns, raw.value) == (RAW_RESOLUTION, 8.0)


def test_query_over_a_gap_has_no_data():
    series = Series("temperature", {}, [0, 10 * HOUR_NS], [1.0, 2.0])
    rollups = rollup_series(series)
    result = query(rollups, "max", HOUR_NS, 2 * HOUR_NS, max_points=1)
    assert result.buckets == 0 and math.isnan(result.value)
    assert query(rollups, "count", HOUR_NS, 2 * HOUR_NS, max_points=1).value == 0
