"""Downsampling: roll raw points up into fixed time buckets, keeping what queries need.

The idea
--------
A year of 10-second samples is 3.2 million points per series. Nobody draws them all: a dashboard
spanning a month shows a few hundred values, each summarising many raw points. So time-series
databases keep *roll-ups*: per series and per time bucket (by default 1 min, 5 min, 1 h), a handful of
aggregates instead of the points. Queries over long ranges read the coarse level and touch
hundreds of rows instead of millions of points.

The trade-off: what is lost
---------------------------
A bucket forgets the shape inside it. You can still answer "what was the max / mean / total / p99
in this hour", but not "what happened at 10:17:30", and nothing you did not decide to keep can be
recovered later. Three consequences shape this module:

* Some aggregates merge exactly: the count, sum, min, max, first and last of an hour follow from
  those of its minutes. Coarser levels are therefore computed FROM the finer level, never from the
  raw points again, and the tests prove the result equals the direct computation from raw.
* Percentiles do not merge: the p99 of an hour is not the average (nor the max) of the minutes'
  p99s. Averaging them is a classic bug that hides exactly the spikes p99 exists to show. So every
  gauge bucket keeps a small mergeable histogram (a DDSketch, below) from which any percentile of
  any coarser bucket is read with a guaranteed relative error of at most SKETCH_ALPHA (1%).
* Counters are not gauges. A counter (`http_requests_total`) is a running total; the mean of its
  raw totals over an hour means nothing. What people ask is "how much did it increase" and "at what
  rate", so counters store their increase, with counter resets handled the Prometheus way.

What each kind stores (per bucket)
----------------------------------
gauge   : count, nan_count, sum, min, max, first, last, and a DDSketch of the values.
          Derived on read: avg = sum / count, p50 / p95 / p99 from the sketch.
counter : count, nan_count, first, last, increase.
          Derived on read: rate = increase / bucket width in seconds.
Gauges keep no increase (a gauge going down is not a reset); counters keep no sum, min, max or
sketch (sums and percentiles of running totals answer no question anyone asks).
A light roll-up (LIGHT_FIELDS, for fine levels where a bucket holds few points) keeps only count,
sum, min, max (gauge) or count, increase (counter): it answers avg and rate but no percentile,
and `Rollup.available()` says so.

`metric_kind(name, values)` decides the kind by Prometheus naming conventions: a name ending in
`_total`, `_count`, `_sum` or `_bucket` is a counter, unless one of its values is negative (a
histogram's `_sum` of negative observations can decrease, so it behaves like a gauge). Everything
else is a gauge.

Buckets and ordering
--------------------
A point at timestamp `ts` (int64 ns) belongs to the bucket starting at `ts // width * width`:
floor division, so a point at -1 ns falls into the bucket [-width, 0). Imported data may be
unsorted or hold duplicate timestamps: points are ordered by timestamp with a stable sort, so
points sharing a timestamp keep their input order. That order decides `first`, `last` and the
counter deltas. Duplicates are not removed (each is counted); that is the importer's job.
Timestamps must stay at least one bucket width away from the int64 limits.

A bucket exists iff at least one point (even a NaN one) falls into it: empty buckets are absent,
and partial buckets (a gap, a series starting mid-bucket) keep their true `count`, so a reader can
tell a quiet bucket (count low) from missing data (no row).

NaN
---
NaN means "no value" to a monitoring user (Prometheus writes NaN as a stale marker when a target
disappears). Every NaN bit pattern (quiet, signalling, any payload or sign) counts alike. NaN
samples are therefore excluded from every value aggregate: `count` counts the real samples (it is
what `avg` divides by) and `nan_count` the NaN ones. A bucket holding only NaNs
exists with count 0, sum 0.0, increase 0.0 and NaN for min, max, first, last and the percentiles.
Counter deltas skip NaN samples (the delta runs from the previous real sample), as Prometheus does.
A zero min or max is stored as +0.0, whichever zero the bucket held, so that the result does not
depend on the order of reduction. Infinities are ordinary values for count, min, max, first, last; a gauge sum containing +inf
(-inf) is +inf (-inf), both give NaN; a counter bucket whose delta is not finite has NaN increase.
The sketch covers finite values only.

Counter increase, precisely
---------------------------
Over a series' real samples v0, v1, ... in time order, sample i > 0 carries the delta
    d_i = v_i - v_(i-1)   if v_i >= v_(i-1)
    d_i = v_i             otherwise (a drop means a reset: the counter restarted from 0)
and d_i is credited to the bucket that holds sample i (the later sample of the pair), even when
v_(i-1) lies in an earlier bucket. The first sample of a series carries no delta: it only sets the
baseline. Hence the bucket increases sum exactly to the whole-range increase, for every bucket
width. Unlike Prometheus' `increase()`, nothing is extrapolated to the bucket edges.
Example: samples [1, 5, 2, 4] give deltas [-, 4, 2, 2] (5 -> 2 is a reset counting 2), increase 8.

Exact sums
----------
Float addition is not associative, so "sum of the minute sums" would differ from "sum of the raw
points" in the last bits. Instead every sum (gauge sum, counter increase) is accumulated exactly:
each float is an integer mantissa times a power of two, so all of a series' values are integers in
units of 2**e0 (e0 = the smallest exponent among them), which are added exactly in int64 "limbs" of
32 bits each (a superaccumulator). The stored `sum` is that exact total rounded once to float64
(correctly rounded, as `math.fsum` would give). The limbs travel with the roll-up in memory
(`Rollup.exact`) so the next coarser level adds the limbs, not the rounded floats: fine -> coarse is
bit-identical to raw -> coarse. The number of limbs per bucket follows the series' exponent range:
about 4 for everyday metrics, 67 for values spread from 1e-300 to 1e300 (all levels of 1M such
points still take under 3 s). A file that keeps only the float64 `sum` can still answer queries,
but re-rolling it up would round once per level.

Percentile sketches (DDSketch)
------------------------------
With alpha = 0.01 and gamma = (1 + alpha) / (1 - alpha), a positive value x goes to key
k = ceil(log_gamma(x)), i.e. the bucket (gamma**(k-1), gamma**k]; reading it back as
2 * gamma**k / (gamma + 1) is within a relative error alpha of every x in that bucket. Negative
values use the same keys on -x in a separate store (sign -1), zeros have their own count (sign 0,
key 0). Sketches merge by adding counts of equal (sign, key), so a merged sketch is identical to the
sketch of the union and the bound survives any number of merges. The bound holds for normal floats
(|x| >= 2.2e-308); subnormals are kept but estimated less precisely.

Representation (`Sketch`): one sparse table per roll-up with columns
`row` (int64, index of the bucket), `sign` (int8: -1, 0, +1), `key` (int32), `count` (int64),
sorted by row, then by the value the entry represents (ascending). The table is canonical: equal
multisets of keys give equal arrays.

Quantile rank: for n values and quantile q, the estimate is the value of rank floor(q * (n - 1))
(0-based) in ascending order: the DDSketch paper's lower rank. `exact_quantile` uses the same rank
on the raw values, so the sketch is compared with the percentile it promises to approximate.

Queries
-------
`choose_resolution` picks the finest resolution whose number of buckets overlapping the range stays
within `max_points` (among the levels that hold the aggregate asked for); `query` answers one
aggregate over a time range from the roll-up at that resolution (or from raw points when there are
few enough), merging buckets with the same exact
machinery as the roll-up itself. Buckets overlapping the range edges are included whole, so the
answer covers the range widened to bucket boundaries, which the result reports.
"""
import math
from dataclasses import dataclass, replace

