"""A seeded generator of metrics that look like what a Prometheus-style scraper records.

Every ratio this project prints depends on the data, so the generator imitates the habits of real
exporters rather than drawing uniform noise:

- Timestamps are nanoseconds since the epoch that carry only millisecond precision (Prometheus
  stores ms). Each target is scraped on its own interval (mostly 15 s, a few 10 s and 60 s) from a
  random phase offset, with a few ms of jitter; like Prometheus, jitter of 2 ms or less is snapped
  back onto the schedule. Scrapes are occasionally missed, a few targets have longer outages, and
  some series start late or stop early.
- Values come in the kinds real dashboards show, each with the precision its exporter gives it:
  percentages rounded to 2 decimals, byte counts and request totals that are integers, latencies
  and temperatures at full float precision, an `up` gauge that is almost always 1, and a sparse
  error counter. Counters only go up, except at process restarts, when they start again from 0.

The same (seed, sizes) always gives the same dataset, bit for bit: each series draws from its own
random stream seeded by (seed, series number).
"""
from dataclasses import dataclass

import numpy as np

from lib.data.dataset import NS_PER_MS, NS_PER_SECOND, Series, canonical_order

START_NS = 1_704_067_200 * NS_PER_SECOND  # 2024-01-01 00:00:00 UTC
DAY_SECONDS = 86_400

# size name -> (series, total points); every size keeps about the same points per series ratio.
SIZES = {
    "small": (50, 50_000),
    "medium": (200, 1_000_000),
    "big": (1_000, 10_000_000),
}
DEFAULT_SIZE = "small"
DEFAULT_SEED = 42
# The largest dataset the command line accepts. Every phase holds the dataset and its own encoding
# in memory (big peaks near 2.5 GB), so twice big is where a laptop still copes; the series limit
# keeps the per-series bookkeeping (one random stream, one label set each) to a few seconds.
MAX_POINTS = 2 * SIZES["big"][1]
MAX_SERIES = 100_000

REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
SERVICES = ("api", "web", "db", "cache", "worker")
SCRAPE_INTERVALS_S = (15, 15, 10, 15, 60, 15, 15, 15, 15, 15)  # per target, by host number
JITTER_SD_MS = 2.0
JITTER_SNAP_MS = 2  # Prometheus snaps scrape timestamps within 2 ms of schedule back onto it
MISSED_SCRAPE_PROBABILITY = 0.003
# Share of scheduled scrapes that survive gaps, outages and partial lifetimes (measured), used to
# size the time window so that the dataset has about the requested number of points.
EXPECTED_KEPT_FRACTION = 0.92


@dataclass(frozen=True)
class MetricKind:
    name: str
    kind: str
    description: str


METRICS = (
    MetricKind("cpu_usage_percent", "gauge", "daily sine plus noise, 2 decimals"),
    MetricKind("memory_usage_bytes", "gauge", "integer random walk in 4 KiB pages"),
    MetricKind("http_requests_total", "counter", "integer counter with restarts"),
    MetricKind("network_transmit_bytes_total", "counter", "integer byte counter with restarts"),
    MetricKind("http_request_duration_seconds", "gauge", "skewed latency, full precision"),
    MetricKind("node_temperature_celsius", "gauge", "smooth drift, full precision"),
    MetricKind("up", "gauge", "status 0/1, almost always 1"),
    MetricKind("http_errors_total", "counter", "sparse error counter"),
    MetricKind("disk_usage_percent", "gauge", "slow growth, 2 decimals"),
    MetricKind("process_open_fds", "gauge", "small integer gauge"),
)
METRIC_KINDS = {m.name: m for m in METRICS}


