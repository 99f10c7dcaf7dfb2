"""Metric kinds: gauges and counters, what a bucket of each keeps, and the rules each is rolled up by.

What each kind stores (per bucket)
----------------------------------
gauge   : count, nan_count, sum, min, max, first, last, and a DDSketch of the values
          (lib/rollup/sketch.py). Derived on read: avg = sum / count, p50 / p95 / p99 from the sketch.
counter : count, nan_count, first, last, increase.
          Derived on read: rate = increase / bucket width in seconds.
Gauges keep no increase (a gauge going down is not a reset); counters keep no sum, min, max or
sketch (sums and percentiles of running totals answer no question anyone asks). A counter
(`http_requests_total`) is a running total; the mean of its raw totals over an hour means nothing.
What people ask is "how much did it increase" and "at what rate", so counters store their increase,
with counter resets handled the Prometheus way.
A light roll-up (LIGHT_FIELDS, for fine levels where a bucket holds few points) keeps only count,
sum, min, max (gauge) or count, increase (counter): it answers avg and rate but no percentile,
and `Rollup.available()` says so.

`metric_kind(name, values)` decides the kind by Prometheus naming conventions: a name ending in
`_total`, `_count`, `_sum` or `_bucket` is a counter, unless one of its values is negative (a
histogram's `_sum` of negative observations can decrease, so it behaves like a gauge). Everything
else is a gauge.

NaN
---
NaN means "no value" to a monitoring user (Prometheus writes NaN as a stale marker when a target
disappears). Every NaN bit pattern (quiet, signalling, any payload or sign) counts alike. NaN
samples are therefore excluded from every value aggregate: `count` counts the real samples (it is
what `avg` divides by) and `nan_count` the NaN ones. A bucket holding only NaNs
exists with count 0, sum 0.0, increase 0.0 and NaN for min, max, first, last and the percentiles.
Counter deltas skip NaN samples (the delta runs from the previous real sample), as Prometheus does.
A zero min or max is stored as +0.0, whichever zero the bucket held, so that the result does not
depend on the order of reduction. Infinities are ordinary values for count, min, max, first, last;
a gauge sum containing +inf (-inf) is +inf (-inf), both give NaN; a counter bucket whose delta is
not finite has NaN increase.

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
"""
import numpy as np

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


def metric_kind(name, values):
    """"counter" for Prometheus counter names (suffix in COUNTER_SUFFIXES) with no negative value."""
    if name.endswith(COUNTER_SUFFIXES) and not np.any(np.asarray(values) < 0):
        return COUNTER
    return GAUGE


def indices_by_kind(kinds):
    """{kind: [positions holding it]} for a sequence of kinds, in order of first appearance."""
    groups = {}
    for i, kind in enumerate(kinds):
        groups.setdefault(kind, []).append(i)
    return groups


def counter_deltas(sid, values):
    """Per real sample: its increase since the previous real sample of the same series (see the
    module docstring); 0 for each series' first sample."""
    delta = np.zeros(len(values))
    if len(values) > 1:
        previous, current = values[:-1], values[1:]
        with np.errstate(invalid="ignore"):
            step = np.where(current >= previous, current - previous, current)
        delta[1:] = np.where(sid[1:] == sid[:-1], step, 0.0)
    return delta


def reduce_extreme(ufunc, values, starts):
    """fmin / fmax per group (NaN ignored). Which of -0.0 and +0.0 wins a tie depends on the
    reduction order, so zeros are stored as +0.0 (adding 0.0 does that and changes nothing else)."""
    if len(starts) == 0:
        return np.empty(0)
    return ufunc.reduceat(values, starts) + 0.0


def with_infinities(sums, minimum, maximum):
    """A sum containing +inf is +inf, -inf is -inf, both is NaN; min and max tell which it holds."""
    plus, minus = maximum == np.inf, minimum == -np.inf
    sums = np.where(plus, np.inf, sums)
    sums = np.where(minus, -np.inf, sums)
    return np.where(plus & minus, np.nan, sums)