import numpy as np

from lib.data.dataset import HOUR_NS, MINUTE_NS, NS_PER_SECOND

DEFAULT_RESOLUTIONS_NS = (MINUTE_NS, 5 * MINUTE_NS, 15 * MINUTE_NS, HOUR_NS)
RAW_RESOLUTION = 0
DEFAULT_MAX_POINTS = 1000

GAUGE = "gauge"
COUNTER = "counter"
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")

QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
AGGREGATES = ("count", "nan_count", "sum", "avg", "min", "max", "first", "last", "increase", "rate") + tuple(
    QUANTILES
)
STORED_FIELDS = {
    GAUGE: ("count", "nan_count", "sum", "min", "max", "first", "last"),
    COUNTER: ("count", "nan_count", "first", "last", "increase"),
}
# What a cheap fine level keeps (Thanos' downsampled blocks keep count, sum, min, max and the counter
# increase): enough for avg, min, max and rate, no sketch, so no percentiles at that level.
LIGHT_FIELDS = {GAUGE: ("count", "sum", "min", "max"), COUNTER: ("count", "increase")}
DERIVED_AGGREGATES = {GAUGE: ("avg",) + tuple(QUANTILES), COUNTER: ("rate",)}
# Each derived aggregate and what it is read from ("sketch": the DDSketch table).
DERIVED_FROM = {"avg": ("sum", "count"), "rate": ("increase",), **{q: ("sketch",) for q in QUANTILES}}
INTEGER_FIELDS = ("count", "nan_count")

SKETCH_ALPHA = 0.01
SKETCH_GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)
_LOG_GAMMA = math.log(SKETCH_GAMMA)

_LIMB_BITS = 32
_LIMB_MASK = (1 << _LIMB_BITS) - 1
# A value's 53-bit mantissa shifted by up to 31 bits touches 3 limbs; 2 more absorb carries.
_LIMB_SPREAD = 3
_LIMB_HEADROOM = 2


@dataclass
class Sketch:
    """DDSketch entries of every bucket of one roll-up (see the module docstring)."""

    row: np.ndarray
    sign: np.ndarray
    key: np.ndarray
    count: np.ndarray

    def __len__(self):
        return len(self.row)


