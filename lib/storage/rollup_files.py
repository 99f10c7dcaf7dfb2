"""Roll-ups on disk: each resolution is one METRICS! file (lib/storage/metrics_file.py), read on demand.

A roll-up is a table per series: one row per bucket, one column per stored aggregate, plus the
sparse DDSketch table of a gauge. Instead of inventing another format, each column becomes an
ordinary series in the phase-4 file, told apart by two reserved labels:

    cpu_usage_percent{host="a", __rollup__="max",   __resolution__="300s"}  bucket starts -> max
    cpu_usage_percent{host="a", __rollup__="count", __resolution__="300s"}  bucket starts -> count
    cpu_usage_percent{host="a", __rollup__="sketch_key", ...}   one point per sketch entry:
        timestamp = start of the entry's bucket, value = key (likewise sketch_sign, sketch_count)

A light file (fine levels) holds only the LIGHT_FIELDS columns and no sketch; a reader tells the
two apart by the columns present.

So every roll-up file gets the index, random access, checksums and compression of phase 4 for
free, and a reader fetches one series' `max` column without touching anything else. Counts are
stored as float64 (exact below 2**53). One file per resolution keeps each level independently
replaceable, as a retention policy would: drop the 1-minute file after a month, keep the hours.
The file names, the reserved labels and which columns each kind of roll-up stores are specified
in docs/format.md ("Roll-up files").
"""
import os
from pathlib import Path

import numpy as np

from lib.data.dataset import DAY_NS, HOUR_NS, MINUTE_NS, NS_PER_SECOND, Series, first_difference, series_key
from lib.errors import FormatError, RoundTripError
from lib.rollup.exact_sums import restore_exact_sums
from lib.rollup.kinds import COUNTER, GAUGE, INTEGER_FIELDS, LIGHT_FIELDS, STORED_FIELDS
from lib.rollup.levels import Rollup
from lib.rollup.queries import choose_resolution, query
from lib.rollup.sketch import Sketch
from lib.storage.metrics_file import MetricsFile
from lib.storage.streaming_writer import write_file

ROLLUP_LABEL = "__rollup__"
# The levels that keep only LIGHT_FIELDS: a 1-minute bucket of 15 s scrapes holds about 4 points, too
# few for a sketch to pay (phase 5's report measures what each aggregate would cost there).
LIGHT_RESOLUTIONS = (MINUTE_NS,)
RESOLUTION_LABEL = "__resolution__"
SKETCH_COLUMNS = ("sketch_sign", "sketch_key", "sketch_count")
SKETCH_DTYPES = {"sketch_sign": np.int8, "sketch_key": np.int32, "sketch_count": np.int64}


TIME_UNITS_NS = (("d", DAY_NS), ("h", HOUR_NS), ("m", MINUTE_NS), ("s", NS_PER_SECOND), ("ns", 1))


def resolution_label(resolution_ns):
    """Shortest exact name of a bucket width: 60 s -> "1m", 90 s -> "90s", 1 h -> "1h"."""
    unit, size = next((u, n) for u, n in TIME_UNITS_NS if resolution_ns % n == 0)
    return f"{resolution_ns // size}{unit}"


def parse_resolution_label(text):
    """The inverse of resolution_label: "1m" -> 60 s in ns, "1500000ns" -> 1.5 ms; ValueError otherwise."""
    for unit, size in TIME_UNITS_NS:
        number = text.removesuffix(unit)
        if number != text and number.isascii() and number.isdigit() and int(number) > 0:
            return int(number) * size
    raise ValueError(f"{text!r} is not a resolution such as 1m, 90s or 1h")


ROLLUP_FILE_PREFIX = "05_rollup_"
ROLLUP_FILE_GLOB = f"{ROLLUP_FILE_PREFIX}*.bin"


def rollup_filename(resolution_ns):
    return f"{ROLLUP_FILE_PREFIX}{resolution_label(resolution_ns)}.bin"


