"""Phase 3: compressed columns, the techniques of Facebook's Gorilla paper, bit by bit.

Phase 2 spends 9 bytes on every timestamp and every value although consecutive points are
nearly the same. Store what changes instead:
- Timestamps: scrapes come at a fixed interval, so the delta between timestamps is almost constant
  and the delta of the deltas (delta-of-delta) is 0 wherever the scrapes around it were on time.
  One late scrape spoils three of them: timestamps 0, 15000, 30003, 45000, 60000 ms have deltas
  15000, 15003, 14997, 15000 and delta-of-deltas +3, -6, +3. So the share of zeros is well below
  the share of punctual scrapes; the report prints the share and this example. Divide by the
  series' common unit first (ms for Prometheus data), then write each delta-of-delta with a
  variable-length code: '0' for 0, '10'+7 bits for small jitter, and longer codes for big jumps.
- Values: XOR each float64 with the previous one. Equal values give 0 (one bit: '0', "same");
  close values share sign, exponent and top mantissa bits, so the XOR has long runs of zero bits
  on both ends and only its "meaningful" middle is stored. That middle is a window: if it fits
  the window of the last described XOR, '10' and the bits inside it follow ("reuse window");
  otherwise '11', the new window's position (5 + 6 bits) and its bits ("new window"). The bits
  a changed value stores inside its window are its "bits kept".
The encoders live in lib/codecs/gorilla/ (a readable reference next to a numpy fast path, proven
byte-identical by the tests); this chapter applies them to every series and measures what each
step buys. The file is msgpack again, with each column now a compressed byte string.

The trade-off: decoding is sequential within a series (no random access inside a column), and
Gorilla XOR was designed for slowly drifting full-precision floats. Values written as decimals
(CPU 12.34%) have noisy mantissas, so each change costs a long XOR: the report shows it. (A
decimal metric that mostly repeats, like a slowly growing disk percentage, still comes out cheap
on average, because its repeats cost one bit each; the report prints both.)

What this file cannot do, like phases 1 and 2: notice damage. It carries no checksum, and a
compressed stream has no spare bits, so a bit flipped on disk often decodes without complaint
into a different value; the report finds such a flip on one series of the data. That is not a bug
to patch here but one reason phase 4 exists: its METRICS! file has a CRC32 per block, and its
report shows a flip refused.
"""
import tempfile
from pathlib import Path

import msgpack
import numpy as np

from lib.bitstream.varint import encode_varints, zigzag_encode
from lib.codecs.transforms import encode_delta, encode_delta_of_delta
from lib.codecs.gorilla import (
    decode_timestamps, decode_values, encode_timestamps, encode_values, timestamp_encoding_stats,
    value_encoding_stats,
)
from lib.codecs.transforms import run_length_encode
from lib.data.dataset import (
    Series, canonical_order, dataset_path, float_bits, load_dataset, total_points,
)
from lib.errors import FormatError
from lib.plumbing.atomic import write_bytes_atomically
from lib.plumbing.progress import Progress
from lib.plumbing.regular_files import read_regular_file
from lib.plumbing.safe_msgpack import DAMAGE_ERRORS, limits_for
from lib.report.table import PhaseResult, human_bytes, ratio_words
from lib.report.text import REPORT_WIDTH, plural, shorten, wrap
from lib.runner.cli import run_phase_script
from lib.runner.phases import OUTPUT_FILENAMES, earlier_phase_file, write_and_verify

FILENAME = OUTPUT_FILENAMES[3]


def write_compressed(series_list, path):
    """Encode every series and write metadata once plus one (count, timestamps, values) per series."""
    progress = Progress("encoding columns", total_points(series_list))
    columns = []
    for s in series_list:
        columns.append({"count": len(s), "timestamps": encode_timestamps(s.timestamps), "values": encode_values(s.values)})
        progress.advance(len(s))
    progress.finish()
    document = {"series_metadata": [{"name": s.name, "labels": s.labels} for s in series_list], "series_data": columns}
    data = msgpack.packb(document, use_bin_type=True)
    write_bytes_atomically(path, data)
    return len(data)


