"""Long-range queries, timed: why roll-ups exist.

The question: max, avg and p99 per hour over the whole span, for every gauge series (the
dashboard of a month of CPU). Answered three ways and compared:
- from the raw METRICS! file: read every point, group by hour, compute exactly (p99 by sorting);
- from each roll-up level: read only the columns the question needs (max; sum and count; the
  sketch), merge the level's buckets into hours, and read p99 off the merged sketch.
Each answer reports how many stored values it decoded and how many bytes of blocks it read (the
primary figures: they do not move from run to run) and how long it took (not counting the opening
of the file, which reads its index once, as a database keeps its indexes in memory; `best_of`
keeps the fastest of a few runs, since a shared machine's load moves single timings); the
roll-up answers are compared with the raw ones. max merges exactly, avg too up to the rounding of each stored sum, and
p99 stays within the sketch's relative error. A level without a sketch (a light level) cannot answer
p99 at all: percentiles come only from mergeable sketches.
"""
import time
from dataclasses import dataclass, replace

import numpy as np

from lib.data.dataset import HOUR_NS, series_key
from lib.rollup.buckets import bucket_starts, quiet_nans
from lib.rollup.kinds import GAUGE, QUANTILES, metric_kind
from lib.rollup.sketch import Sketch, regroup_sketch, sketch_quantiles
from lib.storage.metrics_file import MetricsFile
from lib.storage.rollup_files import SKETCH_COLUMNS, group_columns

QUESTIONS = ("max", "avg", "p99")
# Timed apart: max and avg need few columns, p99 needs the sketch (or every raw point, sorted).
QUESTION_GROUPS = (("max", "avg"), ("p99",))
# The stored columns each question reads from a roll-up file.
COLUMNS_READ = {"max": ("max",), "avg": ("sum", "count"), "p99": SKETCH_COLUMNS}
RAW_SOURCE = "raw"


@dataclass
class Answers:
    """Per question, the answers for every (series, hour) in order; NaN where there is none."""

    source: str
    hours: np.ndarray
    values: dict
    values_read: int
    seconds: float
    answered: tuple = QUESTIONS
    bytes_read: int = 0

    def relative_error(self, reference, question):
        """Largest |this - reference| / |reference| over the hours (equal values, NaN or not: 0)."""
        mine, truth = self.values[question], reference.values[question]
        with np.errstate(invalid="ignore", divide="ignore"):
            error = np.abs(mine - truth) / np.abs(truth)
        error = np.where((mine == truth) | (np.isnan(mine) & np.isnan(truth)), 0.0, error)
        return float(np.nanmax(error, initial=0.0))


def gauge_keys(series_list):
    return [s.key for s in series_list if metric_kind(s.name, s.values) == GAUGE]


def _hour_groups(timestamps, width):
    """(order that sorts by hour, stably; start of each hour group in that order; the hours)."""
    hours = bucket_starts(timestamps, width)
    order = np.argsort(hours, kind="stable")
    hours = hours[order]
    starts = np.flatnonzero(np.diff(hours, prepend=np.iinfo(np.int64).min)) if len(hours) else np.empty(0, np.int64)
    return order, starts, hours[starts]


def _raw_hourly(timestamps, values, width, questions):
    order, starts, hours = _hour_groups(timestamps, width)
    values = quiet_nans(values[order])
    group = _group_of(starts, len(values))
    answers = {}
    if "max" in questions:
        answers["max"] = np.fmax.reduceat(values, starts) if len(starts) else np.empty(0)
    if "avg" in questions:
        real = ~np.isnan(values)
        count = np.bincount(group[real], minlength=len(starts))
        with np.errstate(invalid="ignore", divide="ignore"):
            answers["avg"] = np.bincount(group[real], weights=values[real], minlength=len(starts)) / count
    if "p99" in questions:
        finite = np.isfinite(values)
        sorted_positions = np.lexsort((values[finite], group[finite]))
        finite_group, finite_values = group[finite][sorted_positions], values[finite][sorted_positions]
        n_finite = np.bincount(finite_group, minlength=len(starts))
        first = np.concatenate(([0], np.cumsum(n_finite)[:-1])).astype(np.int64)
        rank = np.floor(QUANTILES["p99"] * (n_finite - 1)).astype(np.int64)
        answers["p99"] = np.full(len(starts), np.nan)
        answers["p99"][n_finite > 0] = finite_values[(first + rank)[n_finite > 0]]
    return hours, answers


