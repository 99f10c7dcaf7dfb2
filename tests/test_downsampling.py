"""Tests for lib/rollup/downsampling.py.

The reference for every aggregate is a deliberately naive pure-Python roll-up (`brute_rollup`)
written from the definitions in the module docstring, not from the code under test.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.rollup import downsampling as ds
from lib.data.dataset import Series

WIDTH = 1000
LEVELS = (WIDTH, 2 * WIDTH, 6 * WIDTH)
TOLERANCE = 1e-9

timestamps = st.integers(min_value=-20 * WIDTH, max_value=20 * WIDTH)
finite_values = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
# Values whose float sums lose bits (1e16 + 1 == 1e16), next to arbitrary floats and NaN.
cancelling = st.sampled_from([1e16, -1e16, 1.0, -3.0, 0.1, 2.0**60, -(2.0**60), 1e-20, -0.0])
readings = st.one_of(finite_values, st.integers(-5, 5).map(float), cancelling, st.just(math.nan))
# m * 2**e with small m makes exact ties (halfway between two floats) frequent.
binary_values = st.builds(
    lambda m, e: math.ldexp(m, e),
    st.one_of(st.integers(-4, 4), st.integers(-(2**53) + 1, 2**53 - 1)),
    st.integers(-300, 300),
)
points = st.lists(st.tuples(timestamps, readings), max_size=60)
counter_points = st.lists(
    st.tuples(timestamps, st.one_of(st.integers(0, 1000).map(float), st.just(math.nan), st.just(math.inf))),
    max_size=60,
)
normal_magnitudes = st.floats(min_value=1e-300, max_value=1e300)
sketch_values = st.one_of(normal_magnitudes, normal_magnitudes.map(lambda x: -x), st.just(0.0))


def make_series(pairs, name="cpu_usage_percent"):
    ts = np.array([t for t, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.float64)
    return Series(name, {"host": "a"}, ts, values)


def brute_rollup(pairs, width):
    """bucket start -> {"values", "nan", "deltas"} in time order (Python's sort is stable)."""
    buckets = {}
    previous = None
    for ts, value in sorted(pairs, key=lambda p: p[0]):
        bucket = buckets.setdefault(ts // width * width, {"values": [], "nan": 0, "deltas": []})
        if math.isnan(value):
            bucket["nan"] += 1
            continue
        bucket["values"].append(value)
        if previous is not None:
            bucket["deltas"].append(value - previous if value >= previous else value)
        previous = value
    return dict(sorted(buckets.items()))


def brute_quantile(values, q):
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def same(a, b):
    """Equal as numbers, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


def bits(array):
    return np.ascontiguousarray(array, dtype=np.float64).view(np.uint64)


def assert_rollups_identical(a, b):
    assert a.kind == b.kind
    assert np.array_equal(a.bucket_start, b.bucket_start)
    for name in ds.STORED_FIELDS[a.kind]:
        if name in ds.INTEGER_FIELDS:
            assert np.array_equal(a.fields[name], b.fields[name]), name
        else:
            assert np.array_equal(bits(a.fields[name]), bits(b.fields[name])), name
    if a.kind == ds.GAUGE:
        for column in ("row", "sign", "key", "count"):
            assert np.array_equal(getattr(a.sketch, column), getattr(b.sketch, column)), column


@settings(max_examples=150, deadline=None)
@given(points)
def test_gauge_aggregates_match_brute_force(pairs):
    rollup = ds.rollup_from_raw([make_series(pairs)], WIDTH)[0]
    expected = brute_rollup(pairs, WIDTH)
    assert rollup.kind == ds.GAUGE
    assert list(rollup.bucket_start) == list(expected)
    for row, bucket in enumerate(expected.values()):
        values = bucket["values"]
        assert rollup.fields["count"][row] == len(values)
        assert rollup.fields["nan_count"][row] == bucket["nan"]
        assert rollup.fields["sum"][row] == math.fsum(values)
        if values:
            assert rollup.fields["min"][row] == min(values)
            assert rollup.fields["max"][row] == max(values)
            assert not np.signbit(rollup.fields["min"][row]) or min(values) < 0
            assert bits(rollup.fields["first"][row]) == bits(values[0])
            assert bits(rollup.fields["last"][row]) == bits(values[-1])
            assert same(rollup.aggregate("avg")[row], math.fsum(values) / len(values))
        else:
            for name in ("min", "max", "first", "last", "avg", "p99"):
                assert math.isnan(rollup.aggregate(name)[row])


@settings(max_examples=150, deadline=None)
@given(counter_points)
def test_counter_increase_matches_brute_force(pairs):
    rollup = ds.rollup_from_raw([make_series(pairs, "http_requests_total")], WIDTH)[0]
    expected = brute_rollup(pairs, WIDTH)
    assert rollup.kind == ds.COUNTER
    assert list(rollup.bucket_start) == list(expected)
    for row, bucket in enumerate(expected.values()):
        assert rollup.fields["count"][row] == len(bucket["values"])
        assert rollup.fields["nan_count"][row] == bucket["nan"]
        deltas = bucket["deltas"]
        increase = math.fsum(deltas) if all(map(math.isfinite, deltas)) else math.nan  # inf - x, inf - inf
        assert same(rollup.fields["increase"][row], increase)
        assert same(rollup.aggregate("rate")[row], increase / (WIDTH / 1e9))
    all_deltas = [d for bucket in expected.values() for d in bucket["deltas"]]
    if all(map(math.isfinite, all_deltas)):
        assert math.fsum(rollup.fields["increase"]) == math.fsum(all_deltas)


def test_counter_reset_written_out():
    # Samples 1, 5, 2, 4 at t = 0, 10, 20, 30; buckets of 20 ns.
    # Bucket [0, 20): 1 is the baseline, 5 - 1 = 4.
    # Bucket [20, 40): 5 -> 2 is a reset, counting 2; then 4 - 2 = 2; total 4.
    series = Series("jobs_total", {}, [0, 10, 20, 30], [1.0, 5.0, 2.0, 4.0])
    rollup = ds.rollup_from_raw([series], 20)[0]
    assert list(rollup.fields["increase"]) == [4.0, 4.0]
    whole = ds.rollup_from_raw([series], 40)[0]
    assert list(whole.fields["increase"]) == [8.0]


def test_counter_delta_skips_nan_and_crosses_bucket_edges():
    # 10 -> (stale) -> 13 is a delta of 3 credited to the bucket of 13; 13 -> 1 is a reset (+1).
    series = Series("jobs_total", {}, [5, 15, 25, 35], [10.0, math.nan, 13.0, 1.0])
    rollup = ds.rollup_from_raw([series], 10)[0]
    assert list(rollup.bucket_start) == [0, 10, 20, 30]
    assert list(rollup.fields["increase"]) == [0.0, 0.0, 3.0, 1.0]
    assert list(rollup.fields["count"]) == [1, 0, 1, 1]
    assert list(rollup.fields["nan_count"]) == [0, 1, 0, 0]


def test_nan_only_bucket_exists_with_zero_count():
    series = Series("temperature", {}, [0, 1, 10], [math.nan, math.nan, 3.0])
    rollup = ds.rollup_from_raw([series], 10)[0]
    assert list(rollup.bucket_start) == [0, 10]
    assert list(rollup.fields["count"]) == [0, 1]
    assert list(rollup.fields["nan_count"]) == [2, 0]
    assert rollup.fields["sum"][0] == 0.0
    assert math.isnan(rollup.fields["max"][0]) and math.isnan(rollup.aggregate("avg")[0])
    assert rollup.aggregate("avg")[1] == 3.0


def test_gaps_leave_no_rows_and_partial_buckets_keep_their_count():
    series = Series("temperature", {}, [55, 58, 300, 310, 320], [1.0, 2.0, 3.0, 4.0, 5.0])
    rollup = ds.rollup_from_raw([series], 60)[0]
    assert list(rollup.bucket_start) == [0, 300]
    assert list(rollup.fields["count"]) == [2, 3]


def test_single_point_buckets():
    series = Series("temperature", {}, [0, 100, 200], [7.0, -2.5, 0.0])
    rollup = ds.rollup_from_raw([series], 100)[0]
    for name in ("sum", "min", "max", "first", "last", "avg", "p50", "p99"):
        assert list(rollup.aggregate(name)) == pytest.approx([7.0, -2.5, 0.0], rel=ds.SKETCH_ALPHA)
    assert list(rollup.fields["sum"]) == [7.0, -2.5, 0.0]


def test_empty_input():
    levels = ds.rollup_series(Series("temperature", {}, [], []), LEVELS)
    for resolution, rollup in levels.items():
        assert rollup.resolution_ns == resolution
        assert len(rollup) == 0 and len(rollup.sketch) == 0
        assert rollup.fields["sum"].dtype == np.float64 and rollup.fields["count"].dtype == np.int64
    assert ds.rollup_dataset([], LEVELS) == {r: [] for r in LEVELS}


def test_negative_timestamps_use_floor_division():
    series = Series("temperature", {}, [-1, -60, -61, 0, 59], [1.0, 2.0, 3.0, 4.0, 5.0])
    rollup = ds.rollup_from_raw([series], 60)[0]
    assert list(rollup.bucket_start) == [-120, -60, 0]
    assert list(rollup.fields["count"]) == [1, 2, 2]
    assert list(rollup.fields["first"]) == [3.0, 2.0, 4.0]


def test_unsorted_and_duplicate_timestamps():
    # Sorted by time: t=3 (input order: 30 then 31), t=5, t=8. Ties keep input order.
    series = Series("temperature", {}, [8, 3, 5, 3], [80.0, 30.0, 50.0, 31.0])
    rollup = ds.rollup_from_raw([series], 10)[0]
    assert rollup.fields["count"][0] == 4
    assert rollup.fields["first"][0] == 30.0
    assert rollup.fields["last"][0] == 80.0
    tie_last = ds.rollup_from_raw([Series("temperature", {}, [3, 3], [30.0, 31.0])], 10)[0]
    assert tie_last.fields["last"][0] == 31.0


def test_infinities():
    series = Series("temperature", {}, [0, 1, 10, 11, 20, 21], [math.inf, 1.0, -math.inf, 2.0, math.inf, -math.inf])
    rollup = ds.rollup_from_raw([series], 10)[0]
    assert rollup.fields["sum"][0] == math.inf and rollup.fields["sum"][1] == -math.inf
    assert math.isnan(rollup.fields["sum"][2])
    assert rollup.fields["max"][0] == math.inf and rollup.fields["count"][0] == 2
    # The sketch covers finite values only: p50 of {inf, 1} is 1, of {inf, -inf} there is none.
    assert rollup.aggregate("p50")[0] == pytest.approx(1.0, rel=ds.SKETCH_ALPHA)
    assert rollup.aggregate("p50")[1] == pytest.approx(2.0, rel=ds.SKETCH_ALPHA)
    assert math.isnan(rollup.aggregate("p50")[2])


def test_sum_is_exact_where_float_addition_is_not():
    # Left to right in float64, 1e16 + 1 + 1 stays 1e16; the exact total is 2.
    series = Series("temperature", {}, [0, 1, 2, 3], [1e16, 1.0, 1.0, -1e16])
    assert ds.rollup_from_raw([series], 10)[0].fields["sum"][0] == 2.0
    # The same from one-point buckets: the coarse sum adds exact totals, not rounded floats.
    assert ds.rollup_series(series, (1, 10))[10].fields["sum"][0] == 2.0


def test_sum_rounds_once_to_nearest():
    # 2**100 + 2**47 is exactly halfway between 2**100 and the next float (2**100 + 2**48): a tie,
    # rounded to even (2**100). A further 2**-20 makes it more than halfway: round up.
    assert ds.rollup_from_raw([make_series([(0, 2.0**100), (1, 2.0**47)])], 10)[0].fields["sum"][0] == 2.0**100
    above = make_series([(0, 2.0**100), (1, 2.0**47), (2, 2.0**-20)])
    assert ds.rollup_from_raw([above], 10)[0].fields["sum"][0] == 2.0**100 + 2.0**48
    # Same tie with the deciding bit close to the top: 2**70 + 2**17 (halfway) + 1.
    close = make_series([(0, 2.0**70), (1, 2.0**17), (2, 1.0)])
    assert ds.rollup_from_raw([close], 10)[0].fields["sum"][0] == 2.0**70 + 2.0**18
    # Sums beyond the largest float are +inf, and an exact total back in range is not.
    huge = make_series([(0, 1e308), (1, 1e308), (2, -1e308)])
    assert ds.rollup_from_raw([huge], 10)[0].fields["sum"][0] == 1e308
    assert ds.rollup_from_raw([make_series([(0, 1e308), (1, 1e308)])], 10)[0].fields["sum"][0] == math.inf


@settings(max_examples=300, deadline=None)
@given(st.lists(binary_values, max_size=12))
def test_sum_matches_fsum_on_ties_and_wide_exponents(values):
    series = make_series([(i, v) for i, v in enumerate(values)])
    assert ds.rollup_from_raw([series], 10**6)[0].aggregate("sum").tolist() == ([math.fsum(values)] if values else [])


@settings(max_examples=100, deadline=None)
@given(points, counter_points)
def test_coarser_levels_from_finer_equal_direct_from_raw(gauge_pairs, counter_pairs):
    dataset = [make_series(gauge_pairs), make_series(counter_pairs, "jobs_total")]
    cascade = ds.rollup_dataset(dataset, LEVELS)
    for resolution in LEVELS:
        direct = ds.rollup_from_raw(dataset, resolution)
        for from_finer, from_raw in zip(cascade[resolution], direct):
            assert from_finer.resolution_ns == resolution
            assert_rollups_identical(from_finer, from_raw)


@settings(max_examples=50, deadline=None)
@given(points)
def test_coarsen_equals_direct(pairs):
    series = make_series(pairs)
    fine = ds.rollup_from_raw([series], WIDTH)
    assert_rollups_identical(ds.coarsen(fine, 6 * WIDTH)[0], ds.rollup_from_raw([series], 6 * WIDTH)[0])


@settings(max_examples=200, deadline=None)
@given(st.lists(sketch_values, min_size=1, max_size=200), st.sampled_from(sorted(ds.QUANTILES.values())))
def test_sketch_quantile_within_relative_bound(values, q):
    estimate = ds.sketch_quantiles(ds.sketch_of_values(values), 1, q)[0]
    exact = brute_quantile(values, q)
    assert abs(estimate - exact) <= ds.SKETCH_ALPHA * abs(exact) * (1 + TOLERANCE)
    assert ds.exact_quantile(values, q) == exact


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(sketch_values, max_size=40), min_size=1, max_size=5))
def test_sketch_merge_equals_sketch_of_union(parts):
    merged = ds.merge_sketches([ds.sketch_of_values(part) for part in parts])
    union = ds.sketch_of_values([v for part in parts for v in part])
    for column in ("row", "sign", "key", "count"):
        assert np.array_equal(getattr(merged, column), getattr(union, column))
    assert merged.count.sum() == sum(len(part) for part in parts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(timestamps, sketch_values), min_size=1, max_size=80))
def test_merged_bucket_percentiles_within_bound_of_raw(pairs):
    coarse = ds.rollup_series(make_series(pairs), LEVELS)[LEVELS[-1]]
    for row, bucket in enumerate(brute_rollup(pairs, LEVELS[-1]).values()):
        for name, q in ds.QUANTILES.items():
            exact = brute_quantile(bucket["values"], q)
            estimate = coarse.aggregate(name)[row]
            assert abs(estimate - exact) <= ds.SKETCH_ALPHA * abs(exact) * (1 + TOLERANCE)


def test_sketch_keys_follow_the_ddsketch_definition():
    # gamma = 1.01 / 0.99; gamma**1 = 1.0202..., so 1.0 has key 0, 1.01 key 1, 0.98 key -1 (gamma**-1 = 0.980...).
    sketch = ds.sketch_of_values([1.0, 1.01, 0.98, -1.01, 0.0, 0.0])
    assert list(sketch.sign) == [-1, 0, 1, 1, 1]
    assert list(sketch.key) == [1, 0, -1, 0, 1]
    assert list(sketch.count) == [1, 2, 1, 1, 1]


def test_percentile_comparison_exposes_the_averaging_bug():
    # One hour of 10 s samples: 59 quiet minutes at 1.0, one minute at 100.0 (6 of 360 samples).
    # Exact p99: rank floor(0.99 * 359) = 355 of the sorted values, i.e. 100.0.
    # Naive: average of the minutes' p99s = (59 * 1 + 100) / 60 = 2.65.
    ts = np.arange(360, dtype=np.int64) * 10 * ds.NS_PER_SECOND
    values = np.where((ts >= 30 * ds.MINUTE_NS) & (ts < 31 * ds.MINUTE_NS), 100.0, 1.0)
    comparison = ds.compare_percentile_merging([Series("latency_seconds", {}, ts, values)], "p99")
    assert list(comparison.exact) == [100.0]
    assert list(comparison.naive) == pytest.approx([2.65])
    assert comparison.sketch[0] == pytest.approx(100.0, rel=ds.SKETCH_ALPHA)
    summary = comparison.summary()
    assert summary["buckets"] == 1
    assert summary["sketch_max_relative_error"] <= ds.SKETCH_ALPHA
    assert summary["naive_max_relative_error"] == pytest.approx(1 - 2.65 / 100)


def test_percentile_comparison_skips_counters_and_empty_buckets():
    ts = np.arange(4, dtype=np.int64) * ds.MINUTE_NS
    dataset = [
        Series("jobs_total", {}, ts, [1.0, 2.0, 3.0, 4.0]),
        Series("latency_seconds", {}, ts, [math.nan, 2.0, 4.0, 6.0]),
    ]
    comparison = ds.compare_percentile_merging(dataset, "p50")
    assert list(comparison.exact) == [4.0]
    assert list(comparison.naive) == [4.0]


def test_metric_kind_by_prometheus_suffix():
    assert ds.metric_kind("http_requests_total", [1.0, 2.0]) == ds.COUNTER
    assert ds.metric_kind("rpc_duration_seconds_count", [3.0]) == ds.COUNTER
    assert ds.metric_kind("rpc_duration_seconds_sum", [0.5]) == ds.COUNTER
    assert ds.metric_kind("rpc_duration_seconds_bucket", [math.nan, 1.0]) == ds.COUNTER
    assert ds.metric_kind("temperature_delta_sum", [-0.5, 1.0]) == ds.GAUGE
    assert ds.metric_kind("cpu_usage_percent", [1.0]) == ds.GAUGE
    assert ds.metric_kind("total_memory_bytes", [1.0]) == ds.GAUGE


def test_aggregates_not_kept_for_a_kind_are_refused():
    counter = ds.rollup_from_raw([Series("jobs_total", {}, [0], [1.0])], 10)[0]
    gauge = ds.rollup_from_raw([Series("temperature", {}, [0], [1.0])], 10)[0]
    for name in ("sum", "avg", "p99", "min"):
        with pytest.raises(ValueError):
            counter.aggregate(name)
    for name in ("increase", "rate"):
        with pytest.raises(ValueError):
            gauge.aggregate(name)
    assert set(counter.available()) | set(gauge.available()) == set(ds.AGGREGATES)


def test_resolutions_must_nest():
    with pytest.raises(ValueError):
        ds.check_resolutions((60, 90))
    with pytest.raises(ValueError):
        ds.check_resolutions((60, 60))
    with pytest.raises(ValueError):
        ds.check_resolutions(())
    assert ds.check_resolutions(ds.DEFAULT_RESOLUTIONS_NS) == ds.DEFAULT_RESOLUTIONS_NS


def test_choose_resolution_at_the_boundaries():
    minute, five = 60, 300
    resolutions = (five, minute)
    # [0, 600) overlaps exactly 10 one-minute buckets: still within max_points=10.
    assert ds.choose_resolution(0, 600, resolutions, max_points=10) == minute
    # One nanosecond more touches an 11th bucket.
    assert ds.choose_resolution(0, 601, resolutions, max_points=10) == five
    # An unaligned start still overlaps 10 buckets: [0, 60) ... [540, 600).
    assert ds.choose_resolution(1, 600, resolutions, max_points=10) == minute
    # [59, 601) overlaps [0, 60) ... [600, 660): 11 buckets.
    assert ds.choose_resolution(59, 601, resolutions, max_points=10) == five
    # Too long for every resolution: the coarsest answers anyway.
    assert ds.choose_resolution(0, 10**6, resolutions, max_points=10) == five
    with pytest.raises(ValueError):
        ds.choose_resolution(5, 5, resolutions)


def cpu_host_x():
    # 10 s samples over 3 h of a gauge: value = minute number, plus a spike of 500 at t = 95 min.
    ts = np.arange(0, 3 * ds.HOUR_NS, 10 * ds.NS_PER_SECOND, dtype=np.int64)
    values = (ts // ds.MINUTE_NS).astype(np.float64)
    values[ts == 95 * ds.MINUTE_NS] = 500.0
    return Series("cpu_usage_percent", {"host": "x"}, ts, values)


def test_query_max_over_a_range_uses_a_coarse_level_and_widens_to_buckets():
    series = cpu_host_x()
    rollups = ds.rollup_series(series)
    start, end = 30 * ds.MINUTE_NS + 1, 150 * ds.MINUTE_NS
    result = ds.query(rollups, "max", start, end, max_points=10, raw=series)
    assert result.resolution_ns == 15 * ds.MINUTE_NS
    assert (result.start_ns, result.end_ns, result.buckets) == (30 * ds.MINUTE_NS, 150 * ds.MINUTE_NS, 8)
    assert result.value == 500.0
    # Widening: a range starting at 96 min with 1 h buckets still sees the 60-120 min bucket's spike.
    wide = ds.query(rollups, "max", 96 * ds.MINUTE_NS, 3 * ds.HOUR_NS, max_points=2)
    assert (wide.resolution_ns, wide.start_ns) == (ds.HOUR_NS, ds.HOUR_NS)
    assert wide.value == 500.0


def test_query_short_range_reads_raw_points_exactly():
    series = cpu_host_x()
    rollups = ds.rollup_series(series)
    start, end = 94 * ds.MINUTE_NS + 5 * ds.NS_PER_SECOND, 95 * ds.MINUTE_NS
    result = ds.query(rollups, "max", start, end, max_points=100, raw=series)
    assert result.resolution_ns == ds.RAW_RESOLUTION
    assert (result.start_ns, result.end_ns) == (start, end)
    assert result.value == 94.0
    assert ds.query(rollups, "count", start, end, max_points=100, raw=series).value == 5
    # Without raw data the 1-minute roll-up answers, widened to [94 min, 95 min): 6 samples.
    rolled = ds.query(rollups, "count", start, end, max_points=100)
    assert (rolled.resolution_ns, rolled.value) == (ds.MINUTE_NS, 6)


def test_query_answers_match_brute_force_for_every_aggregate():
    series = cpu_host_x()
    rollups = ds.rollup_series(series)
    start, end = ds.HOUR_NS, 3 * ds.HOUR_NS
    inside = series.values[(series.timestamps >= start) & (series.timestamps < end)].tolist()
    expected = {
        "count": len(inside), "nan_count": 0, "sum": math.fsum(inside), "min": min(inside),
        "max": max(inside), "first": inside[0], "last": inside[-1], "avg": math.fsum(inside) / len(inside),
    }
    for max_points, resolution in ((2, ds.HOUR_NS), (10, 15 * ds.MINUTE_NS), (1000, ds.MINUTE_NS)):
        assert ds.query(rollups, "max", start, end, max_points=max_points).resolution_ns == resolution
        for name, value in expected.items():
            assert ds.query(rollups, name, start, end, max_points=max_points).value == value, name
        p99 = ds.query(rollups, "p99", start, end, max_points=max_points).value
        assert p99 == pytest.approx(brute_quantile(inside, 0.99), rel=ds.SKETCH_ALPHA)
    with pytest.raises(ValueError):
        ds.query(rollups, "increase", start, end)
    with pytest.raises(ValueError):
        ds.query(rollups, "median", start, end)


def test_query_counter_increase_and_rate():
    # A counter growing by 2 per 10 s sample, reset to 0 at t = 60 min.
    ts = np.arange(0, 2 * ds.HOUR_NS, 10 * ds.NS_PER_SECOND, dtype=np.int64)
    values = np.where(ts < ds.HOUR_NS, 2.0 * np.arange(len(ts)), 2.0 * (np.arange(len(ts)) - 360))
    series = Series("jobs_total", {}, ts, values)
    rollups = ds.rollup_series(series)
    # Whole range: 359 deltas of 2 before the reset, the reset sample counts 0, then 359 deltas of 2.
    whole = ds.query(rollups, "increase", 0, 2 * ds.HOUR_NS, max_points=2)
    assert (whole.resolution_ns, whole.value) == (ds.HOUR_NS, 2 * 359 * 2)
    assert ds.query(rollups, "rate", 0, 2 * ds.HOUR_NS, max_points=2).value == 2 * 359 * 2 / 7200
    # Raw range [20 s, 60 s) holds samples at 20, 30, 40, 50 s: four deltas of 2, the first one
    # from the sample at 10 s, before the range.
    raw = ds.query(rollups, "increase", 20 * ds.NS_PER_SECOND, 60 * ds.NS_PER_SECOND, raw=series)
    assert (raw.resolution_ns, raw.value) == (ds.RAW_RESOLUTION, 8.0)


def test_query_over_a_gap_has_no_data():
    series = Series("temperature", {}, [0, 10 * ds.HOUR_NS], [1.0, 2.0])
    rollups = ds.rollup_series(series)
    result = ds.query(rollups, "max", ds.HOUR_NS, 2 * ds.HOUR_NS, max_points=1)
    assert result.buckets == 0 and math.isnan(result.value)
    assert ds.query(rollups, "count", ds.HOUR_NS, 2 * ds.HOUR_NS, max_points=1).value == 0


def test_rollup_dataset_keeps_dataset_order_and_kinds():
    dataset = [
        Series("b_total", {}, [0, 70], [1.0, 3.0]),
        Series("a_gauge", {"host": "y"}, [5, 65, 130], [1.0, 2.0, 3.0]),
        Series("c_total", {}, [0], [9.0]),
    ]
    levels = ds.rollup_dataset(dataset, (60, 120))
    assert [r.name for r in levels[60]] == ["b_total", "a_gauge", "c_total"]
    assert [r.kind for r in levels[120]] == [ds.COUNTER, ds.GAUGE, ds.COUNTER]
    assert levels[60][1].labels == {"host": "y"}
    assert list(levels[60][1].bucket_start) == [0, 60, 120]
    assert list(levels[120][1].bucket_start) == [0, 120]
    assert list(levels[120][0].fields["increase"]) == [2.0]
    # c_total's only sample is its baseline, not a delta from b_total's last value.
    assert list(levels[60][2].fields["increase"]) == [0.0]


SIGNALLING_NAN = np.array([0x7FF0000000000001], dtype=np.uint64).view(np.float64)[0]


@pytest.mark.parametrize("nan", [SIGNALLING_NAN, -math.nan, np.array([0x7FF8000000000123], np.uint64).view(np.float64)[0]])
def test_every_nan_bit_pattern_counts_as_no_value(nan):
    # Found by an adversarial pass: a signalling NaN first made one bucket's max 1.0 instead of 5.0.
    def one_bucket(values):
        return ds.rollup_from_raw([Series("temperature", {}, np.arange(len(values)), values)], 60)[0]

    first = one_bucket([nan, 5.0, -3.0, 1.0])
    assert (first.fields["min"][0], first.fields["max"][0], first.fields["sum"][0]) == (-3.0, 5.0, 3.0)
    assert (first.fields["count"][0], first.fields["nan_count"][0]) == (3, 1)
    assert math.isnan(one_bucket([nan, math.inf, -math.inf, 1.0]).fields["sum"][0])  # +inf and -inf: NaN
    last = one_bucket([5.0, -3.0, 1.0, nan])
    assert (last.fields["min"][0], last.fields["max"][0], last.fields["last"][0]) == (-3.0, 5.0, 1.0)
    counter = ds.rollup_from_raw([Series("requests_total", {}, [0, 1, 2, 3], [1.0, nan, 4.0, 6.0])], 60)[0]
    assert counter.fields["increase"][0] == 5.0


def test_counter_bucket_with_an_infinite_delta_has_nan_increase():
    # Samples 1, 2, inf, 5 at t = 0, 5, 10, 25 in buckets of 10 ns. Deltas: 2 - 1 = 1 in [0, 10);
    # inf - 2 = inf in [10, 20): not finite, so NaN; 5 < inf is a reset counting 5 in [20, 30).
    series = Series("requests_total", {}, [0, 5, 10, 25], [1.0, 2.0, math.inf, 5.0])
    rollup = ds.rollup_from_raw([series], 10)[0]
    assert rollup.kind == ds.COUNTER
    assert rollup.fields["increase"][0] == 1.0
    assert math.isnan(rollup.fields["increase"][1])
    assert rollup.fields["increase"][2] == 5.0
    # Any bucket holding the infinite delta is NaN at every level, computed from raw or from finer.
    assert math.isnan(ds.rollup_from_raw([series], 30)[0].fields["increase"][0])
    assert math.isnan(ds.rollup_series(series, (10, 30))[30].fields["increase"][0])
