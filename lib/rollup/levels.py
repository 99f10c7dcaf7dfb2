"""Roll-up levels: raw points rolled up into fixed time buckets, each coarser level from the finer one.

The idea
--------
A year of 10-second samples is 3.2 million points per series. Nobody draws them all: a dashboard
spanning a month shows a few hundred values, each summarising many raw points. So time-series
databases keep *roll-ups*: per series and per time bucket (by default 1 min, 5 min, 15 min and 1 h),
a handful of aggregates instead of the points. Queries over long ranges read the coarse level and touch
hundreds of rows instead of millions of points (lib/rollup/queries.py).

The trade-off: what is lost
---------------------------
A bucket forgets the shape inside it. You can still answer "what was the max / mean / total / p99
in this hour", but not "what happened at 10:17:30", and nothing you did not decide to keep can be
recovered later. Three consequences shape the package:

* Some aggregates merge exactly: the count, sum, min, max, first and last of an hour follow from
  those of its minutes. Coarser levels are therefore computed FROM the finer level, never from the
  raw points again, and the tests prove the result equals the direct computation from raw. Sums
  are added exactly for that (lib/rollup/exact_sums.py).
* Percentiles do not merge: every gauge bucket keeps a small mergeable histogram
  (lib/rollup/sketch.py) from which any percentile of any coarser bucket is read within 1%.
* Counters are not gauges: they store their increase, resets handled the Prometheus way
  (lib/rollup/kinds.py says what each kind keeps). Buckets and their order: lib/rollup/buckets.py.

Batches
-------
The work is vectorized over many series at once: the rows of every series of one kind are
concatenated into a `Batch`, sorted by (series, bucket start), reduced group by group with numpy,
and cut back into one `Rollup` per series (views, no copies).
"""
from dataclasses import dataclass

import numpy as np

from lib.data.dataset import NS_PER_SECOND
from lib.rollup.buckets import (
    DEFAULT_RESOLUTIONS_NS, bucket_starts, check_resolutions, check_timestamps_fit, first_last, group_bounds,
    pick, sorted_points, sum_groups,
)
from lib.rollup.exact_sums import ExactSum, exact_sums, limbs_to_float, normalize
from lib.rollup.kinds import (
    DERIVED_AGGREGATES, DERIVED_FROM, GAUGE, QUANTILES, STORED_FIELDS, counter_deltas, indices_by_kind,
    metric_kind, reduce_extreme, with_infinities,
)
from lib.rollup.sketch import (
    Sketch, canonical_sketch, sketch_from_values, sketch_quantiles, slice_sketch, stack_sketches,
)


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


def rollup_dataset(series_list, resolutions=DEFAULT_RESOLUTIONS_NS):
    """Roll up every series at every resolution: {resolution_ns: [Rollup per series, dataset order]}.

    The finest level is computed from the raw points; each coarser level from the one before it.
    """
    resolutions = check_resolutions(resolutions)
    check_timestamps_fit(series_list, resolutions[-1])
    levels = {r: [None] * len(series_list) for r in resolutions}
    for kind, indices in indices_by_kind(metric_kind(s.name, s.values) for s in series_list).items():
        group = [series_list[i] for i in indices]
        batch = batch_from_points(group, kind, lambda ts: bucket_starts(ts, resolutions[0]))
        for position, resolution in enumerate(resolutions):
            if position:
                batch = merge_rows(batch, bucket_starts(batch.bucket_start, resolution))
            for i, rollup in zip(indices, split_batch(batch, group, resolution)):
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
    for kind, indices in indices_by_kind(r.kind for r in rollups).items():
        group = [rollups[i] for i in indices]
        check_resolutions((group[0].resolution_ns, resolution_ns))
        batch = batch_of_rollups(group, kind)
        coarse = merge_rows(batch, bucket_starts(batch.bucket_start, resolution_ns))
        result.extend(zip(indices, split_batch(coarse, group, resolution_ns)))
    return [rollup for _i, rollup in sorted(result, key=lambda pair: pair[0])]


def buckets_ending_after(rollup, cutoff_ns):
    """The roll-up without its buckets that end at or before `cutoff_ns` (retention drops them);
    a bucket partly after the cutoff holds data inside the horizon and is kept whole."""
    first = int(np.searchsorted(rollup.bucket_start, cutoff_ns - rollup.resolution_ns, side="right"))
    return slice_rollup(rollup, first, len(rollup))


def slice_rollup(rollup, lo, hi):
    """Buckets lo to hi - 1 of a roll-up (views, no copies)."""
    sketch = None if rollup.sketch is None else slice_sketch(rollup.sketch, lo, hi)
    exact = None if rollup.exact is None else ExactSum(rollup.exact.limbs[lo:hi], rollup.exact.exponent)
    return Rollup(
        rollup.name, rollup.labels, rollup.kind, rollup.resolution_ns, rollup.bucket_start[lo:hi],
        {name: values[lo:hi] for name, values in rollup.fields.items()}, sketch, exact,
    )


@dataclass
class Batch:
    """The rows of many series of one kind, sorted by (series, bucket_start)."""

    kind: str
    series: np.ndarray
    bucket_start: np.ndarray
    fields: dict
    limbs: np.ndarray
    exponent: np.ndarray
    sketch: Sketch = None


