"""Phase 4: a self-contained binary file with a header, an index, checksums and random access.

Phase 3's columns are small but a database cannot use them as they are: to read one series you would
decode the file from the start. The METRICS! file (lib/storage/metrics_file.py; every byte in
docs/format.md) keeps a small index after its blocks, found through a footer at the end: metric
names and labels through a string dictionary, and per series the offset, length and time range of
each of its blocks. A reader loads the index, then seeks to just the blocks a query needs; CRC32
checksums on the index and on every block turn damage into a clear error instead of wrong numbers.

Because every block is independent, each can also use the codec that suits its numbers
(lib/codecs/choice.py): decimals as their digits, floats a rounding step away from a decimal as
digits plus that step, a handful of repeated values as a dictionary, flat stretches as one
pattern; timestamps as steps on a grid of the usual scrape interval. All of them end in the same
entropy coder, bins (lib/codecs/bins/): a coarse class per number, coded by how common it is,
plus the low bits raw. The encoder estimates each codec's size from statistics of the block
instead of trying general-purpose compressors, so writing stays fast. Two one-byte tags per block
(timestamps, values) say which codecs it used; the report lists them, one line each.

The report opens with one real block of the run traced step by step, with the decimal codec's own
pieces: the exponent found, the integers, their common factor, the transform and the residuals,
the bins chosen for them, and the bytes every part takes, adding up to the block's size.

The trade-off: the index, block headers and checksums cost bytes, and every block starts its
encoders afresh. Bigger blocks spread that cost; smaller ones let a time-range query decode less.
The report prints both sides: the file next to phase 3's, and a one-hour read on blocks of two
sizes.
"""
import tempfile
import time
from pathlib import Path

import numpy as np

