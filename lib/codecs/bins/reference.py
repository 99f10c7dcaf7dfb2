"""Bins one value at a time with Python integers: the readable definition of the stream.

Each value gets its bin key and offset width (`bin_key_reference`), the bins are counted and ranked
(most common first, ties by the smaller key), every precision and rank split is sized by formula,
and the smallest is written as bit fields. The reader undoes it with a BitReader, one unary code
at a time. lib/codecs/bins/fast.py writes the same bytes with numpy and the tests compare the two;
the fast path also calls `dense_stream_reference` for short streams, where Python integers beat
numpy's fixed cost per call.
"""
from lib.bitstream.stream import MASK64, BitReader
from lib.bitstream.varint import encode_varints, read_varints, varint_size
from lib.codecs.bins.layout import (
    DENSE, MAX_SPLIT, PRECISIONS, SPARSE, SPARSE_SURE, SPLITS, key_bins, read_header_fields,
)
from lib.codecs.limits import check_count
from lib.errors import FormatError


def bin_key_reference(value, precision):
    """(key, offset width) of one value at precision p: p = 1, 5 (101) -> key 4, width 1."""
    length = value.bit_length()
    if length <= precision + 1:
        return value, 0
    width = length - 1 - precision
    return (1 << (precision + 1)) + ((length - precision - 2) << precision) + (value >> width) - (1 << precision), width


def dense_stream_reference(values):
    """The smallest dense stream of a list of ints: every precision p and rank split s sized by
    formula (header, unary codes, low rank bits, offset bits), the first smallest written, its bit
    fields gathered in one Python int. A split is tried only while it can still shorten some
    rank's unary part."""
    count = len(values)
    best = None
    for precision in PRECISIONS:
        keyed = [bin_key_reference(v, precision) for v in values]
        counts = {}
        for key, _ in keyed:
            counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts, key=lambda key: (-counts[key], key))
        bins = len(ranked)
        fixed = (1 + varint_size(bins) + sum(varint_size(key) for key in ranked)
                 + (sum(width for _, width in keyed) + 7) // 8)
        most_split = min(MAX_SPLIT, (bins - 1).bit_length())
        for split in SPLITS:
            if split and split > most_split:
                break
            size = fixed
            if bins > 1:
                unary = (sum(counts[key] * ((rank >> split) + 1) for rank, key in enumerate(ranked)) + 7) // 8
                size += unary + varint_size(unary) + (count * split + 7) // 8
            if best is None or size < best[0]:
                best = (size, precision, split, keyed, ranked)
    _, precision, split, keyed, ranked = best
    out = bytearray((precision | split << 4,)) + encode_varints([len(ranked)]) + encode_varints(ranked)
    if len(ranked) > 1:
        rank_of = {key: rank for rank, key in enumerate(ranked)}
        ranks = [rank_of[key] for key, _ in keyed]
        unary = _bits_to_bytes([(1, (rank >> split) + 1) for rank in ranks])
        out += encode_varints([len(unary)]) + unary
        if split:
            out += _bits_to_bytes([(rank & ((1 << split) - 1), split) for rank in ranks])
    out += _bits_to_bytes([(value & ((1 << width) - 1), width) for value, (_, width) in zip(values, keyed)])
    return bytes(out)


def _bits_to_bytes(fields):
    """(value, width) fields MSB-first, zero-padded to whole bytes: [(1, 1), (1, 2)] -> 0b101 -> 0xA0."""
    number, bits = 0, 0
    for value, width in fields:
        number = (number << width) | value
        bits += width
    padding = -bits % 8
    return (number << padding).to_bytes((bits + padding) // 8, "big")


def encode_bins_reference(values):
    """`encode_bins` with Python integers: the same bytes, one value at a time."""
    values = [int(v) for v in values]
    nonzero = [v - 1 for v in values if v]
    dense = bytes((DENSE,)) + dense_stream_reference(values) if SPARSE_SURE * len(nonzero) >= len(values) else None
    if 2 * len(nonzero) >= len(values):
        return dense
    runs, run = [], 0
    for v in values:
        if v:
            runs.append(run)
            run = 0
        else:
            run += 1
    runs.append(run)
    sparse = (bytes((SPARSE,)) + encode_varints([len(nonzero)]) + dense_stream_reference(runs)
              + dense_stream_reference(nonzero))
    return sparse if dense is None or len(sparse) < len(dense) else dense


def _read_dense_reference(blob, offset, count):
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    keys = [ranked[0]] * count if count else []
    if count and len(ranked) > 1:
        (unary_length,), offset = read_varints(blob, 1, offset)
        reader = BitReader(blob[offset:offset + int(unary_length)])
        offset += int(unary_length)
        low = BitReader(blob[offset:])
        for i in range(count):
            high = 0
            while not reader.read_bit():
                high += 1
            keys[i] = ranked[(high << split) | (low.read_bits(split) if split else 0)]
        offset += (count * split + 7) // 8
    reader = BitReader(blob[offset:])
    values = []
    for key in keys:
        lower, width = (int(x[0]) for x in key_bins([key], precision))
        values.append(lower + (reader.read_bits(width) if width else 0))
    return values, offset + (reader.position + 7) // 8


def decode_bins_reference(blob, count):
    """`decode_bins` one value at a time (for well-formed streams; the tests compare the two)."""
    check_count(count)
    if blob[0] == DENSE:
        return _read_dense_reference(blob, 1, count)[0]
    (nonzero,), offset = read_varints(blob, 1, 1)
    runs, offset = _read_dense_reference(blob, offset, int(nonzero) + 1)
    values, _ = _read_dense_reference(blob, offset, int(nonzero))
    out = []
    for run, value in zip(runs, values + [None]):
        out += [0] * run
        if value is not None:
            if value + 1 > MASK64:
                raise FormatError("a non-zero value of 2**64 (stored as 2**64 - 1) does not fit 64 bits")
            out.append(value + 1)
    return out