def read_compressed(path):
    data = read_regular_file(path)
    try:
        document = msgpack.unpackb(data, raw=False, **limits_for(len(data)))
        metadata, columns = document["series_metadata"], document["series_data"]
        if len(metadata) != len(columns):
            raise ValueError("series_metadata and series_data differ in length")
        progress = Progress("decoding columns", len(columns), unit="series")
        series_list = []
        for meta, column in zip(metadata, columns):
            timestamps = decode_timestamps(column["timestamps"], column["count"])
            series_list.append(Series(meta["name"], meta["labels"], timestamps,
                                      decode_values(column["values"], column["count"])))
            progress.advance(1)
        progress.finish()
        return canonical_order(series_list)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    except DAMAGE_ERRORS as exc:
        raise FormatError(f"{path}: damaged compressed columnar file ({type(exc).__name__}: {exc})") from None


def run(output_dir):
    series_list, info = load_dataset(dataset_path(output_dir))
    path = Path(output_dir) / FILENAME
    size, seconds, verified = write_and_verify(series_list, path, write_compressed, read_compressed, "phase 3")
    print_report(path, size, series_list, info)
    return PhaseResult(3, "compressed columns (Gorilla)", path, size, total_points(series_list), seconds,
                       verified=verified)


def varint_bits(signed):
    """Bits to store signed integers as zigzag varints: the byte-aligned way to shrink small numbers."""
    return 8 * len(encode_varints(zigzag_encode(signed)))


