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

The peers (groups for `--peers`):

- project: the phase-4 METRICS! file (`lib.storage.metrics_file.write_file`, called at run time, so the
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
  random access, which the METRICS! file does (per series and per 1024-point block).
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
- Throughput is points per second for the whole dataset, best of `--repeat` runs, single thread.
  The METRICS! and Parquet rows include writing and reading their file (in a temporary folder).
  Because the machine's load makes absolute speeds drift, each row's speed is also given as a
  ratio to the "zstd-3, plain" row of the same run ("enc x zstd3", "dec x zstd3"; 0.5 is half as
  fast); without the zstd group those columns show "-".
"""
import argparse
import csv
import datetime
import importlib.util
import json
import lzma
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib.codecs import gorilla
from lib.data import generator, importers
from lib.storage import metrics_file  # noqa: E402
from lib.runner.cli import add_dataset_arguments, exit_on_user_error  # noqa: E402
from lib.data.dataset import Series, canonical_order, first_difference, total_points  # noqa: E402
from lib.errors import SqueezedSignalsError  # noqa: E402

PROJECT_FILE_PEER = "squeezed-signals METRICS! file"
# Throughput is also printed as a ratio to this row of the same run, because absolute speeds drift
# with the machine's load; without the zstd group the ratios are left out.
REFERENCE_PEER = "zstd-3, plain"
INSTALL_HINT = "pip install -r benchmarks/requirements-peers.txt"
PEER_GROUPS = ("project", "stdlib", "zstd", "parquet", "pcodec")
LENGTH = struct.Struct("<I")
INT64 = np.dtype("<i8")
FLOAT64 = np.dtype("<f8")
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9}]
PARQUET_ZSTD_LEVEL = 19
PREPARATIONS = ("plain", "shuffle", "delta+shuffle")


# The dataset

@dataclass
class Dataset:
    series: list
    description: str
    details: list = field(default_factory=list)

    @property
    def points(self):
        return total_points(self.series)


def generated_dataset(size, seed, series=None, points=None):
    """The dataset `00_generate_data.py` makes with the same options."""
    default_series, default_points = generator.SIZES[size]
    series = default_series if series is None else series
    points = default_points if points is None else points
    series_list = generator.generate_dataset(series, points, seed)
    return Dataset(series_list, f"generated (size {size}, seed {seed})")


def imported_dataset(paths, fmt=None, description=None):
    """The dataset `00_generate_data.py --import` makes from the same files."""
    result = importers.import_paths(paths, fmt)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    files = ", ".join(Path(f).name for f in result.files)
    return Dataset(result.series, description or f"imported from {files}")


@dataclass(frozen=True)
class VegaFile:
    """How one CSV file shipped in a package becomes series in the long CSV that lib.data.importers reads."""
    name: str  # path inside the package's data folder
    date_format: str  # strptime format of its date column
    metrics: dict = field(default_factory=dict)  # value column -> metric name
    labels: dict = field(default_factory=dict)  # fixed labels for all its series
    label_column: Optional[str] = None  # a column whose cell becomes a label of the same name
    wide_metric: Optional[str] = None  # every non-date column is this metric, labelled sector=<column>
    date_column: Optional[str] = None  # default: the first of date, month, year
    package: str = "vega_datasets"


VEGA_FILES = (
    VegaFile("seattle-temps.csv", "%Y/%m/%d %H:%M", {"temp": "temperature_fahrenheit"}, {"city": "seattle"}),
    VegaFile("sf-temps.csv", "%Y/%m/%d %H:%M:%S", {"temp": "temperature_fahrenheit"}, {"city": "san_francisco"}),
    VegaFile("seattle-weather.csv", "%Y/%m/%d",
             {"precipitation": "weather_precipitation", "temp_max": "weather_temp_max",
              "temp_min": "weather_temp_min", "wind": "weather_wind"}, {"city": "seattle"}),
    VegaFile("stocks.csv", "%b %d %Y", {"price": "stock_price"}, label_column="symbol"),
    VegaFile("iowa-electricity.csv", "%Y-%m-%d", {"net_generation": "iowa_net_generation"},
             label_column="source"),
    VegaFile("us-employment.csv", "%Y-%m-%d", wide_metric="us_employment_thousands"),
)
# Optional: read straight from the installed package's data folder (statsmodels is not imported).
STATSMODELS_FILES = (
    VegaFile("co2/co2.csv", "%Y%m%d", {"co2": "co2_ppm"}, {"site": "mauna_loa"}, date_column="date",
             package="statsmodels"),
    VegaFile("elec_equip/elec_equip.csv", "%b-%d-%Y",
             {"STS.M.I7.W.TOVT.NS0016.4.000": "electrical_equipment_orders_index"}, {"region": "euro_area"},
             date_column="DATE", package="statsmodels"),
    VegaFile("sunspots/sunspots.csv", "%Y", {"SUNACTIVITY": "sunspot_activity"}, date_column="YEAR",
             package="statsmodels"),
    VegaFile("nile/nile.csv", "%Y", {"volume": "nile_flow_volume"}, date_column="year", package="statsmodels"),
)
PACKAGE_DATA_FOLDERS = {"vega_datasets": "_data", "statsmodels": "datasets"}
VEGA_DESCRIPTION = (
    "real data from vega_datasets: hourly temperatures of Seattle and San Francisco (2010), "
    "daily Seattle weather (2012-2015), monthly stock prices (2000-2010), monthly US employment "
    "by sector (2006-2015), yearly Iowa electricity generation (2001-2017)"
)
STATSMODELS_DESCRIPTION = (
    "; and from statsmodels: weekly Mauna Loa CO2 (1958-2001, with gaps), monthly euro-area "
    "electrical equipment orders (1995-2005), yearly sunspots (1700-2008) and Nile flow (1871-1970)"
)


def package_data_folder(package="vega_datasets"):
    """The folder of CSV files an installed package ships, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SqueezedSignalsError(f"--real needs the {package} package: {INSTALL_HINT}")
    folder = Path(list(spec.submodule_search_locations)[0]) / PACKAGE_DATA_FOLDERS[package]
    if not folder.is_dir():
        raise SqueezedSignalsError(f"{package} has no local data folder at {folder}")
    return folder


def vega_points(spec, rows):
    """(timestamp, metric, value text, labels) for every number in a vega file's rows."""
    date_column = spec.date_column or next(c for c in ("date", "month", "year") if c in rows[0])
    for row in rows:
        moment = datetime.datetime.strptime(row[date_column], spec.date_format)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # vega's local times, read as UTC
        labels = dict(spec.labels)
        if spec.label_column:
            labels[spec.label_column] = row[spec.label_column]
        if spec.wide_metric:
            for column in row:
                if column != date_column:
                    yield stamp, spec.wide_metric, row[column], {**labels, "sector": column}
        for column, metric in spec.metrics.items():
            if row[column].strip():  # an empty cell is a gap: no point
                yield stamp, metric, row[column], labels


def write_vega_long_csv(spec, source, target):
    """Rewrite one vega CSV as `timestamp,metric,value,dataset,<labels>`; returns the point count.

    Values are copied as text, so lib.data.importers parses them exactly as it parses any CSV.
    """
    with open(source, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    points = list(vega_points(spec, rows))
    label_names = sorted({name for *_rest, labels in points for name in labels})
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "metric", "value", "dataset", *label_names])
        for stamp, metric, value, labels in points:
            writer.writerow([stamp, metric, value.strip(), Path(spec.name).stem.replace("-", "_"),
                             *(labels.get(name, "") for name in label_names)])
    return len(points)