from lib.codecs.bins.anatomy import describe_stream
from lib.codecs.choice import FAST_CODECS, encode_values_best
from lib.codecs.timestamp_choice import encode_timestamps_best
from lib.codecs.decimal_bins import choose_adjusted_exponent, nearest_decimals
from lib.codecs.decimal_digits import common_factor, fill_exceptions, read_decimal_head
from lib.codecs.registry import DECIMAL_BINS, VALUE_CODECS, gloss
from lib.codecs.transforms import TRANSFORM_NAMES, plan_for_bins
from lib.data.dataset import HOUR_NS, Series, first_difference, load_dataset_for_phase, total_points
from lib.errors import FormatError, RoundTripError
from lib.plumbing.progress import Progress
from lib.report.table import PhaseResult, human_bytes, ratio_words
from lib.report.text import REPORT_WIDTH, plural, shorten, wrap
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, earlier_phase_file
from lib.runner.provenance import record_written
from lib.storage.file_layout import CRC
from lib.storage.metrics_file import (
    BLOCK_HEADER, DEFAULT_BLOCK_POINTS, MetricsFile, overlapping_blocks, read_file,
)
from lib.storage.streaming_writer import write_file

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
    print_traced_block(series_list)
    print_report(path, size, seconds, series_list, usage, gorilla, access, differences)
    failed = {read: difference for read, difference in differences.items() if difference is not None}
    verified = not failed
    if not verified:
        raise RoundTripError(f"phase 4 ({path}): " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    record_written(output_dir, path)
    return PhaseResult(4, "METRICS! binary file", path, size, total_points(series_list), seconds,
                       verified=verified)


def block_to_trace(series_list):
    """(series, timestamps, values) of the first block of the longest series whose first block the
    choice stores as decimal digits (decimal-bins), those with digits after the point first; None
    if no series' first block is stored so."""
    found = []
    for series in sorted(series_list, key=len, reverse=True):
        values = series.values[:DEFAULT_BLOCK_POINTS]
        if len(values) and encode_values_best(values)[0] == DECIMAL_BINS:
            found.append((choose_adjusted_exponent(values) == 0, -len(values), len(found), series))
    if not found:
        return None
    series = min(found)[3]
    return series, series.timestamps[:DEFAULT_BLOCK_POINTS], series.values[:DEFAULT_BLOCK_POINTS]


def print_traced_block(series_list):
    """One real block, built with decimal-bins' own steps, every part's bytes counted."""
    found = block_to_trace(series_list)
    if found is None:
        print("Phase 4: no block of this dataset starts as decimal digits (decimal-bins), the codec this trace follows;")
        print("  the codec each block chose is listed below.")
        return
    series, timestamps, values = found
    print(f"Phase 4: one block traced, the first {len(values):,} points of {shorten(series.display_name(), 60)}")
    show = min(6, len(values))
    exponent = choose_adjusted_exponent(values)
    ints, adjustments, usable = nearest_decimals(values, exponent)
    factor = common_factor(ints[usable])
    transform, base, residuals = plan_for_bins(fill_exceptions(ints // factor, usable))
    steps = [("values", values[:show]), (f"x 10**{exponent}", ints[:show]), (f"/ factor {factor}", ints[:show] // factor),
             (f"{TRANSFORM_NAMES[transform]}, centred on {base}, zigzagged", residuals[:show])]
    width = max(len(label) for label, _ in steps)
    for label, first in steps:
        print(shorten(f"  {label:<{width}}  {numbers(first)}", REPORT_WIDTH))
    exceptions = len(values) - int(usable.sum())
    print(wrap(f"({usable.sum():,} of {len(values):,} values are decimals with {exponent} digits after the point, "
               f"{np.count_nonzero(adjustments):,} of them a few ULP off"
               + (f"; {plural(exceptions, 'value')} stored raw as exceptions)" if exceptions else ")")))
    stream = encode_values_best(values)[1]
    head = read_decimal_head(stream, len(values), "decimal-bins", adjustable=True)
    bins, end = describe_stream(stream, len(values), head.offset)
    for line in bins_lines("residuals as bins", bins):
        print(line)
    parts = {"header": head.offset, "residual bins": end - head.offset, "adjustments and exceptions": len(stream) - end}
    print(wrap(f"value stream {len(stream):,} B = " + " + ".join(f"{name} {size:,} B" for name, size in parts.items())
               + f": {8 * len(stream) / len(values):.2f} bits a value", hanging="    "))
    timestamp_stream = encode_timestamps_best(timestamps)[1]
    total = BLOCK_HEADER.size + len(timestamp_stream) + len(stream) + CRC.size
    print(f"  block {total:,} B = block header {BLOCK_HEADER.size} B + timestamps {len(timestamp_stream):,} B"
          f" + values {len(stream):,} B + CRC32 {CRC.size} B")
    print()


def numbers(array):
    return "  ".join(f"{x:g}" if isinstance(x, float) else f"{x}" for x in array.tolist())


def bins_lines(title, parts):
    """Report lines of `describe_stream`'s parts: what the bins stream chose, and its bytes."""
    if parts["mode"] == "sparse":
        return ([f"  {title}: sparse (mostly zeros), {parts['header']} B of header, then"]
                + bins_lines("  the zero runs", parts["zero runs"]) + bins_lines("  the non-zero values", parts["non-zero values"]))
    return [f"  {title}: dense, precision {parts['precision']}, rank split {parts['split']}, "
            f"{plural(parts['bins'], 'bin')} used",
            f"{' ' * (len(title) - len(title.lstrip()) + 4)}bytes: header {parts['header']:,}, unary codes {parts['unary']:,}, low rank bits {parts['low bits']:,}, "
            f"offsets {parts['offsets']:,}"]


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
        print(wrap(f"{name:<16} {line}", indent="    ", hanging=" " * 21))
    used = {name.partition("+")[0] for name in usage.get("values", {})}
    unused = [VALUE_CODECS[tag].name for tag in FAST_CODECS if VALUE_CODECS[tag].name not in used]
    if unused:
        print(f"  The default choice also has {plural(len(unused), 'value codec')} that no block of this dataset needed:")
        for name in unused:
            print(wrap(f"{name:<16} {gloss(name)}", indent="    ", hanging=" " * 21))


def block_size_lesson(big, small):
    """What the hour's read on blocks of two sizes shows, from its numbers."""
    sizes = (f"The series takes {human_bytes(big['series_bytes'])} in {plural(big['of_blocks'], 'block')} of up to "
             f"{DEFAULT_BLOCK_POINTS:,} points and {human_bytes(small['series_bytes'])} in "
             f"{plural(small['of_blocks'], 'block')} of {DEMO_BLOCK_POINTS}")
    if small["of_blocks"] == big["of_blocks"]:
        return f"{sizes}: it fits one block either way, so the block size changes nothing here."
    cheaper = small["bytes_read"] < big["bytes_read"]
    larger = small["series_bytes"] > big["series_bytes"]
    read = (f"the hour reads {human_bytes(small['bytes_read'])} instead of {human_bytes(big['bytes_read'])}"
            if cheaper else f"the hour still reads {human_bytes(small['bytes_read'])} (blocks it spans)")
    cost = "and the series is larger: each block starts its encoders afresh" if larger else "at no cost in size here"
    return f"{sizes}: with small blocks {read}, {cost}."


def crc_lesson(path):
    """Flip the lowest bit of the byte before the last block's CRC32 (a copy, in a scratch folder)
    and say what the reader does: the damage phase 3's file would have read as another value."""
    with MetricsFile(path) as metrics_file:
        blocks_end = metrics_file.data_offset + metrics_file.data_length
    data = bytearray(Path(path).read_bytes())
    data[blocks_end - CRC.size - 1] ^= 1
    with tempfile.TemporaryDirectory() as scratch:
        damaged = Path(scratch) / "damaged.bin"
        damaged.write_bytes(data)
        try:
            read_file(damaged)
        except FormatError as exc:
            return (f"One flipped bit (the lowest of the byte before the last block's CRC32) in a copy of this "
                    f"file is refused: {str(exc).rsplit(': ', 1)[-1]}.")
    return "One flipped bit in a copy of this file (before its last block's CRC32) was NOT detected: a bug."


def print_report(path, size, seconds, series_list, usage, gorilla, access, differences):
    points = total_points(series_list)
    with MetricsFile(path) as metrics_file:
        layout_size = metrics_file.layout.overhead
        blocks = sum(len(e.blocks) for e in metrics_file.series)
    framing = blocks * (BLOCK_HEADER.size + CRC.size)
    print("Phase 4: METRICS! binary file with index, checksums and a codec per block")
    print(f"  wrote {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.2f} bytes per point, "
          f"written and verified in {seconds:.2f} s")
    print(wrap(f"header, index and footer {human_bytes(layout_size)} + block framing {human_bytes(framing)} "
               f"({plural(len(series_list), 'series', 'series')}, {plural(blocks, 'block')} of "
               f"<= {DEFAULT_BLOCK_POINTS:,} points): {100 * (layout_size + framing) / max(size, 1):.1f}% of the file"))
    print_codec_usage(usage, points)
    gorilla_size, gorilla_seconds = gorilla
    print(wrap(f"The same file with plain Gorilla in every block (phase 3's encoding): {human_bytes(gorilla_size)}, "
               f"{gorilla_size / max(points, 1):.2f} B/point, written in {gorilla_seconds:.2f} s: the codec choice "
               f"makes the file {ratio_words(gorilla_size, size)}."))
    phase3 = earlier_phase_file(Path(path).parent, 3)
    if phase3:
        extra = gorilla_size - phase3.stat().st_size
        framing = "smaller: its binary framing costs less than msgpack's" if extra < 0 else "larger: its framing costs more"
        print(wrap(f"Gorilla-only METRICS! file versus phase 3's msgpack file: {extra:+,} bytes "
                   f"({100 * extra / phase3.stat().st_size:+.1f}%), index, block framing and checksums included "
                   f"({framing})."))
    if access:
        print(f"  random access on {shorten(access['series'], 52)} (best of {TIMING_REPEATS}; index "
              f"{human_bytes(access['index_bytes'])} read on open):")
        for label, row in access["reads"]:
            decoded = f"{plural(row['blocks'], 'block')} decoded" + (f" of its {row['of_blocks']}" if "of_blocks" in row else "")
            print(f"    {label:<27} {row['points']:>10,} points  {1000 * row['seconds']:8.2f} ms  "
                  f"{human_bytes(row['bytes_read']):>10} of data read ({decoded})")
        print(wrap(block_size_lesson(access["reads"][2][1], access["reads"][3][1])))
    print(wrap(crc_lesson(path)))
    checked = ", ".join(differences)
    if all(difference is None for difference in differences.values()):
        print(wrap(f"Read back and verified identical, bit for bit ({checked})."))
    else:
        print(wrap(f"Read back DIFFERENT from the dataset ({checked}): see the error below."))


if __name__ == "__main__":
    run_phase_script(__doc__, run)
