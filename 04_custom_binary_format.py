"""Phase 4: a self-contained binary file with a header, an index, checksums and random access.

Phase 3's columns are small but a database cannot use them as they are: to read one series you
would decode the file from the start. The METRICS! file (lib/binary_format.py, layout documented
byte by byte there) puts a small index in front: metric names and labels through a string
dictionary, and per series the offset, length and time range of each block of at most 2,048 points.
A reader loads the index, then seeks to just the blocks a query needs; CRC32 checksums on the index
and on every block turn damage into a clear error instead of wrong numbers.

Because every block is independent, each can also use the codec that suits its values best
(lib/value_codecs.py): Gorilla XOR for full-precision floats, a decimal codec for values written
with a few decimals or as integers (where Gorilla's XORs are noisy), a constant or run-length
codec for flat stretches, each optionally squeezed further by zlib or lzma where that is smaller.
A one-byte tag per block says which.

The trade-off: the index, block headers and checksums cost a little space over phase 3, and
restarting the encoders at each block boundary costs a little more; trying every codec makes
writing slower. In return a one-hour query touches a few kilobytes instead of the whole file.
"""
import tempfile
import time
from pathlib import Path

from lib.binary_format import (
    BLOCK_HEADER, CRC, DEFAULT_BLOCK_POINTS, HEADER, MetricsFile, overlapping_blocks, read_file, write_file,
)
from lib.cli import run_phase_script
from lib.dataset import HOUR_NS, Series, assert_identical, load_dataset_for_phase, total_points
from lib.phases import OUTPUT_FILENAMES, earlier_phase_file, write_and_verify
from lib.progress import Progress
from lib.report import PhaseResult, human_bytes

FILENAME = OUTPUT_FILENAMES[4]
TIMING_REPEATS = 3
# The codec settings compared in the report; the phase's own file uses the last, smallest one.
CODEC_SETTINGS = (
    ("Gorilla only (as phase 3)", {"choose_codecs": False, "entropy": False}),
    ("best codec per block", {"choose_codecs": True, "entropy": False}),
    ("best codec + zlib/lzma where smaller", {"choose_codecs": True, "entropy": True}),
)


def run(output_dir):
    series_list = load_dataset_for_phase(output_dir)
    path = Path(output_dir) / FILENAME
    usage = {}

    def write(series, target):
        progress = Progress("writing METRICS! file", total_points(series))
        size = write_file(target, series, DEFAULT_BLOCK_POINTS, codec_usage=usage, progress=progress,
                          **CODEC_SETTINGS[-1][1])
        progress.finish()
        return size

    size, seconds, verified = write_and_verify(series_list, path, write, read_file, "phase 4")
    settings = measure_codec_settings(series_list, output_dir)
    access = measure_random_access(path, series_list)
    print_report(path, size, series_list, usage, settings, access)
    return PhaseResult(4, "METRICS! binary file", path, size, total_points(series_list), seconds,
                       verified=verified)


def measure_codec_settings(series_list, output_dir):
    """Write the same dataset with each codec setting: (label, bytes, seconds to write)."""
    results = []
    with tempfile.TemporaryDirectory(dir=output_dir) as scratch:
        for label, options in CODEC_SETTINGS:
            progress = Progress(f"comparing: {label}", total_points(series_list))
            start = time.perf_counter()
            size = write_file(Path(scratch) / "variant.bin", series_list, DEFAULT_BLOCK_POINTS,
                              progress=progress, **options)
            progress.finish()
            results.append((label, size, time.perf_counter() - start))
    return results


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


