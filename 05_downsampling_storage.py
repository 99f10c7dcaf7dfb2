"""Phase 5: multi-resolution downsampling and retention tiers, keeping years of history affordable.

Long-range queries do not need every 15-second point: a month on a dashboard is a few hundred
pixels wide. So every series is rolled up into buckets of 1 min, 5 min and 1 h (the tiers of the
retention policy below; `--retention` chooses others), aligned to
the interval (`bucket_start = ts // interval * interval`), each bucket keeping the aggregates real
queries ask for. This is lossy on purpose: the shape inside a bucket is gone for good.

What each kind keeps per bucket (lib.rollup.kinds.STORED_FIELDS, printed by the report):
- gauges: count, nan_count, sum, min, max, first, last, plus a small DDSketch histogram.
  avg = sum / count; p50/p95/p99 come from the sketch, with a relative error of at most 1% at every
  level, because percentiles cannot be averaged (the "average of p99s" is a classic monitoring bug).
- counters: count, nan_count, first, last and the increase, with resets handled as Prometheus does
  (a drop means the counter restarted from 0); rate = increase / bucket width.
- every bucket keeps its true count, so a quiet bucket and a gap look different.
The finest level is light (lib.rollup.kinds.LIGHT_FIELDS: count, sum, min, max; count, increase):
with about 4 points per 1-minute bucket, seven aggregates and a sketch cost more than the points, and
the report measures what each aggregate costs at each level. Percentiles start at 5 minutes.

Roll-ups pay off through retention, not on the same hours: a policy keeps raw points for days,
1-minute buckets for weeks, 5-minute ones for a year and hourly ones for years (lib/retention/policy.py).
The report projects what a workload costs per day and per year as NDJSON, as phase 4, and as phase 4
under the policy, from the sizes this run measured; main.py's phase-5 row is that projected year.
Finally it times long-range questions (max, avg, p99 per hour over the whole span) answered from
the raw points and from each level.

Every level is computed from the finer one, checked bit for bit against the same level computed
straight from the raw points, written as a phase-4 file (lib/storage/rollup_files.py), read back and
compared before it replaces the previous file.
"""
import argparse
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lib.data.dataset import (
    DAY_NS, HOUR_NS, MINUTE_NS, NS_PER_SECOND, assert_identical, canonical_order, display_name,
    first_difference, load_dataset_for_phase, series_key, total_points,
)
from lib.errors import MissingDatasetError, RoundTripError, SqueezedSignalsError
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes, ratio_words
from lib.retention.long_range_queries import (
    QUESTION_GROUPS, QUESTIONS, answer_from_level, answer_from_raw, gauge_keys,
)
from lib.retention.policy import DEFAULT_POLICY, RetentionPolicy, Tier, apply_policy, format_duration
from lib.retention.projection import MeasuredCosts, Workload, assumptions, project, storage_over_time
from lib.rollup.buckets import (
    RAW_RESOLUTION, bucket_starts, check_resolutions, check_timestamps_fit, group_bounds, sorted_points,
)
from lib.rollup.kinds import COUNTER, GAUGE, LIGHT_FIELDS, QUANTILES, STORED_FIELDS, metric_kind
from lib.rollup.levels import rollup_dataset, rollup_from_raw
from lib.rollup.sketch import SKETCH_ALPHA, quantile_rank
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, earlier_phase_file
from lib.storage.metrics_file import DEFAULT_BLOCK_POINTS, MetricsFile, write_file
from lib.storage.rollup_files import (
    ROLLUP_FILE_GLOB, SKETCH_COLUMNS, RollupStore, column_bytes, column_labels, resolution_label,
    rollup_filename, rollup_to_series, write_verified,
)

QUERY_MAX_POINTS = 500
# Series are rolled up a chunk at a time, so memory follows the chunk, not the dataset.
CHUNK_POINTS = 500_000
# The cost of every aggregate is measured on every k-th series, about this many points in all.
COST_SAMPLE_POINTS = 200_000
# The finest level keeps only LIGHT_FIELDS (see the docstring and the aggregate-cost table).
LIGHT_LEVELS = (MINUTE_NS,)


