"""Roll-ups survive the trip through METRICS! files, and the store answers from the right file."""
import numpy as np
import pytest

from lib.data.dataset import HOUR_NS, MINUTE_NS, Series
from lib.data.generator import generate_dataset
from lib.errors import FormatError
from lib.rollup.buckets import RAW_RESOLUTION
from lib.rollup.levels import rollup_dataset
from lib.storage.streaming_writer import write_file
from lib.storage.rollup_files import (
    ROLLUP_LABEL, RollupStore, read_rollups, resolution_label, rollup_filename, rollup_from_columns,
    rollup_to_series, write_rollups,
)

RESOLUTIONS = (MINUTE_NS, 5 * MINUTE_NS, HOUR_NS)


@pytest.fixture(scope="module")
def store_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rollups")
    series_list = generate_dataset(20, 20_000, seed=5)
    write_file(folder / "raw.bin", series_list)
    levels = rollup_dataset(series_list, RESOLUTIONS)
    for resolution, rollups in levels.items():
        write_rollups(folder / rollup_filename(resolution), rollups, block_points=64)
    store = RollupStore(folder / "raw.bin", {r: folder / rollup_filename(r) for r in RESOLUTIONS})
    return folder, series_list, levels, store


def bits(array):
    return array.view(np.uint64) if array.dtype == np.float64 else array


def test_every_level_reads_back_bit_for_bit(store_setup):
    folder, _, levels, _ = store_setup
    for resolution, expected in levels.items():
        actual = read_rollups(folder / rollup_filename(resolution), resolution)
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert (a.name, a.labels, a.kind) == (e.name, e.labels, e.kind)
            assert np.array_equal(a.bucket_start, e.bucket_start)
            for field, values in e.fields.items():
                assert a.fields[field].dtype == values.dtype
                assert np.array_equal(bits(a.fields[field]), bits(values)), field
            if e.sketch is not None:
                for column in ("row", "sign", "key", "count"):
                    assert np.array_equal(getattr(a.sketch, column), getattr(e.sketch, column))


def test_rollup_with_nan_and_infinities_round_trips(tmp_path):
    series = Series("temperature", {"h": "a"}, np.arange(6, dtype=np.int64) * 20 * 10**9,
                    [1.5, np.nan, np.inf, -2.0, 0.0, -0.0])
    [rollup] = rollup_dataset([series], (MINUTE_NS,))[MINUTE_NS]
    write_rollups(tmp_path / "r.bin", [rollup], block_points=4)
    [back] = read_rollups(tmp_path / "r.bin", MINUTE_NS)
    for field, values in rollup.fields.items():
        assert np.array_equal(bits(back.fields[field]), bits(values))


def test_store_answers_short_ranges_from_raw_and_long_ones_from_coarser_levels(store_setup):
    _, series_list, levels, store = store_setup
    target = next(s for s in series_list if s.name == "cpu_usage_percent")
    end = int(target.timestamps.max()) + 1
    short = store.query(target.name, target.labels, "max", end - 10 * MINUTE_NS, end, max_points=100)
    assert short.resolution_ns == RAW_RESOLUTION
    inside = target.timestamps >= end - 10 * MINUTE_NS
    assert short.value == target.values[inside].max()

    start = int(target.timestamps.min())
    span_minutes = (end - start) / MINUTE_NS  # about 275 for this dataset
    assert 200 < span_minutes < 300
    coarse = store.query(target.name, target.labels, "max", start, end, max_points=10)
    assert coarse.resolution_ns == HOUR_NS and coarse.buckets <= 6
    assert coarse.value == target.values.max()  # the whole series: max over all buckets is exact
    five = store.query(target.name, target.labels, "count", start, end, max_points=100)
    assert five.resolution_ns == 5 * MINUTE_NS and five.value == len(target)
    one = store.query(target.name, target.labels, "count", start, end, max_points=300)
    assert one.resolution_ns == MINUTE_NS and one.value == len(target)


def test_store_sum_from_file_matches_sum_of_raw_points(store_setup):
    _, series_list, _, store = store_setup
    target = next(s for s in series_list if s.name == "node_temperature_celsius")
    start, end = int(target.timestamps.min()), int(target.timestamps.max()) + 1
    answer = store.query(target.name, target.labels, "sum", start, end, max_points=50)
    assert answer.resolution_ns == HOUR_NS
    assert answer.value == pytest.approx(float(np.sum(target.values)), rel=1e-12)


