"""Retention applied to real METRICS! and roll-up files: what is kept, what is dropped, and twice."""
import numpy as np
import pytest

from lib.data.dataset import DAY_NS, HOUR_NS, MINUTE_NS, Series, assert_identical
from lib.retention.policy import (
    DEFAULT_POLICY, RetentionPolicy, Tier, apply_policy, apply_to_raw_file, apply_to_rollup_file,
    format_duration, parse_duration,
)
from lib.rollup.levels import rollup_dataset
from lib.storage.metrics_file import read_file
from lib.storage.streaming_writer import write_file
from lib.storage.rollup_files import read_rollups, rollup_filename, write_rollups

START = 1_700_000_000 * 10**9 // DAY_NS * DAY_NS  # a midnight, so hours and days line up
NOW = START + 10 * DAY_NS - 1  # the newest point below: 10 days of hourly points


def ten_days_hourly():
    hours = np.arange(240, dtype=np.int64)
    timestamps = START + hours * HOUR_NS + 30 * MINUTE_NS * (hours % 2)  # on the hour or at half past
    timestamps[-1] = NOW
    return [
        Series("requests_total", {"host": "a"}, timestamps, np.cumsum(np.ones(240))),
        Series("temperature", {"host": "a"}, timestamps, np.sin(hours.astype(float))),
    ]


@pytest.fixture
def stored(tmp_path):
    series_list = ten_days_hourly()
    write_file(tmp_path / "raw.bin", series_list, block_points=16)
    levels = rollup_dataset(series_list, (HOUR_NS, DAY_NS))
    paths = {}
    for resolution, rollups in levels.items():
        paths[resolution] = tmp_path / rollup_filename(resolution)
        write_rollups(paths[resolution], rollups, block_points=16, light=resolution == HOUR_NS)
    return series_list, levels, tmp_path / "raw.bin", paths


def test_policy_parses_prints_and_refuses_nonsense():
    assert str(DEFAULT_POLICY) == "raw=7d,1m=30d,5m=1y,1h=7y"
    assert DEFAULT_POLICY.tiers[1] == Tier(MINUTE_NS, 30 * DAY_NS)
    assert parse_duration("90s") == 90 * 10**9 and format_duration(365 * DAY_NS) == "1y"
    for text in ("1m=30d", "raw=7d,1h=1d", "raw=7d,1h=1y,1m=30d", "raw=7", "raw=-1d", "raw=7d,1m"):
        with pytest.raises(ValueError):
            RetentionPolicy.parse(text)


def test_applying_a_policy_keeps_the_horizon_drops_the_rest_and_is_idempotent(stored):
    series_list, levels, raw_path, paths = stored
    policy = RetentionPolicy.parse("raw=2d,1h=5d,1d=8d")
    results = apply_policy(policy, raw_path, paths, now_ns=NOW)
    # Raw: cutoff = NOW - 2 d = START + 8 d - 1 ns, so the points of the last two days stay: 48 of 240.
    raw_cutoff = NOW - 2 * DAY_NS
    expected_raw = [Series(s.name, s.labels, s.timestamps[s.timestamps >= raw_cutoff],
                           s.values[s.timestamps >= raw_cutoff]) for s in series_list]
    assert [len(s) for s in expected_raw] == [48, 48]
    assert_identical(expected_raw, read_file(raw_path), "raw after retention")
    assert (results[0].kept, results[0].dropped) == (96, 384)
    # Hourly buckets: cutoff START + 5 d - 1 ns; the bucket [START + 5 d - 1 h, START + 5 d) ends
    # after it, so 121 of 240 hours stay per series. Daily buckets: cutoff START + 2 d - 1 ns; day 1's
    # bucket [START + 1 d, START + 2 d) ends after it, so days 1..9 stay and day 0 goes.
    hourly = read_rollups(paths[HOUR_NS], HOUR_NS)
    assert [len(r) for r in hourly] == [121, 121]
    daily = read_rollups(paths[DAY_NS], DAY_NS)
    assert [int((r.bucket_start[0] - START) // DAY_NS) for r in daily] == [1, 1] and len(daily[0]) == 9
    for kept, original in zip(hourly + daily, levels[HOUR_NS] + levels[DAY_NS]):
        offset = len(original) - len(kept)
        assert np.array_equal(kept.bucket_start, original.bucket_start[offset:])
        for field, values in kept.fields.items():
            assert np.array_equal(values.view(np.uint64) if values.dtype == np.float64 else values,
                                  original.fields[field][offset:].view(np.uint64)
                                  if values.dtype == np.float64 else original.fields[field][offset:])
    before = {path: path.read_bytes() for path in [raw_path, *paths.values()]}
    again = apply_policy(policy, raw_path, paths, now_ns=NOW)
    assert not any(r.rewritten or r.dropped for r in again)
    assert all(path.read_bytes() == data for path, data in before.items())


def test_nothing_inside_the_horizon_is_dropped(stored):
    _, _, raw_path, paths = stored
    before = {path: path.read_bytes() for path in [raw_path, *paths.values()]}
    results = apply_policy(RetentionPolicy.parse("raw=10d,1h=10d,1d=10d"), raw_path, paths)  # now = newest point
    assert [r.dropped for r in results] == [0, 0, 0]
    assert all(path.read_bytes() == data for path, data in before.items())


def test_a_raw_point_exactly_on_the_cutoff_is_kept(tmp_path):
    cutoff = START + 5 * HOUR_NS
    path = tmp_path / "raw.bin"
    write_file(path, [Series("t", {}, [cutoff - 1, cutoff, cutoff + 1], [1.0, 2.0, 3.0])], block_points=16)
    applied = apply_to_raw_file(path, DAY_NS, cutoff + DAY_NS)
    assert (applied.cutoff_ns, applied.kept, applied.dropped, applied.rewritten) == (cutoff, 2, 1, True)
    assert read_file(path)[0].timestamps.tolist() == [cutoff, cutoff + 1]
    again = apply_to_raw_file(path, DAY_NS, cutoff + DAY_NS)  # the oldest point is on the cutoff now
    assert (again.kept, again.dropped, again.rewritten) == (2, 0, False)


@pytest.mark.parametrize("cutoff_after_first_bucket, dropped", [(0, 1), (-1, 0)])
def test_a_bucket_ending_exactly_on_the_cutoff_is_dropped(tmp_path, cutoff_after_first_bucket, dropped):
    # Hourly buckets from START; the first ends at START + 1 h: dropped when the cutoff is there,
    # kept (and the file left alone) when the cutoff is one nanosecond earlier.
    series = Series("temperature", {}, START + np.arange(4, dtype=np.int64) * HOUR_NS, [1.0, 2.0, 3.0, 4.0])
    path = tmp_path / rollup_filename(HOUR_NS)
    write_rollups(path, rollup_dataset([series], (HOUR_NS,))[HOUR_NS], block_points=16)
    cutoff = START + HOUR_NS + cutoff_after_first_bucket
    applied = apply_to_rollup_file(path, HOUR_NS, DAY_NS, cutoff + DAY_NS)
    assert (applied.kept, applied.dropped, applied.rewritten) == (4 - dropped, dropped, bool(dropped))
    [rollup] = read_rollups(path, HOUR_NS)
    assert rollup.bucket_start.tolist() == (START + np.arange(dropped, 4) * HOUR_NS).tolist()