def column_labels(labels, column, resolution_ns):
    if ROLLUP_LABEL in labels or RESOLUTION_LABEL in labels:
        raise ValueError(f"labels {ROLLUP_LABEL} and {RESOLUTION_LABEL} are reserved for roll-up files")
    return {**labels, ROLLUP_LABEL: column, RESOLUTION_LABEL: resolution_label(resolution_ns)}


def stored_columns(kind, light):
    """The columns a roll-up file holds for a kind: every aggregate and the sketch, or (light) only
    LIGHT_FIELDS."""
    if light:
        return LIGHT_FIELDS[kind]
    return STORED_FIELDS[kind] + (SKETCH_COLUMNS if kind == GAUGE else ())


def is_light(rollup):
    """True for a roll-up holding only LIGHT_FIELDS (as read back from a light file)."""
    return set(rollup.fields) == set(LIGHT_FIELDS[rollup.kind]) and rollup.sketch is None


def rollup_to_series(rollup, light=False):
    """The columns of one roll-up as series for the phase-4 file."""
    columns = [
        Series(rollup.name, column_labels(rollup.labels, field, rollup.resolution_ns),
               rollup.bucket_start, rollup.fields[field].astype(np.float64))
        for field in stored_columns(rollup.kind, light) if field in STORED_FIELDS[rollup.kind]
    ]
    if rollup.kind == GAUGE and not light:
        sketch = rollup.sketch
        entry_times = rollup.bucket_start[sketch.row]
        for column, data in zip(SKETCH_COLUMNS, (sketch.sign, sketch.key, sketch.count)):
            columns.append(Series(rollup.name, column_labels(rollup.labels, column, rollup.resolution_ns),
                                  entry_times, data.astype(np.float64)))
    return columns


def write_rollups(path, rollups, block_points, light=False):
    """Write one resolution's roll-ups to a METRICS! file; returns its size in bytes."""
    return write_file(path, [column for r in rollups for column in rollup_to_series(r, light)], block_points)


def write_verified(path, write, verify):
    """`write(temp_path)`, then `verify(temp_path)`, and only then rename it over `path`: a file
    that fails its check never replaces the previous one (the temporary file is removed)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.unverified")
    try:
        size = write(temporary)
        verify(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return size


def write_level(path, columns, block_points):
    """Write one level's columns (series, canonical order) so that `path` only ever holds a file
    that read back identical: through a temporary file checked column by column (`check_holds`)
    before it replaces `path`. Returns the file's size; raises RoundTripError on a difference."""
    return write_verified(path, lambda temporary: write_file(temporary, columns, block_points),
                          lambda temporary: check_holds(temporary, columns))


def check_holds(path, columns):
    """Raise RoundTripError unless the METRICS! file at `path` holds exactly these series, read
    back one at a time (memory stays that of one column)."""
    with MetricsFile(path) as f:
        if [e.key for e in f.series] != [c.key for c in columns]:
            raise RoundTripError(f"{path}: the file lists other columns than were written")
        for column in columns:
            difference = first_difference([column], [f.read_series(column.name, column.labels)])
            if difference is not None:
                raise RoundTripError(f"{path}: {difference}")


def rollup_from_columns(name, labels, resolution_ns, columns):
    """Rebuild a Rollup from its columns {column name: Series}; checks that they agree."""
    kind = COUNTER if "increase" in columns else GAUGE
    where = f"roll-up of {name}{labels} at {resolution_label(resolution_ns)}"
    if set(columns) not in (set(stored_columns(kind, light)) for light in (False, True)):
        raise FormatError(f"{where}: columns {sorted(columns)} do not make a {kind} roll-up")
    light = set(columns) == set(stored_columns(kind, True))
    bucket_start = columns["count"].timestamps
    check_buckets(where, bucket_start, resolution_ns)
    fields = {}
    for field in (f for f in stored_columns(kind, light) if f in STORED_FIELDS[kind]):
        if not np.array_equal(columns[field].timestamps, bucket_start):
            raise FormatError(f"{where}: column {field} has other buckets than count")
        values = columns[field].values
        if field in INTEGER_FIELDS:
            check_integers(where, field, values, 0, MAX_EXACT_INTEGER)
            values = values.astype(np.int64)
        fields[field] = values
    sketch = None
    if kind == GAUGE and not light:
        sketch = sketch_from_columns(where, bucket_start, columns)
        check_sketch_counts(where, sketch, bucket_start, fields["count"])
    return Rollup(name, labels, kind, resolution_ns, bucket_start, fields, sketch)


