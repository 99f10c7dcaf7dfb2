"""Phase 5: multi-resolution roll-ups and retention tiers, keeping years of history affordable.

Long-range queries do not need every 15-second point: a month on a dashboard is a few hundred
pixels wide. So every series is rolled up into buckets of 1 min, 5 min and 1 h (the tiers of the
retention policy below; `--retention` chooses others), aligned to the interval
(`bucket_start = ts // interval * interval`), each bucket keeping the aggregates real queries ask
for. This is lossy on purpose: the shape inside a bucket is gone for good.

What each kind keeps per bucket (lib.rollup.kinds.STORED_FIELDS, printed by the report):
- gauges: count, nan_count, sum, min, max, first, last, plus a small DDSketch histogram.
  avg = sum / count; p50/p95/p99 come from the sketch, within 1% of the exact value at every level
  that keeps a sketch, because percentiles cannot be averaged (the "average of p99s" is a classic
  monitoring bug; the report measures it on this data).
- counters: count, nan_count, first, last and the increase, with resets handled as Prometheus does
  (a drop means the counter restarted from 0); rate = increase / bucket width.
- every bucket keeps its true count, so a quiet bucket and a gap look different.
The finest level is light (lib.rollup.kinds.LIGHT_FIELDS: count, sum, min, max; count, increase)
and keeps no sketch, so percentiles start at 5 minutes: a 1-minute bucket of 15 s scrapes holds
about 4 points, and the report measures what each aggregate would cost there.

Roll-ups pay off through retention, not on the same hours: a policy keeps raw points for days,
1-minute buckets for weeks, 5-minute ones for a year and hourly ones for years (lib/retention/policy.py).
The report projects what one workload costs per day and per year as NDJSON, as phase 4, and as
phase 4 under the policy, from the sizes this run measured: by default this dataset's own series
at their scrape interval (`--workload-series`, `--workload-interval` choose another), and main.py's
phase-5 row is that same projected year. Then it answers long-range questions (max, avg, p99 per
hour over the whole span) from the raw points and from each level: values decoded and bytes read,
and the time.

The raw points come from phase 4's file, every block read and checked, and must equal the dataset
bit for bit: a damaged or stale file is refused. Every level is computed from the finer one,
checked bit for bit against the same level computed straight from the raw points, written as a
phase-4 file (lib/storage/rollup_files.py), read back and compared before it replaces the previous
file.
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from lib.data.dataset import (
    DAY_NS, HOUR_NS, MINUTE_NS, canonical_order, chunks_of_points, first_difference, load_dataset_for_phase,
    series_key, total_points,
)
from lib.errors import MissingDatasetError, RoundTripError, SqueezedSignalsError
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes, ratio_words
from lib.report.text import percent, plural, shorten, wrap
from lib.retention.long_range_queries import (
    QUESTION_GROUPS, QUESTIONS, answer_from_level, answer_from_raw, best_of, gauge_keys,
)
from lib.retention.policy import DEFAULT_POLICY, RetentionPolicy, Tier, apply_policy, format_duration
from lib.retention.projection import (
    MeasuredCosts, Workload, assumptions, project, storage_over_time, workload_of,
)
from lib.rollup.buckets import RAW_RESOLUTION, check_resolutions, check_timestamps_fit
from lib.rollup.kinds import COUNTER, GAUGE, LIGHT_FIELDS, STORED_FIELDS, metric_kind
from lib.rollup.levels import rollup_dataset, rollup_from_raw
from lib.rollup.percentile_merging import compare_percentile_merging
from lib.rollup.sketch import SKETCH_ALPHA
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, command_for, earlier_phase_file
from lib.runner.provenance import record_written
from lib.storage.metrics_file import DEFAULT_BLOCK_POINTS, MetricsFile, read_file
from lib.storage.rollup_files import (
    LIGHT_RESOLUTIONS, ROLLUP_FILE_GLOB, SKETCH_COLUMNS, RollupStore, column_bytes, column_labels,
    resolution_label, rollup_filename, rollup_to_series, write_level,
)
from lib.storage.streaming_writer import write_file

QUERY_MAX_POINTS = 500
# Series are rolled up a chunk at a time, so memory follows the chunk, not the dataset.
CHUNK_POINTS = 500_000
# The cost of every aggregate is measured on every k-th series, about this many points in all.
COST_SAMPLE_POINTS = 200_000
TIMING_REPEATS = 3
YEAR_DAYS = 365
KINDS = (GAUGE, COUNTER)


def run(output_dir, policy=DEFAULT_POLICY, workload=None):
    """Roll up the points of phase 4's file at the policy's roll-up tiers (default 1 min, 5 min,
    1 h); `workload` (default: this dataset's own) is what the projection and the row describe."""
    output_dir = Path(output_dir)
    raw_path = output_dir / OUTPUT_FILENAMES[4]
    series_list = read_phase_4_points(raw_path, load_dataset_for_phase(output_dir))
    resolutions = check_can_roll_up(series_list, policy)
    start = time.perf_counter()
    columns, stats, costs_sample = roll_up_in_chunks(series_list, resolutions)
    paths = write_levels(output_dir, resolutions, columns, stats)
    seconds = time.perf_counter() - start

    kind_of = {s.key: metric_kind(s.name, s.values) for s in series_list}
    costs = measure_costs(output_dir, raw_path, paths, series_list, kind_of, stats)
    workload = workload or workload_of(series_list)
    projectable = workload is not None and workload.interval_s < YEAR_DAYS * 86400
    print_report(series_list, raw_path, policy, stats, costs_sample)
    if projectable:
        print_projection(costs, workload, policy)
    else:
        print("  No projection: no series has two points less than a year apart, so nothing says how often a")
        print("  workload like it is scraped.")
    print_long_range_questions(raw_path, paths, series_list)
    print_percentile_lesson(series_list)
    print_query_examples(series_list, RollupStore(raw_path, paths))
    on_disk = sum(level["bytes"] for level in stats.values())
    if projectable:
        return projected_row(output_dir, seconds, on_disk, costs, workload, policy)
    return PhaseResult(5, "roll-ups of these points", output_dir / ROLLUP_FILE_GLOB, on_disk,
                       total_points(series_list), seconds, True, lossy=True, file_label=ROLLUP_FILE_GLOB,
                       note=f"phase 5 is lossy: its files keep aggregates per bucket, not the points. No year is "
                            f"projected: {'no workload' if workload is None else str(workload)} is scraped less "
                            f"than once a year.")


def read_phase_4_points(raw_path, dataset):
    """The raw points phase 5 rolls up: the whole of phase 4's file, every block checked (damage
    raises FormatError naming the block), and equal to the dataset bit for bit (a file written for
    another dataset is refused, so no roll-up, answer or projection mixes two datasets)."""
    if not raw_path.exists():
        raise MissingDatasetError(f"no phase-4 file at {raw_path}: run "
                                  f"`{command_for('04_custom_binary_format.py', raw_path.parent)}` first")
    series_list = read_file(raw_path)
    difference = first_difference(dataset, series_list)
    if difference is not None:
        raise MissingDatasetError(f"{raw_path} was written for another dataset ({difference}): run "
                                  f"`{command_for('04_custom_binary_format.py', raw_path.parent)}` again")
    return series_list


def check_can_roll_up(series_list, policy):
    """The policy's roll-up resolutions, after refusing (one line) what no roll-up can hold."""
    try:
        resolutions = check_resolutions(policy.rollup_resolutions())
    except ValueError as exc:
        raise SqueezedSignalsError(f"retention policy {policy}: {exc}") from None
    try:
        for s in series_list:
            column_labels(s.labels, "count", resolutions[0])  # refuses the labels roll-up files reserve
        check_timestamps_fit(series_list, resolutions[-1])
    except ValueError as exc:
        raise SqueezedSignalsError(f"phase 5 cannot roll up this dataset: {exc}") from None
    return resolutions


def roll_up_in_chunks(series_list, resolutions):
    """Roll up a chunk of series at a time, each level of the cascade checked against the level
    computed straight from the raw points (RoundTripError on a difference). Returns the columns to
    store per level, buckets and points per level and kind, and the cost of every aggregate in full
    (not light) files, measured on a sample of series."""
    columns = {r: [] for r in resolutions}
    stats = {r: {"buckets": dict.fromkeys(KINDS, 0), "points": dict.fromkeys(KINDS, 0)} for r in resolutions}
    progress = Progress("rolling up and checking", total_points(series_list))
    for chunk in chunks_of_points(series_list, CHUNK_POINTS):
        for resolution, rollups in rollup_dataset(chunk, resolutions).items():
            check_against_raw(rollups, rollup_from_raw(chunk, resolution))
            columns[resolution].extend(c for r in rollups for c in rollup_to_series(r, resolution in LIGHT_RESOLUTIONS))
            for rollup, series in zip(rollups, chunk):
                stats[resolution]["buckets"][rollup.kind] += len(rollup)
                stats[resolution]["points"][rollup.kind] += len(series)
        progress.advance(total_points(chunk))
    progress.finish()
    step = -(-total_points(series_list) // COST_SAMPLE_POINTS) or 1
    sample = series_list[::step]
    return columns, stats, measure_aggregate_costs(rollup_dataset(sample, resolutions), sample)


def check_against_raw(cascaded, direct):
    """The level computed from the finer one must equal, bit for bit, the level from raw points."""
    for a, e in zip(cascaded, direct):
        where = f"phase 5: {shorten(e.name, 60)} at {resolution_label(e.resolution_ns)}"
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
    if len(cascaded) != len(direct):
        raise RoundTripError("phase 5: the cascade rolled up another number of series than the raw computation")


def write_levels(output_dir, resolutions, columns, stats):
    """Each level's file, read back identical before it replaces the previous one; files of levels
    this policy does not have (an earlier run's) are removed, so none is counted as this run's."""
    paths = {r: output_dir / rollup_filename(r) for r in resolutions}
    progress = Progress("writing and verifying roll-up levels", len(resolutions), unit="levels")
    for resolution in resolutions:
        stats[resolution]["bytes"] = write_level(paths[resolution], canonical_order(columns.pop(resolution)),
                                                 DEFAULT_BLOCK_POINTS)
        record_written(output_dir, paths[resolution])
        progress.advance(1)
    progress.finish()
    for path in output_dir.glob(ROLLUP_FILE_GLOB):
        if path not in paths.values():
            path.unlink()
    return paths


def measure_aggregate_costs(levels, sample):
    """Bytes per bucket of each aggregate at each level, measured by writing the sample's roll-ups in
    full to a scratch file and reading the column sizes from its index."""
    kind_of = {s.key: metric_kind(s.name, s.values) for s in sample}
    table = {}
    with tempfile.TemporaryDirectory() as scratch:
        for resolution, rollups in levels.items():
            path = Path(scratch) / "full.bin"
            write_file(path, [c for r in rollups for c in rollup_to_series(r)], DEFAULT_BLOCK_POINTS)
            sizes = column_bytes(path, lambda name, labels: kind_of[series_key(name, labels)])
            buckets = {kind: sum(len(r) for r in rollups if r.kind == kind) for kind in KINDS}
            table[resolution] = {key: size / buckets[key[0]] for key, size in sizes.items() if buckets[key[0]]}
    return {"series": len(sample), "bytes_per_bucket": table}


def measure_costs(output_dir, raw_path, paths, series_list, kind_of, stats):
    """Bytes per raw point (phase 4, NDJSON) and per bucket at each level, by kind, from this run."""
    points = dict.fromkeys(KINDS, 0)
    for s in series_list:
        points[kind_of[s.key]] += len(s)
    raw_bytes = dict.fromkeys(KINDS, 0)
    with MetricsFile(raw_path) as f:  # block bytes only, as for the roll-ups (see column_bytes)
        for entry in f.series:
            raw_bytes[kind_of[entry.key]] += sum(b.length for b in entry.blocks)
    bucket_bytes = {}
    for resolution, path in paths.items():
        sizes = column_bytes(path, lambda name, labels: kind_of[series_key(name, labels)])
        buckets = stats[resolution]["buckets"]
        bucket_bytes[resolution] = {k: sum(v for (kind, _c), v in sizes.items() if kind == k) / buckets[k]
                                    for k in buckets if buckets[k]}
    ndjson = earlier_phase_file(output_dir, 1)
    total = total_points(series_list)
    series_of_kind = {k: sum(1 for s in series_list if len(s) and kind_of[s.key] == k) for k in KINDS if points[k]}
    present = max(sum(series_of_kind.values()), 1)
    points_per_bucket = {r: sum(stats[r]["points"].values()) / max(sum(stats[r]["buckets"].values()), 1) for r in paths}
    buckets_per_series = {r: sum(stats[r]["buckets"].values()) / present for r in paths}
    return MeasuredCosts({k: n / present for k, n in series_of_kind.items()},
                         {k: raw_bytes[k] / points[k] for k in KINDS if points[k]}, bucket_bytes,
                         ndjson.stat().st_size / total if ndjson and total else None, points_per_bucket,
                         buckets_per_series)


def projected_row(output_dir, seconds, on_disk, costs, workload, policy):
    """main.py's row: a year of `workload` under the policy, the same workload the report projects."""
    stored = project(costs, workload, policy, days=YEAR_DAYS).rows[-1][2]
    points = round(workload.points_per_day() * YEAR_DAYS)
    return PhaseResult(
        5, "phase 4 + retention, 1 year", output_dir / ROLLUP_FILE_GLOB, round(stored), points, seconds,
        True, lossy=True, projected=True, on_disk_bytes=on_disk, file_label=str(workload),
        workload={"series": workload.series, "interval_s": workload.interval_s},
        storage_over_time=storage_over_time(costs, workload, policy),
        note=(f"phase 5's row is not these points in a smaller file: it is a year of {workload} ({points:,} "
              f"points), stored under the retention policy {policy} (raw points for days, roll-ups after), "
              f"projected from the sizes this run measured; its files on disk ({ROLLUP_FILE_GLOB}) hold "
              f"{human_bytes(on_disk)}. Lossy: old data keeps aggregates, not points."),
    )


# The report -----------------------------------------------------------------------------------------


def print_report(series_list, raw_path, policy, stats, costs_sample):
    points, raw_bytes = total_points(series_list), raw_path.stat().st_size
    print("Phase 5: multi-resolution roll-ups, each level a METRICS! file")
    print(f"  raw: {points:,} points in {human_bytes(raw_bytes)}, read from phase 4's file (every block checked)")
    print_level_table(stats, points, raw_bytes, sum(1 for s in series_list if len(s)))
    print_aggregate_costs(costs_sample)
    print("  Each level: computed from the finer one, equal bit for bit to the level computed straight from the")
    print("  raw points, written, read back identical, and only then moved into place.")
    print_retention(policy, series_list)


def print_level_table(stats, points, raw_bytes, series_count):
    print("  The same hours at each level (vs phase 4: the raw file of these same points):")
    print(f"  {'level':>6}  {'keeps':<11}  {'buckets':>9}  {'points/bucket':>13}  {'size':>9}  {'B/bucket':>8}  "
          f"{'vs phase 4':>14}")
    for resolution, level in stats.items():
        buckets = sum(level["buckets"].values())
        keeps = "light" if resolution in LIGHT_RESOLUTIONS else "all+sketch"
        print(f"  {resolution_label(resolution):>6}  {keeps:<11}  {buckets:>9,}  {points / max(buckets, 1):>13.1f}  "
              f"{human_bytes(level['bytes']):>9}  {level['bytes'] / max(buckets, 1):>8.1f}  "
              f"{ratio_words(raw_bytes, level['bytes']):>14}")
    single = [resolution_label(r) for r, level in stats.items() if sum(level["buckets"].values()) <= series_count]
    if single:
        print(wrap(f"At {', '.join(single)} each series fills one bucket: this dataset is too short for "
                   f"{'that level' if len(single) == 1 else 'those levels'} to summarise anything; "
                   f"they are made and verified all the same."))
    print("  B/bucket = the level's file size / its buckets;")
    print(f"  light = {', '.join(LIGHT_FIELDS[GAUGE])} (gauges), {', '.join(LIGHT_FIELDS[COUNTER])} (counters);")
    print(wrap(f"all+sketch = {', '.join(STORED_FIELDS[GAUGE])} + DDSketch (gauges), "
               f"{', '.join(STORED_FIELDS[COUNTER])} (counters).", hanging="    "))


def print_aggregate_costs(sample):
    """Bytes per bucket of each stored column, every level in full: what a fine level should keep."""
    table = sample["bytes_per_bucket"]
    names = list(dict.fromkeys(c for level in table.values() for (kind, c) in level if c not in SKETCH_COLUMNS))
    print("  What each aggregate costs, in bytes per bucket (bytes of its column's blocks / buckets, every level")
    print(f"  written in full for {plural(sample['series'], 'series', 'series')}; sketch = its sign, key and count "
          f"columns together):")
    header = "".join(f"{n:>10}" for n in names) + f"{'sketch':>10}"
    for kind in KINDS:
        if not any(k == kind for level in table.values() for (k, _c) in level):
            continue
        print(f"  {kind + 's':>9}{header}")
        for resolution, level in table.items():
            cells = [level.get((kind, n)) for n in names] + [sum(level.get((kind, c), 0) for c in SKETCH_COLUMNS) or None]
            print(f"  {resolution_label(resolution):>9}" + "".join(f"{'-' if c is None else f'{c:.2f}':>10}" for c in cells))
    finest = table[min(table)]
    dropped = [c for c in STORED_FIELDS[GAUGE] if c not in LIGHT_FIELDS[GAUGE]] + list(SKETCH_COLUMNS)
    dropped_bytes = sum(finest.get((GAUGE, c), 0) for c in dropped)
    total = sum(size for (kind, _c), size in finest.items() if kind == GAUGE)
    if total:
        print(wrap(f"At {resolution_label(min(table))}, what the light level leaves out (the sketch, first, last, "
                   f"nan_count) costs {dropped_bytes:.1f} of the {total:.1f} bytes of a full gauge bucket "
                   f"({100 * dropped_bytes / total:.0f}%)."))


def print_retention(policy, series_list):
    tiers = ", ".join(f"{t.label()} for {format_duration(t.horizon_ns)}" for t in policy.tiers)
    print(wrap(f"Retention policy ({policy}): keep {tiers}; older data is deleted tier by tier."))
    present = [s for s in series_list if len(s)]
    if present:
        span = max(int(s.timestamps.max()) for s in present) - min(int(s.timestamps.min()) for s in present)
        shortest = policy.tiers[0].horizon_ns
        fits = "inside every horizon" if span < shortest else "longer than the shortest horizon"
        print(wrap(f"This dataset spans {span / HOUR_NS:,.1f} h, {fits}: `--apply-retention` deletes what has "
                   f"expired from the roll-up files after this run (lib/retention/policy.py; the tests apply it to "
                   f"real files)."))


def print_projection(costs, workload, policy):
    year = project(costs, workload, policy, days=YEAR_DAYS)
    print(wrap(f"Projected storage for {workload} (main.py's phase-5 row is this year; `--workload-series` and "
               f"`--workload-interval` choose another workload):"))
    print(f"    {'':<44}{'written per day':>16}{'stored after 1 year':>21}")
    for label, per_day, stored in year.rows:
        print(f"    {shorten(label, 44):<44}{human_bytes(per_day):>16}{human_bytes(stored):>21}")
    shorter = shorter_fine_tiers(policy)
    if shorter is not None:
        per_day, stored = project(costs, workload, shorter, days=YEAR_DAYS).rows[-1][1:]
        print(f"    {shorten('phase 4 + tiers ' + str(shorter), 44):<44}{human_bytes(per_day):>16}{human_bytes(stored):>21}")
    longest = policy.tiers[-1].horizon_ns / DAY_NS
    later = project(costs, workload, policy, days=longest).rows[-1][2]
    print(f"    (the first policy keeps growing until its longest horizon: after {format_duration(policy.tiers[-1].horizon_ns)} "
          f"{human_bytes(later)})")
    print("  Assumptions:")
    for line in assumptions(costs, workload, policy):
        print(wrap(f"- {line}", indent="    ", hanging="      "))


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


def print_long_range_questions(raw_path, paths, series_list):
    """max, avg and p99 per hour over the whole span, from raw and from each level that tiles an
    hour: values decoded and bytes read (the figures that do not move), the best of a few timings,
    and the largest error against raw."""
    keys = gauge_keys(series_list)
    if not keys:
        print("  No gauge series: the long-range questions (max, avg, p99 per hour) have nothing to ask.")
        return
    raw = best_of(TIMING_REPEATS, lambda: answer_from_raw(raw_path, keys, QUESTION_GROUPS))
    levels = [best_of(TIMING_REPEATS, lambda path=path, r=r: [answer_from_level(path, resolution_label(r), keys, g)
                                                              for g in QUESTION_GROUPS])
              for r, path in paths.items() if HOUR_NS % r == 0]  # only levels whose buckets tile an hour
    for answers in levels:
        if any(not np.array_equal(part.hours, raw[0].hours) for part in answers):
            raise RoundTripError(f"phase 5: the {answers[0].source} level answers other hours than the raw points")
    groups = [" and ".join(g) for g in QUESTION_GROUPS]
    print(wrap(f"{', '.join(QUESTIONS)} per hour over the whole span, every gauge series "
               f"({len(raw[0].hours):,} series-hours): values decoded, bytes of blocks read, and the fastest of "
               f"{TIMING_REPEATS} runs (each group of questions as if it ran alone):"))
    print(f"    {'':<6}" + "".join(f"  {g:^32}" for g in groups) + "   largest error against raw")
    print(f"    {'source':<6}" + f"  {'values':>9}  {'read':>9}  {'ms':>8}" * len(groups)
          + "".join(f"  {q:>9}" for q in QUESTIONS))
    print(f"    {'raw':<6}" + "".join(answer_cells(part) for part in raw) + "".join(f"  {'exact':>9}" for _ in QUESTIONS))
    for answers in levels:
        errors = [level_error(answers, raw, q) for q in QUESTIONS]
        print(f"    {answers[0].source:<6}" + "".join(answer_cells(part) for part in answers)
              + "".join(f"  {'n/a' if e is None else percent(e):>9}" for e in errors))
    if levels:
        print(wrap(long_range_lesson(raw, levels)))


def answer_cells(part):
    if not part.answered:
        return f"  {'(no sketch kept)':>32}"
    return f"  {part.values_read:>9,}  {human_bytes(part.bytes_read):>9}  {1000 * part.seconds:>8.1f}"


def level_error(answers, raw, question):
    """The largest relative error of a level's answers to `question`, or None if it cannot answer."""
    for part, reference in zip(answers, raw):
        if question in part.values:
            return part.relative_error(reference, question) if question in part.answered else None
    return None


def long_range_lesson(raw, levels):
    """What the table shows, in words computed from it: how many fewer values the coarsest level
    decodes, whether that made it faster here, and how far its answers are from raw."""
    coarsest = levels[-1]
    fewer = raw[0].values_read / max(coarsest[0].values_read, 1)
    speed = raw[0].seconds / max(coarsest[0].seconds, 1e-9)
    errors = {q: level_error(coarsest, raw, q) for q in QUESTIONS}
    reads = (f"For max and avg the {coarsest[0].source} level decodes {coarsest[0].values_read:,} values where raw "
             f"decodes {raw[0].values_read:,} ({fewer:,.1f}x {'fewer' if fewer >= 1 else 'more'})")
    if speed >= 1.5:
        timing = f" and answers {speed:.1f}x faster."
    elif speed >= 1 / 1.5:
        timing = (f", yet answers in about the same time here ({speed:.1f}x): each column read has a fixed cost (find "
                  f"its blocks, decode headers and timestamps), and with few values per series that cost decides.")
    else:
        timing = (f", yet answers {1 / speed:.1f}x slower here: it reads several columns per series where raw reads "
                  f"one, each with a fixed cost, and with few values per series that cost decides.")
    exact = "max merges exactly" if errors["max"] == 0 else f"max is off by up to {percent(errors['max'])}"
    p99 = ("" if errors["p99"] is None else
           f"; p99 is within {percent(errors['p99'])} (the sketch promises {percent(SKETCH_ALPHA)})")
    return f"{reads}{timing} Its answers: {exact}, avg is off by {percent(errors['avg'])} at most{p99}."


def print_percentile_lesson(series_list):
    summary = compare_percentile_merging(series_list, "p99", 5 * MINUTE_NS, HOUR_NS).summary()
    if not summary["buckets"]:
        print("  No gauge holds a finite value, so there is no percentile to merge.")
        return
    bound, naive_worst, naive_median = SKETCH_ALPHA, summary["naive_max_relative_error"], summary["naive_median_relative_error"]
    print(f"  p99 of {plural(summary['buckets'], 'one-hour bucket')} of gauges, against the exact p99 of the raw points:")
    print(f"    merged 5-min sketches:  worst hour {percent(summary['sketch_max_relative_error'])} off, "
          f"median hour {percent(summary['sketch_median_relative_error'])} (bound {percent(bound)})")
    print(f"    average of 5-min p99s:  worst hour {percent(naive_worst)} off, median hour {percent(naive_median)}")
    if naive_worst <= bound:
        lesson = (f"On this data the average of the p99s happens to stay within {percent(bound)} too: its buckets hold "
                  f"no hour whose bad minutes the average could hide. Merged sketches keep their bound on any data; "
                  f"an average of percentiles keeps none.")
    elif naive_median <= bound:
        lesson = (f"On a typical hour both look fine; in its worst hour the average is {percent(naive_worst)} off, "
                  f"and the worst hour is what p99 exists to show (an alert fires on it). Never average percentiles.")
    else:
        lesson = (f"The average is off even on a typical hour ({percent(naive_median)}), and "
                  f"{percent(naive_worst)} in its worst; the merged sketches stay within their bound in every "
                  f"hour. Never average percentiles.")
    print(wrap(lesson, indent="    "))


EXAMPLE_RANGES = (("last 15 min", 15 * MINUTE_NS), ("last 6 h", 6 * HOUR_NS), ("last 7 days", 7 * DAY_NS))
EXAMPLE_AGGREGATE = {GAUGE: "max", COUNTER: "increase"}


def print_query_examples(series_list, store):
    """Which file answers a question over a range: raw for short ranges, coarser levels for longer;
    a gauge is asked for its max, a counter for its increase."""
    for kind, aggregate in EXAMPLE_AGGREGATE.items():
        present = [s for s in series_list if len(s) and metric_kind(s.name, s.values) == kind]
        if not present:
            print(f"  No {kind} series in this dataset, so no {aggregate} to look up.")
            continue
        target = max(present, key=len)
        end = int(target.timestamps.max()) + 1
        print(f"  {aggregate} of the {kind} {shorten(target.display_name(), 64)} (at most {QUERY_MAX_POINTS} points read):")
        answers = []
        for label, span in EXAMPLE_RANGES:
            answer = store.query(target.name, target.labels, aggregate, end - span, end, QUERY_MAX_POINTS)
            answers.append(answer.value)
            source = ("raw points" if answer.resolution_ns == RAW_RESOLUTION
                      else f"{plural(answer.buckets, 'bucket')} of {resolution_label(answer.resolution_ns)}")
            print(f"    {label:<12} {answer.value:14.6g}  from {source}")
        print(wrap(example_lesson(aggregate, answers), indent="    "))


def example_lesson(aggregate, answers):
    if aggregate == "max":
        if len(set(answers)) == 1:
            return ("The same value every time: the highest sample lies in the last 15 minutes, and a bucket's max "
                    "merges exactly, so the coarse levels find that very sample.")
        return ("A longer range can only find a higher max, and each is exact: a bucket's max merges without loss, "
                "whichever level answers.")
    return ("A longer range adds the increase of more buckets: each counter delta is credited to the bucket of its "
            "later sample, resets counted from zero, so the buckets of any level add up to the exact total.")


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
    parser.add_argument("--workload-series", type=int, metavar="N",
                        help="series in the cost projection (default: this dataset's)")
    parser.add_argument("--workload-interval", type=float, metavar="SECONDS",
                        help="scrape interval in the cost projection (default: this dataset's median)")


def workload_from_arguments(args, output_dir):
    """The workload the options name; an option left out takes this dataset's value."""
    if args.workload_series is None and args.workload_interval is None:
        return None
    own = workload_of(load_dataset_for_phase(output_dir)) or Workload()
    series = own.series if args.workload_series is None else args.workload_series
    interval = own.interval_s if args.workload_interval is None else args.workload_interval
    try:
        return Workload(series, interval)
    except ValueError as exc:
        raise SqueezedSignalsError(f"--workload-series/--workload-interval: {exc}") from None


def run_from_arguments(args):
    result = run(args.output_dir, policy=args.retention, workload=workload_from_arguments(args, args.output_dir))
    if args.apply_retention:
        paths = {r: Path(args.output_dir) / rollup_filename(r) for r in args.retention.rollup_resolutions()}
        for applied in apply_policy(args.retention, None, paths):
            print(f"retention: {applied.path.name}: kept {applied.kept:,} buckets, dropped {applied.dropped:,} "
                  f"(cutoff {np.datetime_as_string(np.datetime64(applied.cutoff_ns, 'ns'), unit='s')}Z)")
    return result


if __name__ == "__main__":
    run_phase_script(__doc__, run_from_arguments, add_arguments)
