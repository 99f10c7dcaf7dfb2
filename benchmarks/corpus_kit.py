"""Shared pieces of the benchmark corpus: timestamps, exporters' number representations, labels.

A corpus class is a realistic signal put through the representation a real exporter applies, so
these helpers come in two kinds. Timestamps: scrapes as lib.data.generator makes them (ms
precision, jitter, missed scrapes), exact grids, and the grid of a `query_range` answer. Number
representations: rounding to float32 and widening back (`as_float32(0.1)` is
0.10000000149011612), printing with a number of significant digits or decimals and parsing the
text back, as a CSV or JSON hop does (`printed_decimals(2/3, 6)` is 0.666667, the float64 nearest
to that decimal).

Every builder gets its sizes and a `rng_of(i)` giving series i its own random stream, seeded by
(seed, class, i): the same seed gives the same class bit for bit, and adding a class changes no
other class.
"""
import zlib

import numpy as np

from lib.data import generator
from lib.data.dataset import NS_PER_SECOND

START_NS = generator.START_NS  # 2024-01-01 00:00:00 UTC, as the generated dataset
HEX = "0123456789abcdef"
LOWER_ALPHANUMERIC = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' pod-name suffix alphabet


def rng_factory(seed, class_name):
    """rng_of(i): series i's own random stream, seeded by (seed, crc32 of the class name, i)."""
    class_key = zlib.crc32(class_name.encode("utf-8"))
    return lambda index: np.random.default_rng([seed, class_key, index])


# Timestamps (int64 ns)

def scrape_times(rng, interval_s, count):
    """Exactly `count` scrape timestamps as lib.data.generator.scrape_timestamps makes them: ms
    precision, scrape jitter, missed scrapes, outages, late starts (the first `count` kept)."""
    window_s = 2.5 * interval_s * (count + 1)
    while True:
        timestamps = generator.scrape_timestamps(rng, interval_s, window_s)
        if len(timestamps) >= count:
            return timestamps[:count]
        window_s *= 2


def grid_times(rng, step_ns, count, gap_probability=0.0, start_ns=START_NS):
    """Exactly `count` timestamps on a grid of `step_ns` from `start_ns`; each slot is missing
    (a gap) with `gap_probability`, and an outage of 6 to 48 slots hits about one series in four."""
    slots = int(count / (1.0 - gap_probability) * 1.3) + 64
    keep = rng.random(slots) >= gap_probability
    if rng.random() < 0.25:
        outage = int(rng.integers(0, slots // 2))
        keep[outage:outage + int(rng.integers(6, 49))] = False
    kept = np.flatnonzero(keep)[:count]
    return start_ns + kept.astype(np.int64) * step_ns


def seconds_since_start(timestamps):
    return (np.asarray(timestamps, dtype=np.int64) - START_NS) / NS_PER_SECOND


def daily_cycle(timestamps, peak_hour=14.0):
    """cos of the time of day: 1 at `peak_hour` UTC, -1 twelve hours later."""
    hours = seconds_since_start(timestamps) / 3600.0
    return np.cos(2 * np.pi * (hours - peak_hour) / 24.0)


# Number representations

def as_float32(values):
    """Stored as float32 and widened back to float64, as a float32 column or register is read."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def printed_significant(values, digits):
    """Printed with `digits` significant digits (C's %.{digits}g) and parsed back as float64."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64).tolist()])


def printed_decimals(values, places):
    """Printed with `places` decimals (C's %.{places}f) and parsed back: the float64 nearest each
    decimal, which np.round does not always give (it scales, rounds and divides)."""
    return np.array([float(f"{v:.{places}f}") for v in np.asarray(values, dtype=np.float64).tolist()])


def ar1(rng, count, sd, phi=0.95):
    """A stationary AR(1) noise of standard deviation `sd`: noise that wanders, as sensors do."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - phi * phi), count)
    out = np.empty(count)
    level = rng.normal(0.0, sd)
    for i, shock in enumerate(shocks.tolist()):
        level = phi * level + shock
        out[i] = level
    return out


# Labels

def pod_name(rng, deployment):
    """A Deployment's pod name: deployment-<replica set hash>-<5 characters>."""
    template = "".join(rng.choice(list(LOWER_ALPHANUMERIC), 10))
    suffix = "".join(rng.choice(list(LOWER_ALPHANUMERIC), 5))
    return f"{deployment}-{template}-{suffix}"


def instance_id(rng):
    return "i-0" + "".join(rng.choice(list(HEX), 16))

