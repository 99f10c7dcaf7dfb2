"""Phase 5: multi-resolution downsampling, keeping years of history affordable.

Long-range queries do not need every 15-second point: a month on a dashboard is a few hundred
pixels wide. So every series is rolled up into buckets of 1 min, 5 min, 15 min and 1 h, aligned to
the interval (`bucket_start = ts // interval * interval`), each bucket keeping the aggregates real
queries ask for. This is lossy on purpose: the shape inside a bucket is gone for good.

What each kind keeps, and why (details in lib/downsampling.py):
- gauges: count, sum, min, max, first, last, plus a small DDSketch histogram. avg = sum / count;
  p50/p95/p99 come from the sketch, with a relative error of at most 1% at every level, because
  percentiles cannot be averaged (the "average of p99s" is a classic monitoring bug).
- counters: count, first, last and the increase, with resets handled as Prometheus does (a drop
  means the counter restarted from 0); rate = increase / bucket width. The mean of a running total
  answers no question anyone asks.
- every bucket keeps its true count (and a count of NaN samples), so a quiet bucket and a gap
  look different; empty buckets are not stored.

Exact aggregates (count, sum, min, max, first, last, increase) of a coarser level are computed
from the finer level, and each level is written with the phase-4 file format (one file per
resolution, lib/rollup_files.py), read back, and verified against the same aggregates computed
directly from the raw points.
"""
import time
from pathlib import Path

import numpy as np

from lib.binary_format import DEFAULT_BLOCK_POINTS, MetricsFile
from lib.cli import run_phase_script
from lib.dataset import load_dataset_for_phase, series_key, total_points
from lib.downsampling import (
    DEFAULT_RESOLUTIONS_NS, GAUGE, HOUR_NS, MINUTE_NS, SKETCH_ALPHA, STORED_FIELDS, compare_percentile_merging,
    rollup_dataset, rollup_from_raw,
)
from lib.errors import MissingDatasetError, RoundTripError, SqueezedSignalsError
from lib.phases import OUTPUT_FILENAMES
from lib.progress import Progress
from lib.report import PhaseResult, human_bytes
from lib.rollup_files import (
    RollupStore, column_labels, read_rollups, resolution_label, rollup_filename, write_rollups,
)

QUERY_MAX_POINTS = 500


def run(output_dir, resolutions=DEFAULT_RESOLUTIONS_NS):
    output_dir = Path(output_dir)
    series_list = load_dataset_for_phase(output_dir)
    raw_path = output_dir / OUTPUT_FILENAMES[4]
    check_raw_file_matches(raw_path, series_list)
    start = time.perf_counter()
    try:
        for s in series_list:
            column_labels(s.labels, "count", resolutions[0])  # refuses the labels roll-up files reserve
        levels = rollup_dataset(series_list, resolutions)
    except ValueError as exc:
        raise SqueezedSignalsError(f"phase 5 cannot downsample this dataset: {exc}") from None
    rows = []
    progress = Progress("writing and verifying roll-up levels", len(levels), unit="levels")
    for resolution, rollups in levels.items():
        path = output_dir / rollup_filename(resolution)
        size = write_rollups(path, rollups, DEFAULT_BLOCK_POINTS)
        verify_level(path, resolution, series_list)
        rows.append(level_row(resolution, rollups, path, size))
        progress.advance(1)
    progress.finish()
    seconds = time.perf_counter() - start
    points = total_points(series_list)
    total = sum(row["bytes"] for row in rows)
    store = RollupStore(raw_path, {r: output_dir / rollup_filename(r) for r in resolutions})
    print_report(rows, points, raw_path.stat().st_size, series_list, levels, store)
    return PhaseResult(5, f"downsampled ({len(rows)} levels)", rows[-1]["path"].with_name("05_rollup_*.bin"),
                       total, points, seconds, verified=True)


def check_raw_file_matches(raw_path, series_list):
    """Queries read raw points from phase 4's file: it must hold exactly this dataset's series."""
    command = "run `python 04_custom_binary_format.py` first"
    if not raw_path.exists():
        raise MissingDatasetError(f"no phase-4 file at {raw_path}: {command}")
    with MetricsFile(raw_path) as raw_file:
        stored = [(entry.key, entry.points) for entry in raw_file.series]
    if stored != [(s.key, len(s)) for s in series_list]:
        raise MissingDatasetError(f"{raw_path} was written for another dataset: {command} again")


def verify_level(path, resolution, series_list):
    """Read one level back and compare it, bit for bit, with a roll-up straight from raw points."""
    stored = {series_key(r.name, r.labels): r for r in read_rollups(path, resolution)}
    for expected in rollup_from_raw(series_list, resolution):
        where = f"phase 5 ({path}): {expected.name}{expected.labels}"
        actual = stored.pop(series_key(expected.name, expected.labels), None)
        if actual is None:
            raise RoundTripError(f"{where}: missing from the file")
        if not np.array_equal(actual.bucket_start, expected.bucket_start):
            raise RoundTripError(f"{where}: bucket starts differ")
        for field in STORED_FIELDS[expected.kind]:
            a, e = actual.fields[field], expected.fields[field]
            if a.dtype != e.dtype or not np.array_equal(a.view(np.uint64) if a.dtype == np.float64 else a,
                                                        e.view(np.uint64) if e.dtype == np.float64 else e):
                raise RoundTripError(f"{where}: {field} differs from the raw computation")
        if expected.kind == GAUGE:
            for column in ("row", "sign", "key", "count"):
                if not np.array_equal(getattr(actual.sketch, column), getattr(expected.sketch, column)):
                    raise RoundTripError(f"{where}: sketch {column} differs from the raw computation")
    if stored:
        raise RoundTripError(f"phase 5 ({path}): {len(stored)} roll-ups that the dataset does not have")


