"""The generator must look like a Prometheus scraper's output: every ratio the project prints depends on it."""
import numpy as np
import pytest

from lib.data.dataset import assert_identical, total_points
from lib.data.generator import METRIC_KINDS, NS_PER_MS, NS_PER_SECOND, generate_dataset


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(60, 60_000, seed=7)


def by_metric(dataset, name):
    return [s for s in dataset if s.name == name]


def test_same_seed_gives_identical_data_and_another_seed_does_not():
    a = generate_dataset(20, 5_000, seed=1)
    assert_identical(a, generate_dataset(20, 5_000, seed=1))
    other = generate_dataset(20, 5_000, seed=2)
    assert any(not np.array_equal(x.values, y.values) for x, y in zip(a, other))


def test_sizes_are_about_what_was_asked(dataset):
    assert len(dataset) == 60
    assert 0.85 * 60_000 <= total_points(dataset) <= 1.15 * 60_000


def test_timestamps_carry_millisecond_precision_and_increase(dataset):
    for s in dataset:
        assert np.all(s.timestamps % NS_PER_MS == 0)
        assert np.all(np.diff(s.timestamps) > 0)


def test_most_series_scrape_every_15s_and_a_few_use_other_intervals(dataset):
    medians = [int(np.median(np.diff(s.timestamps)) // NS_PER_SECOND) for s in dataset]
    share_15 = medians.count(15) / len(medians)
    assert 0.6 <= share_15 < 1.0
    assert {10, 60} <= set(medians)


def test_jitter_is_a_few_milliseconds_and_often_snapped_to_schedule(dataset):
    for s in dataset:
        deltas = np.diff(s.timestamps)
        interval = int(np.median(deltas))
        regular = deltas[np.abs(deltas - interval) < NS_PER_SECOND]
        off_schedule = np.abs(regular - interval)
        assert off_schedule.max() <= 40 * NS_PER_MS  # jitter of two scrapes, never seconds
        assert 0.1 < np.mean(off_schedule == 0) < 0.95  # some on schedule, some jittered


def test_there_are_gaps_and_partial_lifetimes(dataset):
    intervals_missed = 0
    for s in dataset:
        deltas = np.diff(s.timestamps)
        intervals_missed += int(np.sum(deltas > 1.5 * np.median(deltas)))
    assert intervals_missed > 0
    starts = [s.timestamps[0] for s in dataset]
    ends = [s.timestamps[-1] for s in dataset]
    window = max(ends) - min(starts)
    assert any(t - min(starts) > 0.1 * window for t in starts), "some series start late"
    assert any(max(ends) - t > 0.1 * window for t in ends), "some series stop early"


def test_counters_only_rise_between_restarts_and_restart_rarely(dataset):
    restarts = 0
    for name, kind in METRIC_KINDS.items():
        if kind.kind != "counter":
            continue
        for s in by_metric(dataset, name):
            drops = np.diff(s.values) < 0
            restarts += int(drops.sum())
            assert drops.mean() < 0.01
            assert np.all(s.values == np.floor(s.values)), "counters count whole events or bytes"
            assert np.all(s.values >= 0)
    assert restarts >= 1


def test_value_precision_per_kind(dataset):
    def decimals_at_most(values, places):
        scaled = values * 10**places
        return np.all(np.round(scaled) / 10**places == values)

    for s in by_metric(dataset, "cpu_usage_percent") + by_metric(dataset, "disk_usage_percent"):
        assert decimals_at_most(s.values, 2) and np.all((s.values >= 0) & (s.values <= 100))
        assert not decimals_at_most(s.values, 0)
    for s in by_metric(dataset, "memory_usage_bytes"):
        assert np.all(s.values % 4096 == 0)
    for s in by_metric(dataset, "http_request_duration_seconds") + by_metric(dataset, "node_temperature_celsius"):
        assert not decimals_at_most(s.values, 6), "full float precision"
    for s in by_metric(dataset, "up"):
        assert set(np.unique(s.values)) <= {0.0, 1.0} and s.values.mean() > 0.98


def test_temperature_is_smooth_and_cpu_is_noisy(dataset):
    temperature = by_metric(dataset, "node_temperature_celsius")[0].values
    cpu = by_metric(dataset, "cpu_usage_percent")[0].values
    assert np.median(np.abs(np.diff(temperature))) < 0.1
    assert np.median(np.abs(np.diff(cpu))) > 1


def test_labels_look_like_prometheus_targets(dataset):
    for s in dataset:
        assert set(s.labels) == {"host", "instance", "job", "region", "service"}
        assert s.labels["instance"].endswith(":9100")
    assert len({s.labels["host"] for s in dataset}) == 6
    assert {s.name for s in dataset} == set(METRIC_KINDS)
