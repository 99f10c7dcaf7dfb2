"""Compare the project's formats with general-purpose and columnar peers on the same dataset.

The dataset is built exactly as phase 0 builds it (`--size`, `--seed`, `--series`, `--points`, or
`--import PATH ... [--format F]`), so the numbers line up with `main.py`; `--real` instead imports
real time series that packages ship: vega_datasets (weather, stock prices, employment) and, when
installed, statsmodels (weekly CO2 with gaps, monthly orders, sunspots, river flow); none of
them server metrics. Every peer encodes the whole dataset, including what it takes to give the series back
their names, labels and point counts, and decodes it again; a row counts only when the decoded
dataset is identical bit for bit (timestamps as int64, values as uint64 patterns). A peer whose
round trip fails is listed as FAILED, and a peer whose package is missing is skipped with a note.

    python benchmarks/compare_peers.py                       # small generated dataset, as main.py
    python benchmarks/compare_peers.py --size medium --repeat 3 --json peers.json
    python benchmarks/compare_peers.py --real                # real CSV files shipped in packages
    python benchmarks/compare_peers.py --import data/ --format csv-long
    python benchmarks/compare_peers.py --corpus --peers project,pcodec,zstd   # every corpus class
    python benchmarks/compare_peers.py --corpus float32_modbus ratios --scale 0.1

`--corpus [CLASS ...]` runs the comparison on each class of the benchmark corpus
(benchmarks/corpus.py: data as named real exporters write it, about 200,000 points a class; all
classes by default), one table per class, then a summary table: per class the METRICS! file, pcodec
and the smallest zstd row in bytes per point and bits per timestamp and value, the METRICS! size as
a ratio to the other two, and its write and read throughput as ratios to "zstd-3, plain".
`--scale FRACTION` shrinks every class for quick runs.

The peers (groups for `--peers`):

- project: the phase-4 METRICS! file (`lib.storage.streaming_writer.write_file`, called at run time, so the
  row follows whatever codecs the format uses now; index, CRCs and block framing included) and
  the plain Gorilla streams of `lib.codecs.gorilla`, one timestamp and one value stream per series.
- stdlib: zlib level 9 and raw LZMA2 preset 9.
- zstd: the `zstandard` package at levels 3 and 19.
- parquet: pyarrow, zstd level 19, DELTA_BINARY_PACKED timestamps, BYTE_STREAM_SPLIT values.
- pcodec: `pcodec.standalone.simple_compress` with the default ChunkConfig, per series per column.

Fairness choices, made in the peers' favour where there was a choice:

- The general-purpose compressors see the dataset as two long columns, all timestamps (series after
  series, int64 little-endian) and then all values (float64 little-endian): the body of the
  phase-0 dataset file. Each column is compressed on its own, so the compressor sees one kind of
  number at a time and pays one frame header, not one per series. That also means they offer no
  random access, which the METRICS! file does (per series and per block).
- Each of them runs in three variants: "plain" bytes, "shuffle" (the 8 bytes of every number
  transposed so that byte 0 of all numbers comes first, then byte 1, ...: the Blosc shuffle and
  Parquet BYTE_STREAM_SPLIT idea) and "delta+shuffle" (timestamps replaced by their differences,
  modulo 2**64, before the shuffle; values shuffled only). Delta is the standard preprocessing
  for timestamps; it is not applied to float values, whose differences are not exact.
- Every peer stores the series metadata it needs: the column peers a compact JSON list of
  (name, labels, count) compressed with their own compressor, the per-series peers (Gorilla
  streams, pcodec) the same JSON with zlib level 9 plus a 4-byte length before each stream, and
  Parquet a dictionary-encoded `series` column holding one JSON identity per series. Sizes are
  the lengths of the real bytes (or files) that the decoder reads back.
- Bits per timestamp and per value count only the two columns' streams (Parquet: the compressed
  column chunks; the METRICS! file: its blocks' timestamp and value streams); metadata and
  framing are in the total only.
- Throughput is points per second for the whole dataset, single thread, the median of `--repeat`
  runs (default 3). The runs are interleaved: every peer once, then every peer again, and so on,
  so that a change in the load of this shared machine falls on all peers alike rather than on the
  repeats of one. The METRICS! and Parquet rows include writing and reading their file (in a
  temporary folder). Because the machine's load makes absolute speeds drift, each row's speed is
  also given as a ratio to the "zstd-3, plain" row ("enc x zstd3", "dec x zstd3"; 0.5 is half as
  fast): the ratio is taken within each run and the median of those is shown; without the zstd
  group those columns show "-".
"""
import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.peer_datasets import (  # noqa: E402
    corpus_dataset, generated_dataset, imported_dataset, real_dataset,
)
from benchmarks.peer_report import (  # noqa: E402,F401  (format_table, summary_line: for callers)
    format_corpus_summary, format_table, print_report, summary_line,
)
from benchmarks.peers import (  # noqa: E402,F401  (FLOAT64 .. undelta: the peers' pieces, for callers)
    FLOAT64, INSTALL_HINT, INT64, PEER_GROUPS, PREPARATIONS, PROJECT_FILE_PEER, Peer, byte_shuffle,
    byte_unshuffle, column_peer, delta, gorilla_peer, metrics_file_peer, parquet_peer, pcodec_peer,
    stdlib_compressors, undelta, zstd_compressors,
)
from lib.data.dataset import first_difference, total_points  # noqa: E402
from lib.runner.cli import add_dataset_arguments, exit_on_user_error  # noqa: E402