def check_buckets(where, bucket_start, resolution_ns):
    """Refuse bucket starts that are not a multiple of the resolution (floor(t / width) * width is),
    or not in increasing time order: queries find buckets by bisection and assume both."""
    off_grid = np.flatnonzero(bucket_start % resolution_ns)
    if off_grid.size:
        raise FormatError(f"{where}: bucket start {int(bucket_start[off_grid[0]])} is not a multiple of "
                          f"the resolution ({resolution_ns} ns)")
    if np.any(bucket_start[1:] <= bucket_start[:-1]):
        raise FormatError(f"{where}: buckets are not in increasing time order, or one is repeated")


def check_sketch_counts(where, sketch, bucket_start, bucket_count):
    """Refuse a bucket whose sketch entries count more values than the bucket holds: the sketch
    counts its finite values, `count` every value but NaN. The sums are taken exactly modulo 2**64
    and again in float64, which cannot wrap: a sum past 2**64 is caught by the second."""
    if not len(sketch):
        return
    starts = np.flatnonzero(np.concatenate(([True], sketch.row[1:] != sketch.row[:-1])))  # in bucket order
    held = bucket_count[sketch.row[starts]]
    exact = np.add.reduceat(sketch.count.astype(np.uint64), starts)
    rough = np.add.reduceat(sketch.count.astype(np.float64), starts)
    over = np.flatnonzero((exact > held.astype(np.uint64)) | (rough > held))
    if over.size:
        bucket = int(bucket_start[sketch.row[starts[over[0]]]])
        raise FormatError(f"{where}: the sketch of the bucket at {bucket} counts more values than "
                          f"the bucket's count, {int(held[over[0]])}")


MAX_EXACT_INTEGER = 1 << 53  # counts are stored as float64, exact up to here
# What each sketch column may hold: (smallest, largest) integer. Sign 0 counts zeros, with key 0.
SKETCH_RANGES = {"sketch_sign": (-1, 1), "sketch_key": (-(1 << 31), (1 << 31) - 1), "sketch_count": (1, MAX_EXACT_INTEGER)}


def check_integers(where, column, values, low, high):
    """Refuse a column that should hold integers in low..high but holds 0.5, NaN or 1e300."""
    if not np.all((values >= low) & (values <= high) & (values == np.floor(values))):
        raise FormatError(f"{where}: {column} holds values that are not integers in {low}..{high}")


def sketch_from_columns(where, bucket_start, columns):
    """The Sketch of a gauge's three sketch columns, after checking docs/format.md's rules: one point
    per entry in each column at the same times, each time a bucket of `count`, in bucket order,
    by value within a bucket, and integers in range (a sign of 7 or a count of 0.5 is damage)."""
    entry_times = columns["sketch_key"].timestamps
    if any(not np.array_equal(columns[c].timestamps, entry_times) for c in SKETCH_COLUMNS):
        raise FormatError(f"{where}: the sketch columns do not have one point per entry each")
    row = np.searchsorted(bucket_start, entry_times)
    if np.any(row >= len(bucket_start)) or not np.array_equal(bucket_start[np.minimum(row, len(bucket_start) - 1)], entry_times):
        raise FormatError(f"{where}: sketch entries point at buckets that do not exist")
    for column, (low, high) in SKETCH_RANGES.items():
        check_integers(where, column, columns[column].values, low, high)
    sign, key = columns["sketch_sign"].values, columns["sketch_key"].values
    if np.any((sign == 0) & (key != 0)):
        raise FormatError(f"{where}: a sketch entry for zeros has a key other than 0")
    # Within a bucket the entries go up by the value they stand for: by sign, then by sign * key
    # (a larger key is a larger magnitude). Quantiles walk them in this order, so a swap or a
    # repeat would change the answers without a word.
    step_row, step_sign, step_key = np.diff(row), np.diff(sign), np.diff(sign * key)
    ascending = (step_row > 0) | ((step_row == 0) & ((step_sign > 0) | ((step_sign == 0) & (step_key > 0))))
    if not ascending.all():
        raise FormatError(f"{where}: sketch entries are not in bucket, then value order, or repeat one")
    return Sketch(row.astype(np.int64), *(columns[c].values.astype(SKETCH_DTYPES[c]) for c in SKETCH_COLUMNS))