def timestamp_steps(series_list):
    """Bits for all timestamps after each step of the pipeline, so each step's gain is visible."""
    steps = {"raw int64": 0, "delta, varint": 0, "delta-of-delta, varint": 0,
             "delta-of-delta in units, varint": 0, "Gorilla bit codes": 0}
    runs = 0
    for s in series_list:
        if len(s) == 0:
            continue
        stats = timestamp_encoding_stats(s.timestamps)
        dod = encode_delta_of_delta(s.timestamps)
        dod_in_units = np.concatenate((dod[:1], dod[1:] // stats["unit"]))
        steps["raw int64"] += 64 * len(s)
        steps["delta, varint"] += varint_bits(encode_delta(s.timestamps))
        steps["delta-of-delta, varint"] += varint_bits(dod)
        steps["delta-of-delta in units, varint"] += varint_bits(dod_in_units)
        steps["Gorilla bit codes"] += stats["total_bits"]
        runs += len(run_length_encode(dod[1:])[0])
    return steps, runs


def per_metric_table(series_list):
    """Per metric name: points, bits per timestamp and value, and how the values' XORs fell."""
    table = {}
    for s in series_list:
        if len(s) == 0:
            continue
        ts, vs = timestamp_encoding_stats(s.timestamps), value_encoding_stats(s.values)
        row = table.setdefault(s.name, {"points": 0, "ts_bits": 0, "value_bits": 0, "dod_zero": 0,
                                        "same": 0, "reuse": 0, "new": 0, "meaningful": 0.0})
        row["points"] += len(s)
        row["ts_bits"] += ts["total_bits"]
        row["value_bits"] += vs["total_bits"]
        row["dod_zero"] += round(ts["dod_zero_share"] * max(len(s) - 1, 0))
        row["same"] += vs["classes"]["same"]["count"]
        row["reuse"] += vs["classes"]["reuse window"]["count"]
        row["new"] += vs["classes"]["new window"]["count"]
        row["meaningful"] += vs["mean_meaningful_bits"] * (vs["classes"]["reuse window"]["count"]
                                                           + vs["classes"]["new window"]["count"])
    return table


def print_report(path, size, series_list, info):
    points = total_points(series_list)
    table = per_metric_table(series_list)
    ts_bits = sum(r["ts_bits"] for r in table.values())
    value_bits = sum(r["value_bits"] for r in table.values())
    pairs = sum(max(r["points"] - 1, 0) for r in table.values())
    print("Phase 3: compressed columns (delta-of-delta timestamps, Gorilla XOR values)")
    print(f"  wrote {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.2f} bytes per point")
    phase2 = earlier_phase_file(Path(path).parent, 2)
    if phase2:
        print(f"  {ratio_words(phase2.stat().st_size, size)} than phase 2's columns ({human_bytes(phase2.stat().st_size)})")
    zero_share = 100 * sum(r["dod_zero"] for r in table.values()) / max(pairs, 1)
    print(f"  timestamps: {ts_bits / max(points, 1):.2f} bits each; {zero_share:.1f}% of delta-of-deltas are 0")
    print_late_scrapes(series_list, zero_share)
    print(f"  values:     {value_bits / max(points, 1):.2f} bits each; "
          f"{100 * sum(r['same'] for r in table.values()) / max(pairs, 1):.1f}% of XORs are 0 (value repeated)")

    steps, runs = timestamp_steps(series_list)
    print("  What each step does to the timestamps:")
    for name, bits in steps.items():
        print(f"    {name:<33} {bits / max(points, 1):6.2f} bits/timestamp  {human_bytes(bits / 8):>9}")
    print(f"    (run-length view: the delta-of-deltas form {runs:,} runs for {points:,} timestamps)")

    kinds = info.get("kinds", {})
    print("  Per metric (bits per timestamp / per value; how the XORs of consecutive values fell):")
    print("    same: XOR 0, the value repeated (1 bit). reuse: the XOR fits the last window ('10' + its bits).")
    print("    new: a new window is described ('11' + 11 bits + its bits). bits kept: mean bits stored")
    print("    inside the window per changed value (reuse or new), control bits not counted.")
    print(f"    {'metric':<31} {'points':>8} {'ts':>6} {'value':>6}  {'same':>5} {'reuse':>5} {'new':>5}  "
          f"{'bits kept':>9}  kind")
    for name, row in sorted(table.items(), key=lambda item: item[1]["value_bits"] / item[1]["points"]):
        n, xors = row["points"], max(row["points"] - 1, 1)
        nonzero = row["reuse"] + row["new"]
        line = (f"    {shorten(name, 31):<31} {n:>8,} {row['ts_bits'] / n:>6.2f} {row['value_bits'] / n:>6.2f}  "
                f"{100 * row['same'] / xors:>4.0f}% {100 * row['reuse'] / xors:>4.0f}% {100 * row['new'] / xors:>4.0f}%  "
                f"{row['meaningful'] / nonzero if nonzero else 0:>9.1f}  ")
        print(line + shorten(kinds.get(name, ""), REPORT_WIDTH - len(line)))
    print_decimal_weakness(series_list, table)
    print("  Read back and verified identical, bit for bit.")
    print_bit_flip_demonstration(series_list)


def most_common(values):
    distinct, counts = np.unique(values, return_counts=True)
    return distinct[counts.argmax()]


def late_scrapes(series_list):
    """(scrapes off their series' grid, non-zero delta-of-deltas). A series' grid is its most
    common interval, from its most common remainder: timestamps [0, 15, 31, 45] ms have the interval
    15 and the remainders [0, 0, 1, 0], so the scrape at 31 is one unit late."""
    off_grid = nonzero = 0
    for s in series_list:
        if len(s) < 3:
            continue
        steps = s.timestamps[1:].view(np.uint64) - s.timestamps[:-1].view(np.uint64)  # wraps, never overflows
        interval = most_common(steps)
        if interval == 0 or interval >= 1 << 62:  # no usual step forwards in time
            continue
        remainders = s.timestamps.view(np.uint64) % interval
        off_grid += int(np.count_nonzero(remainders != most_common(remainders)))
        nonzero += int(np.count_nonzero(encode_delta_of_delta(s.timestamps)[2:]))
    return off_grid, nonzero


def print_late_scrapes(series_list, zero_share, interval_ms=15_000, late_ms=3):
    """Why the share of zero delta-of-deltas is lower than the share of punctual scrapes: a worked
    example, then what this data does."""
    off_grid, nonzero = late_scrapes(series_list)
    if not off_grid:
        where = (f"the {nonzero:,} non-zero ones after each series' second point are at missed scrapes and gaps"
                 if nonzero else "none is missed: each series' only non-zero delta-of-delta is its first, "
                 "taken against an implicit previous delta of 0")
        print(wrap(f"Every scrape lies on its series' grid of its usual interval; {where}.", indent="    "))
        return
    timestamps = np.arange(5, dtype=np.int64) * interval_ms
    timestamps[2] += late_ms
    deltas = encode_delta(timestamps)[1:]
    dods = encode_delta_of_delta(timestamps)[2:]
    print(f"    one scrape {late_ms} ms late: timestamps {', '.join(map(str, timestamps))} ms have deltas "
          f"{', '.join(map(str, deltas))}")
    print(f"    and delta-of-deltas {', '.join(f'{d:+d}' for d in dods)}: {np.count_nonzero(dods)} non-zero codes for "
          f"one late scrape.")
    print(wrap(f"Here {plural(off_grid, 'scrape')} off the grid {'makes' if off_grid == 1 else 'make'} {nonzero:,} "
               f"non-zero delta-of-deltas "
               f"({nonzero / off_grid:.1f} each, missed scrapes included), so the share of zeros is "
               f"{'well below' if nonzero > 1.5 * off_grid else 'about'} the share of punctual scrapes.",
               indent="    "))


def decimal_places(values, most=6):
    """Fewest decimals (up to `most`) that write every finite value exactly, or None: a value has e
    decimals when rint(value * 10**e) / 10**e gives back its very bits ([12.5, 3.25] -> 2)."""
    finite = values[np.isfinite(values)]
    for places in range(most + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            back = np.rint(finite * 10.0**places) / 10.0**places
        if np.array_equal(float_bits(back), float_bits(finite)):
            return places
    return None


def print_decimal_weakness(series_list, table):
    """Where Gorilla does badly: values written with few decimals have noisy mantissa bits."""
    a, b = 12.34, 12.35
    xor = int(np.float64(a).view(np.uint64) ^ np.float64(b).view(np.uint64))
    meaningful = xor.bit_length() - ((xor & -xor).bit_length() - 1)
    print(f"  Where Gorilla struggles: {a} and {b} differ by one cent, yet their XOR {xor:#018x} has")
    print(f"    {meaningful} meaningful bits, because 0.01 has no short binary form.")
    decimal_metrics = []
    for name, row in sorted(table.items()):
        values = np.concatenate([s.values for s in series_list if s.name == name])
        places = decimal_places(values)
        finite = values[np.isfinite(values)]
        if places and finite.size:
            decimal_metrics.append((name, row, places, finite))
    if not decimal_metrics:
        print("    No metric here is written with 1 to 6 decimals, so this weakness does not show on this data.")
        return
    print("    The metrics written with a few decimals pay for it whenever the value changes (a repeat costs 1 bit):")
    for name, row, places, finite in decimal_metrics:
        with np.errstate(over="ignore"):
            information = np.log2((finite.max() - finite.min()) * 10**places + 1)
        changed = row["reuse"] + row["new"]
        kept = row["meaningful"] / changed if changed else 0.0
        print(f"    {shorten(name, 60)}: {places} decimals in [{finite.min():g}, {finite.max():g}], at most "
              f"{information:.1f} bits of information per value;")
        print(f"      Gorilla stores {row['value_bits'] / row['points']:.1f} on average: "
              f"{100 * row['same'] / max(row['points'] - 1, 1):.0f}% repeats at 1 bit, and each change keeps "
              f"{kept:.1f} bits")


def read_with_one_bit_flipped(series, byte_from_end):
    """Write one series to a phase-3 file in a temporary folder, flip the lowest bit of one byte,
    read the file back: the dataset read, or None if the reader refused the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "one_series"
        write_compressed([series], path)
        data = bytearray(read_regular_file(path))
        data[-byte_from_end] ^= 1
        path.write_bytes(data)
        try:
            return read_compressed(path)
        except FormatError:
            return None


def changed_values(series, read_back):
    """Indexes of the values that differ, if only values differ; else None."""
    if len(read_back) != 1 or len(read_back[0]) != len(series) or read_back[0].key != series.key:
        return None
    if not np.array_equal(read_back[0].timestamps, series.timestamps):
        return None
    return np.flatnonzero(float_bits(read_back[0].values) != float_bits(series.values))


def silent_bit_flip(series_list):
    """Counting back from the end of a phase-3 file of one series, the first one-bit flip that reads
    back without any error as different values. Returns None if there is none, else a dict: series,
    byte_from_end, index, before and after (the first changed value)."""
    series = next((s for s in series_list if len(s)), None)
    if series is None:
        return None
    for byte_from_end in range(1, 64):
        read_back = read_with_one_bit_flipped(series, byte_from_end)
        changed = None if read_back is None else changed_values(series, read_back)
        if changed is not None and changed.size:
            index = int(changed[0])
            return {"series": series, "byte_from_end": byte_from_end, "index": index,
                    "before": float(series.values[index]), "after": float(read_back[0].values[index])}
    return None


def print_bit_flip_demonstration(series_list):
    flip = silent_bit_flip(series_list)
    if flip is None:
        print("  No checksum: a flipped bit near the end of a one-series file of this data was refused or changed")
        print("  nothing here, but nothing in the format would notice one that changes a value.")
        return
    print(f"  No checksum, no warning: one flipped bit (the lowest of byte {flip['byte_from_end']} from the end) in a "
          f"phase-3 file holding")
    print(f"    {shorten(flip['series'].display_name(), 100)}")
    print(wrap(f"reads back without error, but value {flip['index']:,} is now {flip['after']!r} instead of "
               f"{flip['before']!r}. Phase 4 adds a CRC32 to every block for that.", indent="    "))


if __name__ == "__main__":
    run_phase_script(__doc__, run)
