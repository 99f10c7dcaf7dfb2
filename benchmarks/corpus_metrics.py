"""Corpus classes of server metrics: rates and ratios, big counters, pages, many short series,
NaN and stale markers, constants.

Each builder takes (series count, points per series, rng_of) and returns the series; its docstring
names the exporter whose numbers it imitates, the signal first and then the representation.
"""
import numpy as np

from benchmarks.corpus_kit import ar1, daily_cycle, pod_name, scrape_times
from lib.data import generator
from lib.data.dataset import NS_PER_MS, NS_PER_SECOND, Series

RATE_RANGE_MS = 300_000  # rate(x[5m])
QUERY_STEP_MS = 60_000  # Grafana's step for a few days of graph
GO_NAN_BITS = 0x7FF8000000000001  # Go's math.NaN(), what client_golang exposes for an empty summary
STALE_NAN_BITS = 0x7FF0000000000002  # Prometheus' staleness marker (model/value.StaleNaN)
GO_NAN, STALE_NAN = np.array([GO_NAN_BITS, STALE_NAN_BITS], dtype=np.uint64).view(np.float64)
PAGE_BYTES = 4096


def prometheus_rate(series_count, points, rng_of):
    """`rate(http_requests_total[5m])` and `rate(node_network_transmit_bytes_total[5m])` as a
    Prometheus `query_range` (step 60 s) returns them to Grafana or a recording rule.

    Signal: lib.data.generator's request and byte counters (integers, restarts), scraped every
    15 s with jitter and missed scrapes. Representation: Prometheus' extrapolatedRate (counter
    resets corrected, extrapolation to the window's edges, divided by 300 s), printed by the API
    in shortest round-trip form, so full-precision float64 quotients on a 60 s grid of seconds.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        raw_count = points * (QUERY_STEP_MS // 15_000) + 64
        while True:
            sample_ns = scrape_times(rng, 15, raw_count)
            maker = generator.request_counter if index % 2 == 0 else generator.bytes_counter
            eval_ms, rates = extrapolated_rates(sample_ns // NS_PER_MS, maker(rng, sample_ns))
            if len(rates) >= points:
                break
            raw_count *= 2
        name = "http_requests:rate5m" if index % 2 == 0 else "node_network_transmit_bytes:rate5m"
        labels = {"instance": f"10.0.{index // 250}.{index % 250 + 1}:9100",
                  "job": ("api", "node")[index % 2]}
        result.append(Series(name, labels, eval_ms[:points] * NS_PER_MS, rates[:points]))
    return result


def extrapolated_rates(sample_ms, values, range_ms=RATE_RANGE_MS, step_ms=QUERY_STEP_MS):
    """Prometheus' rate() at every step from the first sample on (promql/functions.go,
    extrapolatedRate, counters, in the same order of float operations; the window is left-open).

    Returns (evaluation times in ms, rates) for the steps whose window holds two samples or more.
    """
    first_eval = -(-int(sample_ms[0]) // step_ms) * step_ms
    eval_ms = np.arange(first_eval, int(sample_ms[-1]) + 1, step_ms, dtype=np.int64)
    hi = np.searchsorted(sample_ms, eval_ms, side="right")
    lo = np.searchsorted(sample_ms, eval_ms - range_ms, side="right")
    enough = hi - lo >= 2
    eval_ms, lo, hi = eval_ms[enough], lo[enough], hi[enough]
    first, last = values[lo], values[hi - 1]
    drops = np.zeros(len(values))
    drops[1:] = np.where(values[1:] < values[:-1], values[:-1], 0.0)  # a reset: add the value before it
    prefix = np.concatenate([[0.0], np.cumsum(drops)])  # integer counters: these sums are exact
    increase = last - first + (prefix[hi] - prefix[lo + 1])
    to_start = (sample_ms[lo] - (eval_ms - range_ms)).astype(np.float64) / 1000
    to_end = (eval_ms - sample_ms[hi - 1]).astype(np.float64) / 1000
    sampled = (sample_ms[hi - 1] - sample_ms[lo]).astype(np.float64) / 1000
    average = sampled / (hi - lo - 1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        to_zero = sampled * (first / increase)
    to_start = np.where((increase > 0) & (first >= 0) & (to_zero < to_start), to_zero, to_start)
    threshold = average * 1.1
    interval = sampled + np.where(to_start < threshold, to_start, average / 2)
    interval = interval + np.where(to_end < threshold, to_end, average / 2)
    factor = interval / sampled / float(range_ms // 1000)
    return eval_ms, increase * factor


def ratios(series_count, points, rng_of):
    """Values normalised to [0, 1] as exporters and node-mixin recording rules compute them per
    15 s scrape: CPU utilisation as busy / total jiffies (USER_HZ 100, 4 to 64 cores), cache hit
    ratios as hits / lookups, disk busy time as io_time ms / elapsed ms, memory utilisation as
    1 - MemAvailable / MemTotal (kB). Signal: daily load cycles, noise, bursts. Representation:
    full-precision quotients of integers.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 15, points)
        n = len(timestamps)
        load = np.clip(rng.uniform(0.1, 0.6) * (1 + 0.5 * daily_cycle(timestamps)) + ar1(rng, n, 0.05, 0.9)
                       + generator.spikes(rng, n, 0.5), 0.0, 1.0)
        kind = index % 4
        if kind == 0:
            total = 100 * 15 * int(rng.choice([4, 8, 16, 32, 64])) + rng.integers(-3, 4, n)
            name, values = "node_cpu_utilisation:ratio", np.rint(load * total) / total
        elif kind == 1:
            lookups = rng.poisson(rng.uniform(50, 5000) * (1 + 0.5 * daily_cycle(timestamps))) + 1
            hits = rng.binomial(lookups, np.clip(0.97 - 0.3 * load, 0, 1))
            name, values = "cache_hit:ratio", hits / lookups
        elif kind == 2:
            elapsed_ms = 15_000 + rng.integers(-4, 5, n)
            name, values = "node_disk_io_time:ratio", np.rint(load * elapsed_ms) / elapsed_ms
        else:
            total_kb = int(rng.choice([4, 8, 16, 64])) * 1_024_000 - int(rng.integers(1000, 90000))
            available_kb = np.rint((1 - 0.8 * load) * total_kb)
            name, values = "node_memory_utilisation:ratio", 1 - available_kb / total_kb
        result.append(Series(name, {"instance": f"host-{index:03d}:9100"}, timestamps, values))
    return result


