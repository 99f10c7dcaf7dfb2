"""benchmarks/tsdb_counting.py: matching a database's readback to the written points, on hand-made
readbacks that do what Prometheus, VictoriaMetrics and InfluxDB do, and on arbitrary datasets."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.tsdb_counting import count_mismatches, relative_error
from lib.data.dataset import Series
from tests.conftest import floats_from_bits

MS = 1_000_000
T0 = 1_704_067_200_000_000_000  # 2024-01-01, in ns


def one(timestamps, values, name="m", labels=None):
    timestamps = np.array(timestamps, dtype=np.int64)
    return Series(name, labels or {"host": "a"}, timestamps, np.array(values, dtype=float))


def counts(m):
    return (m.missing, m.extra, m.other_timestamp, m.sub_ms_only, m.other_bits, m.nan_payload_only)


def test_the_same_points_are_exact():
    written = [one([T0, T0 + 15 * MS], [1.5, -0.0]), one([T0], [np.nan], name="n")]
    result = count_mismatches(written, [one([T0], [np.nan], name="n"), one([T0, T0 + 15 * MS], [1.5, -0.0])])
    assert result.exact and counts(result) == (0, 0, 0, 0, 0, 0)
    assert (result.expected, result.returned) == (3, 3)


def test_prometheus_cuts_sub_milliseconds_and_drops_the_second_sample_of_a_millisecond():
    # Written at .123000400 and .123900000 ms-in-second: both are stored as .123; the second is dropped.
    written = [one([T0 + 123 * MS + 400, T0 + 123 * MS + 900_000, T0 + 200 * MS], [1.0, 2.0, 3.0])]
    returned = [one([T0 + 123 * MS, T0 + 200 * MS], [1.0, 3.0])]
    result = count_mismatches(written, returned)
    assert counts(result) == (1, 0, 1, 1, 0, 0)
    assert not result.exact
    assert "1704067200123900000" in result.examples["missing"]


def test_victoriametrics_rounds_values_drops_nan_and_keeps_both_duplicates_in_any_order():
    written = [one([T0, T0 + MS, T0 + 2 * MS, T0 + 2 * MS, T0 + 3 * MS],
                   [0.1234567890123456, np.nan, 2.5, 2.7, -0.0])]
    returned = [one([T0, T0 + 2 * MS, T0 + 2 * MS, T0 + 3 * MS], [0.12345678901235, 2.7, 2.5, 0.0])]
    result = count_mismatches(written, returned)
    # NaN missing; the rounded value and -0.0 -> 0.0 changed; the swapped duplicates match.
    assert counts(result) == (1, 0, 0, 0, 2, 0)
    assert "0.1234567890123456 came back as 0.12345678901235" in result.examples["other_bits"]


def test_influxdb_keeps_the_last_of_two_points_at_one_nanosecond():
    written = [one([T0, T0], [1.0, 2.0])]
    result = count_mismatches(written, [one([T0], [2.0])])
    assert counts(result) == (1, 0, 0, 0, 0, 0)


def test_a_nan_with_another_payload_is_counted_as_nan_only():
    written = [one([T0, T0 + MS], floats_from_bits(0x7FF0000000000002, 0x7FF8000000000000))]  # stale marker
    returned = [one([T0, T0 + MS], floats_from_bits(0x7FF8000000000000, 0x7FF8000000000000))]
    result = count_mismatches(written, returned)
    assert counts(result) == (0, 0, 0, 0, 1, 1)


def test_a_point_at_another_time_with_its_value_is_moved_not_missing():
    written = [one([T0, T0 + 1000 * MS], [1.0, 7.25])]
    returned = [one([T0, T0 + 2000 * MS], [1.0, 7.25])]
    assert counts(count_mismatches(written, returned)) == (0, 0, 1, 0, 0, 0)
    # Another time and another value: nothing ties them, so one missing and one extra.
    returned = [one([T0, T0 + 2000 * MS], [1.0, 7.5])]
    assert counts(count_mismatches(written, returned)) == (1, 1, 0, 0, 0, 0)


def test_a_timestamp_rounded_up_to_the_next_millisecond_is_not_a_sub_millisecond_loss():
    # promtool reads seconds as a float64: 1704102726.924999989 s is stored as ...925 ms, not ...924.
    written = [one([1_704_102_726_924_999_989], [4.0])]
    returned = [one([1_704_102_726_925_000_000], [4.0])]
    result = count_mismatches(written, returned)
    assert counts(result) == (0, 0, 1, 0, 0, 0)
    assert result.examples["other_timestamp"].endswith("1704102726924999989 ns came back as 1704102726925000000 ns")


def test_a_timestamp_that_is_not_a_whole_millisecond_is_not_a_sub_millisecond_loss():
    written = [one([T0 + 5], [1.0])]
    returned = [one([T0 + 3], [1.0])]  # same millisecond, but not cut to it: moved by value
    assert counts(count_mismatches(written, returned)) == (0, 0, 1, 0, 0, 0)


def test_whole_series_missing_or_extra():
    written = [one([T0, T0 + MS], [1.0, 2.0]), one([T0], [3.0], labels={"host": "b"})]
    returned = [one([T0, T0 + MS], [1.0, 2.0]), one([T0, T0 + MS, T0 + 2 * MS], [3.0, 3.0, 3.0], name="x")]
    result = count_mismatches(written, returned)
    assert counts(result) == (1, 3, 0, 0, 0, 0)
    assert 'm{host="b"}' in result.examples["missing"] and "x{" in result.examples["extra"]


def test_relative_error_by_hand():
    assert relative_error(np.array([2.0, 4.0]), np.array([2.5, 4.0])) == 0.25
    assert relative_error(np.array([0.0]), np.array([0.0])) == 0.0
    assert relative_error(np.array([0.0]), np.array([1e-300])) == math.inf
    assert relative_error(np.array([np.inf, np.nan]), np.array([1.0, 2.0])) == 0.0  # no finite pair


def test_the_largest_relative_error_is_kept_over_series():
    written = [one([T0], [8.0]), one([T0], [100.0], labels={"host": "b"})]
    returned = [one([T0], [9.0]), one([T0], [101.0], labels={"host": "b"})]
    result = count_mismatches(written, returned)
    assert result.other_bits == 2 and result.max_relative_error == 0.125


def test_json_of_an_infinite_error_is_text():
    result = count_mismatches([one([T0], [0.0])], [one([T0], [1.0])])
    assert result.as_json()["max_relative_error"] == "inf" and result.as_json()["exact"] is False


def returned_value(bits, i):
    return bits[i:i + 1].view(np.float64)[0]


@st.composite
def series_with_unique_times(draw):
    n = draw(st.integers(0, 40))
    times = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n, unique=True))
    bits = draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))
    return one(sorted(times), np.array(bits, dtype=np.uint64).view(np.float64))


@settings(max_examples=60, deadline=None)
@given(series_with_unique_times(), st.data())
def test_dropping_or_changing_points_is_counted_exactly(written, data):
    n = len(written)
    dropped = data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else set()
    kept = [i for i in range(n) if i not in dropped]
    changed = set(data.draw(st.sets(st.sampled_from(kept), max_size=len(kept)))) if kept else set()
    bits = written.values.view(np.uint64).copy()
    for i in changed:
        bits[i] ^= np.uint64(1)  # flip the lowest bit: another pattern, still matched by time
    returned = one(written.timestamps[kept], bits[kept].view(np.float64))
    result = count_mismatches([written], [returned])
    nan_only = sum(1 for i in changed
                   if math.isnan(written.values[i]) and math.isnan(returned_value(bits, i)))
    assert counts(result) == (len(dropped), 0, 0, 0, len(changed), nan_only)
    assert result.exact == (not dropped and not changed)