def real_dataset(folder):
    """Convert the packages' real time series to long CSV files in `folder` and import them:
    vega_datasets (required), statsmodels (used when installed)."""
    specs, description = list(VEGA_FILES), VEGA_DESCRIPTION
    sources = [package_data_folder("vega_datasets")]
    if importlib.util.find_spec("statsmodels") is not None:
        specs += STATSMODELS_FILES
        description += STATSMODELS_DESCRIPTION
        sources.append(package_data_folder("statsmodels"))
    details = []
    for spec in specs:
        target = Path(folder) / Path(spec.name).name
        points = write_vega_long_csv(spec, package_data_folder(spec.package) / spec.name, target)
        details.append(f"{spec.package}/{spec.name}: {points:,} points")
    dataset = imported_dataset([folder], "csv-long", description + ": weather, science and economics, "
                               "not server metrics")
    dataset.details = [f"source folders: {', '.join(map(str, sources))}"] + details
    return dataset


# Shared pieces: columns, metadata, byte shuffle, delta

def columns(series_list):
    """All timestamps and all values, series after series (the phase-0 file's body)."""
    if not series_list:
        return np.empty(0, INT64), np.empty(0, FLOAT64)
    timestamps = np.concatenate([s.timestamps for s in series_list]).astype(INT64, copy=False)
    values = np.concatenate([s.values for s in series_list]).astype(FLOAT64, copy=False)
    return timestamps, values