def test_counter_increase_from_file_matches_raw_increase(store_setup):
    _, series_list, _, store = store_setup
    target = next(s for s in series_list if s.name == "http_requests_total")
    deltas = np.diff(target.values)
    expected = np.where(deltas >= 0, deltas, target.values[1:]).sum()  # a drop is a restart from 0
    start, end = int(target.timestamps.min()), int(target.timestamps.max()) + 1
    answer = store.query(target.name, target.labels, "increase", start, end, max_points=50)
    assert answer.value == pytest.approx(expected, rel=1e-12)


def test_a_plain_metrics_file_is_not_a_rollup_file(tmp_path):
    write_file(tmp_path / "raw.bin", [Series("m", {}, [1], [1.0])])
    with pytest.raises(FormatError, match="not a roll-up column"):
        read_rollups(tmp_path / "raw.bin", MINUTE_NS)


def test_reserved_labels_are_refused(tmp_path):
    series = Series("m", {"__rollup__": "x"}, [1], [1.0])
    [rollup] = rollup_dataset([series], (MINUTE_NS,))[MINUTE_NS]
    with pytest.raises(ValueError, match="reserved"):
        write_rollups(tmp_path / "r.bin", [rollup], block_points=4)


@pytest.mark.parametrize("ns,label", [(60 * 10**9, "1m"), (90 * 10**9, "90s"), (3600 * 10**9, "1h"),
                                      (86_400 * 10**9, "1d"), (1_500_000, "1500000ns")])
def test_resolution_labels(ns, label):
    assert resolution_label(ns) == label


def sketch_damage_cases():
    """(what is wrong, how to damage the columns of a gauge's roll-up); each must be refused."""
    def set_value(column, index, value):
        def damage(columns):
            columns[column].values[index] = value
        return damage

    def drop_last_point(column):
        def damage(columns):
            s = columns[column]
            columns[column] = Series(s.name, s.labels, s.timestamps[:-1], s.values[:-1])
        return damage

    def reverse_entries(columns):
        for column in ("sketch_sign", "sketch_key", "sketch_count"):
            s = columns[column]
            columns[column] = Series(s.name, s.labels, s.timestamps[::-1].copy(), s.values[::-1].copy())

    def swap_first_two_entries(columns):
        for column in ("sketch_sign", "sketch_key", "sketch_count"):
            columns[column].values[[0, 1]] = columns[column].values[[1, 0]]

    def repeat_first_entry(columns):
        for column in ("sketch_sign", "sketch_key", "sketch_count"):
            columns[column].values[1] = columns[column].values[0]

    return [
        ("a sign column one point short", drop_last_point("sketch_sign")),
        ("a sign of 7", set_value("sketch_sign", 0, 7.0)),
        ("a key beyond int32", set_value("sketch_key", 0, 2.0**40)),
        ("a count of 0.5", set_value("sketch_count", 0, 0.5)),
        ("a count of 0", set_value("sketch_count", 0, 0.0)),
        ("a NaN count", set_value("sketch_count", 0, np.nan)),
        ("entries out of bucket order", reverse_entries),
        ("two entries of a bucket swapped", swap_first_two_entries),
        ("an entry repeated", repeat_first_entry),
        ("a count column holding 0.5", set_value("count", 0, 0.5)),
        ("a negative nan_count", set_value("nan_count", 0, -3.0)),
    ]


@pytest.mark.parametrize("what, damage", sketch_damage_cases(), ids=[case[0] for case in sketch_damage_cases()])
def test_damaged_sketch_columns_are_refused(what, damage):
    times = np.arange(12, dtype=np.int64) * 20 * 10**9  # four 1-minute buckets
    series = Series("temperature", {"h": "a"}, times, np.arange(12) * 1.5 - 4.0)
    [rollup] = rollup_dataset([series], (MINUTE_NS,))[MINUTE_NS]
    columns = {s.labels[ROLLUP_LABEL]: s for s in rollup_to_series(rollup)}
    assert rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, dict(columns)).sketch is not None
    damage(columns)
    with pytest.raises(FormatError):
        rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, columns)


