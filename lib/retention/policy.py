"""Retention tiers: how long each resolution is kept, and deleting what has expired.

Real systems keep raw points for days, fine roll-ups for weeks and coarse ones for years (Thanos
downsamples blocks older than 40 h to 5 min, and older than 10 days to 1 h, and keeps each
resolution for as long as its own retention setting says). A policy here is plain data, one tier per resolution:

    raw=7d,1m=30d,5m=1y,1h=7y      (RAW is resolution 0; y = 365 days)

Applying it to stored files is a real operation. With `now` the newest timestamp (or a given
instant), a tier's cutoff is `now - horizon`:
- the raw METRICS! file keeps exactly the points at or after the cutoff;
- a roll-up file keeps every bucket that ends after the cutoff (a bucket straddling the cutoff holds
  data inside the horizon, so it stays whole).
Nothing inside a horizon is lost, a file with nothing to drop is not rewritten, and a rewrite goes
through lib/plumbing/atomic.py (temp file + rename), so applying a policy twice changes nothing the second
time and a crash leaves the old file or the new one, never half of each.
"""
from dataclasses import dataclass
from pathlib import Path

from lib.data.dataset import DAY_NS, HOUR_NS, MINUTE_NS, NS_PER_SECOND, Series
from lib.rollup.buckets import RAW_RESOLUTION
from lib.rollup.levels import buckets_ending_after
from lib.storage.metrics_file import MetricsFile
from lib.storage.rollup_files import ROLLUP_LABEL, is_light, read_rollups, write_rollups
from lib.storage.streaming_writer import write_file

YEAR_NS = 365 * DAY_NS
DURATION_UNITS_NS = {"s": NS_PER_SECOND, "m": MINUTE_NS, "h": HOUR_NS, "d": DAY_NS, "w": 7 * DAY_NS, "y": YEAR_NS}
RAW_NAME = "raw"
DEFAULT_POLICY_TEXT = "raw=7d,1m=30d,5m=1y,1h=7y"


def parse_duration(text):
    """"90s", "15m", "7d", "1y" -> nanoseconds (a positive whole number of one unit)."""
    text = text.strip()
    number, unit = text[:-1], text[-1:]
    if unit not in DURATION_UNITS_NS or not number.isascii() or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 7d or 1y")
    return int(number) * DURATION_UNITS_NS[unit]


def format_duration(ns):
    """Largest unit that divides exactly: 604800 s -> "7d", 365 days -> "1y", 30 days -> "30d"."""
    for unit in ("y", "d", "h", "m", "s"):
        if ns % DURATION_UNITS_NS[unit] == 0:
            return f"{ns // DURATION_UNITS_NS[unit]}{unit}"
    return f"{ns}ns"


@dataclass(frozen=True)
class Tier:
    resolution_ns: int  # RAW_RESOLUTION for the raw points
    horizon_ns: int

    def label(self):
        return RAW_NAME if self.resolution_ns == RAW_RESOLUTION else format_duration(self.resolution_ns)


@dataclass(frozen=True)
class RetentionPolicy:
    """One tier per resolution, raw first; each coarser tier kept at least as long as the finer."""

    tiers: tuple

    def __post_init__(self):
        resolutions = [t.resolution_ns for t in self.tiers]
        if not self.tiers or resolutions[0] != RAW_RESOLUTION:
            raise ValueError("a retention policy starts with the raw tier (raw=...)")
        if resolutions != sorted(set(resolutions)):
            raise ValueError("tiers must be listed once each, from raw to the coarsest resolution")
        horizons = [t.horizon_ns for t in self.tiers]
        if any(h <= 0 for h in horizons) or horizons != sorted(horizons):
            raise ValueError("each tier must be kept at least as long as the finer one before it")

    @classmethod
    def parse(cls, text):
        """"raw=7d,1m=30d,5m=1y,1h=7y" -> RetentionPolicy."""
        tiers = []
        for part in text.split(","):
            name, sep, horizon = part.partition("=")
            if not sep:
                raise ValueError(f"{part!r}: write each tier as RESOLUTION=HORIZON, e.g. 1m=30d")
            name = name.strip()
            resolution = RAW_RESOLUTION if name == RAW_NAME else parse_duration(name)
            tiers.append(Tier(resolution, parse_duration(horizon)))
        return cls(tuple(tiers))

    def __str__(self):
        return ",".join(f"{t.label()}={format_duration(t.horizon_ns)}" for t in self.tiers)

    def horizon(self, resolution_ns):
        return next(t.horizon_ns for t in self.tiers if t.resolution_ns == resolution_ns)

    def rollup_resolutions(self):
        return tuple(t.resolution_ns for t in self.tiers if t.resolution_ns != RAW_RESOLUTION)


