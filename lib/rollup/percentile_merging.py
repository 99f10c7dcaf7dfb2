"""Why percentiles are kept as sketches: merged sketches against the average of percentiles.

The p99 of an hour is not the average of its 5-minute p99s. The average is a classic monitoring
bug: an hour with one bad minute has a bad p99, while the average of twelve p99s, eleven of them
quiet, looks quiet. `compare_percentile_merging` measures both on real buckets, against the exact
quantile of the raw points: the quantile read from the merged fine sketches (lib/rollup/sketch.py,
within SKETCH_ALPHA of the exact one by construction) and the naive average of the fine buckets'
exact quantiles.

Example (tests/test_percentile_merging.py): one hour of 10 s samples, 59 quiet minutes at 1.0 and
one minute at 100.0. The exact p99 is 100.0, the merged sketches give 100.0 within 1%, the average
of the minutes' p99s gives (59 * 1 + 100) / 60 = 2.65.
"""
from dataclasses import dataclass

import numpy as np

from lib.data.dataset import HOUR_NS, MINUTE_NS, chunks_of_points
from lib.rollup.buckets import bucket_starts, group_bounds, sorted_points
from lib.rollup.kinds import GAUGE, QUANTILES, metric_kind
from lib.rollup.levels import rollup_dataset
from lib.rollup.sketch import SKETCH_ALPHA, quantile_rank

CHUNK_POINTS = 500_000  # series are compared a chunk at a time, so memory follows the chunk


@dataclass
class PercentileComparison:
    """Per coarse bucket (gauge series only, buckets with finite values): the exact quantile from
    raw, the quantile of the merged fine sketches, and the naive average of the fine buckets' exact
    quantiles (the bug). Relative error is |estimate - exact| / |exact| (0 if both are equal)."""

    quantile: str
    fine_ns: int
    coarse_ns: int
    exact: np.ndarray
    sketch: np.ndarray
    naive: np.ndarray

    def summary(self):
        sketch, naive = relative_error(self.sketch, self.exact), relative_error(self.naive, self.exact)
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
    """How well does a coarse percentile survive merging? Sketch versus naive averaging, over the
    gauge series of `series_list`, a chunk of series at a time."""
    if quantile not in QUANTILES:
        raise ValueError(f"unknown quantile {quantile!r}, choose from {tuple(QUANTILES)}")
    gauges = [s for s in series_list if metric_kind(s.name, s.values) == GAUGE]
    parts = [_compare_chunk(chunk, quantile, fine_ns, coarse_ns) for chunk in chunks_of_points(gauges, CHUNK_POINTS)]
    fields = {name: np.concatenate([np.empty(0)] + [getattr(p, name) for p in parts]) for name in ("exact", "sketch", "naive")}
    return PercentileComparison(quantile, fine_ns, coarse_ns, **fields)


def _compare_chunk(gauges, quantile, fine_ns, coarse_ns):
    q = QUANTILES[quantile]
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
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        error = np.abs(estimate - exact) / np.abs(exact)
    return np.where(estimate == exact, 0.0, error)


def finite_points(series_list):
    """All finite points of the series, sorted by (series index, timestamp)."""
    sid, ts, values = sorted_points(series_list)
    finite = np.isfinite(values)
    return sid[finite], ts[finite], values[finite]


def grouped_quantile(group, values, q):
    """Exact q-quantile of each group (group ids dense and non-decreasing)."""
    if len(group) == 0:
        return np.empty(0)
    order = np.lexsort((values, group))
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    sizes = np.diff(np.append(starts, len(group)))
    return values[order][starts + quantile_rank(q, sizes)]
