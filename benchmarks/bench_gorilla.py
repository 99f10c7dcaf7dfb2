"""Throughput of the Gorilla encoders: reference (one loop) versus fast (numpy) paths.

The two paths are lib/codecs/gorilla/reference.py and lib/codecs/gorilla/fast.py.

For each kind of series this prints encode and decode speed in million points per second, the bits
each point costs, and whether the fast and reference streams are byte-identical and round-trip bit
for bit. The reference path is timed on a prefix of the series (it is pure Python); identity is
checked on that prefix, the round trip on the whole series.

    python benchmarks/bench_gorilla.py              # 1,000,000 points, reference on 100,000
    python benchmarks/bench_gorilla.py --quick      # 100,000 points, reference on 10,000, one run
                                                     # (so first-call memory costs are included)
    python benchmarks/bench_gorilla.py --points 5000000 --repeat 3
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.codecs import gorilla  # noqa: E402

TIMESTAMP_START_NS = 1_700_000_000_000_000_000
SCRAPE_INTERVAL_MS = 15_000
JITTER_MS = 50


def value_series(kind, points, rng):
    index = np.arange(points)
    if kind == "noisy full-precision":
        return 50.0 + rng.normal(0.0, 5.0, points)
    if kind == "random-walk":
        return 100.0 + np.cumsum(rng.normal(0.0, 1.0, points))
    if kind == "smooth (sine)":
        return 50.0 + 20.0 * np.sin(2 * np.pi * index / 1440)
    if kind == "integer-valued":
        return rng.poisson(100, points).astype(np.float64)
    if kind == "mostly-constant":
        changes = rng.random(points) < 0.01
        return np.round(rng.normal(10.0, 2.0, points), 1)[np.maximum.accumulate(np.where(changes, index, 0))]
    raise ValueError(kind)


VALUE_KINDS = ("noisy full-precision", "random-walk", "smooth (sine)", "integer-valued", "mostly-constant")


def timestamp_series(points, rng):
    """Regular 15 s scrapes with millisecond jitter, in nanoseconds."""
    milliseconds = np.arange(points) * SCRAPE_INTERVAL_MS + rng.integers(-JITTER_MS, JITTER_MS + 1, points)
    return TIMESTAMP_START_NS + milliseconds * 1_000_000


def best_time(function, repeat):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(name, data, encode, decode, encode_ref, decode_ref, same, reference_points, repeat):
    count = len(data)
    fast_encode_s, blob = best_time(lambda: encode(data), repeat)
    fast_decode_s, decoded = best_time(lambda: decode(blob, count), repeat)
    prefix = data[:reference_points]
    ref_encode_s, ref_blob = best_time(lambda: encode_ref(prefix), 1)
    ref_decode_s, ref_decoded = best_time(lambda: decode_ref(ref_blob, len(prefix)), 1)
    identical = ref_blob == encode(prefix)
    round_trip = same(decoded, data) and same(ref_decoded, prefix)
    return {
        "name": name,
        "fast_encode": count / fast_encode_s / 1e6,
        "fast_decode": count / fast_decode_s / 1e6,
        "ref_encode": len(prefix) / ref_encode_s / 1e6,
        "ref_decode": len(prefix) / ref_decode_s / 1e6,
        "bits_per_point": 8 * len(blob) / max(count, 1),
        "ok": "yes" if identical and round_trip else "NO",
    }


def same_floats(a, b):
    return np.array_equal(np.asarray(a).view(np.uint64), np.asarray(b).view(np.uint64))


def same_ints(a, b):
    return np.array_equal(a, b)


def print_table(rows, points, reference_points):
    print(f"Gorilla encoders, {points:,} points per series (reference path on the first "
          f"{reference_points:,}); throughput in million points/s")
    header = (f"{'series':<24} {'fast enc':>9} {'fast dec':>9} {'ref enc':>8} {'ref dec':>8} "
              f"{'bits/pt':>8}  identical+round-trip")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['name']:<24} {row['fast_encode']:>9.2f} {row['fast_decode']:>9.2f} "
              f"{row['ref_encode']:>8.2f} {row['ref_decode']:>8.2f} {row['bits_per_point']:>8.2f}  "
              f"{row['ok']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=None, help="points per series (default 1,000,000)")
    parser.add_argument("--reference-points", type=int, default=None,
                        help="points for the slow reference path (default points / 10)")
    parser.add_argument("--quick", action="store_true", help="100,000 points, one repetition")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions, best time kept (default 3)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    points = args.points or (100_000 if args.quick else 1_000_000)
    reference_points = min(points, args.reference_points or max(points // 10, 1))
    repeat = args.repeat or (1 if args.quick else 3)
    if points < 1 or repeat < 1:
        parser.error("--points and --repeat must be positive")
    rng = np.random.default_rng(args.seed)

    rows = []
    for kind in VALUE_KINDS:
        rows.append(measure(kind, value_series(kind, points, rng), gorilla.encode_values,
                            gorilla.decode_values, gorilla.encode_values_reference,
                            gorilla.decode_values_reference, same_floats, reference_points, repeat))
    rows.append(measure("timestamps 15s+ms jitter", timestamp_series(points, rng),
                        gorilla.encode_timestamps, gorilla.decode_timestamps,
                        gorilla.encode_timestamps_reference, gorilla.decode_timestamps_reference,
                        same_ints, reference_points, repeat))
    print_table(rows, points, reference_points)
    return 0 if all(row["ok"] == "yes" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
