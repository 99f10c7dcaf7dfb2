"""The data model every phase shares, and the phase-0 dataset file.

A dataset is a list of `Series`. A series is a metric name, a labels dict (str -> str), timestamps
as an int64 numpy array of nanoseconds since the epoch, and values as a float64 numpy array.
Datasets are kept in one canonical order (by metric name, then sorted labels), so any format that
stores series in a different order can restore it by sorting, and "identical" can mean identical
list order too.

"Identical" means bit for bit: timestamps as int64, values compared as their uint64 bit patterns,
so NaN payloads, -0.0 and infinities all count. `assert_identical` is how every phase proves its
round trip.

The dataset file (written by `00_generate_data.py`, read by every phase) is deliberately plain:

    offset  size  field
    0       8     magic b"SQZDATA1"
    8       4     header length H, uint32 little-endian
    12      H     header: UTF-8 JSON {"series": [{"name", "labels", "count"}, ...], "info": {...}}
    12+H    8*N   all timestamps, int64 little-endian, series after series (N = total points)
    ...     8*N   all values, float64 little-endian, same order
    end-4   4     CRC32 of everything before it, uint32 little-endian

Loading maps the two columns straight into numpy arrays: memory stays proportional to the data.
"""
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.errors import FormatError, MissingDatasetError, RoundTripError
from lib.plumbing.atomic import atomic_write
from lib.plumbing.regular_files import read_regular_file

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000  # timestamps are int64 nanoseconds since the epoch
MINUTE_NS = 60 * NS_PER_SECOND
HOUR_NS = 60 * MINUTE_NS
DAY_NS = 24 * HOUR_NS

DATASET_FILENAME = "00_dataset.bin"
DATASET_MAGIC = b"SQZDATA1"
_HEADER_LENGTH = struct.Struct("<I")
_CRC = struct.Struct("<I")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT_DIR = PROJECT_ROOT / "output"


@dataclass
class Series:
    name: str
    labels: dict
    timestamps: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"metric name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.labels, dict):
            raise ValueError(f"labels must be a dict, got {type(self.labels).__name__}")
        for key, value in self.labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"labels must map str to str, got {key!r}: {value!r}")
        for text in (self.name, *self.labels, *self.labels.values()):
            if not is_encodable(text):
                raise ValueError(f"{text!r} cannot be written as UTF-8 (a lone surrogate?)")
        self.labels = dict(self.labels)
        self.timestamps = np.ascontiguousarray(self.timestamps, dtype=np.int64)
        self.values = np.ascontiguousarray(self.values, dtype=np.float64)
        if self.timestamps.ndim != 1 or self.values.ndim != 1:
            raise ValueError("timestamps and values must be one-dimensional")
        if len(self.timestamps) != len(self.values):
            raise ValueError(
                f"{self.display_name()}: {len(self.timestamps)} timestamps but {len(self.values)} values"
            )

    @property
    def key(self):
        return series_key(self.name, self.labels)

    def __len__(self):
        return len(self.timestamps)

    def display_name(self):
        return display_name(self.name, self.labels)


def series_key(name, labels):
    """Identity of a series: its name and its labels in sorted order (hashable, sortable)."""
    return (name, tuple(sorted(labels.items())))


