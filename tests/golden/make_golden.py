"""Regenerate the golden files of this folder. Run by hand only, never by the tests:

    python tests/golden/make_golden.py

The tests read what this script wrote and committed; regenerating is a format decision (see
README.md in this folder), so review the diff of every file before committing it.

The dataset is written out below by formulas, not drawn at random, so that each codec's choice is
visible in the code: every series says in a label which codec it is meant to make the writer pick.

Only files of the version the writer writes (FORMAT_VERSION) are written again. The files of older
versions (`metrics_v2_*.bin`, `metrics_v1_header.bin`) were written by the code of their day and are
kept as they are, with their manifest entries, as the proof that those versions still read (or are
refused with their message).
"""
import json
import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent
sys.path.insert(0, str(GOLDEN.parents[1]))

from lib.codecs.byte_planes import DEFLATE, LZMA1
from lib.codecs.registry import TIMESTAMP_CODECS, VALUE_CODECS
from lib.codecs.stages import STAGES
from lib.codecs.registry import (
    CONSTANT, DECIMAL, DECIMAL_BINS, DECIMAL_PLANES, DICTIONARY, FLOAT32_BINS, GORILLA, MULTIPLE_BINS, ORDERED,
    ORDERED_BINS, RUNS, TIMESTAMP_BINS, TIMESTAMP_GORILLA, TIMESTAMP_SHARED, TIMESTAMP_UNITS,
)
from lib.codecs.stages import LZMA, ZLIB
from lib.codecs.timestamp_units import CENTERED_DELTA_MODE, DELTA_MODE, DELTA_OF_DELTA_MODE, GRID, SPARSE_GRID
from lib.data.dataset import Series, canonical_order  # noqa: E402
from lib.storage.file_layout import FORMAT_VERSION  # noqa: E402
from lib.storage.metrics_file import BLOCK_HEADER, MetricsFile  # noqa: E402
from lib.storage.streaming_writer import write_file  # noqa: E402

T0 = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z in ns
SCRAPE = 15 * 10**9
MS = 10**6
BLOCK_POINTS = 24
I = np.arange(24)


def floats(*patterns):
    return np.array(patterns, dtype=np.uint64).view(np.float64)


def grid(count):
    return T0 + SCRAPE * np.arange(count)


def jittered(count):
    """15 s scrapes, one missed (slot 7), a few ms early or late at some points."""
    slots = np.delete(np.arange(count + 1), 7)
    return T0 + SCRAPE * slots + MS * np.array([0, 3, -2, 0, 0, 1])[np.arange(count) % 6]


def irregular(count):
    """No common interval: the gaps grow and shrink by prime numbers of ms."""
    return T0 + np.cumsum(MS * (997 + 7919 * (np.arange(count) * 37 % 11)))


def walk(count):
    """A one-decimal random-looking walk: 100.0, 100.7, 99.3, ..."""
    steps = np.round(np.sin(np.arange(count) * 1.7) * 3 + np.cos(np.arange(count) * 0.3), 1)
    return np.round(100 + np.cumsum(steps), 1)


def cpu_values():
    """Decimals with what DECIMAL_BINS must carry besides them: values one and two ULP steps above a
    decimal (the ADJUSTED flag), and exceptions (NaN with a payload, -0.0, +inf)."""
    values = np.round(walk(36) / 3, 2)
    values[[4, 11, 20, 30]] = np.nextafter(values[[4, 11, 20, 30]], np.inf)
    values[[13]] = np.nextafter(np.nextafter(values[[13]], np.inf), np.inf)
    values[[9, 17, 25]] = floats(0x7FF8000000000123, 0x8000000000000000, 0x7FF0000000000000)
    return values


AWKWARD = floats(
    0x7FF8000000000000, 0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0x8000000000000000,
    0x0000000000000000, 0x7FF0000000000000, 0xFFF0000000000000, 0x0000000000000001, 0x000FFFFFFFFFFFFF,
    0x7FEFFFFFFFFFFFFF, 0x3FB999999999999A,
)


