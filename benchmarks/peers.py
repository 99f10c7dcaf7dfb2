"""The peers of benchmarks/compare_peers.py: the project's formats and the codecs it is compared with.

Each peer encodes a whole dataset, including what it takes to give the series back their names,
labels and point counts, into the bytes (or the file) its decoder reads back. The fairness
choices behind each one are in compare_peers.py's docstring and benchmarks/README.md.
"""
import json
import lzma
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from lib.codecs import gorilla
from lib.data.dataset import Series, canonical_order
from lib.storage import metrics_file, streaming_writer

PROJECT_FILE_PEER = "squeezed-signals METRICS! file"
INSTALL_HINT = "pip install -r benchmarks/requirements-peers.txt"
PEER_GROUPS = ("project", "stdlib", "zstd", "parquet", "pcodec")
LENGTH = struct.Struct("<I")
INT64 = np.dtype("<i8")
FLOAT64 = np.dtype("<f8")
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9}]
PARQUET_ZSTD_LEVEL = 19
PREPARATIONS = ("plain", "shuffle", "delta+shuffle")


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
        written = streaming_writer.write_file(path, series_list, metrics_file.DEFAULT_BLOCK_POINTS, codec_usage=usage)
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

