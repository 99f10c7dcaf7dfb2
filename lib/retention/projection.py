"""What a workload costs to store, projected from the sizes this run measured.

Inputs, all measured on the current dataset: bytes per raw point as NDJSON (phase 1's file) and in
the METRICS! file (phase 4's, per metric kind), and bytes per bucket of every roll-up level (per
kind). A workload is `series` series scraped every `interval_s` seconds. Per day that is
series * 86,400 / interval points, and at each level series * 86,400 / width buckets (one bucket per
width as long as the interval is no longer than the width; otherwise one per point).

Stored after `days` days:
- NDJSON and phase 4 alone keep every point: days * bytes per day;
- phase 4 + a retention policy keeps each tier for min(days, its horizon).

The assumptions (the dataset's mix of gauges and counters, and that bytes per point and per bucket
stay what they were here, though a sketch grows with the points in its bucket) travel with the
numbers: `assumptions()` says them in words.
"""
from dataclasses import dataclass

import numpy as np

from lib.data.dataset import DAY_NS, NS_PER_SECOND
from lib.rollup.buckets import RAW_RESOLUTION
from lib.storage.rollup_files import resolution_label

SECONDS_PER_DAY = DAY_NS // NS_PER_SECOND
DEFAULT_SERIES = 1000
DEFAULT_INTERVAL_S = 15.0


@dataclass(frozen=True)
class Workload:
    series: int = DEFAULT_SERIES
    interval_s: float = DEFAULT_INTERVAL_S

    def __post_init__(self):
        if self.series <= 0 or not self.interval_s > 0:
            raise ValueError(f"a workload needs series > 0 and interval > 0 s, got {self.series}, {self.interval_s}")

    def points_per_day(self):
        return self.series * SECONDS_PER_DAY / self.interval_s

    def __str__(self):
        """"50 series every 15 s"."""
        return f"{self.series:,} series every {format_seconds(self.interval_s)}"

    def buckets_per_day(self, width_ns):
        width_s = width_ns / NS_PER_SECOND
        return self.series * SECONDS_PER_DAY / max(width_s, self.interval_s)


