"""Byte planes: integers laid out so that a general-purpose compressor can see their structure.

The idea
--------
Bit packing (lib/codecs/decimals.py) is the right answer when every residual is about equally
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

Layout (the caller knows how many streams and how many values each has)
------------------------------------------------------------------------
    per stream:  u8 W (bytes per value, 0..8), u8 R (raw low planes, 0..W)
    u8       compressor: 0 none, 1 raw DEFLATE (level 9), 2 raw LZMA1 (lc=lp=pb=0, 64 KiB dict)
    varint   C, bytes of the compressed section
    C bytes  compressed: for each stream, planes W-1 down to R, each `count` bytes
    raw:     for each stream, planes R-1 down to 0, each `count` bytes

The section holds exactly sum(count * (W - R)) bytes once decompressed, which the decoder checks
(and stops decompressing there). Worked example: one stream [1, 0, 300] (count 3). The largest
needs 2 bytes, so W = 2: plane 1 is 00 00 01, plane 0 is 01 00 2C. With R = 0 and no compressor
the stream is 02 00 00 06 00 00 01 01 00 2C: ten bytes for three values, and the two planes
become two runs a compressor can find.

Decoding is one decompression and a reshape: fast, and no Python loop per value.
"""
import lzma

import numpy as np

from lib.plumbing.bounded_compression import deflate, inflate, lzma_compress, lzma_decompress
from lib.errors import FormatError
from lib.bitstream.varint import encode_varints, read_varint_list, read_varints
from lib.codecs.delta import to_signed64

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
        planes = np.zeros((MAX_WIDTH, count), dtype=np.uint8)
        if width > raw:
            size = count * (width - raw)
            planes[raw:width] = np.frombuffer(section, np.uint8, size, high_at).reshape(width - raw, count)[::-1]
            high_at += size
        if raw:
            planes[:raw] = np.frombuffer(blob, np.uint8, count * raw, offset).reshape(raw, count)[::-1]
            offset += count * raw
        streams.append(np.ascontiguousarray(planes.T).view("<u8").reshape(count).astype(_U64))
    return streams, offset


# Timestamps on a grid ---------------------------------------------------------------------------

GRID, DELTAS, SPARSE_GRID = 0, 1, 2
MODE_NAMES = {GRID: "grid", DELTAS: "delta-of-delta", SPARSE_GRID: "sparse grid"}
MAX_SPAN = 1 << 62  # blocks whose timestamps span more are left to Gorilla


def _zigzag(signed):
    signed = np.asarray(signed, dtype=np.int64)
    return ((signed << np.int64(1)) ^ (signed >> np.int64(63))).view(_U64)


def _unzigzag(unsigned):
    unsigned = np.asarray(unsigned, dtype=_U64)
    return (unsigned >> _U64(1)).view(np.int64) ^ -(unsigned & _U64(1)).view(np.int64)


MODE_BINCOUNT_SPAN = 1 << 16  # values spanning less than this are counted with bincount, not sorted


def _mode(values):
    """The most common value, the smallest on a tie: [3, 1, 3, 1, 2] -> 1."""
    low = int(values.min())
    if int(values.max()) - low < MODE_BINCOUNT_SPAN:
        return low + int(np.argmax(np.bincount(values - low)))
    uniques, counts = np.unique(values, return_counts=True)
    return int(uniques[np.argmax(counts)])


def timestamp_units(timestamps):
    """(t0, unit, q) with timestamps == t0 + unit * q exactly, or None for spans of 2**62 and more."""
    timestamps = np.ascontiguousarray(timestamps, dtype=np.int64)
    if timestamps.size == 0:
        return None
    low, high = int(timestamps.min()), int(timestamps.max())
    if high - low >= MAX_SPAN:
        return None
    t0 = int(timestamps[0])
    offsets = timestamps - np.int64(t0)  # exact: |offset| < 2**62
    unit = int(np.gcd.reduce(offsets)) or 1
    return t0, unit, offsets // np.int64(unit)