def run(output_dir, policy=DEFAULT_POLICY, workload=Workload()):
    """The levels are the policy's roll-up tiers (default 1 min, 5 min, 1 h)."""
    output_dir = Path(output_dir)
    series_list = load_dataset_for_phase(output_dir)
    raw_path = output_dir / OUTPUT_FILENAMES[4]
    try:
        resolutions = check_resolutions(policy.rollup_resolutions())
    except ValueError as exc:
        raise SqueezedSignalsError(f"retention policy {policy}: {exc}") from None
    check_raw_file_lists_the_dataset(raw_path, series_list)
    start = time.perf_counter()
    try:
        for s in series_list:
            column_labels(s.labels, "count", resolutions[0])  # refuses the labels roll-up files reserve
        check_timestamps_fit(series_list, resolutions[-1])
    except ValueError as exc:
        raise SqueezedSignalsError(f"phase 5 cannot downsample this dataset: {exc}") from None
    keys = gauge_keys(series_list)
    check = raw_file_check(raw_path, series_list)
    raw_answers = answer_from_raw(raw_path, keys, QUESTION_GROUPS, check=check)
    columns, stats, costs_sample, checks = roll_up_in_chunks(series_list, resolutions)
    paths = {r: output_dir / rollup_filename(r) for r in resolutions}
    progress = Progress("writing and verifying roll-up levels", len(resolutions), unit="levels")
    for resolution in resolutions:
        level_columns = canonical_order(columns.pop(resolution))
        stats[resolution]["bytes"] = write_verified(
            paths[resolution],
            lambda path: write_file(path, level_columns, DEFAULT_BLOCK_POINTS),
            lambda path: checks.append(read_back_identical(level_columns, path)),
        )
        del level_columns
        progress.advance(1)
    progress.finish()
    verified = bool(checks) and all(checks)
    remove_other_levels(output_dir, paths.values())
    seconds = time.perf_counter() - start

    kind_of = kinds_by_key(series_list)
    costs = measure_costs(output_dir, raw_path, paths, series_list, kind_of, stats)
    own_workload = dataset_workload(series_list)
    year = project(costs, own_workload, policy, days=365)
    # Only levels whose buckets tile an hour can answer per-hour questions (not 7m, not 2h).
    level_answers = [[answer_from_level(paths[r], resolution_label(r), keys, group) for group in QUESTION_GROUPS]
                     for r in resolutions if HOUR_NS % r == 0]
    store = RollupStore(raw_path, paths)
    print_report(series_list, raw_path, stats, costs_sample, costs, policy, workload, raw_answers,
                 level_answers, store)
    points_in_year, stored = own_workload.points_per_day() * 365, year.rows[-1][2]
    return PhaseResult(
        5, "phase 4 + retention, 1 year projected", output_dir / ROLLUP_FILE_GLOB,
        round(stored), round(points_in_year), seconds, verified, lossy=True, projected=True,
        on_disk_bytes=sum(s["bytes"] for s in stats.values()),
        storage_over_time=storage_over_time(costs, workload, policy),
    )


def read_back_identical(columns, path):
    """True if the file reads back as exactly these columns; raises RoundTripError otherwise.
    One column at a time, so memory stays that of one column."""
    with MetricsFile(path) as f:
        if [e.key for e in f.series] != [c.key for c in columns]:
            raise RoundTripError(f"phase 5 ({path}): the file lists other columns than were written")
        for column in columns:
            difference = first_difference([column], [read_column(f, column)])
            if difference is not None:
                raise RoundTripError(f"phase 5 ({path}): {difference}")
    return True


def read_column(metrics_file, column):
    return metrics_file.read_series(column.name, column.labels)


