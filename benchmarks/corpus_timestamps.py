"""Corpus classes about timestamps: irregular events at ms, regular series at s, us and ns.

The values are lib.data.generator's (their exporters' precision), so that these classes differ
from the rest in their timestamps only. Each builder takes (series count, points per series,
rng_of) and returns the series.
"""
import numpy as np

from benchmarks.corpus_kit import START_NS, daily_cycle, grid_times, printed_decimals
from lib.data import generator
from lib.data.dataset import NS_PER_MS, NS_PER_SECOND, Series

NS_PER_US = 1_000
TELEGRAF_INTERVAL_S = 10
OTEL_INTERVAL_S = 60


def events_ms(series_count, points, rng_of):
    """Request events from nginx access logs (`$msec`, `$request_time`) turned into points by a
    log shipper (Vector's log_to_metric, Loki): one point per request.

    Signal: arrivals at 0.05 to 2 per second with a daily cycle, in bursts (a page load fetches
    several resources within a few ms, so some requests share a millisecond). Representation:
    timestamps in ms, irregular, never decreasing, some equal; values are request times in seconds
    with ms resolution, as nginx prints them (0.137).
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = event_times(rng, points)
        seconds = printed_decimals(rng.lognormal(np.log(rng.uniform(0.01, 0.3)), 0.8, points), 3)
        labels = {"vhost": f"shop-{index // 4}.example.com",
                  "status": ("200", "304", "404", "500")[index % 4]}
        result.append(Series("nginx_request_time_seconds", labels, timestamps, seconds))
    return result


def event_times(rng, count):
    """`count` event times in ms (as ns): Poisson arrivals with a daily cycle, and bursts."""
    rate = rng.uniform(0.05, 2.0)
    gaps_ms = rng.exponential(1000.0 / rate, count)
    burst = rng.random(count) < 0.3
    gaps_ms[burst] = rng.exponential(3.0, int(burst.sum()))  # a follow-up request of the same page load
    times_ms = np.cumsum(np.floor(gaps_ms).astype(np.int64))
    # Stretch the quiet hours: divide each gap by the time of day's relative load.
    load = 1.0 + 0.7 * daily_cycle(START_NS + times_ms * NS_PER_MS)
    times_ms = np.cumsum(np.floor(np.diff(np.r_[0, times_ms]) / load).astype(np.int64))
    return START_NS + times_ms * NS_PER_MS


def regular_seconds(series_count, points, rng_of):
    """Graphite (carbon, whisper) series fed by collectd every 10 s: whisper stores each point in
    its 10 s slot with an integer-second timestamp, and a missed write is an empty slot.

    Representation: timestamps on an exact 10 s grid in whole seconds, with gaps.
    """
    return grid_series(series_count, points, rng_of, 10 * NS_PER_SECOND, lambda rng, grid: grid)


def regular_us(series_count, points, rng_of):
    """Telegraf with `interval = "10s"`, `round_interval = true` and `precision = "1us"` writing
    to InfluxDB: each gather is stamped when it starts, a fraction of a millisecond to a few ms
    after the 10 s boundary.

    Representation: timestamps on a 10 s grid plus a gather delay in whole microseconds.
    """
    def delayed(rng, grid):
        delay_us = np.floor(rng.lognormal(np.log(rng.uniform(150, 900)), 0.6, len(grid)))
        slow = rng.random(len(grid)) < 0.01  # a slow gather (a busy disk, a timeout)
        delay_us[slow] += rng.uniform(5_000, 80_000, int(slow.sum()))
        return grid + delay_us.astype(np.int64) * NS_PER_US

    return grid_series(series_count, points, rng_of, TELEGRAF_INTERVAL_S * NS_PER_SECOND, delayed)


def regular_ns(series_count, points, rng_of):
    """OpenTelemetry SDK metrics (PeriodicExportingMetricReader, 60 s) exported over OTLP: each
    collection is stamped with time_ns(), and the reader waits 60 s after each export, so the
    schedule drifts by the export's duration.

    Representation: timestamps 60 s plus a few ms apart, in whole nanoseconds, on no grid.
    """
    def drifting(rng, grid):
        export_ns = np.floor(rng.lognormal(np.log(rng.uniform(2e6, 2e7)), 0.5, len(grid))).astype(np.int64)
        steps = np.r_[0, np.diff(grid)] + np.r_[0, export_ns[:-1]]
        return grid[0] + int(rng.integers(0, NS_PER_SECOND)) + np.cumsum(steps)

    return grid_series(series_count, points, rng_of, OTEL_INTERVAL_S * NS_PER_SECOND, drifting)


def grid_series(series_count, points, rng_of, step_ns, stamp):
    """Series of lib.data.generator's metrics whose timestamps are `stamp(rng, grid)` of a grid
    with a few gaps."""
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        grid = grid_times(rng, step_ns, points, gap_probability=0.003)
        timestamps = stamp(rng, grid)
        metric = generator.METRICS[index % len(generator.METRICS)]
        values = generator.VALUE_MAKERS[metric.name](rng, timestamps)
        hosts = -(-series_count // len(generator.METRICS))
        labels = generator.target_labels(index // len(generator.METRICS), hosts)
        result.append(Series(metric.name, labels, timestamps, values))
    return result