def measure_random_access(path, series_list):
    """Time whole-file, one-series and one-hour reads, and check each answer against the dataset."""
    target = max(series_list, key=len)
    if len(target) == 0:
        return {}
    middle = int(target.timestamps[len(target) // 2])
    hour = (middle, middle + HOUR_NS)
    with MetricsFile(path) as metrics_file:
        index_bytes = metrics_file.bytes_read
        entry = metrics_file.find(target.name, target.labels)
        series_blocks, hour_blocks = len(entry.blocks), len(overlapping_blocks(entry, *hour))
        all_blocks = sum(len(e.blocks) for e in metrics_file.series)
    everything, all_seconds, all_bytes = best_time(opened(path, lambda f: f.read_all()))
    one, one_seconds, one_bytes = best_time(opened(path, lambda f: f.read_series(target.name, target.labels)))
    window, hour_seconds, hour_bytes = best_time(opened(path, lambda f: f.read_range(target.name, target.labels, *hour)))
    inside = (target.timestamps >= hour[0]) & (target.timestamps < hour[1])
    assert_identical(series_list, everything, "phase 4 read_all")
    assert_identical([target], [one], "phase 4 read_series")
    assert_identical([Series(target.name, target.labels, target.timestamps[inside], target.values[inside])],
                     [window], "phase 4 read_range")
    return {
        "series": target.display_name(),
        "index_bytes": index_bytes,
        "all": {"seconds": all_seconds, "bytes_read": all_bytes, "points": total_points(everything),
                "blocks": all_blocks},
        "series_read": {"seconds": one_seconds, "bytes_read": one_bytes, "points": len(one), "blocks": series_blocks},
        "hour_read": {"seconds": hour_seconds, "bytes_read": hour_bytes, "points": len(window), "blocks": hour_blocks},
    }


def print_report(path, size, series_list, usage, settings, access):
    points = total_points(series_list)
    with MetricsFile(path) as metrics_file:
        index_size = metrics_file.data_offset
        blocks = sum(len(e.blocks) for e in metrics_file.series)
    framing = blocks * (BLOCK_HEADER.size + CRC.size)
    print(f"Phase 4: METRICS! binary file with index, checksums and a codec per block -> {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.2f} bytes per point")
    print(f"  header {HEADER.size} B + index and CRC {human_bytes(index_size - HEADER.size)} + block framing "
          f"{human_bytes(framing)} ({len(series_list)} series, {blocks} blocks of <= {DEFAULT_BLOCK_POINTS} points): "
          f"{100 * (index_size + framing) / max(size, 1):.1f}% of the file")
    for column in ("timestamps", "values"):
        print(f"  The codec each block chose for its {column}:")
        for name, row in sorted(usage.get(column, {}).items(), key=lambda item: -item[1]["points"]):
            print(f"    {name:<22} {row['blocks']:>6,} blocks {row['points']:>11,} points  "
                  f"{8 * row['bytes'] / max(row['points'], 1):6.2f} bits/point")
    print("  The same blocks under each codec setting:")
    for label, variant_size, variant_seconds in settings:
        print(f"    {label:<38} {human_bytes(variant_size):>9}  {variant_size / max(points, 1):5.2f} B/point  "
              f"written in {variant_seconds:5.2f} s")
    phase3 = earlier_phase_file(Path(path).parent, 3)
    if phase3:
        gorilla_size = settings[0][1]
        extra = gorilla_size - phase3.stat().st_size
        print(f"  Gorilla-only METRICS! file versus phase 3's msgpack file: {extra:+,} bytes "
              f"({100 * extra / phase3.stat().st_size:+.1f}%), index, block framing and checksums included")
    if access:
        print(f"  random access on {access['series']} (best of {TIMING_REPEATS}; index {human_bytes(access['index_bytes'])} "
              f"read once on open):")
        for label, key in (("whole file", "all"), ("one series", "series_read"), ("one hour of it", "hour_read")):
            row = access[key]
            print(f"    {label:<15} {row['points']:>10,} points  {1000 * row['seconds']:8.2f} ms  "
                  f"{human_bytes(row['bytes_read']):>10} of data read ({row['blocks']:,} blocks decoded)")
    print("  Read back and verified identical, bit for bit (whole file, one series, one hour).")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