def read_rollups(path, resolution_ns):
    """Every roll-up in one resolution's file, in the file's order of series."""
    with MetricsFile(path) as f:
        columns = group_columns(f.series)
        return [
            rollup_from_columns(name, dict(labels), resolution_ns,
                                {column: f.read_series(name, full) for column, full in entries.items()})
            for (name, labels), entries in columns.items()
        ]


def group_columns(entries):
    """{(name, labels without the reserved ones): {column: full labels}} from a file's index."""
    grouped = {}
    for entry in entries:
        labels = dict(entry.labels)
        column = labels.pop(ROLLUP_LABEL, None)
        labels.pop(RESOLUTION_LABEL, None)
        if column is None:
            raise FormatError(f"series {entry.display_name()} is not a roll-up column")
        grouped.setdefault(series_key(entry.name, labels), {})[column] = entry.labels
    return grouped


def column_bytes(path, kind_of):
    """Bytes of data blocks per (kind, column) in a roll-up file, from its index alone.

    `kind_of(name, labels)` gives a series' kind. The header and the index are left out: they grow
    with the number of series, not with time, so they would not grow with a longer span.
    """
    with MetricsFile(path) as f:
        totals = {}
        for entry in f.series:
            labels = dict(entry.labels)
            column = labels.pop(ROLLUP_LABEL, None)
            labels.pop(RESOLUTION_LABEL, None)
            key = (kind_of(entry.name, labels), column)
            totals[key] = totals.get(key, 0) + sum(b.length for b in entry.blocks)
    return totals


class RollupStore:
    """Answers aggregate queries from the right file: raw points for short ranges, roll-ups for long.

    `raw_path` is the phase-4 file of raw points; `rollup_paths` maps resolution_ns to its file.
    Only the blocks of the one series and the one resolution a query needs are read.
    """

    def __init__(self, raw_path, rollup_paths):
        self.raw_path = Path(raw_path)
        self.rollup_paths = dict(rollup_paths)

    def read_rollup(self, resolution_ns, name, labels):
        with MetricsFile(self.rollup_paths[resolution_ns]) as f:
            entries = group_columns(f.series).get(series_key(name, labels))
            if entries is None:
                raise KeyError(f"no roll-up of {name}{labels} at {resolution_label(resolution_ns)}")
            columns = {column: f.read_series(name, full) for column, full in entries.items()}
        return restore_exact_sums(rollup_from_columns(name, labels, resolution_ns, columns))

    def query(self, name, labels, aggregate, start_ns, end_ns, max_points):
        """One aggregate of one series over [start_ns, end_ns): a lib.rollup.queries.QueryResult.

        When the range holds at most `max_points` raw points the answer comes from those points
        (resolution RAW_RESOLUTION, only points inside the range count); otherwise from the roll-up
        that `choose_resolution` picks (or the next coarser one holding the aggregate), with edge
        buckets counted whole.
        """
        chosen = choose_resolution(start_ns, end_ns, self.rollup_paths, max_points)
        for resolution in sorted(r for r in self.rollup_paths if r >= chosen):  # a light level may lack it
            rollup = self.read_rollup(resolution, name, labels)
            if aggregate in rollup.available():
                break
        raw = None
        with MetricsFile(self.raw_path) as f:
            # Blocks wholly inside the range already hold too many points? Then skip decoding raw.
            if f.points_surely_in_range(name, labels, start_ns, end_ns) <= max_points:
                raw = f.read_range(name, labels, start_ns, end_ns)
        raw = raw if raw is not None and len(raw) <= max_points else None
        return query({resolution: rollup}, aggregate, start_ns, end_ns, max_points, raw=raw)