def metadata_json(series_list):
    """What it takes to cut the columns back into series: name, labels and count of each."""
    entries = [[s.name, s.labels, len(s)] for s in series_list]
    return json.dumps(entries, sort_keys=True, separators=(",", ":")).encode("utf-8")


def series_from_columns(metadata, timestamps, values):
    entries = json.loads(metadata.decode("utf-8"))
    counts = [count for _name, _labels, count in entries]
    if sum(counts) != len(timestamps) or len(timestamps) != len(values):
        raise ValueError("the columns do not hold the points the metadata counts")
    ends = np.cumsum(counts, dtype=np.int64)
    starts = ends - counts
    return [Series(name, labels, timestamps[a:b], values[a:b])
            for (name, labels, _count), a, b in zip(entries, starts, ends)]


def byte_shuffle(array):
    """Transpose the 8-byte elements: byte 0 of every element, then byte 1, ... (little-endian)."""
    raw = np.ascontiguousarray(array).view(np.uint8).reshape(-1, 8)
    return raw.T.tobytes()


def byte_unshuffle(data, dtype):
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size % 8:
        raise ValueError("shuffled column length is not a multiple of 8")
    return raw.reshape(8, -1).T.copy().view(dtype).ravel()


def delta(timestamps):
    """First value, then differences; int64 arithmetic wraps, so every int64 sequence survives."""
    result = np.empty_like(timestamps)
    result[:1] = timestamps[:1]
    np.subtract(timestamps[1:], timestamps[:-1], out=result[1:])
    return result


def undelta(deltas):
    return np.cumsum(deltas, dtype=np.int64)


def pack_streams(streams):
    """Streams behind 4-byte lengths, so one blob holds all of them."""
    return b"".join(LENGTH.pack(len(s)) + s for s in streams)


def unpack_streams(blob):
    streams, position = [], 0
    while position < len(blob):
        (length,) = LENGTH.unpack_from(blob, position)
        position += LENGTH.size
        if position + length > len(blob):
            raise ValueError("a stream runs past the end of the blob")
        streams.append(blob[position:position + length])
        position += length
    return streams


# Peers

@dataclass
class Encoded:
    size: int  # bytes the decoder reads back: len(blob) or the file size
    payload: object  # the blob, or the file's path
    timestamp_bytes: Optional[int] = None
    value_bytes: Optional[int] = None


@dataclass
class Peer:
    name: str
    group: str
    encode: Callable  # (series_list, workdir) -> Encoded
    decode: Callable  # Encoded -> series_list


