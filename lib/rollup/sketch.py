"""DDSketch: a small mergeable histogram per gauge bucket, from which any percentile is read.

Percentiles do not merge: the p99 of an hour is not the average (nor the max) of the minutes'
p99s. Averaging them is a classic bug that hides exactly the spikes p99 exists to show. So every
gauge bucket keeps a DDSketch, from which any percentile of any coarser bucket is read with a
guaranteed relative error of at most SKETCH_ALPHA (1%).

Keys
----
With alpha = 0.01 and gamma = (1 + alpha) / (1 - alpha), a positive value x goes to key
k = ceil(log_gamma(x)), i.e. the bucket (gamma**(k-1), gamma**k]; reading it back as
2 * gamma**k / (gamma + 1) is within a relative error alpha of every x in that bucket. Example:
gamma = 1.0202..., so 1.0 has key 0, 1.01 key 1 and 0.98 key -1 (gamma**-1 = 0.980...); key 1 reads
back as 2 * 1.0202 / 2.0202 = 1.0100. Negative values use the same keys on -x in a separate store
(sign -1), zeros have their own count (sign 0, key 0). Sketches merge by adding counts of equal
(sign, key), so a merged sketch is identical to the sketch of the union and the bound survives any
number of merges. The bound holds for normal floats (|x| >= 2.2e-308); subnormals are kept but
estimated less precisely. The sketch covers finite values only.

Representation (`Sketch`): one sparse table per roll-up with columns
`row` (int64, index of the bucket), `sign` (int8: -1, 0, +1), `key` (int32), `count` (int64),
sorted by row, then by the value the entry represents (ascending). The table is canonical: equal
multisets of keys give equal arrays.

Quantile rank: for n values and quantile q, the estimate is the value of rank floor(q * (n - 1))
(0-based) in ascending order: the DDSketch paper's lower rank. `exact_quantile` uses the same rank
on the raw values, so the sketch is compared with the percentile it promises to approximate.
"""
import math
from dataclasses import dataclass

import numpy as np

from lib.rollup.buckets import group_bounds, sum_groups

SKETCH_ALPHA = 0.01
SKETCH_GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA)
_LOG_GAMMA = math.log(SKETCH_GAMMA)


@dataclass
class Sketch:
    """DDSketch entries of every bucket of one roll-up (see the module docstring)."""

    row: np.ndarray
    sign: np.ndarray
    key: np.ndarray
    count: np.ndarray

    def __len__(self):
        return len(self.row)


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


def sketch_from_values(row, values):
    """The sketch of finite `values`, each counted in bucket `row` of the same index."""
    sign = np.sign(values).astype(np.int8)
    key = np.zeros(len(values), dtype=np.int32)
    nonzero = values != 0
    key[nonzero] = np.ceil(np.log(np.abs(values[nonzero])) / _LOG_GAMMA).astype(np.int32)
    return canonical_sketch(row, sign, key, np.ones(len(values), dtype=np.int64))


def canonical_sketch(row, sign, key, count):
    """Sum the counts of equal (row, sign, key) and sort by row, then by represented value."""
    row = np.asarray(row, dtype=np.int64)
    order = np.lexsort((sign.astype(np.int64) * key, sign, row))
    row, sign, key, count = row[order], sign[order], key[order], count[order]
    starts, _ends, _group = group_bounds(row, sign, key)
    return Sketch(row[starts], sign[starts], key[starts], sum_groups(count, starts).astype(np.int64))


def regroup_sketch(sketch, new_row):
    """Merge the sketch entries of rows that map to the same new row (`new_row[old row]`)."""
    return canonical_sketch(np.asarray(new_row, dtype=np.int64)[sketch.row], sketch.sign, sketch.key, sketch.count)


def slice_sketch(sketch, lo, hi):
    """The entries of rows lo to hi - 1, renumbered from 0 (views, no copies)."""
    a, b = np.searchsorted(sketch.row, [lo, hi])
    return Sketch(sketch.row[a:b] - lo, sketch.sign[a:b], sketch.key[a:b], sketch.count[a:b])


def stack_sketches(sketches, row_offsets):
    """The sketches' tables one after the other, the rows of sketch i shifted by row_offsets[i]."""
    return Sketch(
        np.concatenate([s.row + offset for s, offset in zip(sketches, row_offsets)]),
        np.concatenate([s.sign for s in sketches]),
        np.concatenate([s.key for s in sketches]),
        np.concatenate([s.count for s in sketches]),
    )


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
    return sketch_from_values(np.zeros(len(finite), dtype=np.int64), finite)


def merge_sketches(sketches):
    """Merge one-bucket sketches into one (counts of equal (sign, key) add up)."""
    stacked = stack_sketches(sketches, [0] * len(sketches))
    return canonical_sketch(np.zeros(len(stacked), dtype=np.int64), stacked.sign, stacked.key, stacked.count)


def _sketch_value(sign, key):
    """2 * gamma**key / (gamma + 1), computed in the log domain so it cannot overflow early."""
    magnitude = np.exp(key * _LOG_GAMMA + math.log(2 / (SKETCH_GAMMA + 1)))
    return sign * magnitude