def format_seconds(seconds):
    """15 -> "15 s", 0.25 -> "0.25 s", 86400 -> "1 d", 7200 -> "2 h" (the largest unit that divides
    it; seconds with up to 3 significant decimals otherwise)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:.4g} s"


def series_interval_s(timestamps):
    """A series' scrape interval in seconds: the median gap between its distinct timestamps in time
    order, or None with fewer than two distinct timestamps."""
    distinct = np.unique(timestamps).view(np.uint64)
    gaps = distinct[1:] - distinct[:-1]  # sorted, so the unsigned difference is exact even across 0
    return float(np.median(gaps)) / NS_PER_SECOND if gaps.size else None


def workload_of(series_list):
    """This dataset as a workload: its series with points, each scraped at the median of their
    intervals; None when no series has two distinct timestamps (nothing says how often it is scraped)."""
    present = [s for s in series_list if len(s)]
    intervals = [i for i in (series_interval_s(s.timestamps) for s in present) if i]
    if not intervals:
        return None
    return Workload(len(present), float(np.median(intervals)))


@dataclass
class MeasuredCosts:
    """Bytes per point and per bucket, by metric kind, as this run measured them.

    kind_share: {kind: fraction of the series}; raw_bytes_per_point: {kind: bytes};
    bucket_bytes: {resolution_ns: {kind: bytes per bucket}}; ndjson_bytes_per_point: float or None;
    points_per_bucket, buckets_per_series: {resolution_ns: the averages in the measured files}.
    """

    kind_share: dict
    raw_bytes_per_point: dict
    bucket_bytes: dict
    ndjson_bytes_per_point: float
    points_per_bucket: dict
    buckets_per_series: dict

    def mixed(self, per_kind):
        return sum(share * per_kind.get(kind, 0.0) for kind, share in self.kind_share.items())

    def phase4_bytes_per_point(self):
        return self.mixed(self.raw_bytes_per_point)

    def bytes_per_bucket(self, resolution_ns):
        return self.mixed(self.bucket_bytes[resolution_ns])


@dataclass
class Projection:
    """Bytes written per day and stored after `days`, for each way of storing a workload."""

    workload: Workload
    days: float
    rows: list  # (label, bytes written per day, bytes stored after `days`)


def tier_bytes_per_day(costs, workload, resolution_ns):
    if resolution_ns == RAW_RESOLUTION:
        return workload.points_per_day() * costs.phase4_bytes_per_point()
    return workload.buckets_per_day(resolution_ns) * costs.bytes_per_bucket(resolution_ns)


def retained_bytes(costs, workload, policy, days):
    """Bytes held after `days` of the workload under the policy: each tier for min(days, horizon)."""
    return sum(tier_bytes_per_day(costs, workload, t.resolution_ns) * min(days, t.horizon_ns / DAY_NS)
               for t in policy.tiers)


def project(costs, workload, policy, days=365):
    """NDJSON, phase 4 alone, and phase 4 + the policy: per day written, and stored after `days`."""
    rows = []
    if costs.ndjson_bytes_per_point:
        per_day = workload.points_per_day() * costs.ndjson_bytes_per_point
        rows.append(("NDJSON, every point kept", per_day, per_day * days))
    per_day = workload.points_per_day() * costs.phase4_bytes_per_point()
    rows.append(("phase 4, every point kept", per_day, per_day * days))
    written = sum(tier_bytes_per_day(costs, workload, t.resolution_ns) for t in policy.tiers)
    rows.append((f"phase 4 + tiers {policy}", written, retained_bytes(costs, workload, policy, days)))
    return Projection(workload, days, rows)


CURVE_DAYS = (1, 3, 7, 14, 30, 90, 180, 365, 730, 1095, 1825, 2555, 3650)


def storage_over_time(costs, workload, policy, days=CURVE_DAYS):
    """What the workload holds on disk after each number of days, every point kept (phase 4) and
    under the policy: the curve flattens as each tier reaches its horizon and starts deleting."""
    every_point = workload.points_per_day() * costs.phase4_bytes_per_point()
    return {
        "policy": str(policy),
        "tiers": [[t.label(), t.horizon_ns / DAY_NS] for t in policy.tiers],
        "series": workload.series,
        "interval_s": workload.interval_s,
        "days": list(days),
        "every_point_bytes": [round(every_point * d) for d in days],
        "tiered_bytes": [round(retained_bytes(costs, workload, policy, d)) for d in days],
    }


def assumptions(costs, workload, policy):
    """The projection's assumptions, one line each, with the measured numbers it rests on."""
    shares = ", ".join(f"{100 * share:.0f}% {kind}s" for kind, share in sorted(costs.kind_share.items()))
    per_kind = ", ".join(f"{kind} {b:.2f}" for kind, b in sorted(costs.raw_bytes_per_point.items()))
    lines = [
        f"{workload.series:,} series every {workload.interval_s:g} s = {workload.points_per_day():,.0f} points a day; "
        f"mix of kinds as in this dataset ({shares})",
        f"bytes per raw point as measured here: phase 4 {per_kind}"
        + (f"; NDJSON {costs.ndjson_bytes_per_point:.1f}" if costs.ndjson_bytes_per_point else "; NDJSON not measured (no phase-1 file)"),
    ]
    for resolution, per_kind_bucket in sorted(costs.bucket_bytes.items()):
        sizes = ", ".join(f"{kind} {b:.1f}" for kind, b in sorted(per_kind_bucket.items()))
        lines.append(f"bytes per {resolution_label(resolution)} bucket as measured here ({sizes}), with "
                     f"{costs.points_per_bucket[resolution]:.1f} points per bucket and "
                     f"{costs.buckets_per_series[resolution]:,.0f} buckets per series")
    lines.append("a sketch grows with the points in its bucket; each block carries a fixed overhead, so a level with few "
                 "buckets per series here (a short dataset) looks dearer per bucket than a year of it would be")
    lines.append(f"retention {policy}; sizes are the files' data blocks: headers and indexes (which grow with the "
                 "series, not the days) are left out")
    return lines
