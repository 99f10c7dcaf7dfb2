"""`squeeze.py query`: one aggregate of one series, step by step, from the coarsest level that answers it.

A step is the window [from + k * step, from + (k + 1) * step), the last one ending at `to`. When a
roll-up level's resolution divides `from`, `to` and the step, every window is a whole number of
the level's buckets, and merging those buckets gives what the raw points would give, reading a few
buckets per window instead of every point. So the query takes, among the levels that keep the
columns the aggregate needs (a light level has no sketch, first or last), the coarsest whose
resolution divides all three; when none does, the METRICS! file's raw points answer. Only the
needed columns are read (max: the `max` column; avg: `sum` and `count`; p99: the three sketch
columns), and of them only the blocks overlapping the range (MetricsFile.read_range).

Buckets merge as a coarser level is made from a finer one (lib/rollup/levels.py): counts add,
min and max and the first and last value carry over, and sums are added exactly
(lib/rollup/exact_sums.py). Exactness, as the output states it:
- count, nan_count, min, max, first and last are the raw answer, bit for bit;
- sum, avg, increase and rate from a level add the stored bucket sums exactly, but each stored sum
  was rounded once, so the answer can differ from the raw one in the last bits;
- p50, p95 and p99 from a level come from its DDSketch, within a relative error of 1% (SKETCH_ALPHA);
  from raw points they are exact, with the sketch's rank (lib/rollup/sketch.py).
A counter's increase credits each delta to its later sample (lib/rollup/kinds.py), so a raw answer
also reads the blocks holding the last real sample before `from`.

Example: `--agg max --step 1h --from -7d --to end` on a file whose newest point is at 10:37 ends at
11:00 (the end rounds up to the step), starts seven days before, and reads the 1 h level.
"""
import math
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.data.dataset import NS_PER_SECOND, Series, display_name
from lib.data.importers.timestamps import INT64_MAX, INT64_MIN
from lib.errors import FormatError, SqueezedSignalsError
from lib.rollup.buckets import quiet_nans
from lib.rollup.exact_sums import exact_sums, limbs_to_float
from lib.rollup.kinds import COUNTER, DERIVED_AGGREGATES, GAUGE, QUANTILES, STORED_FIELDS, metric_kind
from lib.rollup.levels import batch_from_points
from lib.rollup.sketch import SKETCH_ALPHA, canonical_sketch, exact_quantile, sketch_quantiles
from lib.storage.metrics_file import MetricsFile, overlapping_blocks
from lib.storage.rollup_files import (
    ROLLUP_FILE_GLOB, ROLLUP_FILE_PREFIX, SKETCH_COLUMNS, group_columns, parse_resolution_label,
    resolution_label,
)
from lib.tool.arguments import format_time, parse_time
from lib.tool.rollups import SOURCE_FILENAME, built_from, default_folder

MAX_WINDOWS = 100_000
RAW = "raw"
# The stored columns each aggregate reads from a roll-up level.
COLUMNS = {"count": ("count",), "nan_count": ("nan_count",), "sum": ("sum",), "avg": ("sum", "count"),
           "min": ("min",), "max": ("max",), "first": ("first",), "last": ("last",), "increase": ("increase",),
           "rate": ("increase",), **{q: SKETCH_COLUMNS for q in QUANTILES}}
ZERO_WHEN_EMPTY = ("count", "nan_count", "sum", "increase", "rate")  # a window without points: 0, else NaN
SUMMED = ("sum", "avg", "increase", "rate")


def answerable(kind):
    return STORED_FIELDS[kind] + DERIVED_AGGREGATES[kind]


@dataclass
class Answer:
    series: str
    aggregate: str
    kind: str
    source: str  # RAW or the level's resolution label
    file: str
    starts: np.ndarray
    ends: np.ndarray
    values: np.ndarray
    bytes_read: int

    @property
    def accuracy(self):
        if self.source != RAW and self.aggregate in QUANTILES:
            return f"within {SKETCH_ALPHA:.0%} (DDSketch)"
        if self.source != RAW and self.aggregate in SUMMED:
            return "exact sum of the stored bucket sums, each rounded once"
        return "exact"

    def note(self):
        where = "the raw points" if self.source == RAW else f"the {self.source} roll-up level"
        return (f"{self.series}: {self.aggregate} per window from {where} ({Path(self.file).name}), "
                f"{self.accuracy}; {self.bytes_read:,} bytes read")