def metrics_file_peer(name):
    """The phase-4 file, written with the settings phase 4 uses; its codec usage gives the bytes
    of the timestamp and value streams (block headers, CRCs and the index are in the total only)."""
    def encode(series_list, workdir):
        path = Path(workdir) / "peer.metrics"
        usage = {}
        written = metrics_file.write_file(path, series_list, metrics_file.DEFAULT_BLOCK_POINTS, codec_usage=usage)
        size = path.stat().st_size
        if written != size:
            raise ValueError(f"write_file reported {written} bytes, the file has {size}")
        column_bytes = [sum(row["bytes"] for row in usage.get(column, {}).values())
                        for column in ("timestamps", "values")]
        return Encoded(size, path, *column_bytes)

    def decode(encoded):
        return metrics_file.read_file(encoded.payload)

    return Peer(name, "project", encode, decode)


def per_series_peer(name, group, encode_pair, decode_pair):
    """A codec that compresses each series' timestamps and values as two streams of its own.

    Blob: zlib-9 metadata JSON, then per series the timestamp and value streams, each behind a
    4-byte length.
    """
    def encode(series_list, workdir):
        streams = [zlib.compress(metadata_json(series_list), 9)]
        timestamp_bytes = value_bytes = 0
        for s in series_list:
            timestamp_stream, value_stream = encode_pair(s.timestamps, s.values)
            streams += [timestamp_stream, value_stream]
            timestamp_bytes += len(timestamp_stream)
            value_bytes += len(value_stream)
        blob = pack_streams(streams)
        return Encoded(len(blob), blob, timestamp_bytes, value_bytes)

    def decode(encoded):
        metadata, *streams = unpack_streams(encoded.payload)
        entries = json.loads(zlib.decompress(metadata).decode("utf-8"))
        if len(streams) != 2 * len(entries):
            raise ValueError(f"{len(streams)} streams for {len(entries)} series")
        series_list = []
        for index, (series_name, labels, count) in enumerate(entries):
            timestamps, values = decode_pair(streams[2 * index], streams[2 * index + 1], count)
            series_list.append(Series(series_name, labels, timestamps, values))
        return series_list

    return Peer(name, group, encode, decode)


def gorilla_peer():
    return per_series_peer(
        "squeezed-signals Gorilla streams", "project",
        lambda ts, vs: (gorilla.encode_timestamps(ts), gorilla.encode_values(vs)),
        lambda t, v, count: (gorilla.decode_timestamps(t, count), gorilla.decode_values(v, count)),
    )


def pcodec_peer(pcodec):
    config = pcodec.ChunkConfig()
    compress, decompress = pcodec.standalone.simple_compress, pcodec.standalone.simple_decompress

    def restore(stream, dtype, count):
        array = decompress(stream)  # None for an empty array
        array = np.empty(0, dtype) if array is None else array
        if len(array) != count or array.dtype != dtype:
            raise ValueError(f"pcodec gave {len(array)} {array.dtype} numbers, expected {count} {dtype}")
        return array

    return per_series_peer(
        "pcodec (per series)", "pcodec",
        lambda ts, vs: (compress(ts, config), compress(vs, config)),
        lambda t, v, count: (restore(t, np.int64, count), restore(v, np.float64, count)),
    )


def column_peer(compressor, compress, decompress, preparation):
    """A general-purpose compressor over the two whole columns, after `preparation`.

    Blob: three length-prefixed streams, each compressed on its own: metadata JSON, timestamps,
    values.
    """
    shuffled = preparation != "plain"
    with_delta = preparation == "delta+shuffle"

    def to_bytes(array):
        return byte_shuffle(array) if shuffled else array.tobytes()

    def from_bytes(data, dtype):
        return byte_unshuffle(data, dtype) if shuffled else np.frombuffer(data, dtype=dtype)

    def encode(series_list, workdir):
        timestamps, values = columns(series_list)
        if with_delta:
            timestamps = delta(timestamps)
        metadata = compress(metadata_json(series_list))
        timestamp_stream = compress(to_bytes(timestamps))
        value_stream = compress(to_bytes(values))
        blob = pack_streams([metadata, timestamp_stream, value_stream])
        return Encoded(len(blob), blob, len(timestamp_stream), len(value_stream))

    def decode(encoded):
        metadata, timestamp_stream, value_stream = unpack_streams(encoded.payload)
        timestamps = from_bytes(decompress(timestamp_stream), INT64)
        if with_delta:
            timestamps = undelta(timestamps)
        values = from_bytes(decompress(value_stream), FLOAT64)
        return series_from_columns(decompress(metadata), timestamps, values)

    return Peer(f"{compressor}, {preparation}", group_of(compressor), encode, decode)


