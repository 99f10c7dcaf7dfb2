"""Phase 3: compressed columns, the techniques of Facebook's Gorilla paper, bit by bit.

Phase 2 spends 9 bytes on every timestamp and every value although consecutive points are
nearly the same. Store what changes instead:
- Timestamps: scrapes come every ~15 s, so the delta between timestamps is almost constant and
  the delta of the deltas (delta-of-delta) is almost always 0. Divide by the series' common unit
  first (ms for Prometheus data), then write each delta-of-delta with a variable-length code:
  '0' for 0, '10'+7 bits for small jitter, and longer codes for the rare big jump.
- Values: XOR each float64 with the previous one. Equal values give 0 (one bit: '0'); close values
  share sign, exponent and top mantissa bits, so the XOR has long runs of zero bits on both ends
  and only its "meaningful" middle is stored.
The encoders live in lib/encoders.py (a readable reference next to a numpy fast path, proven
byte-identical by the tests); this chapter applies them to every series and measures what each
step buys. The file is msgpack again, with each column now a compressed byte string.

The trade-off: decoding is sequential within a series (no random access inside a column), and
Gorilla XOR was designed for slowly drifting full-precision floats. Values written as decimals
(CPU 12.34%) have noisy mantissas, so their XORs are long: the report shows it.
"""
from pathlib import Path

import msgpack
import numpy as np

from lib.atomic import write_bytes_atomically
from lib.cli import run_phase_script
from lib.dataset import Series, canonical_order, dataset_path, load_dataset, total_points
from lib.decimal_codec import smallest_exponents
from lib.encoders import (
    decode_timestamps, decode_values, encode_timestamps, encode_values, timestamp_encoding_stats,
    value_encoding_stats,
)
from lib.errors import FormatError
from lib.phases import OUTPUT_FILENAMES, earlier_phase_file, write_and_verify
from lib.primitives import encode_delta, encode_delta_of_delta, encode_varints, run_length_encode, zigzag_encode
from lib.progress import Progress
from lib.regular_files import read_regular_file
from lib.report import PhaseResult, human_bytes
from lib.safe_msgpack import DAMAGE_ERRORS, limits_for

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
        return canonical_order(
            Series(meta["name"], meta["labels"], decode_timestamps(column["timestamps"], column["count"]),
                   decode_values(column["values"], column["count"]))
            for meta, column in zip(metadata, columns)
        )
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
    pairs = sum(max(r["points"] - 1, 0) for r in table.values()) or 1
    print(f"Phase 3: compressed columns (delta-of-delta timestamps, Gorilla XOR values) -> {path}")
    print(f"  {points:,} points in {human_bytes(size)}: {size / max(points, 1):.2f} bytes per point")
    phase2 = earlier_phase_file(Path(path).parent, 2)
    if phase2:
        print(f"  {phase2.stat().st_size / size:.1f}x smaller than phase 2's columns ({human_bytes(phase2.stat().st_size)})")
    print(f"  timestamps: {ts_bits / max(points, 1):.2f} bits each; "
          f"{100 * sum(r['dod_zero'] for r in table.values()) / pairs:.1f}% of delta-of-deltas are 0")
    print(f"  values:     {value_bits / max(points, 1):.2f} bits each; "
          f"{100 * sum(r['same'] for r in table.values()) / pairs:.1f}% of XORs are 0 (value repeated)")

    steps, runs = timestamp_steps(series_list)
    print("  What each step does to the timestamps:")
    for name, bits in steps.items():
        print(f"    {name:<33} {bits / max(points, 1):6.2f} bits/timestamp  {human_bytes(bits / 8):>9}")
    print(f"    (run-length view: the delta-of-deltas form {runs:,} runs for {points:,} timestamps)")

    kinds = info.get("kinds", {})
    print("  Per metric (bits per timestamp / per value; how the XORs of consecutive values fell):")
    print(f"    {'metric':<31} {'points':>8} {'ts':>6} {'value':>6}  {'same':>5} {'reuse':>5} {'new':>5}  "
          f"{'bits kept':>9}  kind")
    for name, row in sorted(table.items(), key=lambda item: item[1]["value_bits"] / item[1]["points"]):
        n, xors = row["points"], max(row["points"] - 1, 1)
        nonzero = row["reuse"] + row["new"]
        print(f"    {name:<31} {n:>8,} {row['ts_bits'] / n:>6.2f} {row['value_bits'] / n:>6.2f}  "
              f"{100 * row['same'] / xors:>4.0f}% {100 * row['reuse'] / xors:>4.0f}% {100 * row['new'] / xors:>4.0f}%  "
              f"{row['meaningful'] / nonzero if nonzero else 0:>9.1f}  {kinds.get(name, '')}")
    print_decimal_weakness(series_list, table)
    print("  Read back and verified identical, bit for bit.")


def decimal_places(values, most=6):
    """Fewest decimals (up to `most`) that write every finite value exactly, or None.

    A value "has e decimals" exactly when the decimal codec of phase 4 can store it at exponent e.
    """
    finite = values[np.isfinite(values)]
    places = int(smallest_exponents(finite).max()) if finite.size else 0
    return places if places <= most else None


def print_decimal_weakness(series_list, table):
    """Where Gorilla does badly: values written with few decimals have noisy mantissa bits."""
    a, b = 12.34, 12.35
    xor = int(np.float64(a).view(np.uint64) ^ np.float64(b).view(np.uint64))
    meaningful = xor.bit_length() - ((xor & -xor).bit_length() - 1)
    print(f"  Where Gorilla struggles: {a} and {b} differ by one cent, yet their XOR {xor:#018x} has")
    print(f"    {meaningful} meaningful bits, because 0.01 has no short binary form. Decimal metrics pay for it:")
    for name, row in sorted(table.items()):
        values = np.concatenate([s.values for s in series_list if s.name == name])
        places = decimal_places(values)
        finite = values[np.isfinite(values)]
        if not places or finite.size == 0:
            continue
        information = np.log2((finite.max() - finite.min()) * 10**places + 1)
        print(f"    {name}: {places} decimals in [{finite.min():g}, {finite.max():g}], at most "
              f"{information:.1f} bits of information per value; Gorilla stores {row['value_bits'] / row['points']:.1f}")


if __name__ == "__main__":
    run_phase_script(__doc__, run)
