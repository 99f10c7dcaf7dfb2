"""Query planning: answer one aggregate over a time range from the coarsest level that is fine enough.

`choose_resolution` picks the finest resolution whose number of buckets overlapping the range stays
within `max_points` (among the levels that hold the aggregate asked for); `query` answers one
aggregate over a time range from the roll-up at that resolution (or from raw points when there are
few enough), merging buckets with the same exact machinery as the roll-up itself
(lib/rollup/levels.py). Buckets overlapping the range edges are included whole, so the answer
covers the range widened to bucket boundaries, which the result reports.

Example: [0 s, 601 s) with max_points=10 overlaps 11 one-minute buckets ([600, 660) holds its last
nanosecond), so 5-minute buckets answer, covering [0 s, 900 s).
"""
import math
from dataclasses import dataclass

import numpy as np

from lib.rollup.buckets import RAW_RESOLUTION, buckets_in_range
from lib.rollup.kinds import AGGREGATES, INTEGER_FIELDS
from lib.rollup.levels import batch_from_points, batch_of_rollups, merge_rows, slice_rollup, split_batch

DEFAULT_MAX_POINTS = 1000


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
    selected = slice_rollup(rollup, first, last)
    merged = merge_rows(batch_of_rollups([selected], rollup.kind), np.full(last - first, covered_start, dtype=np.int64))
    [answer] = split_batch(merged, [selected], covered_end - covered_start)
    return QueryResult(_single_value(answer, aggregate), resolution, covered_start, covered_end, last - first)


def _query_raw(series, kind, aggregate, start_ns, end_ns):
    """The raw points as three buckets (before, inside and after the range); the inside one answers."""
    def bucket_of(ts):
        return np.where(ts < start_ns, start_ns - 1, np.where(ts >= end_ns, end_ns, start_ns))

    batch = batch_from_points([series], kind, bucket_of)
    rows = split_batch(batch, [series], end_ns - start_ns)[0]
    position = int(np.searchsorted(rows.bucket_start, start_ns))
    answer = slice_rollup(rows, position, position + int(position < len(rows) and rows.bucket_start[position] == start_ns))
    return QueryResult(_single_value(answer, aggregate), RAW_RESOLUTION, start_ns, end_ns, len(answer))


def _single_value(rollup, aggregate):
    if aggregate not in rollup.available():
        raise ValueError(f"aggregate {aggregate!r} is not available for a {rollup.kind}")
    if len(rollup) == 0:
        return 0.0 if aggregate in INTEGER_FIELDS + ("sum", "increase") else math.nan
    return rollup.aggregate(aggregate)[0].item()