def run_query(path, rollups, metric, selector, start_text, end_text, aggregate, step_ns):
    """The Answer to one query (see the module docstring); SqueezedSignalsError for what cannot be asked."""
    with ExitStack() as files:
        raw = files.enter_context(MetricsFile(path))
        entry = select_series(raw, metric, selector)
        levels = open_levels(files, raw, Path(path), rollups)
        end_ns = file_end(raw, step_ns or (max(levels) if levels else 1))
        start, end = (parse_user_time(text, end_ns, name) for text, name in ((start_text, "--from"), (end_text, "--to")))
        starts, ends = windows(start, end, step_ns)
        columns = {r: group_columns(f.series).get(entry.key, {}) for r, f in levels.items()}
        kind = next((COUNTER if "increase" in c else GAUGE for c in columns.values() if c), None)
        likely = kind or metric_kind(entry.name, [])  # without roll-ups, by name until the points are read
        aggregate = aggregate or ("rate" if likely == COUNTER else "avg")
        if kind is not None:
            check_answerable(kind, aggregate, entry)
        able = [r for r in levels if columns[r] and set(COLUMNS[aggregate]) <= set(columns[r])
                and all(t % r == 0 for t in (start, end, step_ns or r))]
        if able:
            source = max(able)
            values = from_level(levels[source], entry, columns[source], aggregate, starts, ends)
            file, label = levels[source].path, resolution_label(source)
        else:
            series = raw_points(raw, entry, start, end, counter=likely == COUNTER)
            kind = kind or metric_kind(series.name, series.values)
            check_answerable(kind, aggregate, entry)
            values = from_raw(series, kind, aggregate, starts, ends)
            file, label = raw.path, RAW
        bytes_read = raw.bytes_read + sum(f.bytes_read for f in levels.values())
    return Answer(entry.display_name(), aggregate, kind, label, str(file), starts, ends, values, bytes_read)


def matching_series(f, metric, selector):
    """The series named `metric` whose labels match every (key, value) of `selector` (an empty value
    matches a series without that label, as in Prometheus); a one-line error when none does."""
    found = [e for e in f.series if e.name == metric and all(e.labels.get(k, "") == v for k, v in selector)]
    if not found:
        names = sorted({e.name for e in f.series})
        known = "" if metric in names else f"; its metrics: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
        raise SqueezedSignalsError(f"{f.path}: no series matches {display_name(metric, dict(selector))}{known}")
    return found


def select_series(f, metric, selector):
    """The one series `matching_series` finds; a one-line error when several match."""
    found = matching_series(f, metric, selector)
    if len(found) > 1:
        shown = ", ".join(e.display_name() for e in found[:3]) + (", ..." if len(found) > 3 else "")
        raise SqueezedSignalsError(f"{f.path}: {len(found)} series match {display_name(metric, dict(selector))} "
                                   f"({shown}): add --label to choose one")
    return found[0]


def open_levels(files, raw, path, folder):
    """{resolution_ns: opened level file} of the roll-ups in `folder` (default: FILE.rollups, when it
    exists), refused unless they were built from this very file."""
    explicit = folder is not None
    folder = Path(folder) if explicit else default_folder(path)
    if not folder.is_dir():
        if explicit:
            raise SqueezedSignalsError(f"{folder}: no such folder of roll-ups (write one with `squeeze.py rollup {path}`)")
        return {}
    again = f"run `python squeeze.py rollup {path}{'' if not explicit else f' --out {folder}'}` again"
    current = built_from(folder, raw)
    if current is None:
        raise SqueezedSignalsError(f"{folder}: no readable {SOURCE_FILENAME} saying which file these roll-ups are of: "
                                   f"{again}")
    if not current:
        raise SqueezedSignalsError(f"{folder}: these roll-ups were built from another version of {path}: {again}")
    levels = {}
    for level_path in sorted(folder.glob(ROLLUP_FILE_GLOB)):
        try:
            resolution = parse_resolution_label(level_path.stem.removeprefix(ROLLUP_FILE_PREFIX))
        except ValueError:
            continue
        levels[resolution] = files.enter_context(MetricsFile(level_path))
    return levels


