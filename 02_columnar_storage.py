"""Phase 2: columnar storage, each series' metadata once, then its timestamps and values as columns.

NDJSON repeats the metric name and every label on every line. Grouping points by series removes
that repetition: the labels are written once per series instead of once per point, and each series
becomes two columns, all timestamps together and all values together. The file is msgpack, a
binary JSON, so numbers are binary instead of decimal text:

    {"series_metadata": [{"name": "cpu_usage_percent", "labels": {...}}, ...],
     "series_data":     [{"timestamps": [int, ...], "values": [float, ...]}, ...]}

What is still wasteful: every timestamp costs 9 bytes (msgpack's int64) although consecutive
timestamps differ by about the same scrape interval (10, 15 or 60 s), and every value costs 9 bytes (float64) although many
values barely change. Phase 3 removes exactly that redundancy.

What it cannot do, like phases 1 and 3: notice damage. The file carries no checksum, so a bit
flipped on disk inside a float comes back as a different value without any error (phase 3's
report shows it happening); phase 4's METRICS! file adds a CRC32 to every block for that reason.
"""
from pathlib import Path

import msgpack
import numpy as np

from lib.data.dataset import Series, canonical_order, load_dataset_for_phase, total_points
from lib.errors import FormatError
from lib.plumbing.atomic import atomic_write
from lib.plumbing.progress import Progress
from lib.plumbing.regular_files import open_regular_file
from lib.plumbing.safe_msgpack import DAMAGE_ERRORS, limits_for
from lib.report.table import PhaseResult, human_bytes
from lib.report.text import plural, wrap
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, write_and_verify

FILENAME = OUTPUT_FILENAMES[2]


def write_columnar(series_list, path):
    """Stream the dataset into a msgpack file, one series at a time; returns the file size."""
    packer = msgpack.Packer()
    progress = Progress("writing msgpack", total_points(series_list))
    size = 0
    with atomic_write(path) as f:
        size += f.write(packer.pack_map_header(2))
        size += f.write(packer.pack("series_metadata"))
        size += f.write(packer.pack([{"name": s.name, "labels": s.labels} for s in series_list]))
        size += f.write(packer.pack("series_data"))
        size += f.write(packer.pack_array_header(len(series_list)))
        for s in series_list:
            # tolist() turns int64/float64 into Python int/float, which msgpack stores as int64
            # and float64 (9 bytes each: a type byte + 8) without touching the bits.
            size += f.write(packer.pack({"timestamps": s.timestamps.tolist(), "values": s.values.tolist()}))
            progress.advance(len(s))
    progress.finish()
    return size


def read_columnar(path):
    """Read the msgpack file back into a dataset, one series at a time."""
    f, size = open_regular_file(path)
    with f:
        unpacker = msgpack.Unpacker(f, raw=False, strict_map_key=True, **limits_for(size, streaming=True))
        try:
            if unpacker.read_map_header() != 2 or unpacker.unpack() != "series_metadata":
                raise FormatError(f"{path}: not a phase-2 columnar file (series_metadata missing)")
            metadata = unpacker.unpack()
            if unpacker.unpack() != "series_data" or unpacker.read_array_header() != len(metadata):
                raise FormatError(f"{path}: series_data does not match series_metadata")
            progress = Progress("reading msgpack back", len(metadata), unit="series")
            series_list = []
            for meta in metadata:
                series_list.append(series_from_columns(meta, unpacker.unpack()))
                progress.advance(1)
            progress.finish()
            if unpacker.read_bytes(1):
                raise FormatError(f"{path}: unexpected bytes after the last series")
            return canonical_order(series_list)
        except FormatError:
            raise
        except DAMAGE_ERRORS as exc:
            raise FormatError(f"{path}: damaged columnar file ({type(exc).__name__}: {exc})") from None


def series_from_columns(meta, columns):
    timestamps, values = columns["timestamps"], columns["values"]
    if not all(type(t) is int for t in timestamps) or not all(type(v) is float for v in values):
        raise ValueError("columns must hold integer timestamps and float values")
    return Series(meta["name"], meta["labels"], timestamps, values)


def run(output_dir):
    series_list = load_dataset_for_phase(output_dir)
    path = Path(output_dir) / FILENAME
    size, seconds, verified = write_and_verify(series_list, path, write_columnar, read_columnar, "phase 2")
    points = total_points(series_list)
    print_report(series_list, path, size, points)
    return PhaseResult(2, "columnar msgpack", path, size, points, seconds, verified=verified)


def redundancy(series_list):
    """What phase 3 will take out, measured on this data: the share of timestamp steps within 1% of
    their series' most common step, and the shares of values equal to the one before (bit for bit)
    and within 1% of it. Steps [15, 15, 16, 30] (ms): the usual step 15, three of four within 1%."""
    steps_near = steps = equal = close = pairs = 0
    for s in series_list:
        if len(s) < 2:
            continue
        step = s.timestamps[1:].view(np.uint64) - s.timestamps[:-1].view(np.uint64)  # wraps, never overflows
        distinct, counts = np.unique(step, return_counts=True)
        usual = distinct[counts.argmax()]
        steps += step.size
        steps_near += int(np.count_nonzero(np.abs(step.astype(np.float64) - float(usual)) <= float(usual) / 100))
        previous, current = s.values[:-1], s.values[1:]
        same = previous.view(np.uint64) == current.view(np.uint64)
        with np.errstate(invalid="ignore", over="ignore"):
            near = ~same & (np.abs(current - previous) <= 0.01 * np.abs(previous))
        equal += int(same.sum())
        close += int(near.sum())
        pairs += step.size
    share = (lambda n, of: 100 * n / of if of else 0.0)
    return share(steps_near, steps), share(equal, pairs), share(close, pairs)


def print_report(series_list, path, size, points):
    metadata_bytes = len(msgpack.packb([{"name": s.name, "labels": s.labels} for s in series_list]))
    print("Phase 2: columnar msgpack")
    print(f"  wrote {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.1f} bytes per point")
    print(f"  series metadata is written once: {human_bytes(metadata_bytes)} for {plural(len(series_list), 'series', 'series')}")
    steady, repeated, close = redundancy(series_list)
    if not any(len(s) > 1 for s in series_list):
        print("  9 bytes per timestamp and per value; no series has two points, so there is no difference to store.")
    else:
        print(wrap(f"Still 9 bytes per timestamp, {'although' if steady >= 50 else 'and'} {steady:.0f}% of the steps "
                   f"between a series' timestamps are within 1% of its usual step; and 9 bytes per value, "
                   f"{'although' if repeated + close >= 50 else 'and'} {repeated:.0f}% of values repeat the one "
                   f"before and {close:.0f}% more differ from it by under 1%. Phase 3 stores the differences "
                   f"instead."))
    print("  Read back and verified identical, bit for bit.")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
