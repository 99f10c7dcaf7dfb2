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
"""
import json
import math
from array import array
from pathlib import Path

import numpy as np

from lib.atomic import atomic_write
from lib.cli import run_phase_script
from lib.phases import OUTPUT_FILENAMES, write_and_verify
from lib.dataset import Series, canonical_order, series_key, load_dataset_for_phase, total_points
from lib.errors import FormatError
from lib.progress import Progress
from lib.report import PhaseResult, human_bytes

FILENAME = OUTPUT_FILENAMES[1]
CHUNK_POINTS = 100_000
CANONICAL_NAN_BITS = 0x7FF8000000000000
SPECIAL_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


def format_value(value):
    """Shortest exact text for a float; strings for what JSON cannot express."""
    if math.isfinite(value):
        return repr(value)
    if value == math.inf:
        return '"+Inf"'
    if value == -math.inf:
        return '"-Inf"'
    bits = int(np.float64(value).view(np.uint64))
    return '"NaN"' if bits == CANONICAL_NAN_BITS else f'"NaN:{bits:#018x}"'


def parse_value(raw):
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        if raw in SPECIAL_VALUES:
            return SPECIAL_VALUES[raw]
        if raw.startswith("NaN:0x") and len(raw) == 22:
            value = float(np.uint64(int(raw[6:], 16)).view(np.float64))
            if math.isnan(value):
                return value
    raise ValueError(f"not a metric value: {raw!r}")


def scrape_log_order(series_list):
    """Positions of all points sorted by time across series, keeping each series' own order.

    Sorting by each series' running maximum timestamp (never decreasing within a series) with a
    stable sort interleaves series by time but never swaps two points of the same series.
    Returns (series index, point index) arrays in write order.
    """
    lengths = np.array([len(s) for s in series_list], dtype=np.int64)
    series_index = np.repeat(np.arange(len(series_list), dtype=np.int64), lengths)
    point_index = np.arange(lengths.sum(), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    running_max = [np.maximum.accumulate(s.timestamps) for s in series_list if len(s)]
    sort_key = np.concatenate(running_max) if running_max else np.empty(0, np.int64)
    order = np.argsort(sort_key, kind="stable")
    return series_index[order], point_index[order]


def write_ndjson(series_list, path):
    """Write the dataset as NDJSON; returns the file size in bytes."""
    name_json = [json.dumps(s.name) for s in series_list]
    labels_json = [json.dumps(s.labels, sort_keys=True) for s in series_list]
    all_timestamps = np.concatenate([s.timestamps for s in series_list] or [np.empty(0, np.int64)])
    all_values = np.concatenate([s.values for s in series_list] or [np.empty(0)])
    starts = np.cumsum([0] + [len(s) for s in series_list])
    series_index, point_index = scrape_log_order(series_list)
    flat_index = starts[series_index] + point_index
    progress = Progress("writing NDJSON", len(flat_index))
    size = 0
    with atomic_write(path) as f:
        for i, s in enumerate(series_list):
            if len(s) == 0:
                size += f.write(f'{{"metric_name": {name_json[i]}, "labels": {labels_json[i]}}}\n'.encode())
        for chunk_start in range(0, len(flat_index), CHUNK_POINTS):
            chunk = flat_index[chunk_start:chunk_start + CHUNK_POINTS]
            lines = [
                f'{{"timestamp": {t}, "metric_name": {name_json[i]}, "value": {format_value(v)}, '
                f'"labels": {labels_json[i]}}}\n'
                for t, v, i in zip(all_timestamps[chunk].tolist(), all_values[chunk].tolist(),
                                   series_index[chunk_start:chunk_start + CHUNK_POINTS].tolist())
            ]
            size += f.write("".join(lines).encode())
            progress.advance(len(chunk))
    progress.finish()
    return size


def read_ndjson(path):
    """Parse an NDJSON metrics file back into a dataset (canonical series order)."""
    columns = {}  # series key -> (name, labels, timestamps array('q'), values array('d'))
    progress = Progress("reading NDJSON", Path(path).stat().st_size, unit="bytes")
    with open(path, "rb") as f:
        for line_number, line in enumerate(f, start=1):
            if line_number % CHUNK_POINTS == 0:
                progress.advance(f.tell() - progress.done)
            try:
                point = json.loads(line)
                name, labels = point["metric_name"], point["labels"]
                key = series_key(name, labels)
                entry = columns.get(key)
                if entry is None:
                    entry = columns[key] = (name, labels, array("q"), array("d"))
                if "timestamp" in point or "value" in point:
                    timestamp = point["timestamp"]
                    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
                        raise ValueError(f"timestamp must be an integer, got {timestamp!r}")
                    entry[2].append(timestamp)
                    entry[3].append(parse_value(point["value"]))
            except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
                raise FormatError(f"{path}:{line_number}: bad NDJSON point ({exc})") from None
    progress.finish()
    try:
        return canonical_order(
            Series(name, labels, np.frombuffer(ts, dtype=np.int64), np.frombuffer(vs, dtype=np.float64))
            for name, labels, ts, vs in columns.values()
        )
    except ValueError as exc:
        raise FormatError(f"{path}: {exc}") from None


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
    print(f"Phase 1: NDJSON, one JSON object per point -> {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.1f} bytes per point")
    print(f"  a line: {example}")
    print("  Every line repeats the metric name, all labels and the field names; numbers are text.")
    print("  Read back and verified identical, bit for bit.")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