def answer_from_raw(raw_path, keys, groups=(QUESTIONS,), width=HOUR_NS, check=None):
    """The questions answered from every raw point: one Answers per group of questions. The points
    are read once; each group's time is that reading plus its own computing, as if it ran alone.
    `check(series)` (untimed) may inspect each series as it is read, e.g. to prove the file holds
    the dataset."""
    read_seconds, values_read, hours = 0.0, 0, []
    seconds = [0.0] * len(groups)
    parts = [{q: [] for q in group} for group in groups]
    with MetricsFile(raw_path) as f:
        index_bytes = f.bytes_read
        for name, labels in keys:
            start = time.perf_counter()
            series = f.read_series(name, dict(labels))
            read_seconds += time.perf_counter() - start
            if check is not None:
                check(series)
            values_read += len(series)
            for number, group in enumerate(groups):
                start = time.perf_counter()
                h, answers = _raw_hourly(series.timestamps, series.values, width, group)
                seconds[number] += time.perf_counter() - start
                for q in group:
                    parts[number][q].append(answers[q])
            hours.append(h)
        bytes_read = f.bytes_read - index_bytes
    hours = _join(hours, np.int64)
    return [Answers(RAW_SOURCE, hours, {q: _join(v) for q, v in part.items()}, values_read, read_seconds + spent,
                    tuple(group), bytes_read) for group, part, spent in zip(groups, parts, seconds)]


def answer_from_level(path, label, keys, questions=QUESTIONS, width=HOUR_NS):
    """The questions answered from one roll-up file, reading only the columns they need (and the
    count column, which says which buckets exist)."""
    hours, parts, values_read = [], {q: [] for q in questions}, 0
    answered = set(questions)
    with MetricsFile(path) as f:
        columns_of = group_columns(f.series)
        index_bytes = f.bytes_read
        start = time.perf_counter()  # the index is read once when a file is opened, as a database keeps it
        for name, labels in keys:
            entries = columns_of[series_key(name, dict(labels))]
            answered &= {q for q in questions if set(COLUMNS_READ[q]) <= set(entries)}
            wanted = ["count"] + [c for q in questions for c in COLUMNS_READ[q] if c in entries]
            columns = {c: f.read_series(name, entries[c]) for c in dict.fromkeys(wanted)}
            values_read += sum(len(c) for c in columns.values())
            bucket_start = columns["count"].timestamps
            hour_of_bucket = bucket_starts(bucket_start, width)
            starts = np.flatnonzero(np.diff(hour_of_bucket, prepend=np.iinfo(np.int64).min)) if len(bucket_start) else np.empty(0, np.int64)
            hours.append(hour_of_bucket[starts])
            group = _group_of(starts, len(bucket_start))
            reduce = (lambda ufunc, v: ufunc.reduceat(v, starts)) if len(starts) else (lambda ufunc, v: np.empty(0))
            if "max" in questions:
                parts["max"].append(reduce(np.fmax, columns["max"].values) if "max" in columns else np.full(len(starts), np.nan))
            if "avg" in questions:
                with np.errstate(invalid="ignore", divide="ignore"):
                    parts["avg"].append(reduce(np.add, columns["sum"].values) / reduce(np.add, columns["count"].values))
            if "p99" in questions:
                parts["p99"].append(_p99_from_sketch(columns, bucket_start, group, len(starts)))
        seconds = time.perf_counter() - start
        bytes_read = f.bytes_read - index_bytes
    return Answers(label, _join(hours, np.int64), {q: _join(v) for q, v in parts.items()}, values_read, seconds,
                   tuple(q for q in questions if q in answered), bytes_read)


def best_of(repeats, answer):
    """Call `answer()` (returning an Answers, or a list of them) `repeats` times and keep the first
    result with each part's fastest time: the values do not change between runs, the load does."""
    results = [answer() for _ in range(max(repeats, 1))]
    if isinstance(results[0], Answers):
        return replace(results[0], seconds=min(r.seconds for r in results))
    return [replace(part, seconds=min(r[i].seconds for r in results)) for i, part in enumerate(results[0])]


def _p99_from_sketch(columns, bucket_start, group, n_hours):
    if "sketch_key" not in columns:
        return np.full(n_hours, np.nan)
    row = np.searchsorted(bucket_start, columns["sketch_key"].timestamps)
    sketch = Sketch(row, columns["sketch_sign"].values.astype(np.int8), columns["sketch_key"].values.astype(np.int32),
                    columns["sketch_count"].values.astype(np.int64))
    return sketch_quantiles(regroup_sketch(sketch, group), n_hours, QUANTILES["p99"])


def _group_of(starts, n):
    """Group number of each of n sorted entries, given where each group starts: [0, 2] -> 0 0 1 1 1."""
    return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))


def _join(parts, dtype=np.float64):
    return np.concatenate([np.empty(0, dtype)] + parts)