def grid_streams(q):
    """(interval, shift, steps, jitter): q[i] == k[i] * interval + shift + jitter[i].

    The interval is the most common difference; k[i] is the nearest grid slot, so a missed scrape
    is a step of 2 slots and the jitter stays a few units either way. steps[i] = k[i] - k[i-1] - 1
    (0 for consecutive slots) with k[-1] = -1.
    """
    differences = np.diff(q)
    interval = _mode(differences) if differences.size else 1
    interval = interval if interval > 0 else 1
    slots = (q + np.int64(interval // 2)) // np.int64(interval)
    offsets = q - slots * np.int64(interval)
    shift = _mode(offsets)
    steps = np.diff(slots, prepend=np.int64(-1)) - 1
    return interval, shift, steps, offsets - np.int64(shift)


def zero_runs(positions, count):
    """Zeros before each non-zero position and after the last: positions [1, 2] of 5 -> [1, 0, 2]."""
    return np.diff(positions, prepend=-1, append=count).astype(_U64) - _U64(1)


def scatter_runs(runs, nonzero, count):
    """Inverse of `zero_runs` plus the non-zero values: runs [1, 0, 2], values [7, 9] -> [0, 7, 9, 0, 0]."""
    if runs.size and int(runs.max()) > count:
        raise FormatError(f"a run of {int(runs.max())} zeros in a block of {count}")
    if int(runs.sum()) + nonzero.size != count:
        raise FormatError(f"zero runs and values make {int(runs.sum()) + nonzero.size} entries, not {count}")
    positions = np.cumsum(runs[:-1].astype(np.int64) + 1) - 1
    out = np.zeros(count, dtype=_U64)
    out[positions] = nonzero
    return out


class StreamCoder:
    """How the integer streams of a block are written: byte planes through a compressor (the
    default) or bins (lib/codecs/bins.py). `write(list of uint64 arrays) -> bytes`,
    `read(blob, counts, offset) -> (list of arrays, end offset)` and `read_nonzero`, the same
    with each stream as (positions, values) of its non-zero values, for coders that store
    mostly-zero streams that way (by default it is worked out from `read`)."""

    def __init__(self, write, read, read_nonzero=None):
        self.write, self.read = write, read
        self.read_nonzero = read_nonzero or self._nonzero_from_read

    def _nonzero_from_read(self, blob, counts, offset=0):
        streams, offset = self.read(blob, counts, offset)
        return [nonzero_of(stream) for stream in streams], offset


def plane_coder(compressors=(LZMA1, DEFLATE)):
    return StreamCoder(lambda streams: encode_planes(streams, compressors), decode_planes)


PLANES = plane_coder()


def encode_timestamp_units(timestamps, mode, compressors=(LZMA1, DEFLATE), coder=None):
    """int64 timestamps -> bytes of the timestamp-units codec in `mode`, or None when not applicable.

    The streams go out as byte planes through `compressors`, or through `coder` when given.

    Layout: u8 mode, varint zigzag(t0), varint unit, then
      GRID:   varint interval, varint zigzag(shift), plane streams [zigzag(steps), zigzag(jitter)]
      SPARSE_GRID: varint interval, varint zigzag(shift), varint S, varint J (non-zero steps and
              jitters), plane streams [S + 1 zero runs, S steps, J + 1 zero runs, J jitters]
      DELTAS: plane stream [zigzag(delta-of-delta of q)], the first entry being q[1] itself.
    """
    units = timestamp_units(timestamps)
    if units is None:
        return None
    t0, unit, q = units
    write = (coder or plane_coder(compressors)).write
    head = bytes((mode,)) + encode_varints([int(_zigzag([t0])[0]), unit])
    if mode == GRID:
        interval, shift, steps, jitter = grid_streams(q)
        return (head + encode_varints([interval, int(_zigzag([shift])[0])])
                + write([_zigzag(steps), _zigzag(jitter)]))
    if mode == SPARSE_GRID:
        interval, shift, steps, jitter = grid_streams(q)
        streams, sizes = [], []
        for stream in (_zigzag(steps), _zigzag(jitter)):
            positions = np.flatnonzero(stream)
            streams += [zero_runs(positions, stream.size), stream[positions]]
            sizes.append(positions.size)
        return (head + encode_varints([interval, int(_zigzag([shift])[0]), *sizes])
                + write(streams))
    deltas = np.diff(q)
    return head + write([_zigzag(np.diff(deltas, prepend=np.int64(0)))])


def decode_timestamp_units(blob, count, coder=PLANES):
    """Inverse of `encode_timestamp_units`: `count` int64 timestamps."""
    blob = bytes(blob)
    if count == 0:
        raise FormatError("a timestamp-units block holds at least one timestamp")
    if not blob or blob[0] not in MODE_NAMES:
        raise FormatError("unknown or missing timestamp-units mode")
    mode = blob[0]
    (zigzag_t0, unit), offset = read_varint_list(blob, 2, 1)
    t0 = np.int64(_unzigzag_int(zigzag_t0))
    if mode == GRID:
        (interval, zigzag_shift), offset = read_varint_list(blob, 2, offset)
        (steps, jitter), offset = coder.read_nonzero(blob, [count, count], offset)
    elif mode == SPARSE_GRID:
        (interval, zigzag_shift, step_count, jitter_count), offset = read_varints(blob, 4, offset)
        if step_count > count or jitter_count > count:
            raise FormatError(f"{step_count} steps, {jitter_count} jitters in a block of {count}")
        sizes = [int(step_count) + 1, int(step_count), int(jitter_count) + 1, int(jitter_count)]
        (step_runs, steps, jitter_runs, jitter), offset = coder.read(blob, sizes, offset)
        steps = nonzero_of(scatter_runs(step_runs, steps, count))
        jitter = nonzero_of(scatter_runs(jitter_runs, jitter, count))
    else:
        (dods,), offset = coder.read(blob, [count - 1], offset)
        q = np.zeros(count, dtype=np.int64)
        q[1:] = np.cumsum(np.cumsum(_unzigzag(dods)))
    if offset != len(blob):
        raise FormatError(f"{len(blob) - offset} bytes of junk after a timestamp-units block")
    if mode == DELTAS:
        return t0 + np.uint64(unit).astype(np.int64) * q
    return grid_timestamps(int(t0), int(unit), int(interval), _unzigzag_int(int(zigzag_shift)), count, steps, jitter)


def nonzero_of(stream):
    """(positions, values) of the non-zero entries: [0, 7, 0, 9] -> ([1, 3], [7, 9])."""
    positions = np.flatnonzero(stream)
    return positions, stream[positions]


def _unzigzag_int(unsigned):
    """`_unzigzag` of one Python int (below 2**64): 3 -> -2, 4 -> 2."""
    return (unsigned >> 1) ^ -(unsigned & 1)


def grid_timestamps(t0, unit, interval, shift, count, steps, jitter):
    """t0 + unit * (slots * interval + shift + unzigzag(jitter)) with slots = cumsum(unzigzag(steps)
    + 1) - 1, all modulo 2**64, as (t0 + unit * shift) + slots * (unit * interval) + unit * jitter.

    `steps` and `jitter` come as (positions, values) of their non-zero entries: regular scrapes
    miss few slots and jitter at few points, so the slots are an arange plus, from each missed
    slot on, the slots missed so far (one np.repeat), and the jitter is added where it is. numpy
    array arithmetic wraps modulo 2**64 like the encoder's. Example: t0 = 1000, unit 1, interval
    15, shift 0, 3 points, no steps, jitter 1 at point 2 (zigzag 2): [1000, 1015, 1031].
    """
    slots = np.arange(count, dtype=np.int64)
    step_positions, step_values = steps
    if step_positions.size:
        missed = np.concatenate(([0], np.cumsum(_unzigzag(step_values))))
        slots += np.repeat(missed, np.diff(step_positions, prepend=0, append=count))
    timestamps = slots * np.int64(to_signed64(unit * interval))
    timestamps += np.int64(to_signed64(t0 + unit * shift))
    jitter_positions, jitter_values = jitter
    if jitter_positions.size:
        timestamps[jitter_positions] += _unzigzag(jitter_values) * np.int64(to_signed64(unit))
    return timestamps