def display_name(name, labels):
    """Prometheus-style selector, e.g. cpu_usage_percent{host="a",region="eu"}."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def is_encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def canonical_order(series_list):
    """Return the series sorted by identity; reject two series with the same identity."""
    ordered = sorted(series_list, key=lambda s: s.key)
    for previous, current in zip(ordered, ordered[1:]):
        if previous.key == current.key:
            raise ValueError(f"duplicate series {current.display_name()}")
    return ordered


def total_points(series_list):
    return sum(len(s) for s in series_list)


def dataset_path(output_dir):
    return Path(output_dir) / DATASET_FILENAME


def save_dataset(series_list, path, info=None):
    """Write a dataset file atomically (series in canonical order). Returns the byte size."""
    series_list = canonical_order(series_list)
    header = {
        "series": [{"name": s.name, "labels": s.labels, "count": len(s)} for s in series_list],
        "info": info or {},
    }
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    crc = 0
    size = 0
    with atomic_write(path) as f:
        for chunk in _dataset_chunks(series_list, header_bytes):
            f.write(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
        f.write(_CRC.pack(crc))
    return size + _CRC.size


def _dataset_chunks(series_list, header_bytes):
    yield DATASET_MAGIC
    yield _HEADER_LENGTH.pack(len(header_bytes))
    yield header_bytes
    for s in series_list:
        yield s.timestamps.astype("<i8", copy=False).tobytes()
    for s in series_list:
        yield s.values.astype("<f8", copy=False).tobytes()


def load_dataset(path):
    """Read a dataset file; returns (series list, info dict)."""
    path = Path(path)
    if not path.exists():
        folder = "" if path.parent.resolve() == DEFAULT_OUTPUT_DIR else f" --output-dir {path.parent}"
        raise MissingDatasetError(
            f"no dataset at {path}: run `python 00_generate_data.py{folder}` first "
            f"(or `python main.py{folder}`, which runs every phase)"
        )
    data = read_regular_file(path)
    fixed = len(DATASET_MAGIC) + _HEADER_LENGTH.size
    if len(data) < fixed + _CRC.size:
        raise FormatError(f"{path}: too short to be a dataset file ({len(data)} bytes)")
    if data[: len(DATASET_MAGIC)] != DATASET_MAGIC:
        raise FormatError(f"{path}: not a squeezed-signals dataset (bad magic bytes)")
    (stored_crc,) = _CRC.unpack_from(data, len(data) - _CRC.size)
    if zlib.crc32(memoryview(data)[: -_CRC.size]) != stored_crc:
        raise FormatError(f"{path}: checksum mismatch, the file is damaged")
    (header_length,) = _HEADER_LENGTH.unpack_from(data, len(DATASET_MAGIC))
    body_start = fixed + header_length
    if body_start > len(data) - _CRC.size:
        raise FormatError(f"{path}: header length {header_length} runs past the end of the file")
    try:
        header = json.loads(data[fixed:body_start].decode("utf-8"))
        entries = header["series"]
        counts = [e["count"] for e in entries]
        if not all(type(c) is int and c >= 0 for c in counts):
            raise ValueError("point counts must be non-negative integers")
        info = header.get("info", {})
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise FormatError(f"{path}: unreadable header ({type(exc).__name__}: {exc})") from None
    total = sum(counts)
    if body_start + 16 * total != len(data) - _CRC.size:
        raise FormatError(f"{path}: point counts do not match the file size")
    timestamps = np.frombuffer(data, dtype="<i8", count=total, offset=body_start).astype(np.int64)
    values = np.frombuffer(data, dtype="<f8", count=total, offset=body_start + 8 * total).astype(np.float64)
    ends = np.cumsum(counts, dtype=np.int64)
    try:
        series_list = [
            Series(entry["name"], entry["labels"], timestamps[end - count:end], values[end - count:end])
            for entry, count, end in zip(entries, counts, ends.tolist())
        ]
        if [s.key for s in series_list] != [s.key for s in canonical_order(series_list)]:
            raise ValueError("series are not in canonical order")
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"{path}: bad series entry ({exc})") from None
    return series_list, info


def load_dataset_for_phase(output_dir):
    """What every phase calls first: the dataset in `output_dir`, with a helpful error if absent."""
    series_list, _info = load_dataset(dataset_path(output_dir))
    return series_list


def float_bits(values):
    """View float64 values as their uint64 bit patterns (the only exact way to compare floats)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def first_difference(expected, actual):
    """Describe the first way two datasets differ bit for bit, or return None if identical."""
    if len(expected) != len(actual):
        return f"{len(expected)} series expected, {len(actual)} found"
    for index, (e, a) in enumerate(zip(expected, actual)):
        where = f"series {index} ({e.display_name()})"
        if e.key != a.key:
            return f"{where}: found {a.display_name()} instead"
        if len(e) != len(a):
            return f"{where}: {len(e)} points expected, {len(a)} found"
        ts_diff = np.flatnonzero(e.timestamps != a.timestamps)
        if ts_diff.size:
            i = ts_diff[0]
            return f"{where}: timestamp {i} is {a.timestamps[i]}, expected {e.timestamps[i]}"
        bit_diff = np.flatnonzero(float_bits(e.values) != float_bits(a.values))
        if bit_diff.size:
            i = bit_diff[0]
            return (
                f"{where}: value {i} has bits {int(float_bits(a.values)[i]):#018x}, "
                f"expected {int(float_bits(e.values)[i]):#018x}"
            )
    return None


def assert_identical(expected, actual, context="round trip"):
    """Raise RoundTripError unless the datasets are identical bit for bit."""
    difference = first_difference(expected, actual)
    if difference is not None:
        raise RoundTripError(f"{context}: {difference}")


def chunks_of_points(series_list, max_points):
    """The series in consecutive groups of at most `max_points` points (a longer series alone), so
    that work done a group at a time needs memory for a group, not the dataset."""
    chunk, points = [], 0
    for s in series_list:
        if chunk and points + len(s) > max_points:
            yield chunk
            chunk, points = [], 0
        chunk.append(s)
        points += len(s)
    if chunk:
        yield chunk