def remove_other_levels(output_dir, paths):
    """Roll-up files of levels this policy does not have (from an earlier run) would be counted
    as this phase's files: remove them."""
    for path in output_dir.glob(ROLLUP_FILE_GLOB):
        if path not in paths:
            path.unlink()


def check_raw_file_lists_the_dataset(raw_path, series_list):
    """Queries read raw points from phase 4's file: its index must list exactly this dataset's series."""
    if not raw_path.exists():
        raise MissingDatasetError(f"no phase-4 file at {raw_path}: run `python 04_custom_binary_format.py` first")
    with MetricsFile(raw_path) as raw_file:
        stored = [(entry.key, entry.points) for entry in raw_file.series]
    if stored != [(s.key, len(s)) for s in series_list]:
        raise stale_raw_file(raw_path)


def raw_file_check(raw_path, series_list):
    """Each series read from phase 4's file must equal the dataset's, bit for bit: same names and
    counts are not enough (a file written from other values would give other answers)."""
    by_key = {s.key: s for s in series_list}

    def check(series):
        try:
            assert_identical([by_key[series.key]], [series], "read back")
        except RoundTripError as exc:
            raise stale_raw_file(raw_path, exc) from None

    return check


def stale_raw_file(raw_path, reason=None):
    detail = f" ({reason})" if reason else ""
    return MissingDatasetError(f"{raw_path} was written for another dataset{detail}: "
                               "run `python 04_custom_binary_format.py` again")


