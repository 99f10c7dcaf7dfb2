"""Phase 0: make the dataset every later phase compresses, or import real metrics instead.

The synthetic data imitates a Prometheus scraper (scrapes every 10, 15 or 60 s with millisecond jitter, gaps,
counters with restarts, values at the precision exporters really give), because every ratio the
later phases print depends on what the data looks like. `--import` builds the same dataset file
from your own CSV, InfluxDB line protocol or Prometheus query_range JSON exports.

The dataset file is just raw int64 timestamps and float64 values behind a small JSON header:
16 bytes per point, the "uncompressed" yardstick (see lib/data/dataset.py).
"""
import sys
import time
from collections import Counter

import numpy as np

from lib.data import generator, importers
from lib.data.dataset import NS_PER_SECOND, dataset_path, save_dataset, total_points
from lib.errors import SqueezedSignalsError
from lib.plumbing.output_lock import locked_output_dir
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes
from lib.report.text import shorten, wrap
from lib.runner.cli import add_dataset_arguments, exit_on_user_error, make_parser


MAX_NAMES_SHOWN = 20  # an import of thousands of metrics lists the first few


def run(output_dir, size=generator.DEFAULT_SIZE, seed=generator.DEFAULT_SEED,
        series=None, points=None, import_paths=None, import_format=None):
    """Generate (or import) the dataset and write it to `output_dir`; returns the phase-0 row."""
    start = time.perf_counter()
    if import_paths:
        series_list, info = import_dataset(import_paths, import_format)
    else:
        series_list, info = generate(size, seed, series, points)
    path = dataset_path(output_dir)
    size_bytes = save_dataset(series_list, path, info)
    seconds = time.perf_counter() - start
    print_summary(series_list, info, path, size_bytes)
    return PhaseResult(0, "raw int64+float64 arrays", path, size_bytes, total_points(series_list), seconds, True)


def generate(size, seed, series, points):
    default_series, default_points = generator.SIZES[size]
    series = default_series if series is None else series
    points = default_points if points is None else points
    try:
        generator.check_sizes(series, points, seed)
    except ValueError as exc:
        raise SqueezedSignalsError(str(exc)) from None
    progress = Progress("generating", series, unit="series")
    series_list = generator.generate_dataset(series, points, seed, progress=progress)
    progress.finish()
    kinds = {m.name: f"{m.kind}: {m.description}" for m in generator.METRICS}
    info = {"source": "generated", "size": size, "seed": seed, "kinds": kinds}
    return series_list, info


def import_dataset(paths, import_format):
    result = importers.import_paths(paths, import_format)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    info = {"source": "imported", "files": [str(f) for f in result.files]}
    return result.series, info


def print_summary(series_list, info, path, size_bytes):
    points = total_points(series_list)
    nonempty = [s for s in series_list if len(s)]
    print(f"Phase 0: {info['source']} dataset")
    print(f"  series: {len(series_list):,}   points: {points:,}")
    if nonempty:
        first = min(int(s.timestamps.min()) for s in nonempty)
        last = max(int(s.timestamps.max()) for s in nonempty)
        print(f"  time span: {format_utc(first)} .. {format_utc(last)} ({(last - first) / 3.6e12:.1f} h)")
        print(f"  scrape intervals: {format_intervals(scrape_intervals(nonempty))}")
    metrics = Counter(s.name for s in series_list)
    print(wrap(f"metrics: {len(metrics):,} ({', '.join(shorten(name, 60) for name in sorted(metrics)[:MAX_NAMES_SHOWN])}"
               f"{', ...' if len(metrics) > MAX_NAMES_SHOWN else ''})", hanging="    "))
    for name, description in sorted(info.get("kinds", {}).items()):
        print(f"    {name}: {description}")
    print(f"  wrote {path} ({human_bytes(size_bytes)}, {size_bytes / max(points, 1):.1f} bytes/point)")


def scrape_intervals(series_list):
    """How many series scrape at each interval, in whole seconds: {15: 30, 10: 10, 60: 10}.
    A series' interval is the median gap between its points, so jitter and gaps do not count."""
    return Counter(round(float(np.median(np.diff(s.timestamps))) / NS_PER_SECOND)
                   for s in series_list if len(s) > 1)


def format_intervals(counts, shown=6):
    """{15: 30, 10: 10} -> "15 s: 30 series, 10 s: 10 series" (the most common first, at most `shown`)."""
    common = counts.most_common()
    text = ", ".join(f"{seconds} s: {n} series" for seconds, n in common[:shown]) or "-"
    return text + (f", and {len(common) - shown} other intervals" if len(common) > shown else "")


def format_utc(ns):
    return np.datetime_as_string(np.datetime64(ns, "ns"), unit="s") + "Z"


def main():
    parser = make_parser(__doc__)
    add_dataset_arguments(parser)
    args = parser.parse_args()
    with locked_output_dir(args.output_dir):
        run(args.output_dir, args.size, args.seed, args.series, args.points, args.import_paths, args.import_format)


if __name__ == "__main__":
    exit_on_user_error(main)