def byte_counters(series_count, points, rng_of):
    """64-bit interface octet counters (IF-MIB ifHCInOctets / ifHCOutOctets) of switch and router
    ports polled every 15 s by snmp_exporter, large after months of uptime (up to 2**53 bytes).

    Signal: traffic with a daily cycle, noise and bursts on 1 to 100 Gbit/s ports; the counter
    goes back to 0 when a line card restarts or counters are cleared. Representation: integers up
    to 2**53 stored as float64, exact.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 15, points)
        line_rate = float(rng.choice([1.25e8, 1.25e9, 3.125e9, 1.25e10]))  # bytes/s of 1, 10, 25, 100 Gbit/s
        daily = 1 + 0.6 * daily_cycle(timestamps)
        use = np.clip(rng.uniform(0.05, 0.5) * daily * np.exp(ar1(rng, points, 0.2)), 0, 1)
        increments = np.floor(use * line_rate * 15)
        headroom = 2.0**53 - increments.sum()
        start = float(np.floor(np.exp(rng.uniform(np.log(1e9), np.log(headroom)))))
        direction = ("in", "out")[index % 2]
        labels = {"ifName": f"Ethernet{index // 2 + 1}/1", "instance": f"core-sw-{index // 16 + 1}",
                  "job": "snmp"}
        values = generator.counter_with_restarts(rng, increments, start)
        result.append(Series(f"ifHC{direction.title()}Octets", labels, timestamps, values))
    return result


def memory_pages(series_count, points, rng_of):
    """cAdvisor's `container_memory_working_set_bytes` (cgroup memory counted in 4 KiB pages)
    scraped by the kubelet every 15 s.

    Signal: JVM heaps growing and dropping at garbage collections, slow leaks ended by an OOM kill,
    caches that fill and settle. Representation: integers, every one a multiple of 4096.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        timestamps = scrape_times(rng, 15, points)
        base = rng.uniform(100, 4000) * 256  # 100 MiB .. 4 GiB in pages
        minutes = (timestamps - timestamps[0]) / (60 * NS_PER_SECOND)
        kind = index % 3
        if kind == 0:  # garbage-collected heap: a sawtooth
            period = rng.uniform(2, 20)
            pages = base * (1 + 0.5 * ((minutes / period + rng.uniform(0, 1)) % 1.0))
        elif kind == 1:  # a leak and its OOM kills
            pages = base * (1 + 0.8 * ((minutes / rng.uniform(300, 900)) % 1.0))
        else:  # page cache filling up to a plateau
            pages = base * (1.5 - 0.5 * np.exp(-minutes / rng.uniform(30, 200)))
        pages = np.rint(pages + ar1(rng, points, base * 0.002) + rng.integers(-8, 9, points))
        labels = {"container": ("app", "sidecar", "cache")[kind], "pod": pod_name(rng, "checkout"),
                  "namespace": "shop"}
        result.append(Series("container_memory_working_set_bytes", labels, timestamps, pages * PAGE_BYTES))
    return result