DEFAULT_POLICY = RetentionPolicy.parse(DEFAULT_POLICY_TEXT)


@dataclass
class Applied:
    """What applying one tier did to one file: points (raw) or buckets (roll-ups) kept and dropped."""

    path: Path
    cutoff_ns: int
    kept: int
    dropped: int
    rewritten: bool


def newest_timestamp(paths):
    """The newest timestamp in any of the METRICS! files (the default "now" of a policy; in a
    roll-up file, the start of its newest bucket)."""
    newest = None
    for path in paths:
        with MetricsFile(path) as f:
            for entry in f.series:
                if entry.points and (newest is None or entry.max_timestamp > newest):
                    newest = entry.max_timestamp
    return newest


def apply_to_raw_file(path, horizon_ns, now_ns):
    """Drop the points older than now - horizon from a raw METRICS! file."""
    cutoff = now_ns - horizon_ns
    with MetricsFile(path) as f:
        block_points = f.block_points
        oldest = min((e.min_timestamp for e in f.series if e.points), default=cutoff)
        if oldest >= cutoff:
            return Applied(Path(path), cutoff, sum(e.points for e in f.series), 0, False)
        before = sum(e.points for e in f.series)
        kept = []
        for series in f.read_all():
            inside = series.timestamps >= cutoff
            kept.append(Series(series.name, series.labels, series.timestamps[inside], series.values[inside]))
    write_file(path, kept, block_points)
    remaining = sum(len(s) for s in kept)
    return Applied(Path(path), cutoff, remaining, before - remaining, True)


def apply_to_rollup_file(path, resolution_ns, horizon_ns, now_ns):
    """Drop the buckets that end at or before now - horizon from one resolution's roll-up file."""
    cutoff = now_ns - horizon_ns
    with MetricsFile(path) as f:
        buckets = sum(e.points for e in f.series if dict(e.labels).get(ROLLUP_LABEL) == "count")
        oldest = min((e.min_timestamp for e in f.series if e.points), default=cutoff)
    if oldest + resolution_ns > cutoff:  # the index alone shows that every bucket ends after the cutoff
        return Applied(Path(path), cutoff, buckets, 0, False)
    rollups = read_rollups(path, resolution_ns)
    trimmed = [buckets_ending_after(r, cutoff) for r in rollups]
    before, after = sum(len(r) for r in rollups), sum(len(r) for r in trimmed)
    if after == before:
        return Applied(Path(path), cutoff, before, 0, False)
    with MetricsFile(path) as f:
        block_points = f.block_points
    write_rollups(path, trimmed, block_points, light=any(map(is_light, rollups)))
    return Applied(Path(path), cutoff, after, before - after, True)


def apply_policy(policy, raw_path, rollup_paths, now_ns=None):
    """Apply every tier to its file; `rollup_paths` maps resolution_ns -> path (tiers without a
    file, and the raw tier when raw_path is None, are skipped). Returns one Applied per file, raw first."""
    files = [p for p in (raw_path, *rollup_paths.values()) if p is not None]
    now_ns = newest_timestamp(files) if now_ns is None else now_ns
    if now_ns is None:
        return []
    results = [] if raw_path is None else [apply_to_raw_file(raw_path, policy.horizon(RAW_RESOLUTION), now_ns)]
    for resolution in policy.rollup_resolutions():
        if resolution in rollup_paths:
            results.append(apply_to_rollup_file(rollup_paths[resolution], resolution, policy.horizon(resolution), now_ns))
    return results