def group_of(compressor):
    return "zstd" if compressor.startswith("zstd") else "stdlib"


def stdlib_compressors():
    return [
        ("zlib-9", lambda b: zlib.compress(b, 9), zlib.decompress),
        ("lzma-9 (raw LZMA2)",
         lambda b: lzma.compress(b, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS),
         lambda b: lzma.decompress(b, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS)),
    ]


def zstd_compressors(zstandard):
    result = []
    for level in (3, 19):
        compressor = zstandard.ZstdCompressor(level=level)
        decompressor = zstandard.ZstdDecompressor()
        result.append((f"zstd-{level}", compressor.compress, decompressor.decompress))
    return result


def parquet_peer(pa, pq):
    """One table (series, timestamp, value), rows in dataset order, written with pyarrow.

    `series` is dictionary-encoded (each series' JSON identity once in the dictionary page, the
    rows as RLE-coded indices); `timestamp` uses DELTA_BINARY_PACKED and `value` BYTE_STREAM_SPLIT;
    all pages are compressed with zstd. Series without points (no rows) are listed in the schema
    metadata; generated and imported datasets have none.
    """
    def identity(s):
        return json.dumps([s.name, s.labels], sort_keys=True, separators=(",", ":"))

    def encode(series_list, workdir):
        path = Path(workdir) / "peer.parquet"
        timestamps, values = columns(series_list)
        counts = [len(s) for s in series_list]
        ids = np.repeat(np.arange(len(series_list), dtype=np.int32), counts)
        dictionary = pa.array([identity(s) for s in series_list], pa.string())
        series_column = pa.DictionaryArray.from_arrays(pa.array(ids), dictionary)
        table = pa.table({"series": series_column, "timestamp": timestamps, "value": values})
        empty = [identity(s) for s in series_list if len(s) == 0]
        if empty:
            table = table.replace_schema_metadata({"empty_series": json.dumps(empty)})
        pq.write_table(
            table, path, compression="zstd", compression_level=PARQUET_ZSTD_LEVEL,
            use_dictionary=["series"],
            column_encoding={"timestamp": "DELTA_BINARY_PACKED", "value": "BYTE_STREAM_SPLIT"},
        )
        metadata = pq.ParquetFile(path).metadata
        timestamp_bytes, value_bytes = column_chunk_bytes(metadata, ("timestamp", "value"))
        return Encoded(path.stat().st_size, path, timestamp_bytes, value_bytes)

    def decode(encoded):
        table = pq.read_table(encoded.payload)
        timestamps = table.column("timestamp").to_numpy()
        values = table.column("value").to_numpy()
        identities, row_ids = global_dictionary_ids(table.column("series"))
        series_list = []
        boundaries = np.flatnonzero(np.diff(row_ids)) + 1
        for start, end in zip(np.r_[0, boundaries], np.r_[boundaries, len(row_ids)]):
            if end > start:
                name, labels = json.loads(identities[row_ids[start]])
                series_list.append(Series(name, labels, timestamps[start:end], values[start:end]))
        metadata = table.schema.metadata or {}
        for text in json.loads(metadata.get(b"empty_series", b"[]")):
            name, labels = json.loads(text)
            series_list.append(Series(name, labels, np.empty(0, np.int64), np.empty(0, np.float64)))
        return canonical_order(series_list)

    name = f"Parquet (pyarrow, zstd-{PARQUET_ZSTD_LEVEL}, delta ts, byte-split values)"
    return Peer(name, "parquet", encode, decode)