def generate_dataset(series_count, total_points, seed=DEFAULT_SEED, progress=None):
    """Return a list of Series (canonical order) with about `total_points` points in all."""
    check_sizes(series_count, total_points, seed)
    hosts = -(-series_count // len(METRICS))
    intervals = [SCRAPE_INTERVALS_S[(index // len(METRICS)) % len(SCRAPE_INTERVALS_S)] for index in range(series_count)]
    # One shared time window for all targets, long enough that the expected total is total_points.
    window_s = total_points / EXPECTED_KEPT_FRACTION / sum(1.0 / i for i in intervals)
    series_list = []
    for index in range(series_count):
        metric = METRICS[index % len(METRICS)]
        host = index // len(METRICS)
        rng = np.random.default_rng([seed, index])
        timestamps = scrape_timestamps(rng, intervals[index], window_s)
        values = VALUE_MAKERS[metric.name](rng, timestamps)
        series_list.append(Series(metric.name, target_labels(host, hosts), timestamps, values))
        if progress is not None:
            progress.advance(1)
    return canonical_order(series_list)


def check_sizes(series_count, total_points, seed=DEFAULT_SEED):
    """Refuse sizes the generator cannot make (ValueError naming the limit), before any work."""
    if seed < 0:
        raise ValueError(f"--seed must be 0 or more, got {seed}")
    if not 1 <= series_count <= MAX_SERIES:
        raise ValueError(f"--series must be from 1 to at most {MAX_SERIES:,}, got {series_count:,}")
    if not 0 <= total_points <= MAX_POINTS:
        raise ValueError(f"--points must be from 0 to at most {MAX_POINTS:,}, got {total_points:,}")


def target_labels(host, hosts):
    width = max(2, len(str(hosts)))
    service = SERVICES[host % len(SERVICES)]
    return {
        "host": f"server-{host + 1:0{width}d}",
        "instance": f"10.0.{host // 250}.{host % 250 + 1}:9100",
        "job": "node" if host % 2 == 0 else "app",
        "region": REGIONS[host % len(REGIONS)],
        "service": service,
    }


def scrape_timestamps(rng, interval_s, window_s):
    """Millisecond-precision scrape times in ns: schedule + jitter, with gaps and partial lifetimes."""
    interval_ms = interval_s * 1000
    slots = max(int(window_s * 1000 // interval_ms), 1)
    phase_ms = int(rng.integers(0, interval_ms))
    schedule_ms = phase_ms + np.arange(slots, dtype=np.int64) * interval_ms
    jitter_ms = np.rint(rng.normal(0.0, JITTER_SD_MS, slots)).astype(np.int64)
    jitter_ms[np.abs(jitter_ms) <= JITTER_SNAP_MS] = 0
    keep = rng.random(slots) >= MISSED_SCRAPE_PROBABILITY
    if rng.random() < 0.2:  # an outage: the target was down for a few minutes
        outage_start = int(rng.integers(0, slots))
        keep[outage_start:outage_start + int(rng.integers(5, 40))] = False
    lifetime = rng.random()
    if lifetime < 0.1:  # started late (deployed during the window)
        keep[: int(slots * rng.uniform(0.1, 0.5))] = False
    elif lifetime < 0.2:  # stopped early (decommissioned)
        keep[int(slots * rng.uniform(0.5, 0.9)):] = False
    return START_NS + (schedule_ms + jitter_ms)[keep] * NS_PER_MS


def seconds_of_day(timestamps):
    return (timestamps // NS_PER_SECOND) % DAY_SECONDS


def cpu_percent(rng, timestamps):
    daily = np.sin(2 * np.pi * seconds_of_day(timestamps) / DAY_SECONDS - np.pi / 2)
    base = rng.uniform(20, 50) + rng.uniform(5, 25) * daily
    noisy = base + rng.normal(0, 4, len(timestamps)) + spikes(rng, len(timestamps), 40)
    return np.round(np.clip(noisy, 0, 100), 2)


def memory_bytes(rng, timestamps):
    pages = int(rng.integers(500_000, 4_000_000)) + np.cumsum(rng.integers(-200, 201, len(timestamps)))
    return np.maximum(pages, 1_000).astype(np.float64) * 4096


def request_counter(rng, timestamps, mean_increment=None):
    if mean_increment is None:
        mean_increment = rng.uniform(50, 2_000)
    increments = rng.poisson(mean_increment, len(timestamps)).astype(np.float64)
    return counter_with_restarts(rng, increments, start=float(rng.integers(10_000, 10_000_000)))


def bytes_counter(rng, timestamps):
    increments = np.floor(rng.lognormal(13, 0.6, len(timestamps)))
    return counter_with_restarts(rng, increments, start=float(rng.integers(10**9, 10**11)))


def error_counter(rng, timestamps):
    increments = (rng.random(len(timestamps)) < 0.02) * rng.integers(1, 4, len(timestamps))
    return counter_with_restarts(rng, increments.astype(np.float64), start=float(rng.integers(0, 50)))


def counter_with_restarts(rng, increments, start):
    """Cumulative sum of increments that drops back to 0 at a few random process restarts.

    Example: increments [5, 5, 5, 5] with a restart at index 2 and start 100 -> [105, 110, 5, 10].
    """
    totals = start + np.cumsum(increments)
    restarts = rng.random(len(increments)) < 0.0007
    # At a restart the process begins from 0: subtract everything counted before it.
    before_restart = np.where(restarts, totals - increments, 0.0)
    return totals - np.maximum.accumulate(before_restart) if len(totals) else totals


def latency_seconds(rng, timestamps):
    return rng.lognormal(np.log(rng.uniform(0.02, 0.2)), 0.5, len(timestamps)) + spikes(rng, len(timestamps), 1.5)


def temperature_celsius(rng, timestamps):
    hours = (timestamps - START_NS) / (3600 * NS_PER_SECOND)
    drift = rng.uniform(35, 60) + 3 * np.sin(2 * np.pi * hours / 24 + rng.uniform(0, 6.3))
    wobble = np.cumsum(rng.normal(0, 0.02, len(timestamps)))
    return drift + wobble - (wobble.mean() if len(wobble) else 0.0)


def up_status(rng, timestamps):
    values = np.ones(len(timestamps))
    values[rng.random(len(timestamps)) < 0.001] = 0.0
    return values


def disk_percent(rng, timestamps):
    growth = np.cumsum(rng.exponential(0.002, len(timestamps)))
    return np.round(np.clip(rng.uniform(20, 70) + growth, 0, 100), 2)


def open_fds(rng, timestamps):
    walk = int(rng.integers(50, 500)) + np.cumsum(rng.integers(-2, 3, len(timestamps)))
    return np.maximum(walk, 10).astype(np.float64)


def spikes(rng, count, height):
    """Rare short spikes, the events that a downsampled average hides."""
    return (rng.random(count) < 0.002) * rng.uniform(0.5, 1.0, count) * height


VALUE_MAKERS = {
    "cpu_usage_percent": cpu_percent,
    "memory_usage_bytes": memory_bytes,
    "http_requests_total": request_counter,
    "network_transmit_bytes_total": bytes_counter,
    "http_request_duration_seconds": latency_seconds,
    "node_temperature_celsius": temperature_celsius,
    "up": up_status,
    "http_errors_total": error_counter,
    "disk_usage_percent": disk_percent,
    "process_open_fds": open_fds,
}
