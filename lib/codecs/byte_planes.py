"""Byte planes: integers laid out so that a general-purpose compressor can see their structure.

The idea
--------
Bit packing (lib/bitstream/packing.py) is the right answer when every residual is about equally
likely, but it hides skew: scrape jitter that is 0 four times out of five still costs its full
width, and a compressor run over packed bits sees no byte boundaries to model. Writing the same
integers BYTE-ALIGNED fixes both. Each residual becomes W little-endian bytes (W just big enough
for the largest), and the bytes are split into W PLANES, plane 0 holding byte 0 of every value,
plane 1 byte 1, and so on (Parquet's BYTE_STREAM_SPLIT, Blosc's shuffle). The high planes of
small residuals are long runs of zeros; the low plane of skewed residuals is a skewed byte
distribution; both are what LZMA's adaptive range coder and DEFLATE's Huffman codes squeeze.

The low planes of noisy residuals (the last mantissa bits of a float) are random, and a compressor
only adds its own overhead to them. So the encoder stores the R lowest planes of a stream RAW when
their order-0 byte entropy is close to 8 bits (judged on 64 values or more), and compresses only the planes above them.

Several streams (timestamps have two: grid steps and jitter) share one compressed section, so
they pay for one compressor header.

Layout: docs/format.md, "Byte-plane stream": per stream its width W and raw planes R, the
compressor, the compressed planes W-1 down to R, then the raw ones. The compressed section holds
exactly sum(count * (W - R)) bytes, which the decoder checks (and stops decompressing there).
Worked example: one stream [1, 0, 300] (count 3). The largest
needs 2 bytes, so W = 2: plane 1 is 00 00 01, plane 0 is 01 00 2C. With R = 0 and no compressor
the stream is 02 00 00 06 00 00 01 01 00 2C: ten bytes for three values, and the two planes
become two runs a compressor can find.

Decoding is one decompression and a reshape: fast, and no Python loop per value.
"""
import lzma

import numpy as np

from lib.bitstream.varint import encode_varints, read_varints
from lib.codecs.limits import check_count
from lib.codecs.stream_coder import StreamCoder
from lib.errors import FormatError
from lib.plumbing.bounded_compression import deflate, inflate, lzma_compress, lzma_decompress

NONE, DEFLATE, LZMA1 = 0, 1, 2
COMPRESSOR_NAMES = {NONE: "none", DEFLATE: "deflate", LZMA1: "lzma"}
MAX_WIDTH = 8
# A plane whose byte entropy is within this many bits of the most it could be is stored raw.
RAW_ENTROPY_MARGIN = 0.6
RAW_MIN_COUNT = 64  # fewer bytes than this say too little about their entropy

_U64 = np.uint64
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA1, "preset": 9, "dict_size": 1 << 16, "lc": 0, "lp": 0, "pb": 0}]


def _lzma_compress(data):
    return lzma_compress(data, _LZMA_FILTERS)


def _inflate(data, size):
    return inflate(data, size, exact=True)


def _lzma_decompress(data, size):
    return lzma_decompress(data, size, _LZMA_FILTERS, exact=True)


COMPRESS = {DEFLATE: deflate, LZMA1: _lzma_compress}
DECOMPRESS = {DEFLATE: _inflate, LZMA1: _lzma_decompress}


def byte_width(unsigned):
    """Bytes needed for the largest value: [] -> 0, [0] -> 0, [255] -> 1, [256] -> 2."""
    if unsigned.size == 0:
        return 0
    return (int(unsigned.max()).bit_length() + 7) // 8


def planes_of(unsigned, width):
    """(width, count) uint8 array: row p holds byte p (little-endian) of every value."""
    as_bytes = np.ascontiguousarray(unsigned, dtype="<u8").view(np.uint8).reshape(-1, 8)
    return np.ascontiguousarray(as_bytes[:, :width].T)


def _byte_entropy(plane):
    counts = np.bincount(plane, minlength=256)
    p = counts[counts > 0] / plane.size
    return float(-(p * np.log2(p)).sum())


def raw_planes(planes):
    """How many of the lowest planes look random enough to store uncompressed."""
    width, count = planes.shape
    if count < RAW_MIN_COUNT:
        return 0
    ceiling = np.log2(min(count, 256))
    raw = 0
    while raw < width and _byte_entropy(planes[raw]) >= ceiling - RAW_ENTROPY_MARGIN:
        raw += 1
    return raw


def encode_planes(streams, compressors=(LZMA1, DEFLATE)):
    """uint64 arrays -> plane-stream bytes; the smallest of the given compressors (or none)."""
    header, high, low = [], [], []
    for stream in streams:
        stream = np.ascontiguousarray(stream, dtype=_U64)
        width = byte_width(stream)
        planes = planes_of(stream, width)
        raw = raw_planes(planes)
        header += [width, raw]
        high.append(planes[raw:][::-1].tobytes())
        low.append(planes[:raw][::-1].tobytes())
    section = b"".join(high)
    best = (NONE, section)
    if section:
        for compressor in compressors:
            compressed = COMPRESS[compressor](section)
            if len(compressed) < len(best[1]):
                best = (compressor, compressed)
    compressor, data = best
    return b"".join((bytes(header), bytes((compressor,)), encode_varints([len(data)]), data, *low))


def decode_planes(blob, counts, offset=0):
    """Inverse of `encode_planes` for streams of the given counts: (list of uint64 arrays, end)."""
    for count in counts:
        check_count(count)
    blob = bytes(blob)
    end = offset + 2 * len(counts) + 1
    if end > len(blob):
        raise FormatError("plane stream header is truncated")
    shapes = []
    for index, count in enumerate(counts):
        width, raw = blob[offset + 2 * index], blob[offset + 2 * index + 1]
        if width > MAX_WIDTH or raw > width:
            raise FormatError(f"plane stream of width {width} with {raw} raw planes")
        shapes.append((width, raw, int(count)))
    compressor = blob[end - 1]
    if compressor not in COMPRESSOR_NAMES:
        raise FormatError(f"unknown plane compressor {compressor}")
    (length,), offset = read_varints(blob, 1, end)
    length = int(length)
    if offset + length > len(blob):
        raise FormatError(f"compressed planes truncated: need {length} bytes, have {len(blob) - offset}")
    high_size = sum(count * (width - raw) for width, raw, count in shapes)
    low_size = sum(count * raw for width, raw, count in shapes)
    if offset + length + low_size > len(blob):
        raise FormatError("raw planes are truncated")
    section = blob[offset:offset + length]
    if compressor == NONE:
        if length != high_size:
            raise FormatError(f"{length} bytes of uncompressed planes, expected {high_size}")
    else:
        section = DECOMPRESS[compressor](section, high_size)
    offset += length
    streams, high_at = [], 0
    for width, raw, count in shapes:
        values = np.zeros(count, dtype="<u8")
        value_bytes = values.view(np.uint8).reshape(count, MAX_WIDTH)  # byte p of each value: plane p
        for plane in range(width - 1, raw - 1, -1):  # the compressed planes, highest first
            value_bytes[:, plane] = np.frombuffer(section, np.uint8, count, high_at)
            high_at += count
        for plane in range(raw - 1, -1, -1):  # then the raw ones
            value_bytes[:, plane] = np.frombuffer(blob, np.uint8, count, offset)
            offset += count
        streams.append(values.astype(_U64, copy=False))  # no copy on a little-endian machine
    return streams, offset


def plane_coder(compressors=(LZMA1, DEFLATE)):
    return StreamCoder(lambda streams: encode_planes(streams, compressors), decode_planes)


PLANES = plane_coder()
