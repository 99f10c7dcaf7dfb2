"""Phase 4: a self-contained binary file with a header, an index, checksums and random access.

Phase 3's columns are small but a database cannot use them as they are: to read one series you would
decode the file from the start. The METRICS! file (lib/storage/metrics_file.py; every byte in
docs/format.md) puts a small index in front: metric names and labels through a string dictionary,
and per series the offset, length and time range of each of its blocks. A reader loads the index,
then seeks to just the blocks a query needs; CRC32 checksums on the index and on every block turn
damage into a clear error instead of wrong numbers.

Because every block is independent, each can also use the codec that suits its numbers
(lib/codecs/selection.py): decimals as their digits, floats a rounding step away from a decimal as
digits plus that step, a handful of repeated values as a dictionary, flat stretches as one
pattern; timestamps as steps on a grid of the usual scrape interval. All of them end in the same
entropy coder, bins (lib/codecs/bins.py): a coarse class per number, coded by how common it is,
plus the low bits raw. The encoder estimates each codec's size from statistics of the block
instead of trying general-purpose compressors, so writing stays fast. Two one-byte tags per block
(timestamps, values) say which codecs it used; the report lists them, one line each.

The trade-off: the index, block headers and checksums cost bytes, and every block starts its
encoders afresh. Bigger blocks spread that cost; smaller ones let a time-range query decode less.
The report prints both sides: the file next to phase 3's, and a one-hour read on blocks of two
sizes.
"""
import tempfile
import time
from pathlib import Path

from lib.codecs.selection import gloss
from lib.data.dataset import HOUR_NS, Series, first_difference, load_dataset_for_phase, total_points
from lib.errors import RoundTripError
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, earlier_phase_file
from lib.storage.metrics_file import (
    BLOCK_HEADER, CRC, DEFAULT_BLOCK_POINTS, HEADER, MetricsFile, overlapping_blocks, read_file, write_file,
)

FILENAME = OUTPUT_FILENAMES[4]
TIMING_REPEATS = 3
# The random-access demo also writes its series with blocks this small, to show a time-range read
# decoding only some of the blocks (and what the smaller blocks cost in size).
DEMO_BLOCK_POINTS = 256