@dataclass
class ExactSum:
    """The exact value of each bucket's `sum` (gauge) or `increase` (counter):
    sum(limbs[b, k] * 2**(32*k)) * 2**exponent, limbs int64[B, L], exponent per series.

    In memory only; it lets coarser levels add exact totals instead of rounded floats.
    """

    limbs: np.ndarray
    exponent: int


@dataclass
class Rollup:
    """One series rolled up at one resolution; all arrays have one entry per non-empty bucket."""

    name: str
    labels: dict
    kind: str
    resolution_ns: int
    bucket_start: np.ndarray
    fields: dict
    sketch: Sketch = None
    exact: ExactSum = None

    def __len__(self):
        return len(self.bucket_start)

    def available(self):
        """The aggregates this roll-up can answer: those it stores, and those derived from them (a
        light roll-up, without some fields or the sketch, answers fewer)."""
        held = set(self.fields) | ({"sketch"} if self.sketch is not None else set())
        stored = tuple(f for f in STORED_FIELDS[self.kind] if f in self.fields)
        return stored + tuple(a for a in DERIVED_AGGREGATES[self.kind] if held.issuperset(DERIVED_FROM[a]))

    def aggregate(self, name):
        """Per-bucket values of aggregate `name`, stored or derived."""
        if name not in self.available():
            raise ValueError(f"aggregate {name!r} is not available for a {self.kind} (choose from {self.available()})")
        if name in self.fields:
            return self.fields[name]
        if name == "avg":
            with np.errstate(invalid="ignore", divide="ignore"):
                return self.fields["sum"] / self.fields["count"]
        if name == "rate":
            return self.fields["increase"] / (self.resolution_ns / NS_PER_SECOND)
        return sketch_quantiles(self.sketch, len(self), QUANTILES[name])


def metric_kind(name, values):
    """"counter" for Prometheus counter names (suffix in COUNTER_SUFFIXES) with no negative value."""
    if name.endswith(COUNTER_SUFFIXES) and not np.any(np.asarray(values) < 0):
        return COUNTER
    return GAUGE


def bucket_starts(timestamps, width_ns):
    """Start of the aligned bucket holding each timestamp (floor division, also below zero)."""
    return np.asarray(timestamps, dtype=np.int64) // width_ns * width_ns