def level_row(resolution, rollups, path, size):
    buckets = sum(len(r) for r in rollups)
    sketch_entries = sum(len(r.sketch) for r in rollups if r.sketch is not None)
    stored_values = sum(len(r) * len(STORED_FIELDS[r.kind]) for r in rollups) + 3 * sketch_entries
    return {"resolution": resolution, "path": path, "bytes": size, "buckets": buckets,
            "sketch_entries": sketch_entries, "stored_values": stored_values}


def print_report(rows, points, raw_bytes, series_list, levels, store):
    print("Phase 5: multi-resolution roll-ups, each level a METRICS! file")
    print(f"  raw: {points:,} points in {human_bytes(raw_bytes)} (phase 4)")
    print(f"  {'level':>6}  {'buckets':>9}  {'sketch entries':>14}  {'size':>9}  {'B/aggregate':>11}  "
          f"{'points/bucket':>13}  {'vs phase 4':>10}")
    for row in rows:
        print(f"  {resolution_label(row['resolution']):>6}  {row['buckets']:>9,}  {row['sketch_entries']:>14,}  "
              f"{human_bytes(row['bytes']):>9}  {row['bytes'] / max(row['stored_values'], 1):>11.2f}  "
              f"{points / max(row['buckets'], 1):>13.1f}  {raw_bytes / max(row['bytes'], 1):>9.1f}x")
    total = sum(row["bytes"] for row in rows)
    print(f"  {'total':>6}  {sum(r['buckets'] for r in rows):>9,}  {'':>14}  {human_bytes(total):>9}  "
          f"{'':>11}  {'':>13}  {raw_bytes / max(total, 1):>9.1f}x")
    finest = rows[0]
    if finest["bytes"] > raw_bytes:
        print(f"  The {resolution_label(finest['resolution'])} level is larger than the raw file: with "
              f"{points / max(finest['buckets'], 1):.1f} points per bucket, {len(STORED_FIELDS[GAUGE])} aggregates "
              "and a sketch cost more than")
        print("  the points they summarise. Roll-ups pay off as buckets fill; a retention policy keeps raw points")
        print("  for days, then only the coarse levels (Thanos keeps 5 min and 1 h roll-ups).")
    print("  Each level verified bit for bit against aggregates computed directly from the raw points.")
    print_percentile_lesson(series_list)
    print_spike_example(levels)
    print_query_examples(series_list, store)


def print_percentile_lesson(series_list):
    summary = compare_percentile_merging(series_list, "p99", MINUTE_NS, HOUR_NS).summary()
    if not summary["buckets"]:
        return
    print(f"  p99 of {summary['buckets']:,} one-hour buckets of gauges, against the exact p99 of the raw points:")
    print(f"    merged 1-min sketches:  max error {100 * summary['sketch_max_relative_error']:.2f}%, "
          f"median {100 * summary['sketch_median_relative_error']:.2f}% (bound {100 * SKETCH_ALPHA:.0f}%)")
    print(f"    average of 1-min p99s:  max error {100 * summary['naive_max_relative_error']:.1f}%, "
          f"median {100 * summary['naive_median_relative_error']:.1f}%  (do not average quantiles)")


def print_spike_example(levels):
    """The hourly bucket where max stands furthest above the average: what the average hides."""
    gauges = [r for r in levels.get(HOUR_NS, []) if r.kind == GAUGE and len(r)]
    best = None
    for rollup in [r for r in gauges if r.name.startswith("cpu")] or gauges:
        avg, peak = rollup.aggregate("avg"), rollup.aggregate("max")
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ratio = peak / avg
        ratio = np.where(np.isfinite(ratio) & (avg > 0), ratio, 0.0)
        i = int(np.argmax(ratio))
        if ratio[i] > 0 and (best is None or ratio[i] > best[0]):
            best = (ratio[i], rollup, i)
    if best is None:
        return
    _, rollup, i = best
    when = np.datetime_as_string(np.datetime64(int(rollup.bucket_start[i]), "ns"), unit="m")
    print(f"  A spike the average hides: {rollup.name}{{host=\"{rollup.labels.get('host', '')}\"}} in the hour from {when}Z:")
    print(f"    avg {rollup.aggregate('avg')[i]:.2f}   p99 {rollup.aggregate('p99')[i]:.2f}   "
          f"max {rollup.aggregate('max')[i]:.2f}   over {rollup.fields['count'][i]} samples")


def print_query_examples(series_list, store):
    """Which file answers "max over this range": raw for short ranges, coarser levels for longer."""
    target = next((s for s in series_list if s.name.startswith("cpu") and len(s)), None)
    target = target or max(series_list, key=len)
    if len(target) == 0:
        return
    end = int(target.timestamps.max()) + 1
    print(f"  max of {target.name}{{host=\"{target.labels.get('host', '')}\"}} (at most {QUERY_MAX_POINTS} points read):")
    for label, span in (("last 15 min", 15 * MINUTE_NS), ("last 6 h", 6 * HOUR_NS), ("last 7 days", 7 * 24 * HOUR_NS)):
        answer = store.query(target.name, target.labels, "max", end - span, end, QUERY_MAX_POINTS)
        source = "raw points" if answer.resolution_ns == 0 else f"{answer.buckets} buckets of {resolution_label(answer.resolution_ns)}"
        print(f"    {label:<12} {answer.value:8.2f}  from {source}")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