def dataset():
    """The series every golden METRICS! file holds, each named after the codec it is meant for."""
    def series(name, codec, timestamps, values):
        return Series(name, {"codec": codec}, timestamps, values)

    return canonical_order([
        series("flat", "constant", grid(24), np.full(24, 42.0)),
        series("steps", "runs", jittered(24), np.repeat([np.pi, np.e], 12)),
        series("cpu", "decimal-bins", jittered(36), cpu_values()),
        series("temperature", "decimal", grid(24), walk(24)),
        series("bytes", "decimal-planes", irregular(24),
               np.array([12.25, 7.5, 30.75, 1.0, 99.5, 3.25, 64.0])[I % 7] * 1000),
        series("share", "dictionary", irregular(24), np.array([1 / 3, 2 / 3, 0.1 + 0.2, np.pi, np.e])[I % 5] * 1e-10),
        series("huge", "ordered", grid(24), 2.0**70 + I * 2.0**20),
        series("noise", "ordered-bins", jittered(24), 1e-10 * (1 + I / 3)),
        series("wide", "gorilla-timestamps", np.array([-(2**63), -(2**62), -1, 0, 2**62, 2**63 - 1]), AWKWARD[:6]),
        series("awkward", "any", np.array([T0, T0, T0 - SCRAPE, T0 + 1, T0 + 1, T0 + 2**40]), AWKWARD[6:]),
        series("one", "one-point", np.array([T0]), floats(0x7FF8000000000001)),
        series("two", "two-points", np.array([T0, T0 + SCRAPE]), np.array([-0.0, 5e-324])),
        series("empty", "no-points", np.array([], dtype=np.int64), np.array([])),
        series("rate", "multiple-bins", grid(24), np.cumsum(7 + I * 37 % 11) / 285),
        series("volts", "float32-bins", jittered(24), as_float32(230 + np.sin(I * 0.7) * 1.3 + I * 0.01)),
        series("humidity", "multiple-bins-float32", grid(24), as_float32(np.round(50 + np.sin(I * 0.4) * 9, 1))),
    ])


# Series added with a format version: the files of older versions were written without them.
ADDED_IN_VERSION = {"rate": 4, "volts": 4, "humidity": 4}
FIRST_VERSION = 2


def as_float32(values):
    """Readings kept as float32 and widened to float64, as a float32 exporter's are."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


# The METRICS! files: one dataset, written with each setting that reaches other tags.
SETTINGS = {
    "default": {"choose_codecs": True, "exhaustive": False},
    "gorilla": {"choose_codecs": False, "exhaustive": False},
    "entropy": {"choose_codecs": True, "exhaustive": True},
    "entropy_lzma": {"choose_codecs": True, "exhaustive": [LZMA]},
}
FILES = {f"metrics_v{FORMAT_VERSION}_{setting}.bin": options for setting, options in SETTINGS.items()}
# Files whose blocks hold no DEFLATE or LZMA output: writing the dataset again gives the same
# blocks byte for byte whatever zlib and liblzma are installed.
DETERMINISTIC_FILES = tuple(f"metrics_v{FORMAT_VERSION}_{setting}.bin" for setting in ("default", "gorilla"))
VERSION_1_FILE = "metrics_v1_header.bin"


def write_metrics_files(series_list):
    tags = {}
    for name, options in FILES.items():
        exhaustive = options["exhaustive"] if isinstance(options["exhaustive"], bool) else tuple(options["exhaustive"])
        write_file(GOLDEN / name, series_list, BLOCK_POINTS, options["choose_codecs"], exhaustive)
        tags[name] = block_tags(GOLDEN / name)
    return tags


def block_tags(path):
    """The sorted (timestamp tag, value tag) pairs of a file's blocks, for the manifest."""
    pairs = set()
    with MetricsFile(path) as f:
        data = f.file
        for entry in f.series:
            for block in entry.blocks:
                data.seek(f.data_offset + block.offset)
                _, timestamp_tag, value_tag, _ = BLOCK_HEADER.unpack(data.read(BLOCK_HEADER.size))
                pairs.add((timestamp_tag, value_tag))
    return sorted(pairs)


# One raw stream per codec tag (and per stage flag, and the modes inside the units codecs):
# (file stem, column, tag, series name, encoder options). Options name what the encoder was told:
# "compressors" for the byte-plane codecs, "mode" for the timestamp-units codecs.
STREAMS = [
    ("gorilla", "values", GORILLA, "cpu", {}),
    ("decimal", "values", DECIMAL, "temperature", {}),
    ("constant", "values", CONSTANT, "flat", {}),
    ("runs", "values", RUNS, "steps", {}),
    ("ordered", "values", ORDERED, "huge", {"compressors": []}),
    ("ordered_lzma", "values", ORDERED, "huge", {"compressors": [LZMA1]}),
    ("decimal-planes", "values", DECIMAL_PLANES, "bytes", {"compressors": []}),
    ("decimal-planes_deflate", "values", DECIMAL_PLANES, "bytes", {"compressors": [DEFLATE]}),
    ("ordered-bins", "values", ORDERED_BINS, "noise", {}),
    ("decimal-bins", "values", DECIMAL_BINS, "temperature", {}),
    ("decimal-bins_adjusted", "values", DECIMAL_BINS, "cpu", {}),
    ("dictionary", "values", DICTIONARY, "share", {}),
    ("multiple-bins", "values", MULTIPLE_BINS, "rate", {}),
    ("multiple-bins_float32", "values", MULTIPLE_BINS, "humidity", {}),
    ("float32-bins", "values", FLOAT32_BINS, "volts", {}),
    ("decimal+zlib", "values", DECIMAL | ZLIB, "share", {}),
    ("gorilla+lzma", "values", GORILLA | LZMA, "noise", {}),
    ("gorilla", "timestamps", TIMESTAMP_GORILLA, "wide", {}),
    ("gorilla+zlib", "timestamps", TIMESTAMP_GORILLA | ZLIB, "flat", {}),
    ("gorilla+lzma", "timestamps", TIMESTAMP_GORILLA | LZMA, "flat", {}),
    ("units_grid", "timestamps", TIMESTAMP_UNITS, "cpu", {"mode": GRID, "compressors": []}),
    ("units_sparse-grid_lzma", "timestamps", TIMESTAMP_UNITS, "cpu", {"mode": SPARSE_GRID, "compressors": [LZMA1]}),
    ("units_deltas_deflate", "timestamps", TIMESTAMP_UNITS, "bytes", {"mode": DELTA_OF_DELTA_MODE, "compressors": [DEFLATE]}),
    ("units-bins_grid", "timestamps", TIMESTAMP_BINS, "cpu", {"mode": GRID}),
    ("units-bins_deltas", "timestamps", TIMESTAMP_BINS, "bytes", {"mode": DELTA_OF_DELTA_MODE}),
    ("units-bins_delta", "timestamps", TIMESTAMP_BINS, "share", {"mode": DELTA_MODE}),
    ("units-bins_centered-delta", "timestamps", TIMESTAMP_BINS, "cpu", {"mode": CENTERED_DELTA_MODE}),
    ("units_delta", "timestamps", TIMESTAMP_UNITS, "bytes", {"mode": DELTA_MODE, "compressors": []}),
    # A reference to block 300 of a file (two varint bytes); it decodes to that number, not to timestamps.
    ("shared", "timestamps", TIMESTAMP_SHARED, "temperature", {"block": 300}),
]
COMPRESSED_STAGES = (ZLIB, LZMA)