def one_minute_columns(light=False, points=12):
    """The columns of a gauge's 1-minute roll-up of `points` points 20 s apart (three a bucket)."""
    times = np.arange(points, dtype=np.int64) * 20 * 10**9
    series = Series("temperature", {"h": "a"}, times, np.arange(points) * 1.5 - 4.0)
    [rollup] = rollup_dataset([series], (MINUTE_NS,))[MINUTE_NS]
    return {s.labels[ROLLUP_LABEL]: s for s in rollup_to_series(rollup, light)}


@pytest.mark.parametrize("light", [False, True])
@pytest.mark.parametrize("what", ["one nanosecond off the grid", "in reverse order", "a bucket repeated"])
def test_buckets_off_the_grid_or_out_of_time_order_are_refused(light, what):
    columns = one_minute_columns(light)
    assert rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, dict(columns)) is not None
    for name, s in columns.items():
        timestamps, values = s.timestamps.copy(), s.values.copy()
        if what == "one nanosecond off the grid":
            timestamps += 1
        elif what == "in reverse order":
            timestamps, values = timestamps[::-1].copy(), values[::-1].copy()
        elif name in ("count", "nan_count", "sum", "min", "max", "first", "last"):
            timestamps[1] = timestamps[0]
        columns[name] = Series(s.name, s.labels, timestamps, values)
    with pytest.raises(FormatError, match="temperature.*(multiple of the resolution|time order)"):
        rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, columns)


def test_a_bucket_start_at_a_negative_multiple_of_the_resolution_is_on_the_grid():
    columns = one_minute_columns(light=True)
    for name, s in columns.items():
        columns[name] = Series(s.name, s.labels, s.timestamps - 10 * MINUTE_NS, s.values)
    rollup = rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, columns)
    assert rollup.bucket_start[0] == -10 * MINUTE_NS


def test_a_sketch_may_count_up_to_its_buckets_count_and_no_more():
    columns = one_minute_columns()  # each bucket: three points, three sketch entries of 1
    columns["count"].values[0] = 3.0
    rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, dict(columns))  # exactly its count
    columns["count"].values[0] = 2.0
    with pytest.raises(FormatError, match="temperature.*count"):
        rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, columns)


@pytest.mark.parametrize("entry_counts, bucket_count", [
    ([2.0**53, 1.0], 2.0**53),  # in float64 2**53 + 1 rounds to 2**53: only the exact sum sees it
    ([2.0**53], 2.0**53 - 1),  # one more than the count
    ([2.0**53] * 2048, 2.0**53),  # 2**64 in all: wraps to 0 in uint64, only float64 sees it
])
def test_a_sketch_counting_more_than_its_bucket_is_refused_however_large_the_sums(entry_counts, bucket_count):
    columns = one_minute_columns(points=3)  # one bucket, at 0
    columns["count"].values[0] = bucket_count
    entries = len(entry_counts)
    for name, values in (("sketch_sign", np.ones(entries)), ("sketch_key", np.arange(entries, dtype=np.float64)),
                         ("sketch_count", np.array(entry_counts))):
        s = columns[name]
        columns[name] = Series(s.name, s.labels, np.zeros(entries, dtype=np.int64), values)
    with pytest.raises(FormatError, match="counts more values"):
        rollup_from_columns("temperature", {"h": "a"}, MINUTE_NS, columns)


@pytest.mark.parametrize("max_points, from_raw", [(10, True), (9, False)])
def test_the_store_answers_from_raw_points_up_to_max_points(tmp_path, max_points, from_raw):
    # Ten points a minute apart in two blocks, both wholly inside the range: ten points to read.
    series = Series("temperature", {}, np.arange(10, dtype=np.int64) * MINUTE_NS, np.arange(10) * 1.5)
    write_file(tmp_path / "raw.bin", [series], block_points=5)
    levels = rollup_dataset([series], (MINUTE_NS, HOUR_NS))
    for resolution, rollups in levels.items():
        write_rollups(tmp_path / rollup_filename(resolution), rollups, block_points=16)
    store = RollupStore(tmp_path / "raw.bin", {r: tmp_path / rollup_filename(r) for r in levels})
    answer = store.query("temperature", {}, "max", 0, 10 * MINUTE_NS, max_points=max_points)
    assert (answer.resolution_ns == RAW_RESOLUTION) == from_raw
    assert answer.value == 13.5