def buckets_in_range(start_ns, end_ns, width_ns):
    """Number of aligned buckets of `width_ns` that overlap the half-open range [start, end)."""
    return -(-end_ns // width_ns) - start_ns // width_ns


def quantile_rank(q, n):
    """0-based rank of quantile q among n sorted values: floor(q * (n - 1)), the DDSketch definition."""
    return np.floor(q * (np.asarray(n) - 1)).astype(np.int64)


def exact_quantile(values, q):
    """The q-quantile of the finite values, with the same rank as the sketch; NaN if there are none."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.sort(values[np.isfinite(values)])
    if len(finite) == 0:
        return math.nan
    return float(finite[quantile_rank(q, len(finite))])


def check_resolutions(resolutions):
    """Resolutions must increase and each must be a multiple of the previous one, so that a coarse
    bucket is exactly a union of finer buckets."""
    resolutions = tuple(int(r) for r in resolutions)
    if not resolutions:
        raise ValueError("at least one resolution is needed")
    for finer, coarser in zip(resolutions, resolutions[1:]):
        if coarser <= finer or coarser % finer:
            raise ValueError(f"resolution {coarser} ns is not a larger multiple of {finer} ns")
    if resolutions[0] <= 0:
        raise ValueError(f"resolutions must be positive, got {resolutions[0]}")
    return resolutions


def check_timestamps_fit(series_list, widest_ns):
    """Refuse timestamps within one bucket of the int64 limits: their bucket start would overflow."""
    info = np.iinfo(np.int64)
    for s in series_list:
        if len(s) and (int(s.timestamps.min()) < info.min + widest_ns or int(s.timestamps.max()) > info.max - widest_ns):
            raise ValueError(
                f"{s.name}{s.labels}: timestamps within {widest_ns} ns of the int64 limits "
                f"(years 1677 and 2262) cannot be bucketed"
            )


def rollup_dataset(series_list, resolutions=DEFAULT_RESOLUTIONS_NS):
    """Roll up every series at every resolution: {resolution_ns: [Rollup per series, dataset order]}.

    The finest level is computed from the raw points; each coarser level from the one before it.
    """
    resolutions = check_resolutions(resolutions)
    check_timestamps_fit(series_list, resolutions[-1])
    levels = {r: [None] * len(series_list) for r in resolutions}
    for kind, indices in _indices_by_kind(series_list).items():
        group = [series_list[i] for i in indices]
        batch = _batch_from_points(group, kind, lambda ts: bucket_starts(ts, resolutions[0]))
        for position, resolution in enumerate(resolutions):
            if position:
                batch = _merge_rows(batch, bucket_starts(batch.bucket_start, resolution))
            for i, rollup in zip(indices, _split(batch, group, resolution)):
                levels[resolution][i] = rollup
    return levels


def rollup_series(series, resolutions=DEFAULT_RESOLUTIONS_NS):
    """Roll up one series: {resolution_ns: Rollup}."""
    return {r: rollups[0] for r, rollups in rollup_dataset([series], resolutions).items()}


def rollup_from_raw(series_list, resolution_ns):
    """One level computed straight from the raw points (the reference the cascade must match)."""
    return rollup_dataset(series_list, (resolution_ns,))[resolution_ns]


def coarsen(rollups, resolution_ns):
    """Roll finer roll-ups (all of one resolution) up into `resolution_ns`, a multiple of it."""
    result = []
    for kind, indices in _indices_by_kind_of_rollups(rollups).items():
        group = [rollups[i] for i in indices]
        check_resolutions((group[0].resolution_ns, resolution_ns))
        batch = _concat(group, kind)
        coarse = _merge_rows(batch, bucket_starts(batch.bucket_start, resolution_ns))
        result.extend(zip(indices, _split(coarse, group, resolution_ns)))
    return [rollup for _i, rollup in sorted(result, key=lambda pair: pair[0])]


def restore_exact_sums(rollup):
    """Rebuild the in-memory exact sums of a roll-up read back from a file.

    A file keeps only the rounded float64 `sum` (gauge) or `increase` (counter) per bucket. Taking
    each stored float as an exact value gives limbs again, so queries can merge buckets: the merged
    total is the correctly rounded sum of the stored bucket totals.
    """
    stored = rollup.fields["sum" if rollup.kind == GAUGE else "increase"]
    n = len(stored)
    zeros = np.zeros(n, dtype=np.int64)
    finite = np.where(np.isfinite(stored), stored, 0.0)
    limbs, exponent = _exact_sums(finite, zeros, np.arange(n), n, zeros, 1)
    return replace(rollup, exact=ExactSum(limbs, int(exponent[0]) if n else 0))


def buckets_ending_after(rollup, cutoff_ns):
    """The roll-up without its buckets that end at or before `cutoff_ns` (retention drops them);
    a bucket partly after the cutoff holds data inside the horizon and is kept whole."""
    first = int(np.searchsorted(rollup.bucket_start, cutoff_ns - rollup.resolution_ns, side="right"))
    return _slice(rollup, first, len(rollup))


def regroup_sketch(sketch, new_row):
    """Merge the sketch entries of rows that map to the same new row (`new_row[old row]`)."""
    return _canonical_sketch(np.asarray(new_row, dtype=np.int64)[sketch.row], sketch.sign, sketch.key, sketch.count)


def sketch_quantiles(sketch, n_rows, q):
    """Estimate the q-quantile of each of `n_rows` buckets from its sketch (NaN where empty)."""
    totals = np.bincount(sketch.row, weights=sketch.count, minlength=n_rows).astype(np.int64)
    result = np.full(n_rows, np.nan)
    filled = totals > 0
    if not filled.any():
        return result
    cumulative = np.cumsum(sketch.count)
    counted_before = np.concatenate(([0], np.cumsum(totals)[:-1]))
    target = counted_before[filled] + quantile_rank(q, totals[filled])
    entry = np.searchsorted(cumulative, target, side="right")
    result[filled] = _sketch_value(sketch.sign[entry], sketch.key[entry])
    return result


def sketch_of_values(values):
    """The one-bucket sketch of some values (used to show that merging equals the union)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return _sketch_from_values(np.zeros(len(finite), dtype=np.int64), finite)


def merge_sketches(sketches):
    """Merge one-bucket sketches into one (counts of equal (sign, key) add up)."""
    return _canonical_sketch(
        np.zeros(sum(len(s) for s in sketches), dtype=np.int64),
        np.concatenate([s.sign for s in sketches]),
        np.concatenate([s.key for s in sketches]),
        np.concatenate([s.count for s in sketches]),
    )


@dataclass
class QueryResult:
    """One aggregate over a range; [start_ns, end_ns) is the range actually covered."""

    value: float
    resolution_ns: int
    start_ns: int
    end_ns: int
    buckets: int


def choose_resolution(start_ns, end_ns, resolutions, max_points=DEFAULT_MAX_POINTS):
    """The finest resolution whose count of buckets overlapping [start, end) is <= max_points.

    If even the coarsest needs more, the coarsest is returned (a query must still be answered).
    """
    if end_ns <= start_ns:
        raise ValueError(f"empty time range [{start_ns}, {end_ns})")
    ordered = sorted(int(r) for r in resolutions)
    for resolution in ordered:
        if buckets_in_range(start_ns, end_ns, resolution) <= max_points:
            return resolution
    return ordered[-1]


def query(rollups, aggregate, start_ns, end_ns, max_points=DEFAULT_MAX_POINTS, raw=None):
    """Answer `aggregate` of one series over [start_ns, end_ns).

    `rollups` maps resolution_ns -> Rollup of the series. If `raw` (the Series) is given and holds at
    most `max_points` samples in the range, the answer comes from the raw points and covers exactly
    [start_ns, end_ns) (resolution RAW_RESOLUTION). Otherwise the roll-up chosen by
    `choose_resolution` answers, and every bucket overlapping the range counts whole: the covered
    range is widened to bucket boundaries. Counter increases credit each delta to its later sample,
    so a raw answer includes the delta from the last sample before `start_ns`.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}, choose from {AGGREGATES}")
    able = {r: rollup for r, rollup in rollups.items() if aggregate in rollup.available()} or rollups
    resolution = choose_resolution(start_ns, end_ns, able, max_points)
    if raw is not None:
        in_range = np.count_nonzero((raw.timestamps >= start_ns) & (raw.timestamps < end_ns))
        if in_range <= max_points:
            return _query_raw(raw, rollups[resolution].kind, aggregate, start_ns, end_ns)
    rollup = rollups[resolution]
    first = int(np.searchsorted(rollup.bucket_start, start_ns // resolution * resolution, side="left"))
    last = int(np.searchsorted(rollup.bucket_start, end_ns, side="left"))
    covered_start = start_ns // resolution * resolution
    covered_end = -(-end_ns // resolution) * resolution
    selected = _slice(rollup, first, last)
    merged = _merge_rows(_concat([selected], rollup.kind), np.full(last - first, covered_start, dtype=np.int64))
    [answer] = _split(merged, [selected], covered_end - covered_start)
    return QueryResult(_single_value(answer, aggregate), resolution, covered_start, covered_end, last - first)


def _query_raw(series, kind, aggregate, start_ns, end_ns):
    def bucket_of(ts):
        return np.where(ts < start_ns, start_ns - 1, np.where(ts >= end_ns, end_ns, start_ns))

    batch = _batch_from_points([series], kind, bucket_of)
    rows = _split(batch, [series], end_ns - start_ns)[0]
    position = int(np.searchsorted(rows.bucket_start, start_ns))
    answer = _slice(rows, position, position + int(position < len(rows) and rows.bucket_start[position] == start_ns))
    return QueryResult(_single_value(answer, aggregate), RAW_RESOLUTION, start_ns, end_ns, len(answer))


def _single_value(rollup, aggregate):
    if aggregate not in rollup.available():
        raise ValueError(f"aggregate {aggregate!r} is not available for a {rollup.kind}")
    if len(rollup) == 0:
        return 0.0 if aggregate in INTEGER_FIELDS + ("sum", "increase") else math.nan
    return rollup.aggregate(aggregate)[0].item()


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
        return _relative_error(self.sketch, self.exact)

    def naive_relative_error(self):
        return _relative_error(self.naive, self.exact)

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

    sid, ts, values = _finite_points(gauges)
    coarse_group = _group_ids(sid, bucket_starts(ts, coarse_ns))
    exact = _grouped_quantile(coarse_group, values, q)
    fine_group = _group_ids(sid, bucket_starts(ts, fine_ns))
    fine_quantiles = _grouped_quantile(fine_group, values, q)
    first_point_of_fine = np.unique(fine_group, return_index=True)[1]
    coarse_of_fine = coarse_group[first_point_of_fine]
    naive = np.bincount(coarse_of_fine, weights=fine_quantiles) / np.bincount(coarse_of_fine)
    return PercentileComparison(quantile, fine_ns, coarse_ns, exact, sketch, naive)


def _relative_error(estimate, exact):
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.abs(estimate - exact) / np.abs(exact)
    return np.where(estimate == exact, 0.0, error)


def _finite_points(series_list):
    """All finite points of the series, sorted by (series index, timestamp)."""
    sid, ts, values = _sorted_points(series_list)
    finite = np.isfinite(values)
    return sid[finite], ts[finite], values[finite]


def _group_ids(sid, keys):
    """Dense 0-based ids of (series, key) pairs, for points sorted by series then key."""
    new = np.ones(len(sid), dtype=bool)
    new[1:] = (sid[1:] != sid[:-1]) | (keys[1:] != keys[:-1])
    return np.cumsum(new) - 1


def _grouped_quantile(group, values, q):
    """Exact q-quantile of each group (group ids dense and non-decreasing)."""
    order = np.lexsort((values, group))
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    sizes = np.diff(np.append(starts, len(group)))
    return values[order][starts + quantile_rank(q, sizes)]


# Batches: the rows of many series of one kind, concatenated, so the work is vectorized over the
# whole dataset instead of looping over series. Rows are sorted by (series, bucket_start).


@dataclass
class _Batch:
    kind: str
    series: np.ndarray
    bucket_start: np.ndarray
    fields: dict
    limbs: np.ndarray
    exponent: np.ndarray
    sketch: Sketch = None


def _indices_by_kind(series_list):
    groups = {}
    for i, s in enumerate(series_list):
        groups.setdefault(metric_kind(s.name, s.values), []).append(i)
    return groups


def _indices_by_kind_of_rollups(rollups):
    groups = {}
    for i, r in enumerate(rollups):
        groups.setdefault(r.kind, []).append(i)
    return groups


def _sorted_points(series_list):
    """Concatenate the series; sort by (series, timestamp), stable so ties keep input order."""
    sizes = [len(s) for s in series_list]
    sid = np.repeat(np.arange(len(series_list), dtype=np.int64), sizes)
    ts = np.concatenate([np.empty(0, np.int64)] + [s.timestamps for s in series_list])
    values = np.concatenate([np.empty(0)] + [s.values for s in series_list])
    order = np.lexsort((ts, sid))
    return sid[order], ts[order], quiet_nans(values[order])


def quiet_nans(values):
    """Every NaN bit pattern as the one quiet NaN. A signalling NaN (0x7ff0000000000001) would
    otherwise win some comparisons inside fmin / fmax: max of [sNaN, 5, -3, 1] came out 1.0."""
    return np.where(np.isnan(values), np.nan, values)


def _group_bounds(new_group):
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(new_group))
    return starts, ends, np.cumsum(new_group) - 1


def _first_last(valid, starts, ends):
    """Index of the first and last valid entry in each [start, end) span, and whether there is one."""
    positions = np.flatnonzero(valid)
    if len(positions) == 0:
        nowhere = np.zeros(len(starts), dtype=np.int64)
        return nowhere, nowhere, np.zeros(len(starts), dtype=bool)
    first_pos = np.searchsorted(positions, starts, side="left")
    last_pos = np.searchsorted(positions, ends, side="left") - 1
    has = first_pos <= last_pos
    first_pos = np.minimum(first_pos, len(positions) - 1)
    last_pos = np.maximum(last_pos, 0)
    return positions[first_pos], positions[last_pos], has


def _pick(values, index, has):
    return np.where(has, values[index], np.nan) if len(values) else np.full(len(has), np.nan)


def _batch_from_points(series_list, kind, bucket_of):
    sid, ts, values = _sorted_points(series_list)
    keys = bucket_of(ts)
    new_group = np.ones(len(ts), dtype=bool)
    new_group[1:] = (sid[1:] != sid[:-1]) | (keys[1:] != keys[:-1])
    starts, ends, group = _group_bounds(new_group)
    n_groups = len(starts)
    real = ~np.isnan(values)
    count = np.bincount(group[real], minlength=n_groups).astype(np.int64)
    fields = {"count": count, "nan_count": (ends - starts) - count}
    first, last, has = _first_last(real, starts, ends)
    fields["first"] = _pick(values, first, has)
    fields["last"] = _pick(values, last, has)
    group_series = sid[starts]
    if kind == GAUGE:
        fields["min"] = _reduce_extreme(np.fmin, values, starts)
        fields["max"] = _reduce_extreme(np.fmax, values, starts)
        finite = np.isfinite(values)
        exact = _exact_sums(np.where(finite, values, 0.0), sid, group, n_groups, group_series, len(series_list))
        fields["sum"] = _with_infinities(_limbs_to_float(*exact), fields["min"], fields["max"])
        sketch = _sketch_from_values(group[finite], values[finite])
    else:
        delta = _counter_deltas(sid[real], values[real])
        finite = np.isfinite(delta)
        exact = _exact_sums(np.where(finite, delta, 0.0), sid[real], group[real], n_groups, group_series,
                            len(series_list))
        broken = np.bincount(group[real][~finite], minlength=n_groups) > 0
        fields["increase"] = np.where(broken, np.nan, _limbs_to_float(*exact))
        sketch = None
    fields = {name: fields[name] for name in STORED_FIELDS[kind]}
    return _Batch(kind, group_series, keys[starts], fields, exact[0], exact[1], sketch)


def _reduce_extreme(ufunc, values, starts):
    """fmin / fmax per group (NaN ignored). Which of -0.0 and +0.0 wins a tie depends on the
    reduction order, so zeros are stored as +0.0 (adding 0.0 does that and changes nothing else)."""
    if len(starts) == 0:
        return np.empty(0)
    return ufunc.reduceat(values, starts) + 0.0


def _with_infinities(sums, minimum, maximum):
    """A sum containing +inf is +inf, -inf is -inf, both is NaN; min and max tell which it holds."""
    plus, minus = maximum == np.inf, minimum == -np.inf
    sums = np.where(plus, np.inf, sums)
    sums = np.where(minus, -np.inf, sums)
    return np.where(plus & minus, np.nan, sums)


def _counter_deltas(sid, values):
    """Per real sample: its increase since the previous real sample of the same series (see the
    module docstring); 0 for each series' first sample."""
    delta = np.zeros(len(values))
    if len(values) > 1:
        previous, current = values[:-1], values[1:]
        with np.errstate(invalid="ignore"):
            step = np.where(current >= previous, current - previous, current)
        delta[1:] = np.where(sid[1:] == sid[:-1], step, 0.0)
    return delta


def _merge_rows(batch, keys):
    """Merge consecutive rows of the same series sharing a key (e.g. their coarser bucket start)."""
    new_group = np.ones(len(keys), dtype=bool)
    new_group[1:] = (batch.series[1:] != batch.series[:-1]) | (keys[1:] != keys[:-1])
    starts, ends, group = _group_bounds(new_group)
    fine = batch.fields
    fields = {"count": _add(fine["count"], starts)}
    if "nan_count" in fine:
        fields["nan_count"] = _add(fine["nan_count"], starts)
    if "first" in fine:  # a light roll-up keeps no first and last
        first, last, has = _first_last(fine["count"] > 0, starts, ends)
        fields["first"] = _pick(fine["first"], first, has)
        fields["last"] = _pick(fine["last"], last, has)
    limbs = _normalize(_add(batch.limbs, starts)) if len(starts) else batch.limbs[:0]
    exponent = batch.exponent[starts]
    total = _limbs_to_float(limbs, exponent)
    sketch = None
    if batch.kind == GAUGE:
        fields["min"] = _reduce_extreme(np.fmin, fine["min"], starts)
        fields["max"] = _reduce_extreme(np.fmax, fine["max"], starts)
        fields["sum"] = _with_infinities(total, fields["min"], fields["max"])
        if batch.sketch is not None:
            s = batch.sketch
            sketch = _canonical_sketch(group[s.row], s.sign, s.key, s.count)
    else:
        broken = _add(np.isnan(fine["increase"]).astype(np.int64), starts) > 0
        fields["increase"] = np.where(broken, np.nan, total)
    fields = {name: fields[name] for name in STORED_FIELDS[batch.kind] if name in fields}
    return _Batch(batch.kind, batch.series[starts], keys[starts], fields, limbs, exponent, sketch)


def _add(values, starts):
    if len(starts) == 0:
        return values[:0]
    return np.add.reduceat(values, starts, axis=0)


def _split(batch, series_list, resolution_ns):
    """Cut a batch into one Rollup per series (views, no copies)."""
    bounds = np.searchsorted(batch.series, np.arange(len(series_list) + 1))
    if batch.sketch is not None:
        sketch_bounds = np.searchsorted(batch.sketch.row, bounds)
    rollups = []
    for i, s in enumerate(series_list):
        lo, hi = bounds[i], bounds[i + 1]
        sketch = None
        if batch.sketch is not None:
            a, b = sketch_bounds[i], sketch_bounds[i + 1]
            k = batch.sketch
            sketch = Sketch(k.row[a:b] - lo, k.sign[a:b], k.key[a:b], k.count[a:b])
        exponent = int(batch.exponent[lo]) if hi > lo else 0
        rollups.append(
            Rollup(
                s.name, s.labels, batch.kind, resolution_ns, batch.bucket_start[lo:hi],
                {name: values[lo:hi] for name, values in batch.fields.items()},
                sketch, ExactSum(batch.limbs[lo:hi], exponent),
            )
        )
    return rollups


def _concat(rollups, kind):
    """Join roll-ups of one kind back into a batch (limb arrays padded to a common width)."""
    width = max([r.exact.limbs.shape[1] for r in rollups] + [1])
    sizes = [len(r) for r in rollups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    limbs = np.zeros((offsets[-1], width), dtype=np.int64)
    for r, offset in zip(rollups, offsets):
        limbs[offset:offset + len(r), : r.exact.limbs.shape[1]] = r.exact.limbs
    sketch = None
    if kind == GAUGE and all(r.sketch is not None for r in rollups):
        sketch = Sketch(
            np.concatenate([r.sketch.row + offset for r, offset in zip(rollups, offsets)]),
            np.concatenate([r.sketch.sign for r in rollups]),
            np.concatenate([r.sketch.key for r in rollups]),
            np.concatenate([r.sketch.count for r in rollups]),
        )
    return _Batch(
        kind,
        np.repeat(np.arange(len(rollups), dtype=np.int64), sizes),
        np.concatenate([r.bucket_start for r in rollups]),
        {name: np.concatenate([r.fields[name] for r in rollups]) for name in STORED_FIELDS[kind]
         if all(name in r.fields for r in rollups)},
        limbs,
        np.repeat(np.array([r.exact.exponent for r in rollups], dtype=np.int64), sizes),
        sketch,
    )


def _slice(rollup, lo, hi):
    sketch = None
    if rollup.sketch is not None:
        a, b = np.searchsorted(rollup.sketch.row, [lo, hi])
        k = rollup.sketch
        sketch = Sketch(k.row[a:b] - lo, k.sign[a:b], k.key[a:b], k.count[a:b])
    exact = None if rollup.exact is None else ExactSum(rollup.exact.limbs[lo:hi], rollup.exact.exponent)
    return Rollup(
        rollup.name, rollup.labels, rollup.kind, rollup.resolution_ns, rollup.bucket_start[lo:hi],
        {name: values[lo:hi] for name, values in rollup.fields.items()}, sketch, exact,
    )


# Exact summation: a superaccumulator in 32-bit int64 limbs.


def _exact_sums(values, sid, group, n_groups, group_series, n_series):
    """Exact per-group sums of finite `values`, as (limbs int64[G, L], exponent int64[G]).

    value = m * 2**e with an integer |m| < 2**53. With e0 the smallest e of the series, the value is
    the integer m * 2**(e - e0) in units of 2**e0, split into 32-bit limbs and added in int64: each
    limb receives less than 2**33 per value, so 2**30 values per bucket cannot overflow.
    """
    mantissa, exponent = np.frexp(values)
    m = np.ldexp(mantissa, 53).astype(np.int64)
    e = exponent.astype(np.int64) - 53
    nonzero = m != 0
    series_e0 = np.full(n_series, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(series_e0, sid[nonzero], e[nonzero])
    series_e0[series_e0 == np.iinfo(np.int64).max] = 0
    shift = np.where(nonzero, e - series_e0[sid], 0)
    limb, within = shift >> 5, shift & 31
    width = (int(limb.max()) if len(limb) else 0) + _LIMB_SPREAD + _LIMB_HEADROOM
    sign = np.sign(m)
    magnitude = np.abs(m)
    low = (magnitude & _LIMB_MASK) << within
    high = (magnitude >> _LIMB_BITS) << within
    accumulator = np.zeros(n_groups * width, dtype=np.int64)
    cell = group * width + limb
    np.add.at(accumulator, cell, sign * (low & _LIMB_MASK))
    np.add.at(accumulator, cell + 1, sign * ((low >> _LIMB_BITS) + (high & _LIMB_MASK)))
    np.add.at(accumulator, cell + 2, sign * (high >> _LIMB_BITS))
    limbs = _normalize(accumulator.reshape(n_groups, width))
    return limbs, series_e0[group_series]


def _normalize(limbs):
    """Canonical form: every limb but the top one in [0, 2**32); the top one carries the sign."""
    limbs = limbs.copy()
    for k in range(limbs.shape[1] - 1):
        carry = limbs[:, k] >> _LIMB_BITS
        limbs[:, k] -= carry << _LIMB_BITS
        limbs[:, k + 1] += carry
    return limbs


def _limbs_to_float(limbs, exponent):
    """Round each exact sum to the nearest float64 (ties to even), exactly once.

    The top 64 significant bits go into a uint64 whose lowest bit is forced to 1 if any bit below
    was set ("round to odd"); converting that to float64 then rounds exactly as the full number
    would. Results in the subnormal range are exact (all inputs are multiples of 2**-1074).
    """
    n_rows, width = limbs.shape
    negative = limbs[:, -1] < 0 if width else np.zeros(n_rows, bool)
    magnitude = _normalize(np.where(negative[:, None], -limbs, limbs))
    nonzero = magnitude != 0
    any_bits = nonzero.any(axis=1)
    top = width - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    padded = np.zeros((n_rows, width + 2), dtype=np.int64)
    padded[:, 2:] = magnitude
    rows = np.arange(n_rows)
    a2 = padded[rows, top + 2].astype(np.uint64)
    a1 = padded[rows, top + 1].astype(np.uint64)
    a0 = padded[rows, top].astype(np.uint64)
    below = np.cumsum(nonzero, axis=1)
    sticky = np.where(top >= 3, below[rows, np.maximum(top - 3, 0)], 0) > 0
    bit_length = np.frexp(a2.astype(np.float64))[1].astype(np.uint64)
    shift = np.uint64(32) - bit_length
    cut = np.uint64(32) - shift
    lost = a0 & ((np.uint64(1) << cut) - np.uint64(1))
    top64 = (a2 << (np.uint64(32) + shift)) | (a1 << shift) | (a0 >> cut)
    top64 |= (sticky | (lost != 0)).astype(np.uint64)
    scale = _LIMB_BITS * (top - 1) - shift.astype(np.int64) + exponent
    with np.errstate(over="ignore"):
        result = np.ldexp(top64.astype(np.float64), scale.astype(np.int32))
    result = np.where(any_bits, result, 0.0)
    return np.where(negative, -result, result)


# DDSketch helpers.


def _sketch_from_values(row, values):
    sign = np.sign(values).astype(np.int8)
    key = np.zeros(len(values), dtype=np.int32)
    nonzero = values != 0
    key[nonzero] = np.ceil(np.log(np.abs(values[nonzero])) / _LOG_GAMMA).astype(np.int32)
    return _canonical_sketch(row, sign, key, np.ones(len(values), dtype=np.int64))


def _canonical_sketch(row, sign, key, count):
    """Sum the counts of equal (row, sign, key) and sort by row, then by represented value."""
    row = np.asarray(row, dtype=np.int64)
    order = np.lexsort((sign.astype(np.int64) * key, sign, row))
    row, sign, key, count = row[order], sign[order], key[order], count[order]
    new = np.ones(len(row), dtype=bool)
    new[1:] = (row[1:] != row[:-1]) | (sign[1:] != sign[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(new)
    return Sketch(row[starts], sign[starts], key[starts], _add(count, starts).astype(np.int64))


def _sketch_value(sign, key):
    """2 * gamma**key / (gamma + 1), computed in the log domain so it cannot overflow early."""
    magnitude = np.exp(key * _LOG_GAMMA + math.log(2 / (SKETCH_GAMMA + 1)))
    return sign * magnitude
