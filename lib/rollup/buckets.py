"""Buckets: which time bucket a point falls into, and how sorted rows are cut into groups.

A roll-up (lib/rollup/levels.py) keeps, per series and per time bucket, a handful of aggregates
instead of the points. This module holds the bucket arithmetic and the grouping every level uses.

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

Resolutions nest: each is a multiple of the finer one, so a coarse bucket is exactly a union of
finer buckets and a coarser level can be computed from the finer one.

Groups
------
Rows sorted by their keys (series, then bucket start) form runs of equal keys; each run is one
group, reduced with `np.<ufunc>.reduceat` at the run starts. `group_bounds` finds the runs.
"""
import numpy as np

from lib.data.dataset import HOUR_NS, MINUTE_NS

DEFAULT_RESOLUTIONS_NS = (MINUTE_NS, 5 * MINUTE_NS, 15 * MINUTE_NS, HOUR_NS)
# The raw points, where a resolution is expected (a retention tier, a query answered from raw).
RAW_RESOLUTION = 0


def bucket_starts(timestamps, width_ns):
    """Start of the aligned bucket holding each timestamp (floor division, also below zero)."""
    return np.asarray(timestamps, dtype=np.int64) // width_ns * width_ns


def buckets_in_range(start_ns, end_ns, width_ns):
    """Number of aligned buckets of `width_ns` that overlap the half-open range [start, end)."""
    return -(-end_ns // width_ns) - start_ns // width_ns


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


def sorted_points(series_list):
    """Concatenate the series; sort by (series, timestamp), stable so ties keep input order.
    Returns (series index, timestamp, value) per point, NaNs made quiet."""
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


def group_bounds(*keys):
    """Cut rows sorted by `keys` into groups of equal keys: (starts, ends, group id of each row).

    A new group starts at the first row and wherever any key differs from the row before. Example:
    series [0, 0, 0, 1] and bucket [0, 0, 60, 60] give starts [0, 2, 3], ends [2, 3, 4] and
    group ids [0, 0, 1, 2].
    """
    new_group = np.zeros(len(keys[0]), dtype=bool)
    for key in keys:
        new_group[1:] |= key[1:] != key[:-1]
    new_group[:1] = True
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(new_group))
    return starts, ends, np.cumsum(new_group) - 1


def sum_groups(values, starts):
    """Sum of each group of rows (along the first axis), given the groups' first rows."""
    if len(starts) == 0:
        return values[:0]
    return np.add.reduceat(values, starts, axis=0)


def first_last(valid, starts, ends):
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


def pick(values, index, has):
    """values[index] where `has`, NaN elsewhere (also when there are no values at all)."""
    return np.where(has, values[index], np.nan) if len(values) else np.full(len(has), np.nan)