def roll_up_in_chunks(series_list, resolutions):
    """Roll up a chunk of series at a time; check each level of the cascade against the level
    computed straight from the raw points; return the columns to store per level, counts per level,
    the cost of every aggregate in full (not light) files, measured on a sample of series, and the
    results of the checks."""
    columns = {r: [] for r in resolutions}
    stats = {r: {"buckets": {GAUGE: 0, COUNTER: 0}, "points": {GAUGE: 0, COUNTER: 0}}
             for r in resolutions}
    checks = []
    progress = Progress("rolling up and checking", total_points(series_list))
    for chunk in chunks_of(series_list, CHUNK_POINTS):
        levels = rollup_dataset(chunk, resolutions)
        for resolution, rollups in levels.items():
            checks.append(check_against_raw(rollups, rollup_from_raw(chunk, resolution)))
            light = resolution in LIGHT_LEVELS
            columns[resolution].extend(c for r in rollups for c in rollup_to_series(r, light))
            level = stats[resolution]
            for rollup, series in zip(rollups, chunk):
                level["buckets"][rollup.kind] += len(rollup)
                level["points"][rollup.kind] += len(series)
        progress.advance(total_points(chunk))
    progress.finish()
    step = -(-total_points(series_list) // COST_SAMPLE_POINTS) or 1
    sample = series_list[::step]
    return columns, stats, measure_aggregate_costs(rollup_dataset(sample, resolutions), sample), checks


def chunks_of(series_list, max_points):
    chunk, points = [], 0
    for s in series_list:
        if chunk and points + len(s) > max_points:
            yield chunk
            chunk, points = [], 0
        chunk.append(s)
        points += len(s)
    if chunk:
        yield chunk


def check_against_raw(cascaded, direct):
    """The level computed from the finer one must equal, bit for bit, the level from raw points.
    Returns True; raises RoundTripError naming the first difference."""
    for a, e in zip(cascaded, direct):
        where = f"phase 5: {display_name(e.name, e.labels)} at {resolution_label(e.resolution_ns)}"
        if not np.array_equal(a.bucket_start, e.bucket_start):
            raise RoundTripError(f"{where}: bucket starts differ from the raw computation")
        for field in STORED_FIELDS[e.kind]:
            x, y = a.fields[field], e.fields[field]
            if x.dtype != y.dtype or x.tobytes() != y.tobytes():
                raise RoundTripError(f"{where}: {field} differs from the raw computation")
        if e.kind == GAUGE:
            for column in ("row", "sign", "key", "count"):
                if not np.array_equal(getattr(a.sketch, column), getattr(e.sketch, column)):
                    raise RoundTripError(f"{where}: sketch {column} differs from the raw computation")
    return len(cascaded) == len(direct)


def measure_aggregate_costs(levels, chunk):
    """Bytes per bucket of each aggregate at each level, measured by writing the chunk's roll-ups in
    full to a scratch file and reading the column sizes from its index."""
    kind_of = kinds_by_key(chunk)
    table = {}
    with tempfile.TemporaryDirectory() as scratch:
        for resolution, rollups in levels.items():
            path = Path(scratch) / "full.bin"
            write_file(path, [c for r in rollups for c in rollup_to_series(r)], DEFAULT_BLOCK_POINTS)
            sizes = column_bytes(path, lambda name, labels: kind_of[series_key(name, labels)])
            buckets = {kind: sum(len(r) for r in rollups if r.kind == kind) for kind in (GAUGE, COUNTER)}
            table[resolution] = {key: size / buckets[key[0]] for key, size in sizes.items() if buckets[key[0]]}
    return {"series": len(chunk), "bytes_per_bucket": table}


def kinds_by_key(series_list):
    return {s.key: metric_kind(s.name, s.values) for s in series_list}


def dataset_workload(series_list):
    """This dataset as a workload: its series count and its mean scrape interval."""
    points = total_points(series_list)
    present = [s for s in series_list if len(s)]
    if not present or points < 2:
        return Workload(max(len(present), 1), 1.0)
    span_s = (max(int(s.timestamps.max()) for s in present) - min(int(s.timestamps.min()) for s in present)) / NS_PER_SECOND
    return Workload(len(present), span_s * len(present) / points if span_s > 0 else 1.0)


def measure_costs(output_dir, raw_path, paths, series_list, kind_of, stats):
    """Bytes per raw point (phase 4, NDJSON) and per bucket at each level, by kind, from this run."""
    points = {GAUGE: 0, COUNTER: 0}
    for s in series_list:
        points[kind_of[s.key]] += len(s)
    with MetricsFile(raw_path) as f:  # block bytes only, as for the roll-ups (see column_bytes)
        raw_bytes = {GAUGE: 0, COUNTER: 0}
        for entry in f.series:
            raw_bytes[kind_of[entry.key]] += sum(b.length for b in entry.blocks)
    raw_per_point = {k: raw_bytes[k] / points[k] for k in points if points[k]}
    bucket_bytes = {}
    for resolution, path in paths.items():
        sizes = column_bytes(path, lambda name, labels: kind_of[series_key(name, labels)])
        buckets = stats[resolution]["buckets"]
        bucket_bytes[resolution] = {k: sum(v for (kind, _c), v in sizes.items() if kind == k) / buckets[k]
                                    for k in buckets if buckets[k]}
    ndjson = earlier_phase_file(output_dir, 1)
    total = total_points(series_list)
    counted = [k for k in points if points[k]]
    series_share = {k: sum(1 for s in series_list if len(s) and kind_of[s.key] == k) for k in counted}
    n = max(sum(series_share.values()), 1)
    points_per_bucket = {r: sum(stats[r]["points"].values()) / max(sum(stats[r]["buckets"].values()), 1) for r in paths}
    buckets_per_series = {r: sum(stats[r]["buckets"].values()) / n for r in paths}
    return MeasuredCosts({k: v / n for k, v in series_share.items()}, raw_per_point, bucket_bytes,
                         ndjson.stat().st_size / total if ndjson and total else None, points_per_bucket,
                         buckets_per_series)


def print_report(series_list, raw_path, stats, costs_sample, costs, policy, workload, raw_answers,
                 level_answers, store):
    points, raw_bytes = total_points(series_list), raw_path.stat().st_size
    print("Phase 5: multi-resolution roll-ups, each level a METRICS! file")
    print(f"  raw: {points:,} points in {human_bytes(raw_bytes)} (phase 4)")
    print_level_table(stats, points, raw_bytes)
    print_aggregate_costs(costs_sample)
    print("  Each level: computed from the finer one, equal bit for bit to the level computed straight from the")
    print("  raw points, written, read back identical, and only then moved into place.")
    print_retention(policy, series_list)
    print_projection(costs, workload, policy)
    print_query_timing(raw_answers, level_answers)
    print_percentile_lesson(series_list)
    print_query_examples(series_list, store)


def print_level_table(stats, points, raw_bytes):
    print("  The same hours at each level (vs phase 4: the raw file of these same points):")
    print(f"  {'level':>6}  {'keeps':<11}  {'buckets':>9}  {'points/bucket':>13}  {'size':>9}  {'B/bucket':>8}  "
          f"{'vs phase 4':>14}")
    for resolution, level in stats.items():
        buckets = sum(level["buckets"].values())
        keeps = "light" if resolution in LIGHT_LEVELS else "all+sketch"
        print(f"  {resolution_label(resolution):>6}  {keeps:<11}  {buckets:>9,}  {points / max(buckets, 1):>13.1f}  "
              f"{human_bytes(level['bytes']):>9}  {level['bytes'] / max(buckets, 1):>8.1f}  "
              f"{ratio_words(raw_bytes, level['bytes']):>14}")
    print("  B/bucket = the level's file size / its buckets;")
    print(f"  light = {', '.join(LIGHT_FIELDS[GAUGE])} (gauges), {', '.join(LIGHT_FIELDS[COUNTER])} (counters);")
    print(f"  all+sketch = {', '.join(STORED_FIELDS[GAUGE])} + DDSketch (gauges), "
          f"{', '.join(STORED_FIELDS[COUNTER])} (counters).")


def print_aggregate_costs(sample):
    """Bytes per bucket of each stored column, every level in full: what a fine level should keep."""
    table = sample["bytes_per_bucket"]
    names = list(dict.fromkeys(c for level in table.values() for (kind, c) in level if c not in SKETCH_COLUMNS))
    print(f"  What each aggregate costs, in bytes per bucket (bytes of its column's blocks / buckets, every level")
    print(f"  written in full for {sample['series']} series; sketch = its sign, key and count columns together):")
    header = "".join(f"{n:>10}" for n in names) + f"{'sketch':>10}"
    for kind in (GAUGE, COUNTER):
        print(f"  {kind + 's':>9}{header}")
        for resolution, level in table.items():
            cells = [level.get((kind, n)) for n in names] + [sum(level.get((kind, c), 0) for c in SKETCH_COLUMNS) or None]
            print(f"  {resolution_label(resolution):>9}" + "".join(f"{'-' if c is None else f'{c:.2f}':>10}" for c in cells))
    finest = table[min(table)]
    dropped = [c for c in STORED_FIELDS[GAUGE] if c not in LIGHT_FIELDS[GAUGE]] + list(SKETCH_COLUMNS)
    dropped_bytes = sum(finest.get((GAUGE, c), 0) for c in dropped)
    total = sum(size for (kind, _c), size in finest.items() if kind == GAUGE)
    if total:
        print(f"  At {resolution_label(min(table))} the sketch, first, last and nan_count cost {dropped_bytes:.1f} of "
              f"{total:.1f} bytes per gauge bucket,")
        print("  so the finest level keeps only the light set; percentiles come from the sketches of the coarser levels.")


def print_retention(policy, series_list):
    tiers = ", ".join(f"{t.label()} for {format_duration(t.horizon_ns)}" for t in policy.tiers)
    print(f"  Retention policy ({policy}): keep {tiers}; older data is deleted tier by tier.")
    present = [s for s in series_list if len(s)]
    if present:
        span = max(int(s.timestamps.max()) for s in present) - min(int(s.timestamps.min()) for s in present)
        shortest = policy.tiers[0].horizon_ns
        fits = "inside every horizon" if span < shortest else "longer than the shortest horizon"
        print(f"  This dataset spans {span / HOUR_NS:,.1f} h, {fits}: `--apply-retention` deletes what has expired from")
        print("  the roll-up files after this run (lib/retention/policy.py; the tests apply it to real files).")


def print_projection(costs, workload, policy):
    year = project(costs, workload, policy, days=365)
    print(f"  Projected storage for {workload.series:,} series scraped every {workload.interval_s:g} s:")
    print(f"    {'':<44}{'written per day':>16}{'stored after 1 year':>21}")
    for label, per_day, stored in year.rows:
        print(f"    {label:<44}{human_bytes(per_day):>16}{human_bytes(stored):>21}")
    shorter = shorter_fine_tiers(policy)
    if shorter is not None:
        per_day, stored = project(costs, workload, shorter, days=365).rows[-1][1:]
        print(f"    {'phase 4 + tiers ' + str(shorter):<44}{human_bytes(per_day):>16}{human_bytes(stored):>21}")
    seven = project(costs, workload, policy, days=7 * 365).rows[-1][2]
    print(f"    (the first policy keeps growing until its longest horizon: after 7 years {human_bytes(seven)})")
    print("  Assumptions:")
    for line in assumptions(costs, workload, policy):
        print(f"    - {line}")


def shorter_fine_tiers(policy):
    """The same policy with every roll-up tier but the coarsest kept at most 90 days: how much of the
    year's cost the fine levels make (None if the policy already does so)."""
    limit = 90 * DAY_NS
    tiers = [t if t.resolution_ns in (RAW_RESOLUTION, policy.tiers[-1].resolution_ns) else Tier(t.resolution_ns, min(t.horizon_ns, limit))
             for t in policy.tiers]
    if tiers == list(policy.tiers):
        return None
    try:
        return RetentionPolicy(tuple(tiers))
    except ValueError:
        return None


def print_query_timing(raw, levels):
    """raw: one Answers per QUESTION_GROUPS entry; levels: such a list per level."""
    groups = [" and ".join(g) for g in QUESTION_GROUPS]
    print(f"  {', '.join(QUESTIONS)} per hour over the whole span, every gauge series ({len(raw[0].hours):,} series-hours),")
    print("  each group of questions timed as if it ran alone (raw points are read once, and that reading is")
    print("  counted in both groups; values read = stored numbers decoded):")
    print(f"    {'':<6}" + "".join(f"  {g:^33}" for g in groups) + "   largest error against raw")
    print(f"    {'source':<6}" + f"  {'values read':>12}  {'ms':>8}  {'speed-up':>9}" * len(groups)
          + "".join(f"  {q:>7}" for q in QUESTIONS))
    rows = [("raw", raw, ["exact"] * len(QUESTIONS))]
    for answers in levels:
        for part in answers:
            if not np.array_equal(part.hours, raw[0].hours):
                raise RoundTripError(f"phase 5: the {part.source} level answers other hours than the raw points")
        by_question = {q: (part, reference) for part, reference in zip(answers, raw) for q in part.values}
        errors = [f"{100 * by_question[q][0].relative_error(by_question[q][1], q):.2f}%"
                  if q in by_question[q][0].answered else "n/a" for q in QUESTIONS]
        rows.append((answers[0].source, answers, errors))
    for source, parts, errors in rows:
        cells = ""
        for part, reference in zip(parts, raw):
            if not part.answered:
                cells += f"  {'(no sketch kept)':>33}"
                continue
            cells += (f"  {part.values_read:>12,}  {1000 * part.seconds:>8.1f}  "
                      f"{reference.seconds / max(part.seconds, 1e-9):>8.1f}x")
        print(f"    {source:<6}{cells}" + "".join(f"  {e:>7}" for e in errors))
    print("    error = the largest relative difference from the raw answer over all hours: max merges exactly,")
    print("    avg up to the rounding of each stored sum, p99 within the sketch's 1%.")
    if any(part.seconds > reference.seconds for answers in levels for part, reference in zip(answers, raw)
           if part.answered):
        print("    A speed-up below 1x: each column read has a fixed cost (find its blocks, decode their headers and")
        print("    timestamps), and a level reads several columns per series where raw reads one. With few values")
        print("    per read (a short dataset) that cost wins; over longer spans the values read decide.")


def print_percentile_lesson(series_list):
    parts = [compare_percentile_merging(chunk, "p99", 5 * MINUTE_NS, HOUR_NS) for chunk in chunks_of(series_list, CHUNK_POINTS)]
    summary = join_comparisons(parts).summary()
    if not summary["buckets"]:
        return
    print(f"  p99 of {summary['buckets']:,} one-hour buckets of gauges, against the exact p99 of the raw points:")
    print(f"    merged 5-min sketches:  worst hour {100 * summary['sketch_max_relative_error']:.2f}% off, "
          f"median hour {100 * summary['sketch_median_relative_error']:.2f}% (bound {100 * SKETCH_ALPHA:.0f}%)")
    print(f"    average of 5-min p99s:  worst hour {100 * summary['naive_max_relative_error']:.1f}% off, "
          f"median hour {100 * summary['naive_median_relative_error']:.2f}%")
    print("    The worst hour is what matters: p99 exists to show the bad hours, and an alert fires on them.")
    print("    Both look fine on a typical hour; only the sketch keeps its bound in every hour. Never average")
    print("    percentiles.")


def join_comparisons(parts):
    """One PercentileComparison from those of several chunks of series (their buckets side by side)."""
    first = parts[0]
    return replace(first, **{name: np.concatenate([getattr(p, name) for p in parts]) for name in ("exact", "sketch", "naive")})


@dataclass
class PercentileComparison:
    """Per coarse bucket (gauge series only, buckets with finite values): the exact quantile from
    raw, the quantile of the merged fine sketches, and the naive average of the fine buckets' exact
    quantiles (the bug). Relative error is |estimate - exact| / |exact| (0 if both are 0)."""

    quantile: str
    fine_ns: int
    coarse_ns: int
    exact: np.ndarray
    sketch: np.ndarray
    naive: np.ndarray

    def sketch_relative_error(self):
        return relative_error(self.sketch, self.exact)

    def naive_relative_error(self):
        return relative_error(self.naive, self.exact)

    def summary(self):
        sketch, naive = self.sketch_relative_error(), self.naive_relative_error()
        empty = len(self.exact) == 0
        return {
            "quantile": self.quantile,
            "fine_ns": self.fine_ns,
            "coarse_ns": self.coarse_ns,
            "buckets": len(self.exact),
            "bound": SKETCH_ALPHA,
            "sketch_max_relative_error": 0.0 if empty else float(sketch.max()),
            "sketch_median_relative_error": 0.0 if empty else float(np.median(sketch)),
            "naive_max_relative_error": 0.0 if empty else float(naive.max()),
            "naive_median_relative_error": 0.0 if empty else float(np.median(naive)),
        }


def compare_percentile_merging(series_list, quantile="p99", fine_ns=MINUTE_NS, coarse_ns=HOUR_NS):
    """How well does a coarse percentile survive merging? Sketch versus naive averaging."""
    if quantile not in QUANTILES:
        raise ValueError(f"unknown quantile {quantile!r}, choose from {tuple(QUANTILES)}")
    q = QUANTILES[quantile]
    gauges = [s for s in series_list if metric_kind(s.name, s.values) == GAUGE]
    levels = rollup_dataset(gauges, (fine_ns, coarse_ns))
    sketch = np.concatenate([np.empty(0)] + [r.aggregate(quantile) for r in levels[coarse_ns]])
    sketch = sketch[~np.isnan(sketch)]

    sid, ts, values = finite_points(gauges)
    _starts, _ends, coarse_group = group_bounds(sid, bucket_starts(ts, coarse_ns))
    exact = grouped_quantile(coarse_group, values, q)
    _starts, _ends, fine_group = group_bounds(sid, bucket_starts(ts, fine_ns))
    fine_quantiles = grouped_quantile(fine_group, values, q)
    first_point_of_fine = np.unique(fine_group, return_index=True)[1]
    coarse_of_fine = coarse_group[first_point_of_fine]
    naive = np.bincount(coarse_of_fine, weights=fine_quantiles) / np.bincount(coarse_of_fine)
    return PercentileComparison(quantile, fine_ns, coarse_ns, exact, sketch, naive)


def relative_error(estimate, exact):
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.abs(estimate - exact) / np.abs(exact)
    return np.where(estimate == exact, 0.0, error)


def finite_points(series_list):
    """All finite points of the series, sorted by (series index, timestamp)."""
    sid, ts, values = sorted_points(series_list)
    finite = np.isfinite(values)
    return sid[finite], ts[finite], values[finite]


def grouped_quantile(group, values, q):
    """Exact q-quantile of each group (group ids dense and non-decreasing)."""
    order = np.lexsort((values, group))
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    sizes = np.diff(np.append(starts, len(group)))
    return values[order][starts + quantile_rank(q, sizes)]


def print_query_examples(series_list, store):
    """Which file answers "max over this range": raw for short ranges, coarser levels for longer."""
    target = next((s for s in series_list if s.name.startswith("cpu") and len(s)), None)
    target = target or max(series_list, key=len)
    if len(target) == 0:
        return
    end = int(target.timestamps.max()) + 1
    print(f"  max of {target.name}{{host=\"{target.labels.get('host', '')}\"}} (at most {QUERY_MAX_POINTS} points read):")
    answers = []
    for label, span in (("last 15 min", 15 * MINUTE_NS), ("last 6 h", 6 * HOUR_NS), ("last 7 days", 7 * 24 * HOUR_NS)):
        answer = store.query(target.name, target.labels, "max", end - span, end, QUERY_MAX_POINTS)
        answers.append(answer.value)
        source = "raw points" if answer.resolution_ns == 0 else f"{answer.buckets} buckets of {resolution_label(answer.resolution_ns)}"
        print(f"    {label:<12} {answer.value:8.2f}  from {source}")
    if len(set(answers)) == 1:
        print("    The same value three times: the highest sample lies in the last 15 minutes, and a bucket's max")
        print("    merges exactly, so the coarse levels find that very sample.")


def policy_argument(text):
    try:
        return RetentionPolicy.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser):
    parser.add_argument("--retention", type=policy_argument, default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"tiers as RESOLUTION=HORIZON (default {DEFAULT_POLICY})")
    parser.add_argument("--apply-retention", action="store_true",
                        help="after the run, delete what the policy says has expired from the roll-up files")
    parser.add_argument("--workload-series", type=int, default=Workload().series, metavar="N",
                        help=f"series in the cost projection (default {Workload().series:,})")
    parser.add_argument("--workload-interval", type=float, default=Workload().interval_s, metavar="SECONDS",
                        help=f"scrape interval in the cost projection (default {Workload().interval_s:g})")


def run_from_arguments(args):
    try:
        workload = Workload(args.workload_series, args.workload_interval)
    except ValueError as exc:
        raise SqueezedSignalsError(f"--workload-series/--workload-interval: {exc}") from None
    result = run(args.output_dir, policy=args.retention, workload=workload)
    if args.apply_retention:
        paths = {r: Path(args.output_dir) / rollup_filename(r) for r in args.retention.rollup_resolutions()}
        for applied in apply_policy(args.retention, None, paths):
            print(f"retention: {applied.path.name}: kept {applied.kept:,} buckets, dropped {applied.dropped:,} "
                  f"(cutoff {np.datetime_as_string(np.datetime64(applied.cutoff_ns, 'ns'), unit='s')}Z)")
    return result


if __name__ == "__main__":
    run_phase_script(__doc__, run_from_arguments, add_arguments)