def column_chunk_bytes(metadata, names):
    """Compressed bytes of the named columns, summed over the row groups."""
    totals = dict.fromkeys(names, 0)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema in totals:
                totals[chunk.path_in_schema] += chunk.total_compressed_size
    return tuple(totals[name] for name in names)


def global_dictionary_ids(chunked):
    """Per row, a number for its dictionary value that is the same across row groups."""
    numbers, parts = {}, []
    for chunk in chunked.chunks:
        local = [numbers.setdefault(text, len(numbers)) for text in chunk.dictionary.to_pylist()]
        parts.append(np.asarray(local, dtype=np.int64)[chunk.indices.to_numpy()])
    return list(numbers), (np.concatenate(parts) if parts else np.empty(0, np.int64))


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
    encode_seconds: Optional[float] = None
    decode_seconds: Optional[float] = None
    verified: bool = False
    error: Optional[str] = None
    encode_ratio: Optional[float] = None  # throughput / the REFERENCE_PEER's throughput
    decode_ratio: Optional[float] = None

    def bits(self, part_bytes):
        return 8.0 * part_bytes / self.points if part_bytes is not None and self.points else None

    def throughput(self, seconds):
        return self.points / seconds / 1e6 if seconds and self.points else None

    def as_json(self, dataset):
        return {
            "dataset": dataset, "peer": self.peer, "group": self.group, "points": self.points,
            "bytes": self.bytes,
            "bytes_per_point": round(self.bytes / self.points, 4) if self.bytes and self.points else None,
            "bits_per_timestamp": _round(self.bits(self.timestamp_bytes)),
            "bits_per_value": _round(self.bits(self.value_bytes)),
            "encode_mpoints_per_s": _round(self.throughput(self.encode_seconds)),
            "decode_mpoints_per_s": _round(self.throughput(self.decode_seconds)),
            "encode_vs_zstd3": _round(self.encode_ratio), "decode_vs_zstd3": _round(self.decode_ratio),
            "verified": self.verified, "error": self.error,
        }


def _round(number, digits=3):
    return None if number is None else round(number, digits)


def measure(peer, series_list, workdir, repeat=1):
    """Encode and decode `repeat` times (best time of each); verify the first round trip."""
    row = Row(peer.name, peer.group, total_points(series_list))
    encode_times, decode_times = [], []
    try:
        for attempt in range(max(repeat, 1)):
            start = time.perf_counter()
            encoded = peer.encode(series_list, workdir)
            middle = time.perf_counter()
            decoded = peer.decode(encoded)
            encode_times.append(middle - start)
            decode_times.append(time.perf_counter() - middle)
            if attempt == 0:
                row.bytes, row.timestamp_bytes, row.value_bytes = (
                    encoded.size, encoded.timestamp_bytes, encoded.value_bytes)
                difference = first_difference(series_list, decoded)
                if difference is not None:
                    row.error = f"round trip differs: {difference}"
                    return row
    except Exception as exc:  # a peer that breaks is a FAILED row, not a crash of the comparison
        row.error = f"{type(exc).__name__}: {exc}"
        return row
    row.encode_seconds, row.decode_seconds = min(encode_times), min(decode_times)
    row.verified = True
    return row