# Throughput is also printed as a ratio to this row of the same run, because absolute speeds drift
# with the machine's load; without the zstd group the ratios are left out.
REFERENCE_PEER = "zstd-3, plain"


def optional_module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available_peers(groups=PEER_GROUPS):
    """The peers of the chosen groups whose packages are installed, and a note per missing one."""
    peers, notes = [], []
    if "project" in groups:
        peers += [metrics_file_peer(PROJECT_FILE_PEER), gorilla_peer()]
    compressors = list(stdlib_compressors()) if "stdlib" in groups else []
    if "zstd" in groups:
        zstandard = optional_module("zstandard")
        if zstandard is None:
            notes.append(f"zstandard not installed: {INSTALL_HINT}")
        else:
            compressors += zstd_compressors(zstandard)
    for compressor, compress, decompress in compressors:
        peers += [column_peer(compressor, compress, decompress, p) for p in PREPARATIONS]
    if "parquet" in groups:
        pa, pq = optional_module("pyarrow"), optional_module("pyarrow.parquet")
        if pa is None or pq is None:
            notes.append(f"pyarrow not installed: {INSTALL_HINT}")
        else:
            peers.append(parquet_peer(pa, pq))
    if "pcodec" in groups:
        pcodec = optional_module("pcodec")
        if pcodec is None:
            notes.append(f"pcodec not installed: {INSTALL_HINT}")
        else:
            peers.append(pcodec_peer(pcodec))
    return peers, notes


# Measuring

@dataclass
class Row:
    peer: str
    group: str
    points: int
    bytes: Optional[int] = None
    timestamp_bytes: Optional[int] = None
    value_bytes: Optional[int] = None
    encode_seconds: Optional[float] = None  # median of encode_times
    decode_seconds: Optional[float] = None
    verified: bool = False
    error: Optional[str] = None
    encode_ratio: Optional[float] = None  # throughput / the REFERENCE_PEER's throughput, median over runs
    decode_ratio: Optional[float] = None
    encode_times: list = field(default_factory=list)  # seconds, one per interleaved run
    decode_times: list = field(default_factory=list)

    def bits(self, part_bytes):
        return 8.0 * part_bytes / self.points if part_bytes is not None and self.points else None

    def bytes_per_point(self):
        return self.bytes / self.points if self.bytes is not None and self.points else None

    def throughput(self, seconds):
        return self.points / seconds / 1e6 if seconds and self.points else None

    def as_json(self, dataset, class_name=None):
        return {
            "dataset": dataset, "class": class_name, "peer": self.peer, "group": self.group,
            "points": self.points, "bytes": self.bytes, "bytes_per_point": _round(self.bytes_per_point(), 4),
            "bits_per_timestamp": _round(self.bits(self.timestamp_bytes)),
            "bits_per_value": _round(self.bits(self.value_bytes)),
            "encode_mpoints_per_s": _round(self.throughput(self.encode_seconds)),
            "decode_mpoints_per_s": _round(self.throughput(self.decode_seconds)),
            "encode_vs_zstd3": _round(self.encode_ratio), "decode_vs_zstd3": _round(self.decode_ratio),
            "runs": len(self.encode_times), "verified": self.verified, "error": self.error,
        }