def batch_from_points(series_list, kind, bucket_of):
    """Roll up the raw points of series of one kind; `bucket_of(timestamps)` gives each point's bucket."""
    sid, ts, values = sorted_points(series_list)
    keys = bucket_of(ts)
    starts, ends, group = group_bounds(sid, keys)
    n_groups = len(starts)
    real = ~np.isnan(values)
    count = np.bincount(group[real], minlength=n_groups).astype(np.int64)
    fields = {"count": count, "nan_count": (ends - starts) - count}
    first, last, has = first_last(real, starts, ends)
    fields["first"] = pick(values, first, has)
    fields["last"] = pick(values, last, has)
    group_series = sid[starts]
    if kind == GAUGE:
        fields["min"] = reduce_extreme(np.fmin, values, starts)
        fields["max"] = reduce_extreme(np.fmax, values, starts)
        finite = np.isfinite(values)
        exact = exact_sums(np.where(finite, values, 0.0), sid, group, n_groups, group_series, len(series_list))
        fields["sum"] = with_infinities(limbs_to_float(*exact), fields["min"], fields["max"])
        sketch = sketch_from_values(group[finite], values[finite])
    else:
        delta = counter_deltas(sid[real], values[real])
        finite = np.isfinite(delta)
        exact = exact_sums(np.where(finite, delta, 0.0), sid[real], group[real], n_groups, group_series,
                           len(series_list))
        broken = np.bincount(group[real][~finite], minlength=n_groups) > 0
        fields["increase"] = np.where(broken, np.nan, limbs_to_float(*exact))
        sketch = None
    fields = {name: fields[name] for name in STORED_FIELDS[kind]}
    return Batch(kind, group_series, keys[starts], fields, exact[0], exact[1], sketch)


def merge_rows(batch, keys):
    """Merge consecutive rows of the same series sharing a key (e.g. their coarser bucket start)."""
    starts, ends, group = group_bounds(batch.series, keys)
    fine = batch.fields
    fields = {"count": sum_groups(fine["count"], starts)}
    if "nan_count" in fine:
        fields["nan_count"] = sum_groups(fine["nan_count"], starts)
    if "first" in fine:  # a light roll-up keeps no first and last
        first, last, has = first_last(fine["count"] > 0, starts, ends)
        fields["first"] = pick(fine["first"], first, has)
        fields["last"] = pick(fine["last"], last, has)
    limbs = normalize(sum_groups(batch.limbs, starts)) if len(starts) else batch.limbs[:0]
    exponent = batch.exponent[starts]
    total = limbs_to_float(limbs, exponent)
    sketch = None
    if batch.kind == GAUGE:
        fields["min"] = reduce_extreme(np.fmin, fine["min"], starts)
        fields["max"] = reduce_extreme(np.fmax, fine["max"], starts)
        fields["sum"] = with_infinities(total, fields["min"], fields["max"])
        if batch.sketch is not None:
            s = batch.sketch
            sketch = canonical_sketch(group[s.row], s.sign, s.key, s.count)
    else:
        broken = sum_groups(np.isnan(fine["increase"]).astype(np.int64), starts) > 0
        fields["increase"] = np.where(broken, np.nan, total)
    fields = {name: fields[name] for name in STORED_FIELDS[batch.kind] if name in fields}
    return Batch(batch.kind, batch.series[starts], keys[starts], fields, limbs, exponent, sketch)


def split_batch(batch, series_list, resolution_ns):
    """Cut a batch into one Rollup per series (views, no copies)."""
    bounds = np.searchsorted(batch.series, np.arange(len(series_list) + 1))
    rollups = []
    for i, s in enumerate(series_list):
        lo, hi = bounds[i], bounds[i + 1]
        sketch = None if batch.sketch is None else slice_sketch(batch.sketch, lo, hi)
        exponent = int(batch.exponent[lo]) if hi > lo else 0
        rollups.append(
            Rollup(
                s.name, s.labels, batch.kind, resolution_ns, batch.bucket_start[lo:hi],
                {name: values[lo:hi] for name, values in batch.fields.items()},
                sketch, ExactSum(batch.limbs[lo:hi], exponent),
            )
        )
    return rollups


def batch_of_rollups(rollups, kind):
    """Join roll-ups of one kind back into a batch (limb arrays padded to a common width)."""
    width = max([r.exact.limbs.shape[1] for r in rollups] + [1])
    sizes = [len(r) for r in rollups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    limbs = np.zeros((offsets[-1], width), dtype=np.int64)
    for r, offset in zip(rollups, offsets):
        limbs[offset:offset + len(r), : r.exact.limbs.shape[1]] = r.exact.limbs
    sketch = None
    if kind == GAUGE and all(r.sketch is not None for r in rollups):
        sketch = stack_sketches([r.sketch for r in rollups], offsets)
    return Batch(
        kind,
        np.repeat(np.arange(len(rollups), dtype=np.int64), sizes),
        np.concatenate([r.bucket_start for r in rollups]),
        {name: np.concatenate([r.fields[name] for r in rollups]) for name in STORED_FIELDS[kind]
         if all(name in r.fields for r in rollups)},
        limbs,
        np.repeat(np.array([r.exact.exponent for r in rollups], dtype=np.int64), sizes),
        sketch,
    )