def compare(series_list, peers, repeat=1, progress=None):
    """Run every peer on the dataset; rows sorted by bytes, failed rows last."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="compare-peers-") as workdir:
        for peer in peers:
            if progress:
                progress(peer.name)
            rows.append(measure(peer, series_list, workdir, repeat))
    add_speed_ratios(rows)
    return sorted(rows, key=lambda r: (not r.verified, r.bytes if r.bytes is not None else float("inf")))


def add_speed_ratios(rows):
    """Each verified row's throughput over the REFERENCE_PEER's, when that row ran and verified."""
    reference = next((r for r in rows if r.peer == REFERENCE_PEER and r.verified), None)
    if reference is None:
        return
    for r in rows:
        if r.verified:
            r.encode_ratio = reference.encode_seconds / r.encode_seconds if r.encode_seconds else None
            r.decode_ratio = reference.decode_seconds / r.decode_seconds if r.decode_seconds else None


# Report

COLUMNS = ("peer", "bytes", "B/point", "bits/ts", "bits/value", "enc Mpt/s", "dec Mpt/s", "enc x zstd3",
           "dec x zstd3", "verified")


def _cell(number, spec):
    return "-" if number is None else format(number, spec)


def format_table(rows):
    lines = []
    for r in rows:
        lines.append((
            r.peer,
            _cell(r.bytes, ","),
            _cell(r.bytes / r.points if r.bytes is not None and r.points else None, ".3f"),
            _cell(r.bits(r.timestamp_bytes), ".2f"),
            _cell(r.bits(r.value_bytes), ".2f"),
            _cell(r.throughput(r.encode_seconds), ".2f"),
            _cell(r.throughput(r.decode_seconds), ".2f"),
            _cell(r.encode_ratio, ".3f"),
            _cell(r.decode_ratio, ".3f"),
            "yes" if r.verified else "FAILED",
        ))
    widths = [max(len(str(x)) for x in column) for column in zip(COLUMNS, *lines)]
    out = []
    for index, line in enumerate([COLUMNS, *lines]):
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def summary_line(rows):
    verified = [r for r in rows if r.verified]
    if not verified:
        return "no peer verified"
    smallest = verified[0]
    project = next((r for r in verified if r.peer == PROJECT_FILE_PEER), None)
    if project is None:
        return f"smallest: {smallest.peer} ({smallest.bytes:,} bytes)"
    if project is smallest:
        runner_up = verified[1] if len(verified) > 1 else None
        tail = f"; next: {runner_up.peer}, {runner_up.bytes / project.bytes:.3f}x its size" if runner_up else ""
        return f"smallest: {PROJECT_FILE_PEER} ({project.bytes:,} bytes){tail}"
    return (f"smallest: {smallest.peer} ({smallest.bytes:,} bytes); {PROJECT_FILE_PEER} is "
            f"{project.bytes:,} bytes, {project.bytes / smallest.bytes:.3f}x the smallest")


def print_report(dataset, rows, notes, repeat):
    points = dataset.points
    print(f"dataset: {dataset.description}")
    for detail in dataset.details:
        print(f"  {detail}")
    print(f"  {len(dataset.series):,} series, {points:,} points, raw columns {16 * points:,} bytes "
          f"(16 bytes/point); throughput is the best of {repeat} run(s)")
    print()
    print(format_table(rows))
    print()
    print(summary_line(rows))
    for r in rows:
        if not r.verified:
            print(f"FAILED {r.peer}: {r.error}")
    for note in notes:
        print(f"skipped: {note}")


# Command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0])
    add_dataset_arguments(parser)
    parser.add_argument("--real", action="store_true",
                        help="compare on the real time series shipped by vega_datasets (and statsmodels)")
    parser.add_argument("--save-real", type=Path, metavar="DIR",
                        help="with --real: keep the converted long CSV files in DIR "
                             "(then `python main.py --import DIR` runs the phases on the same data)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per peer; times are the best (default 3)")
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
    args.groups = groups
    return args


def build_dataset(args, scratch):
    if args.real:
        if args.save_real:
            args.save_real.mkdir(parents=True, exist_ok=True)
            return real_dataset(args.save_real)
        return real_dataset(scratch)
    if args.import_paths:
        return imported_dataset(args.import_paths, args.import_format)
    return generated_dataset(args.size, args.seed, args.series, args.points)


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="compare-peers-data-") as scratch:
        dataset = build_dataset(args, scratch)
    peers, notes = available_peers(args.groups)
    rows = compare(dataset.series, peers, args.repeat,
                   progress=lambda name: print(f"running {name}", file=sys.stderr, flush=True))
    print_report(dataset, rows, notes, args.repeat)
    if args.json:
        args.json.write_text(json.dumps([r.as_json(dataset.description) for r in rows], indent=2) + "\n")
    if any(not r.verified for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    exit_on_user_error(main)
