"""Tests for lib/rollup/kinds.py: what a gauge and a counter bucket keep, NaN, infinities, resets.

Each aggregate is checked against tests/rollup_reference.py's naive roll-up."""
import math

import numpy as np
import pytest
from hypothesis import given, settings

from lib.data.dataset import Series
from lib.rollup.kinds import AGGREGATES, COUNTER, GAUGE, indices_by_kind, metric_kind
from lib.rollup.levels import rollup_from_raw, rollup_series
from lib.rollup.sketch import SKETCH_ALPHA
from tests.rollup_reference import WIDTH, bits, brute_rollup, counter_points, make_series, points


def same(a, b):
    """Equal as numbers, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


@settings(max_examples=150, deadline=None)
@given(points)
def test_gauge_aggregates_match_brute_force(pairs):
    rollup = rollup_from_raw([make_series(pairs)], WIDTH)[0]
    expected = brute_rollup(pairs, WIDTH)
    assert rollup.kind == GAUGE
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
    rollup = rollup_from_raw([make_series(pairs, "http_requests_total")], WIDTH)[0]
    expected = brute_rollup(pairs, WIDTH)
    assert rollup.kind == COUNTER
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
    rollup = rollup_from_raw([series], 20)[0]
    assert list(rollup.fields["increase"]) == [4.0, 4.0]
    whole = rollup_from_raw([series], 40)[0]
    assert list(whole.fields["increase"]) == [8.0]


def test_counter_delta_skips_nan_and_crosses_bucket_edges():
    # 10 -> (stale) -> 13 is a delta of 3 credited to the bucket of 13; 13 -> 1 is a reset (+1).
    series = Series("jobs_total", {}, [5, 15, 25, 35], [10.0, math.nan, 13.0, 1.0])
    rollup = rollup_from_raw([series], 10)[0]
    assert list(rollup.bucket_start) == [0, 10, 20, 30]
    assert list(rollup.fields["increase"]) == [0.0, 0.0, 3.0, 1.0]
    assert list(rollup.fields["count"]) == [1, 0, 1, 1]
    assert list(rollup.fields["nan_count"]) == [0, 1, 0, 0]


def test_nan_only_bucket_exists_with_zero_count():
    series = Series("temperature", {}, [0, 1, 10], [math.nan, math.nan, 3.0])
    rollup = rollup_from_raw([series], 10)[0]
    assert list(rollup.bucket_start) == [0, 10]
    assert list(rollup.fields["count"]) == [0, 1]
    assert list(rollup.fields["nan_count"]) == [2, 0]
    assert rollup.fields["sum"][0] == 0.0
    assert math.isnan(rollup.fields["max"][0]) and math.isnan(rollup.aggregate("avg")[0])
    assert rollup.aggregate("avg")[1] == 3.0


def test_single_point_buckets():
    series = Series("temperature", {}, [0, 100, 200], [7.0, -2.5, 0.0])
    rollup = rollup_from_raw([series], 100)[0]
    for name in ("sum", "min", "max", "first", "last", "avg", "p50", "p99"):
        assert list(rollup.aggregate(name)) == pytest.approx([7.0, -2.5, 0.0], rel=SKETCH_ALPHA)
    assert list(rollup.fields["sum"]) == [7.0, -2.5, 0.0]


def test_infinities():
    series = Series("temperature", {}, [0, 1, 10, 11, 20, 21], [math.inf, 1.0, -math.inf, 2.0, math.inf, -math.inf])
    rollup = rollup_from_raw([series], 10)[0]
    assert rollup.fields["sum"][0] == math.inf and rollup.fields["sum"][1] == -math.inf
    assert math.isnan(rollup.fields["sum"][2])
    assert rollup.fields["max"][0] == math.inf and rollup.fields["count"][0] == 2
    # The sketch covers finite values only: p50 of {inf, 1} is 1, of {inf, -inf} there is none.
    assert rollup.aggregate("p50")[0] == pytest.approx(1.0, rel=SKETCH_ALPHA)
    assert rollup.aggregate("p50")[1] == pytest.approx(2.0, rel=SKETCH_ALPHA)
    assert math.isnan(rollup.aggregate("p50")[2])


def test_metric_kind_by_prometheus_suffix():
    assert metric_kind("http_requests_total", [1.0, 2.0]) == COUNTER
    assert metric_kind("rpc_duration_seconds_count", [3.0]) == COUNTER
    assert metric_kind("rpc_duration_seconds_sum", [0.5]) == COUNTER
    assert metric_kind("rpc_duration_seconds_bucket", [math.nan, 1.0]) == COUNTER
    assert metric_kind("temperature_delta_sum", [-0.5, 1.0]) == GAUGE
    assert metric_kind("cpu_usage_percent", [1.0]) == GAUGE
    assert metric_kind("total_memory_bytes", [1.0]) == GAUGE


def test_aggregates_not_kept_for_a_kind_are_refused():
    counter = rollup_from_raw([Series("jobs_total", {}, [0], [1.0])], 10)[0]
    gauge = rollup_from_raw([Series("temperature", {}, [0], [1.0])], 10)[0]
    for name in ("sum", "avg", "p99", "min"):
        with pytest.raises(ValueError):
            counter.aggregate(name)
    for name in ("increase", "rate"):
        with pytest.raises(ValueError):
            gauge.aggregate(name)
    assert set(counter.available()) | set(gauge.available()) == set(AGGREGATES)


SIGNALLING_NAN = np.array([0x7FF0000000000001], dtype=np.uint64).view(np.float64)[0]


@pytest.mark.parametrize("nan", [SIGNALLING_NAN, -math.nan, np.array([0x7FF8000000000123], np.uint64).view(np.float64)[0]])
def test_every_nan_bit_pattern_counts_as_no_value(nan):
    # Found by an adversarial pass: a signalling NaN first made one bucket's max 1.0 instead of 5.0.
    def one_bucket(values):
        return rollup_from_raw([Series("temperature", {}, np.arange(len(values)), values)], 60)[0]

    first = one_bucket([nan, 5.0, -3.0, 1.0])
    assert (first.fields["min"][0], first.fields["max"][0], first.fields["sum"][0]) == (-3.0, 5.0, 3.0)
    assert (first.fields["count"][0], first.fields["nan_count"][0]) == (3, 1)
    assert math.isnan(one_bucket([nan, math.inf, -math.inf, 1.0]).fields["sum"][0])  # +inf and -inf: NaN
    last = one_bucket([5.0, -3.0, 1.0, nan])
    assert (last.fields["min"][0], last.fields["max"][0], last.fields["last"][0]) == (-3.0, 5.0, 1.0)
    counter = rollup_from_raw([Series("requests_total", {}, [0, 1, 2, 3], [1.0, nan, 4.0, 6.0])], 60)[0]
    assert counter.fields["increase"][0] == 5.0


def test_counter_bucket_with_an_infinite_delta_has_nan_increase():
    # Samples 1, 2, inf, 5 at t = 0, 5, 10, 25 in buckets of 10 ns. Deltas: 2 - 1 = 1 in [0, 10);
    # inf - 2 = inf in [10, 20): not finite, so NaN; 5 < inf is a reset counting 5 in [20, 30).
    series = Series("requests_total", {}, [0, 5, 10, 25], [1.0, 2.0, math.inf, 5.0])
    rollup = rollup_from_raw([series], 10)[0]
    assert rollup.kind == COUNTER
    assert rollup.fields["increase"][0] == 1.0
    assert math.isnan(rollup.fields["increase"][1])
    assert rollup.fields["increase"][2] == 5.0
    # Any bucket holding the infinite delta is NaN at every level, computed from raw or from finer.
    assert math.isnan(rollup_from_raw([series], 30)[0].fields["increase"][0])
    assert math.isnan(rollup_series(series, (10, 30))[30].fields["increase"][0])


def test_indices_by_kind_keeps_positions_in_order():
    kinds = [metric_kind(name, [1.0]) for name in ("b_total", "cpu", "c_total", "mem")]
    assert indices_by_kind(kinds) == {COUNTER: [0, 2], GAUGE: [1, 3]}
    assert indices_by_kind([]) == {}
