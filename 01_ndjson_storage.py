"""Phase 1: NDJSON, one JSON object per point, the way a scrape log or a naive pipeline stores metrics.

Every line repeats the metric name, every label and the field names, and writes numbers as decimal
text: easy to read, grep and stream, and the baseline every later phase is measured against.

    {"timestamp": 1704067200000000000, "metric_name": "cpu_usage_percent", "value": 75.2,
     "labels": {"host": "server-01", "region": "us-east-1"}}

Points are ordered by time across series, as a scrape log would write them; within one series
the original order is kept even if its timestamps go backwards.

Exactness. Values are written with Python's shortest round-trip repr (`75.2`, `-0.0`, `1e+16`), which
parses back to the same float64. Plain JSON has no NaN or infinity, so those are written as strings,
the way Prometheus' HTTP API does: "NaN", "+Inf", "-Inf". A NaN whose bits differ from the usual
quiet NaN (0x7ff8000000000000) is written as "NaN:0x<16 hex digits>" so its payload survives too.
A series without points has no point lines; it is declared by a line without timestamp and value.

Text is also the slow part: reading means turning every line back into numbers
(lib/data/ndjson.py reads the writer's exact layout with one regular expression, and any other
layout one json.loads per line). The round trip below proves this file reads back exact on every
run.

What NDJSON cannot do: the file carries no checksum. A flipped bit in a digit (`75.2` becoming
`75.3`) reads back as a different, perfectly valid value; only phase 4's CRC would notice.
"""
import json
from pathlib import Path

import numpy as np

from lib.data.dataset import load_dataset_for_phase, total_points
from lib.data.ndjson import format_value, read_ndjson
from lib.plumbing.atomic import atomic_write
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes
from lib.report.text import REPORT_WIDTH, shorten
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, write_and_verify

FILENAME = OUTPUT_FILENAMES[1]
CHUNK_POINTS = 100_000


def scrape_log_order(series_list):
    """Positions of all points sorted by time across series, keeping each series' own order.

    Sorting by each series' running maximum timestamp (never decreasing within a series) with a
    stable sort interleaves series by time but never swaps two points of the same series.
    Returns (positions in the series-after-series concatenation, series index of each) in write order.
    """
    lengths = np.array([len(s) for s in series_list], dtype=np.int64)
    running_max = [np.maximum.accumulate(s.timestamps) for s in series_list if len(s)]
    sort_key = np.concatenate(running_max) if running_max else np.empty(0, np.int64)
    order = np.argsort(sort_key, kind="stable")
    series_of_position = np.repeat(np.arange(len(series_list), dtype=np.int32), lengths)
    return order, series_of_position[order]


def write_ndjson(series_list, path):
    """Write the dataset as NDJSON; returns the file size in bytes."""
    name_json = [json.dumps(s.name) for s in series_list]
    labels_json = [json.dumps(s.labels, sort_keys=True) for s in series_list]
    all_timestamps = np.concatenate([s.timestamps for s in series_list] or [np.empty(0, np.int64)])
    all_values = np.concatenate([s.values for s in series_list] or [np.empty(0)])
    order, series_index = scrape_log_order(series_list)
    progress = Progress("writing NDJSON", len(order))
    size = 0
    with atomic_write(path) as f:
        for i, s in enumerate(series_list):
            if len(s) == 0:
                size += f.write(f'{{"metric_name": {name_json[i]}, "labels": {labels_json[i]}}}\n'.encode())
        for start in range(0, len(order), CHUNK_POINTS):
            chunk = order[start:start + CHUNK_POINTS]
            values = all_values[chunk]
            value_text = repr if np.isfinite(values).all() else format_value  # repr: the common case, faster
            lines = [
                f'{{"timestamp": {t}, "metric_name": {name_json[i]}, "value": {value_text(v)}, '
                f'"labels": {labels_json[i]}}}\n'
                for t, v, i in zip(all_timestamps[chunk].tolist(), values.tolist(),
                                   series_index[start:start + CHUNK_POINTS].tolist())
            ]
            size += f.write("".join(lines).encode())
            progress.advance(len(chunk))
    progress.finish()
    return size


def run(output_dir):
    series_list = load_dataset_for_phase(output_dir)
    path = Path(output_dir) / FILENAME
    size, seconds, verified = write_and_verify(series_list, path, write_ndjson, read_ndjson, "phase 1")
    points = total_points(series_list)
    print_report(path, size, points)
    return PhaseResult(1, "NDJSON", path, size, points, seconds, verified=verified)


def print_report(path, size, points):
    with open(path, "rb") as f:
        example = f.readline().decode().strip()
    print("Phase 1: NDJSON, one JSON object per point")
    print(f"  wrote {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.1f} bytes per point")
    print(f"  a line: {shorten(example, REPORT_WIDTH - 10)}")
    print("  Every line repeats the metric name, all labels and the field names; numbers are text.")
    print("  Read back and verified identical, bit for bit.")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