def encode_stream(column, tag, data, options):
    """The stream the registry's codec for `tag` writes, with the stage of its high nibble over it."""
    registry = VALUE_CODECS if column == "values" else TIMESTAMP_CODECS
    codec = registry[tag & 0x0F]
    if "block" in options:  # a shared-timestamps reference: the block number is all it holds
        return codec.encode(options["block"])
    arguments = [options["mode"]] if "mode" in options else []
    if "compressors" in options:
        arguments.append(tuple(options["compressors"]))
    blob = codec.encode(data, *arguments)
    stage = STAGES.get(tag & 0xF0)
    return stage.compress(blob) if stage else blob


def is_deterministic(tag, options):
    """True when the stream holds no DEFLATE or LZMA output (so its bytes depend on no library)."""
    return not (tag & 0xF0) and not options.get("compressors")


def write_streams(by_name):
    manifest = []
    for stem, column, tag, series_name, options in STREAMS:
        data = getattr(by_name[series_name], column)
        filename = f"{column}_{tag:02x}_{stem}.bin"
        (GOLDEN / filename).write_bytes(encode_stream(column, tag, data, options))
        manifest.append({"file": filename, "column": column, "tag": tag, "series": series_name,
                         "options": options, "deterministic": is_deterministic(tag, options)})
    return manifest


def bits(values):
    return [f"{int(p):016x}" for p in np.asarray(values, dtype=np.float64).view(np.uint64)]


def dataset_json(series_list):
    """Codec-independent: timestamps as ints, values as 16-hex-digit uint64 bit patterns."""
    return {"series": [{"name": s.name, "labels": s.labels, "timestamps": [int(t) for t in s.timestamps],
                        "values": bits(s.values), "since": ADDED_IN_VERSION.get(s.name, FIRST_VERSION)}
                       for s in series_list]}


def dump(path, document):
    """JSON with one list entry (a series, a stream) per line: small, and diffs stay readable."""
    lines = []
    for key, value in sorted(document.items()):
        if isinstance(value, list):
            entries = ",\n  ".join(json.dumps(entry, sort_keys=True) for entry in value)
            lines.append(f"{json.dumps(key)}: [\n  {entries}\n ]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}")
    path.write_text("{\n " + ",\n ".join(lines) + "\n}\n")


def older_versions():
    """The manifest's entries for the files of older versions, kept as committed."""
    path = GOLDEN / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    return {name: entry for name, entry in manifest.get("files", {}).items() if entry["version"] != FORMAT_VERSION}


def main():
    series_list = dataset()
    tags = write_metrics_files(series_list)
    manifest = write_streams({s.name: s for s in series_list})
    files = {name: {**FILES[name], "version": FORMAT_VERSION, "deterministic": name in DETERMINISTIC_FILES,
                    "block_tags": tags[name]} for name in FILES}
    dump(GOLDEN / "dataset.json", dataset_json(series_list))
    dump(GOLDEN / "manifest.json", {
        "block_points": BLOCK_POINTS,
        "files": {**older_versions(), **files},
        "version_1_file": VERSION_1_FILE,
        "streams": manifest,
    })
    for path in sorted(GOLDEN.glob("*")):
        if path.suffix in (".bin", ".json"):
            print(f"{path.stat().st_size:6d}  {path.name}")


if __name__ == "__main__":
    main()