def run(output_dir):
    series_list = load_dataset_for_phase(output_dir)
    path = Path(output_dir) / FILENAME
    usage = {}
    progress = Progress("writing METRICS! file", total_points(series_list))
    start = time.perf_counter()
    size = write_file(path, series_list, DEFAULT_BLOCK_POINTS, codec_usage=usage, progress=progress)
    progress.finish()
    differences = {"read_file": first_difference(series_list, read_file(path))}
    seconds = time.perf_counter() - start
    gorilla = measure_gorilla_only(series_list, output_dir)
    access = measure_random_access(path, series_list, output_dir, differences)
    print_report(path, size, seconds, series_list, usage, gorilla, access, differences)
    failed = {read: difference for read, difference in differences.items() if difference is not None}
    verified = not failed
    if not verified:
        raise RoundTripError(f"phase 4 ({path}): " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    return PhaseResult(4, "METRICS! binary file", path, size, total_points(series_list), seconds,
                       verified=verified)


def measure_gorilla_only(series_list, output_dir):
    """The same file with every block in plain Gorilla, as phase 3 stores it: (bytes, seconds)."""
    with tempfile.TemporaryDirectory(dir=output_dir) as scratch:
        start = time.perf_counter()
        size = write_file(Path(scratch) / "gorilla.bin", series_list, DEFAULT_BLOCK_POINTS, choose_codecs=False)
        return size, time.perf_counter() - start


def best_time(action):
    """Run `action` a few times on a freshly opened file; the fastest run and its bytes read."""
    best = None
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        result, bytes_read = action()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return result, best, bytes_read


def opened(path, query):
    """Open the file, run `query` on it, and report the bytes read beyond the index."""
    def action():
        with MetricsFile(path) as metrics_file:
            index_bytes = metrics_file.bytes_read
            result = query(metrics_file)
            return result, metrics_file.bytes_read - index_bytes
    return action


def timed_read(path, query, expected, label, differences):
    """Time `query` on the file, check its answer against `expected`, and describe it."""
    result, seconds, bytes_read = best_time(opened(path, query))
    differences[label] = first_difference(expected, result if isinstance(result, list) else [result])
    return {"seconds": seconds, "bytes_read": bytes_read, "points": total_points(expected)}


def blocks_for_hour(entry, hour):
    """How many of a series' blocks an hour's read decodes, of how many, and the series' bytes."""
    return {"blocks": len(overlapping_blocks(entry, *hour)), "of_blocks": len(entry.blocks),
            "series_bytes": sum(b.length for b in entry.blocks)}


def measure_random_access(path, series_list, output_dir, differences):
    """Whole-file, one-series and one-hour reads (the hour on blocks of two sizes), each checked."""
    target = max(series_list, key=len)
    if len(target) == 0:
        return {}
    middle = int(target.timestamps[len(target) // 2])
    hour = (middle, middle + HOUR_NS)
    inside = (target.timestamps >= hour[0]) & (target.timestamps < hour[1])
    window = Series(target.name, target.labels, target.timestamps[inside], target.values[inside])
    big_blocks_hour = f"one hour, {DEFAULT_BLOCK_POINTS:,}-point blocks"
    small_blocks_hour = f"one hour, {DEMO_BLOCK_POINTS}-point blocks"
    whole = timed_read(path, lambda f: f.read_all(), series_list, "read_all", differences)
    one = timed_read(path, lambda f: f.read_series(target.name, target.labels), [target], "one series",
                     differences)
    in_hour = timed_read(path, lambda f: f.read_range(target.name, target.labels, *hour), [window],
                         big_blocks_hour, differences)
    with tempfile.TemporaryDirectory(dir=output_dir) as scratch:
        demo_path = Path(scratch) / "demo.bin"
        write_file(demo_path, [target], DEMO_BLOCK_POINTS)
        small = timed_read(demo_path, lambda f: f.read_range(target.name, target.labels, *hour), [window],
                           small_blocks_hour, differences)
        with MetricsFile(demo_path) as demo:
            entry = demo.find(target.name, target.labels)
            small.update(blocks_for_hour(entry, hour))
    with MetricsFile(path) as metrics_file:
        index_bytes = metrics_file.bytes_read
        entry = metrics_file.find(target.name, target.labels)
        whole["blocks"] = sum(len(e.blocks) for e in metrics_file.series)
        one["blocks"] = len(entry.blocks)
        in_hour.update(blocks_for_hour(entry, hour))
    return {"series": target.display_name(), "index_bytes": index_bytes,
            "reads": [("whole file", whole), ("one series", one),
                      (big_blocks_hour, in_hour), (small_blocks_hour, small)]}


def plural(count, noun):
    """plural(1, "block") -> "1 block", plural(7, "block") -> "7 blocks"."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def print_codec_usage(usage, points):
    glossed = {}
    for column in ("timestamps", "values"):
        rows = usage.get(column, {})
        column_bits = 8 * sum(row["bytes"] for row in rows.values()) / max(points, 1)
        print(f"  {column}: {column_bits:.2f} bits each on average; the codec each block chose:")
        for name, row in sorted(rows.items(), key=lambda item: -item[1]["points"]):
            print(f"    {name:<16} {row['blocks']:>6,} blocks {row['points']:>11,} points  "
                  f"{8 * row['bytes'] / max(row['points'], 1):6.2f} bits/point")
            glossed[name] = gloss(name)
    print("  the value codec each metric's blocks chose (points):")
    for metric, codecs in sorted(usage.get("by_metric", {}).items()):
        chosen = ", ".join(f"{name} {count:,}" for name, count in sorted(codecs.items(), key=lambda item: -item[1]))
        print(f"    {metric:<31} {chosen}")
    print("  The codecs named above:")
    for name, line in glossed.items():
        print(f"    {name:<16} {line}")


def print_report(path, size, seconds, series_list, usage, gorilla, access, differences):
    points = total_points(series_list)
    with MetricsFile(path) as metrics_file:
        index_size = metrics_file.data_offset
        blocks = sum(len(e.blocks) for e in metrics_file.series)
    framing = blocks * (BLOCK_HEADER.size + CRC.size)
    print(f"Phase 4: METRICS! binary file with index, checksums and a codec per block -> {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.2f} bytes per point, "
          f"written and verified in {seconds:.2f} s")
    print(f"  header {HEADER.size} B + index and CRC {human_bytes(index_size - HEADER.size)} + block framing "
          f"{human_bytes(framing)} ({len(series_list)} series, {blocks} blocks of <= {DEFAULT_BLOCK_POINTS:,} "
          f"points): {100 * (index_size + framing) / max(size, 1):.1f}% of the file")
    print_codec_usage(usage, points)
    gorilla_size, gorilla_seconds = gorilla
    print(f"  The same file with plain Gorilla in every block (phase 3's encoding): {human_bytes(gorilla_size)}, "
          f"{gorilla_size / max(points, 1):.2f} B/point, written in {gorilla_seconds:.2f} s; "
          f"the codec choice makes it {gorilla_size / max(size, 1):.2f}x smaller")
    phase3 = earlier_phase_file(Path(path).parent, 3)
    if phase3:
        extra = gorilla_size - phase3.stat().st_size
        print(f"  Gorilla-only METRICS! file versus phase 3's msgpack file: {extra:+,} bytes "
              f"({100 * extra / phase3.stat().st_size:+.1f}%), index, block framing and checksums included "
              f"({'smaller: its binary framing costs less than msgpack' if extra < 0 else 'larger'})")
    if access:
        print(f"  random access on {access['series']} (best of {TIMING_REPEATS}; index {human_bytes(access['index_bytes'])} "
              f"read once on open):")
        for label, row in access["reads"]:
            decoded = f"{plural(row['blocks'], 'block')} decoded" + (f" of its {row['of_blocks']}" if "of_blocks" in row else "")
            print(f"    {label:<27} {row['points']:>10,} points  {1000 * row['seconds']:8.2f} ms  "
                  f"{human_bytes(row['bytes_read']):>10} of data read ({decoded})")
        big, small = access["reads"][2][1], access["reads"][3][1]
        print(f"  The series takes {human_bytes(big['series_bytes'])} in {plural(big['of_blocks'], 'block')} of up to "
              f"{DEFAULT_BLOCK_POINTS:,} points, {human_bytes(small['series_bytes'])} in {small['of_blocks']} "
              f"blocks of {DEMO_BLOCK_POINTS}: small blocks make an hour cheap to read and the file larger.")
    checked = ", ".join(differences)
    if all(difference is None for difference in differences.values()):
        print(f"  Read back and verified identical, bit for bit ({checked}).")
    else:
        print(f"  Read back DIFFERENT from the dataset ({checked}): see the error below.")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