def high_cardinality(series_count, points, rng_of):
    """Many short series: 1,000 Kubernetes pods each exposing lib.data.generator's ten metrics,
    120 scrapes of 15 s each (30 minutes: one Prometheus chunk per series).

    Signal and representation are the generated dataset's (percentages with 2 decimals, integer
    counters with restarts, full-precision latencies, 0/1 `up`, ...); labels are a pod's.
    """
    result = []
    metrics = generator.METRICS
    for pod in range(-(-series_count // len(metrics))):
        rng = rng_of(pod)
        timestamps = scrape_times(rng, 15, points)
        labels = {"namespace": ("shop", "search", "payments", "auth")[pod % 4], "pod": pod_name(rng, "api"),
                  "node": f"node-{pod % 50:02d}", "container": "app"}
        for metric in metrics:
            values = generator.VALUE_MAKERS[metric.name](rng, timestamps)
            result.append(Series(metric.name, labels, timestamps, values))
    return result[:series_count]


def stale_and_nan(series_count, points, rng_of):
    """Mostly-NaN series as Prometheus stores them, scraped every 15 s.

    Half are client_golang summary quantiles of a rarely hit endpoint: with no observation in the
    summary's 10-minute window the exporter writes NaN (Go's math.NaN(), bits 0x7ff8000000000001),
    so most samples are NaN. Half are series an exporter exposes only some of the time (a label
    set that comes and goes): each time it disappears Prometheus appends a staleness marker at the
    next scrape, a NaN with bits 0x7ff0000000000002, and nothing until it comes back. A failed
    scrape marks every series of its target stale the same way.
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        if index % 2 == 0:
            timestamps = scrape_times(rng, 15, points)
            timestamps, values = stale_markers_at_gaps(timestamps, summary_quantiles(rng, points), 15)
            labels = {"quantile": "0.99", "handler": f"/admin/{index}"}
            timestamps, values = timestamps[:points], values[:points]
            result.append(Series("http_request_duration_seconds", labels, timestamps, values))
        else:
            timestamps, values = intermittent_with_stale_markers(rng, points)
            result.append(Series("kube_pod_container_status_waiting_reason", {"pod": pod_name(rng, "batch")},
                                 timestamps, values))
    return result


def summary_quantiles(rng, count, window_scrapes=40):
    arrivals = rng.poisson(rng.uniform(0.003, 0.02), count)
    in_window = np.convolve(arrivals, np.ones(window_scrapes, dtype=np.int64))[:count]
    latest = np.cumsum(arrivals)  # the quantile moves when an observation arrives
    quantiles = rng.lognormal(np.log(0.3), 0.6, int(latest[-1]) + 1)[latest]
    return np.where(in_window > 0, quantiles, GO_NAN)


def stale_markers_at_gaps(timestamps, values, interval_s):
    """A failed scrape makes Prometheus mark every series of the target stale at that scrape: one
    marker a scrape interval after the last sample before each gap."""
    interval_ns = interval_s * NS_PER_SECOND
    gaps = np.flatnonzero(np.diff(timestamps) > 1.5 * interval_ns)
    marker_times = timestamps[gaps] + interval_ns
    order = np.argsort(np.r_[timestamps, marker_times], kind="stable")
    stale = np.full(len(gaps), STALE_NAN)
    return np.r_[timestamps, marker_times][order], np.r_[values, stale][order]


def intermittent_with_stale_markers(rng, count):
    """(timestamps, values) of a series present on some scrapes: values while present, one stale
    marker at the first scrape after each disappearance."""
    slots = 4 * count + 64
    scrapes = scrape_times(rng, 15, slots)
    present = np.zeros(slots, dtype=bool)
    flips = rng.random(slots)
    stay, come = rng.uniform(0.7, 0.97), rng.uniform(0.05, 0.4)
    for i in range(1, slots):
        present[i] = flips[i] < (stay if present[i - 1] else come)
    marker = ~present & np.r_[False, present[:-1]]
    kept = np.flatnonzero(present | marker)[:count]
    values = np.where(marker[kept], STALE_NAN, 1.0)
    return scrapes[kept], values


CONSTANTS = (
    ("machine_cpu_cores", 16.0),
    ("node_memory_MemTotal_bytes", 65_842_356 * 1024.0),
    ("kube_pod_container_resource_limits_cpu_cores", 0.5),
    ("kube_pod_container_resource_limits_memory_bytes", 536_870_912.0),
    ("prometheus_build_info", 1.0),
    ("process_max_fds", 1_048_576.0),
    ("node_filesystem_size_bytes", 121_790_857 * 4096.0),
    ("node_cpu_scaling_frequency_max_hertz", 3.5e9),
)


def constants(series_count, points, rng_of):
    """Series that never change, scraped every 15 s: core counts, memory and filesystem sizes,
    resource limits, build_info 1, file-descriptor limits (node_exporter, cAdvisor,
    kube-state-metrics, every client library's build info).
    """
    result = []
    for index in range(series_count):
        rng = rng_of(index)
        name, value = CONSTANTS[index % len(CONSTANTS)]
        timestamps = scrape_times(rng, 15, points)
        labels = {"instance": f"10.1.{index // len(CONSTANTS)}.{index % 200 + 1}:9100"}
        result.append(Series(name, labels, timestamps, np.full(points, value)))
    return result