def file_end(f, unit):
    """The file's newest timestamp + 1 ns, rounded up to a multiple of `unit`: where "end" is (at
    most INT64_MAX: a point at the very last nanosecond of int64 is beyond every range)."""
    newest = max((e.max_timestamp for e in f.series if e.points), default=None)
    if newest is None:
        raise SqueezedSignalsError(f"{f.path}: the file holds no points")
    return min(-(-(newest + 1) // unit) * unit, INT64_MAX)


def parse_user_time(text, end_ns, option):
    try:
        ns = parse_time(text, end_ns)
    except ValueError as exc:
        raise SqueezedSignalsError(f"{option} {text!r}: {exc}") from None
    if not INT64_MIN <= ns <= INT64_MAX:
        raise SqueezedSignalsError(f"{option} {text!r}: outside the years 1677-2262 that int64 nanoseconds hold")
    return ns


def windows(start, end, step):
    """(starts, ends) of the windows: [start + k * step, ...), the last one cut at `end`. Python ints
    until each bound is known to fit int64 (a range may span more than INT64_MAX nanoseconds)."""
    if end <= start:
        raise SqueezedSignalsError(f"empty time range: {format_time(start)} is not before {format_time(end)}")
    step = step or end - start
    count = -(-(end - start) // step)
    if count > MAX_WINDOWS:
        raise SqueezedSignalsError(f"{count:,} windows of {step // NS_PER_SECOND:,} s: more than {MAX_WINDOWS:,}; "
                                   f"choose a longer --step")
    starts = [start + k * step for k in range(count)]
    return np.array(starts, dtype=np.int64), np.array([min(s + step, end) for s in starts], dtype=np.int64)


def window_seconds(starts, ends):
    """Each window's length in seconds (its nanoseconds as Python ints: a difference can pass int64)."""
    return np.array([(e - s) / NS_PER_SECOND for s, e in zip(starts.tolist(), ends.tolist())])


def check_answerable(kind, aggregate, entry):
    if aggregate not in answerable(kind):
        raise SqueezedSignalsError(f"{entry.display_name()} is a {kind}: {aggregate} is not one of its aggregates; "
                                   f"it answers {', '.join(answerable(kind))}")


def window_of(timestamps, starts):
    """Index of the window holding each timestamp (all inside the windows)."""
    return np.searchsorted(starts, timestamps, side="right") - 1


def from_level(level, entry, columns, aggregate, starts, ends):
    """Per window, the aggregate merged from the level's buckets in [starts[0], ends[-1])."""
    data = {c: level.read_range(entry.name, columns[c], int(starts[0]), int(ends[-1])) for c in COLUMNS[aggregate]}
    first = data[COLUMNS[aggregate][0]]
    if any(not np.array_equal(d.timestamps, first.timestamps) for d in data.values()):
        raise FormatError(f"{level.path}: the columns {', '.join(data)} of {entry.display_name()} hold other buckets")
    w, count = window_of(first.timestamps, starts), len(starts)
    if aggregate in QUANTILES:
        sign, key, counts = (data[c].values for c in SKETCH_COLUMNS)
        sketch = canonical_sketch(w, sign.astype(np.int8), key.astype(np.int32), counts.astype(np.int64))
        return sketch_quantiles(sketch, count, QUANTILES[aggregate])
    if aggregate in ("count", "nan_count"):
        return np.bincount(w, first.values, count)
    if aggregate == "avg":
        with np.errstate(invalid="ignore", divide="ignore"):
            return exact_total(first.values, w, count) / np.bincount(w, data["count"].values, count)
    return merge(aggregate, first.values, w, count, window_seconds(starts, ends))


def merge(aggregate, values, w, count, seconds):
    """The windows' aggregate of per-bucket (or per-point) values, `w` the window of each, in time order."""
    if aggregate in ("sum", "increase"):
        return exact_total(values, w, count)
    if aggregate == "rate":
        return exact_total(values, w, count) / seconds
    result = np.full(count, np.nan)
    real = ~np.isnan(values)
    if aggregate in ("min", "max") and len(w):
        ufunc = np.fmin if aggregate == "min" else np.fmax
        starts = np.flatnonzero(np.concatenate(([True], w[1:] != w[:-1])))
        result[w[starts]] = ufunc.reduceat(values, starts) + 0.0  # +0.0: a zero is +0.0, as levels store it
    elif aggregate in ("first", "last"):
        order = slice(None) if aggregate == "first" else slice(None, None, -1)
        held, at = np.unique(w[real][order], return_index=True)
        result[held] = values[real][order][at]
    return result


def exact_total(values, w, count):
    """Per window, the exact sum of the finite values rounded once; +-inf when infinities of one sign
    were added, NaN when a NaN or both infinities were (as a bucket's sum is made)."""
    finite = np.isfinite(values)
    zeros = np.zeros(len(values), dtype=np.int64)
    limbs, exponent = exact_sums(np.where(finite, values, 0.0), zeros, w, count, np.zeros(count, np.int64), 1)
    total = limbs_to_float(limbs, exponent)
    nan, plus, minus = (np.bincount(w[mask], minlength=count) > 0
                        for mask in (np.isnan(values), values == np.inf, values == -np.inf))
    return np.where(nan | (plus & minus), np.nan, np.where(plus, np.inf, np.where(minus, -np.inf, total)))


def raw_points(f, entry, start, end, counter):
    """The series' points of the blocks overlapping [start, end), in file order; for a counter also
    those of the blocks holding its last real sample before `start` (its delta into the range)."""
    numbers = set(overlapping_blocks(entry, start, end))
    if counter:
        earlier = sorted((n for n, b in enumerate(entry.blocks) if n not in numbers and b.max_timestamp < start),
                         key=lambda n: -entry.blocks[n].max_timestamp)
        newest_real = None
        for n in earlier:  # newest first: stop once no unread block can hold a later real sample
            if newest_real is not None and entry.blocks[n].max_timestamp < newest_real:
                break
            timestamps, values = f.read_blocks(entry, [n])
            real = timestamps[~np.isnan(values)]
            if len(real):
                newest_real = max(int(real.max()), newest_real if newest_real is not None else int(real.max()))
            numbers.add(n)
    timestamps, values = f.read_blocks(entry, sorted(numbers))
    return Series(entry.name, entry.labels, timestamps, values)


def from_raw(series, kind, aggregate, starts, ends):
    """Per window, the aggregate of the raw points, as a roll-up bucket of the window would hold it;
    percentiles exact."""
    start, end, count = int(starts[0]), int(ends[-1]), len(starts)
    inside = (series.timestamps >= start) & (series.timestamps < end)
    if aggregate in QUANTILES:
        order = np.argsort(series.timestamps[inside], kind="stable")
        ts, vs = series.timestamps[inside][order], quiet_nans(series.values[inside][order])
        w = window_of(ts, starts)
        bounds = np.searchsorted(w, np.arange(count + 1))
        return np.array([exact_quantile(vs[a:b], QUANTILES[aggregate]) for a, b in zip(bounds, bounds[1:])])

    before = start - 1 if start > INT64_MIN else start  # nothing is before INT64_MIN: the key stays unused

    def bucket_of(timestamps):  # points before the range in one bucket, after it in another
        clipped = np.clip(timestamps, start, end - 1)
        return np.where(timestamps < start, before, np.where(timestamps >= end, end, starts[window_of(clipped, starts)]))

    batch = batch_from_points([series], kind, bucket_of)
    rows = (batch.bucket_start >= start) & (batch.bucket_start < end)
    w = window_of(batch.bucket_start[rows], starts)
    fields = {name: column[rows] for name, column in batch.fields.items()}
    if aggregate in ("count", "nan_count"):
        return np.bincount(w, fields[aggregate].astype(np.float64), count)
    if aggregate == "avg":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(w, fields["sum"], count) / np.bincount(w, fields["count"].astype(np.float64), count)
    source = "increase" if aggregate == "rate" else aggregate
    return merge(aggregate, fields[source], w, count, window_seconds(starts, ends))


def print_csv(answer):
    print(f"start,end,{answer.aggregate}")
    for start, end, value in zip(answer.starts, answer.ends, answer.values):
        print(f"{format_time(start)},{format_time(end)},{format_value(answer.aggregate, value)}")


def format_value(aggregate, value):
    if aggregate in ("count", "nan_count") and math.isfinite(value):
        return str(int(value))
    return repr(float(value))


def as_json(answer):
    def value(v):
        return None if math.isnan(v) else ("+Inf" if v == math.inf else "-Inf" if v == -math.inf else float(v))

    rows = [{"start": format_time(s), "end": format_time(e), "start_ns": int(s), "end_ns": int(e), "value": value(v)}
            for s, e, v in zip(answer.starts, answer.ends, answer.values)]
    return {"series": answer.series, "aggregate": answer.aggregate, "kind": answer.kind, "source": answer.source,
            "file": answer.file, "accuracy": answer.accuracy, "bytes_read": answer.bytes_read, "rows": rows}
