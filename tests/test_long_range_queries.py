"""Long-range answers from raw points and from roll-up files agree where they must."""
import math

import numpy as np
import pytest

from lib.data.dataset import HOUR_NS, MINUTE_NS, Series
from lib.retention.long_range_queries import answer_from_level, answer_from_raw, gauge_keys
from lib.rollup.levels import rollup_dataset
from lib.rollup.sketch import SKETCH_ALPHA
from lib.storage.streaming_writer import write_file
from lib.storage.rollup_files import write_rollups


@pytest.fixture
def files(tmp_path):
    # Two hours of one gauge, one point a minute: hour 0 holds 0..59, hour 1 holds 100..159.
    minutes = np.arange(120, dtype=np.int64)
    values = np.where(minutes < 60, minutes, minutes + 40).astype(float)
    series_list = [Series("temperature", {"host": "a"}, minutes * MINUTE_NS, values),
                   Series("requests_total", {"host": "a"}, minutes * MINUTE_NS, np.arange(120.0))]
    write_file(tmp_path / "raw.bin", series_list)
    levels = rollup_dataset(series_list, (MINUTE_NS, 5 * MINUTE_NS))
    write_rollups(tmp_path / "1m.bin", levels[MINUTE_NS], 64, light=True)
    write_rollups(tmp_path / "5m.bin", levels[5 * MINUTE_NS], 64)
    return tmp_path, series_list


def test_hourly_max_avg_p99_from_raw_by_hand(files):
    folder, series_list = files
    keys = gauge_keys(series_list)
    assert [name for name, _ in keys] == ["temperature"]  # counters are not asked for percentiles
    [raw] = answer_from_raw(folder / "raw.bin", keys)
    assert list(raw.hours) == [0, HOUR_NS]
    assert list(raw.values["max"]) == [59.0, 159.0]
    assert list(raw.values["avg"]) == [29.5, 129.5]
    assert list(raw.values["p99"]) == [58.0, 158.0]  # rank floor(0.99 * 59) = 58
    assert raw.values_read == 120


def test_levels_answer_max_exactly_and_p99_only_with_a_sketch(files):
    folder, series_list = files
    keys = gauge_keys(series_list)
    [raw] = answer_from_raw(folder / "raw.bin", keys)
    light = answer_from_level(folder / "1m.bin", "1m", keys)
    full = answer_from_level(folder / "5m.bin", "5m", keys)
    assert light.answered == ("max", "avg") and full.answered == ("max", "avg", "p99")
    assert light.values_read == 120 * 3  # only the columns asked for: max, sum and count, not min
    for answers in (light, full):
        assert answers.relative_error(raw, "max") == 0.0
        assert answers.relative_error(raw, "avg") == 0.0
    assert 0 < full.relative_error(raw, "p99") <= SKETCH_ALPHA
    assert math.isnan(light.values["p99"][0])


def test_the_raw_file_is_read_once_for_every_group_and_each_series_checked(files):
    folder, series_list = files
    seen = []
    by_group = answer_from_raw(folder / "raw.bin", gauge_keys(series_list), (("max", "avg"), ("p99",)),
                               check=seen.append)
    assert [s.name for s in seen] == ["temperature"]
    assert [sorted(a.values) for a in by_group] == [["avg", "max"], ["p99"]]
    assert [a.values_read for a in by_group] == [120, 120]
    assert list(by_group[1].values["p99"]) == [58.0, 158.0]


def test_raw_max_treats_a_signalling_nan_as_missing(tmp_path):
    signalling_nan = np.array([0x7FF0000000000001], dtype=np.uint64).view(np.float64)[0]
    series_list = [Series("temperature", {}, np.arange(4, dtype=np.int64) * MINUTE_NS,
                          np.array([signalling_nan, 5.0, -3.0, 1.0]))]
    write_file(tmp_path / "raw.bin", series_list)
    [raw] = answer_from_raw(tmp_path / "raw.bin", gauge_keys(series_list))
    assert list(raw.values["max"]) == [5.0]  # fmax let the signalling NaN hide 5.0 and give 1.0