def _round(number, digits=3):
    return None if number is None else round(number, digits)


def run_once(peer, row, series_list, workdir, verify):
    """Encode and decode once, adding the times to `row`; with `verify`, also record the sizes and
    check the round trip. A peer that raises or changes a bit gets an error and runs no more."""
    try:
        start = time.perf_counter()
        encoded = peer.encode(series_list, workdir)
        middle = time.perf_counter()
        decoded = peer.decode(encoded)
        end = time.perf_counter()
    except Exception as exc:  # a peer that breaks is a FAILED row, not a crash of the comparison
        row.error = f"{type(exc).__name__}: {exc}"
        return
    if verify:
        row.bytes = encoded.size
        row.timestamp_bytes, row.value_bytes = encoded.timestamp_bytes, encoded.value_bytes
        difference = first_difference(series_list, decoded)
        if difference is not None:
            row.error = f"round trip differs: {difference}"
            return
    row.encode_times.append(middle - start)
    row.decode_times.append(end - middle)


def compare(series_list, peers, repeat=1, progress=None):
    """Run every peer on the dataset `repeat` times, interleaved (every peer once, then every peer
    again, ...), so that a change in the machine's load falls on all peers alike; the first run
    verifies each round trip. Rows sorted by bytes, failed rows last."""
    rows = [Row(peer.name, peer.group, total_points(series_list)) for peer in peers]
    runs = max(repeat, 1)
    with tempfile.TemporaryDirectory(prefix="compare-peers-") as workdir:
        for run in range(runs):
            for peer, row in zip(peers, rows):
                if row.error is None:
                    if progress:
                        progress(f"{peer.name} (run {run + 1} of {runs})")
                    run_once(peer, row, series_list, workdir, verify=run == 0)
    for row in rows:
        row.verified = row.error is None and len(row.encode_times) == runs
        if row.verified:
            row.encode_seconds = statistics.median(row.encode_times)
            row.decode_seconds = statistics.median(row.decode_times)
    add_speed_ratios(rows)
    return sorted(rows, key=lambda r: (not r.verified, r.bytes if r.bytes is not None else float("inf")))


def add_speed_ratios(rows):
    """Each verified row's throughput over the REFERENCE_PEER's, when that row ran and verified: the
    median over the interleaved runs of the ratio within each run (a row without per-run times
    counts its median seconds as its one run)."""
    reference = next((r for r in rows if r.peer == REFERENCE_PEER and r.verified), None)
    if reference is None:
        return
    for r in rows:
        if r.verified:
            r.encode_ratio = median_ratio(run_times(reference, "encode"), run_times(r, "encode"))
            r.decode_ratio = median_ratio(run_times(reference, "decode"), run_times(r, "decode"))


def run_times(row, which):
    return getattr(row, f"{which}_times") or [getattr(row, f"{which}_seconds")]


def median_ratio(reference_seconds, row_seconds):
    """Median of reference / row over the runs both made: the row's speed relative to the reference."""
    ratios = [theirs / mine for theirs, mine in zip(reference_seconds, row_seconds) if theirs and mine]
    return statistics.median(ratios) if ratios else None


# The corpus

def run_corpus(args, peers, notes, progress):
    """Every chosen class: its table, then the summary of all; returns [(class name, dataset, rows)]."""
    results = []
    for name in args.corpus:
        klass = corpus.get(name)
        if not klass.available():
            notes = notes + [f"class {name}: needs the {klass.package} package: {INSTALL_HINT}"]
            continue
        dataset = corpus_dataset(klass, args.seed, args.scale)
        rows = compare(dataset.series, peers, args.repeat,
                       progress=lambda label, name=name: progress(f"{name}: {label}"))
        print_report(dataset, rows, [], args.repeat)
        print()
        results.append((name, dataset, rows))
    print(f"corpus summary (seed {args.seed}, scale {args.scale:g}, "
          f"median of {args.repeat} interleaved run(s))")
    print()
    print(format_corpus_summary([(name, rows) for name, _dataset, rows in results]))
    for note in notes:
        print(f"skipped: {note}")
    return results


# Command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    add_dataset_arguments(parser)
    parser.add_argument("--real", action="store_true",
                        help="compare on the real time series shipped by vega_datasets (and statsmodels)")
    parser.add_argument("--save-real", type=Path, metavar="DIR",
                        help="with --real: keep the converted long CSV files in DIR "
                             "(then `python main.py --import DIR` runs the phases on the same data)")
    parser.add_argument("--corpus", nargs="*", metavar="CLASS",
                        help="compare on classes of the benchmark corpus (default: all): "
                             f"{', '.join(corpus.names())}")
    parser.add_argument("--scale", type=float, metavar="FRACTION",
                        help="with --corpus: shrink every class to this fraction, "
                             "0 < FRACTION <= 1 (default 1)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved runs of every peer; times and speed ratios are medians (default 3)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows to FILE as JSON")
    parser.add_argument("--peers", default=",".join(PEER_GROUPS),
                        help=f"comma-separated groups to run (default: all of {','.join(PEER_GROUPS)})")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.peers.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(PEER_GROUPS))
    if unknown:
        parser.error(f"unknown peer group(s) {', '.join(unknown)}: choose from {', '.join(PEER_GROUPS)}")
    if args.real and args.import_paths:
        parser.error("--real and --import are alternatives")
    if args.save_real and not args.real:
        parser.error("--save-real only goes with --real")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    check_corpus_args(parser, args)
    args.groups = groups
    return args


def check_corpus_args(parser, args):
    """--corpus names known classes (none: all) and excludes the other datasets; --scale goes with it."""
    if args.corpus is None:
        if args.scale is not None:
            parser.error("--scale only goes with --corpus")
        return
    if args.real or args.import_paths or args.series is not None or args.points is not None:
        parser.error("--corpus is an alternative to --real, --import, --series and --points")
    unknown = [name for name in args.corpus if name not in corpus.BY_NAME]
    if unknown:
        parser.error(f"unknown corpus class(es) {', '.join(unknown)}: "
                     f"choose from {', '.join(corpus.names())}")
    args.corpus = args.corpus or corpus.names()
    args.scale = 1.0 if args.scale is None else args.scale
    if not 0 < args.scale <= 1:
        parser.error(f"--scale must be more than 0 and at most 1, got {args.scale:g}")


def build_dataset(args, scratch):
    if args.real:
        if args.save_real:
            args.save_real.mkdir(parents=True, exist_ok=True)
            return real_dataset(args.save_real)
        return real_dataset(scratch)
    if args.import_paths:
        return imported_dataset(args.import_paths, args.import_format)
    return generated_dataset(args.size, args.seed, args.series, args.points)


def progress_line(label):
    print(f"running {label}", file=sys.stderr, flush=True)


def main(argv=None):
    args = parse_args(argv)
    peers, notes = available_peers(args.groups)
    if args.corpus is not None:
        results = run_corpus(args, peers, notes, progress_line)
        json_rows = [r.as_json(dataset.description, name) for name, dataset, rows in results for r in rows]
        all_rows = [r for _name, _dataset, rows in results for r in rows]
    else:
        with tempfile.TemporaryDirectory(prefix="compare-peers-data-") as scratch:
            dataset = build_dataset(args, scratch)
        all_rows = compare(dataset.series, peers, args.repeat, progress=progress_line)
        print_report(dataset, all_rows, notes, args.repeat)
        json_rows = [r.as_json(dataset.description) for r in all_rows]
    if args.json:
        args.json.write_text(json.dumps(json_rows, indent=2) + "\n")
    if any(not r.verified for r in all_rows):
        sys.exit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
