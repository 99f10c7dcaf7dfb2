"""Bins with numpy: the bytes of lib/codecs/bins/reference.py, for whole arrays at once.

Writing: one histogram of every value's finest bin (precision 3) gives the histogram of every
coarser precision (its bins are runs of neighbouring finest bins), so the size of every precision
and rank split is computed at once (`_dense_plan`) and only the smallest is written. Reading: the
unary codes all end in a one bit, so one `np.flatnonzero` finds them all, their gaps give the ranks
(as codes, lib.codecs.bins.layout.code_tables), a cumulative sum of the offset widths gives every
offset's bit position, and one gather of an 8-byte window per value reads the offsets; long
streams a slice at a time (lib/codecs/limits.py).
"""
import functools

import numpy as np

from lib.bitstream.packing import (
    SHORT_FIELD_BITS, pack_bit_fields, padded_for_short_fields, read_bit_fields, read_short_fields,
    unpack_fixed_width, words_for_reading,
)
from lib.bitstream.stream import WORD_BITS
from lib.bitstream.varint import encode_varints
from lib.codecs.bins.layout import (
    BIN_TABLES, DENSE, MAX_PRECISION, MAX_SPLIT, PRECISIONS, SPARSE, SPARSE_SURE, bin_keys, check_unary_length,
    code_tables, key_bins, max_key, read_header_fields, read_sparse_count, read_varint, sparse_positions,
)
from lib.codecs.bins.reference import dense_stream_reference
from lib.codecs.limits import check_count, slices
from lib.codecs.stream_coder import StreamCoder, compact, nonzero_of, zero_runs
from lib.errors import FormatError

_U64 = np.uint64


def _key_tables():
    """For every finest bin (precision MAX_PRECISION), its key and offset width at each precision.

    A bin at a coarser precision is a union of finest bins, so one pass over the values at the
    finest precision, a histogram, and these tables give every precision's histogram."""
    finest = np.arange(max_key(MAX_PRECISION) + 1)
    lower, _ = key_bins(finest, MAX_PRECISION)
    return [bin_keys(lower, precision) for precision in PRECISIONS]


KEY_TABLES = _key_tables()


KEY_SPAN = max_key(MAX_PRECISION) + 1  # keys of every precision are below this


_ALL_KEYS = np.stack([keys for keys, _ in KEY_TABLES])  # [precision, finest key] -> key


_ALL_WIDTHS = np.stack([widths for _, widths in KEY_TABLES])


_SPLITS = np.arange(MAX_SPLIT + 1)


_PRECISION_OFFSETS = (KEY_SPAN * np.arange(len(PRECISIONS)))[:, None]


SMALL_VALUES = 1 << 16


_SMALL_FINEST_KEYS = bin_keys(np.arange(SMALL_VALUES, dtype=_U64), MAX_PRECISION)[0]


def _finest_keys(unsigned):
    """bin_keys(unsigned, MAX_PRECISION)[0]; for values below SMALL_VALUES (zero runs, jitter,
    most residuals) one lookup in a table of their keys instead of a dozen array operations."""
    if unsigned.size and int(unsigned.max()) < SMALL_VALUES:
        return _SMALL_FINEST_KEYS[unsigned]
    return bin_keys(unsigned, MAX_PRECISION)[0]


def _varint_sizes(values):
    """Bytes of each value as a varint, for values below 2**28."""
    return 1 + (values > 0x7F) + (values > 0x3FFF) + (values > 0x1FFFFF)


def _dense_plan(unsigned):
    """(size in bytes, precision, split, rank of each finest key, ranked keys) of the smallest
    dense stream.

    Every precision and rank split is sized at once from one histogram of the finest bins; ties
    go to the smaller precision, then the smaller split. A split is allowed only while it can
    still shorten some rank's unary part. Only the finest bins that occur are looked at: the
    bins of a coarser precision are runs of neighbouring finest bins (its keys never decrease
    along the finest keys), so each precision's histogram is a sum over runs of equal keys.
    """
    count = unsigned.size
    finest = _finest_keys(unsigned)
    if count == 0:  # no bins: the header byte and a bin count of 0
        return 2, 0, 0, finest, np.zeros(KEY_SPAN, dtype=np.int64), np.zeros(0, dtype=np.int64)
    finest_counts = np.bincount(finest)
    used = np.flatnonzero(finest_counts)
    used_counts = finest_counts[used]
    # All precisions in one sorted array: key + precision * KEY_SPAN, runs of equal keys summed.
    keys = (_ALL_KEYS[:, used] + _PRECISION_OFFSETS).ravel()
    new_key = np.empty(keys.size, dtype=bool)  # where a run of equal keys starts (the first always)
    new_key[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_key[1:])
    starts = np.flatnonzero(new_key)
    bin_counts = np.add.reduceat(np.concatenate([used_counts] * len(PRECISIONS)), starts)
    bin_keys_all = keys[starts]
    precision_of = bin_keys_all // KEY_SPAN
    # Rank order within each precision: most frequent first, ties by smaller key.
    order = np.argsort((precision_of * (count + 1) + count - bin_counts) * KEY_SPAN + bin_keys_all)
    bins = np.bincount(precision_of, minlength=len(PRECISIONS))
    first = np.cumsum(bins) - bins  # where each precision starts in rank order
    ranks = np.arange(order.size) - np.repeat(first, bins)
    ranked_keys = bin_keys_all[order] - precision_of[order] * KEY_SPAN
    header = 1 + _varint_sizes(bins) + bins + np.bincount(precision_of[order], ranked_keys > 127,
                                                          minlength=len(PRECISIONS)).astype(np.int64)
    offset_bytes = (_ALL_WIDTHS[:, used] @ used_counts + 7) // 8
    unary_bits = np.add.reduceat(((ranks[:, None] >> _SPLITS) + 1) * bin_counts[order][:, None], first, axis=0)
    unary_bytes = (unary_bits + 7) // 8  # [precision, split]
    ranks_part = unary_bytes + _varint_sizes(unary_bytes) + (count * _SPLITS + 7) // 8
    most_split = np.minimum(MAX_SPLIT, [int(b - 1).bit_length() for b in bins.tolist()])
    ranks_part = np.where(bins[:, None] > 1, ranks_part, 0)
    allowed = (_SPLITS[None, :] <= most_split[:, None]) | (_SPLITS[None, :] == 0)
    sizes = np.where(allowed, (header + offset_bytes)[:, None] + ranks_part, np.inf)
    best = int(np.argmin(sizes))
    precision, split = divmod(best, MAX_SPLIT + 1)
    chosen = slice(first[precision], first[precision] + bins[precision])
    rank_of_finest = np.zeros(KEY_SPAN, dtype=np.int64)
    rank_of_key = np.zeros(KEY_SPAN, dtype=np.int64)
    rank_of_key[ranked_keys[chosen]] = ranks[chosen]
    rank_of_finest[used] = rank_of_key[_ALL_KEYS[precision, used]]
    return int(sizes.flat[best]), precision, split, finest, rank_of_finest, ranked_keys[chosen]


def _sparse_parts(unsigned):
    """(zero runs, non-zero values minus one): [0, 3, 0, 0, 1] -> runs [1, 2, 0], values [2, 0]."""
    positions = np.flatnonzero(unsigned)
    return zero_runs(positions, unsigned.size), unsigned[positions] - _U64(1)


def bins_size(unsigned):
    """The bytes `encode_bins` will write for these values."""
    return _choose(np.ascontiguousarray(unsigned, dtype=_U64))[0]


def _choose(unsigned):
    """(size, mode, plan): dense when at least half the values are non-zero, sparse when fewer
    than a quarter are (a dense stream then spends at least a bit on every zero), else the smaller.
    A sparse plan is its finished bytes."""
    nonzero = int(np.count_nonzero(unsigned))
    best = None
    if SPARSE_SURE * nonzero >= unsigned.size:
        dense = _dense_plan(unsigned)
        best = (1 + dense[0], DENSE, dense)
    if 2 * nonzero < unsigned.size:
        runs, values = _sparse_parts(unsigned)
        sparse = bytes((SPARSE,)) + encode_varints([nonzero]) + _dense_bytes(runs) + _dense_bytes(values)
        if best is None or len(sparse) < best[0]:
            best = (len(sparse), SPARSE, sparse)
    return best


SHORT_STREAM = 48  # up to this many values, plain Python integers beat numpy's fixed cost per call


def _dense_bytes(unsigned):
    """One dense stream. Short ones (the zero runs of a mostly-zero stream, say) are written by the
    reference (lib/codecs/bins/reference.py), which writes the same bytes without numpy's fixed
    cost per call; and the same short streams come back block after block (the zero runs of a
    block without missed scrapes are [its point count]), so their bytes are remembered."""
    if unsigned.size <= SHORT_STREAM:
        return _remembered_short_dense_bytes(tuple(unsigned.tolist()))
    return _write_dense(unsigned, _dense_plan(unsigned))


@functools.lru_cache(maxsize=4096)
def _remembered_short_dense_bytes(values):
    return dense_stream_reference(values)


def pack_low_bits(ranks, split):
    """The low `split` bits of each rank, MSB-first, back to back: split 2, [1, 6] -> 01 10 -> 0x60.
    (The same bytes as lib.bitstream.packing.pack_fixed_width; for 1..3 bits, unpacked bits and
    np.packbits are quicker.)"""
    shifts = np.arange(split - 1, -1, -1)
    return np.packbits(((ranks[:, None] >> shifts) & 1).astype(np.uint8)).tobytes()


# byte -> its four fields of 2 bits, as the bytes of one uint32: byte 0b01_10_00_11 -> bytes [1, 2, 0, 3].
_BYTE_PAIRS = ((np.arange(256)[:, None] >> np.arange(6, -1, -2)) & 3).astype(np.uint8).view(np.uint32).ravel()


def unpack_low_bits(data, count, split):
    """Inverse of `pack_low_bits`, as uint8 (a byte per rank, not eight). Fields of 1 bit are the
    bits; fields of 2 bits never straddle a byte: one lookup per byte gives its four. Fields of 3
    bits: the bits, folded into numbers column by column (`fold_bits`)."""
    data = np.frombuffer(data, np.uint8)
    if split == 1:
        return np.unpackbits(data, count=count)
    if split == 2:
        return np.take(_BYTE_PAIRS, data).view(np.uint8)[:count]
    return fold_bits(np.unpackbits(data, count=count * split), split)


def fold_bits(bits, split):
    """Bits as uint8, `split` to a field, MSB-first -> the fields: [1, 1, 0, 0, 1, 0], 3 -> [6, 2]."""
    bits = bits.reshape(-1, split)
    low = bits[:, 0].copy()
    for column in range(1, split):
        low <<= 1
        low |= bits[:, column]
    return low


def _write_dense(unsigned, plan):
    _, precision, split, finest, rank_of_finest, ranked = plan
    widths = KEY_TABLES[precision][1][finest]
    parts = [bytes((precision | split << 4,)), encode_varints([ranked.size]), encode_varints(ranked)]
    if ranked.size > 1:
        ranks = rank_of_finest[finest]
        ends = np.cumsum((ranks >> split) + 1)
        bits = np.zeros(int(ends[-1]) if ends.size else 0, dtype=np.uint8)
        bits[ends - 1] = 1
        unary = np.packbits(bits).tobytes()
        parts += [encode_varints([len(unary)]), unary]
        if split:
            parts.append(pack_low_bits(ranks, split))
    parts.append(pack_bit_fields(unsigned, widths))
    return b"".join(parts)


def encode_bins(unsigned):
    """uint64 array -> bins stream bytes (the smallest mode and precision)."""
    unsigned = np.ascontiguousarray(unsigned, dtype=_U64)
    _, mode, plan = _choose(unsigned)
    return bytes((DENSE,)) + _write_dense(unsigned, plan) if mode == DENSE else plan


WIDTH_MASKS = np.array([(1 << width) - 1 for width in range(WORD_BITS)], dtype=_U64)


def read_dense(blob, offset, count):
    """(values, end offset) of one dense stream of `count` values. The unary section is checked
    whole, then the ranks and offsets are read a slice of values at a time (lib/codecs/limits.py):
    besides the values, a long stream holds only the end of each unary code at once."""
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    if count == 0:
        return np.zeros(0, dtype=_U64), offset
    if len(ranked) == 1:  # every value in one bin: offsets of one width, or none at all
        lowers, widths = BIN_TABLES[precision]
        return _read_one_bin(blob, offset, count, int(lowers[ranked[0]]), int(widths[ranked[0]]))
    ends, offset = _unary_code_ends(blob, offset, count, len(ranked), split)
    low = None
    if split:
        low_length = (count * split + 7) // 8
        if low_length > len(blob) - offset:
            raise FormatError("the low bits of the bin ranks run past the stream")
        low = unpack_low_bits(blob[offset:offset + low_length], count, split)
        offset += low_length
    return _read_offsets(blob, offset, ends, low, split, code_tables(precision, tuple(ranked), split))


def _read_one_bin(blob, offset, count, lower, width):
    """(values, end offset) of a stream whose values are all in one bin: `count` offsets of `width` bits."""
    length = (count * width + 7) // 8
    if length > len(blob) - offset:
        raise FormatError(f"offset bits need {length} bytes, {len(blob) - offset} left")
    if width == 0:
        return np.full(count, lower, dtype=_U64), offset
    if count == 1:  # one value (a zero run, say): plain integer arithmetic is quicker
        field = int.from_bytes(blob[offset:offset + length], "big") >> (8 * length - width)
        return np.array([lower | field], dtype=_U64), offset + length
    values = unpack_fixed_width(blob[offset:offset + length], count, width)
    values |= _U64(lower)
    return values, offset + length


def _unary_code_ends(blob, offset, count, bins, split):
    """(where each of the `count` unary codes ends, as bit positions; end offset) of the unary
    section at `offset`, checked: exactly `count` one bits, the last in its last byte."""
    unary_length, offset = read_varint(blob, offset)
    check_unary_length(unary_length, len(blob) - offset, count, bins, split)
    bits = np.unpackbits(np.frombuffer(blob, np.uint8, unary_length, offset)).view(bool)
    codes = int(np.count_nonzero(bits))
    if codes != count:
        raise FormatError(f"unary section holds {codes} bin codes, expected {count}")
    ends = np.flatnonzero(bits)  # nonzero is quicker on booleans than on bytes
    if int(ends[-1]) // 8 != unary_length - 1:
        raise FormatError("the unary section has bytes after its last bin code")
    return ends, offset + unary_length


def _read_offsets(blob, offset, ends, low, split, tables):
    """(values, end offset): each value's code (layout.code_tables) from the gaps between the unary
    code ends (and the `low` bits of a split), then its offset bits, a slice of values at a time so
    that the temporaries stay small."""
    count, codes_below = ends.size, tables.lowers.size
    out = np.empty(count, dtype=_U64)
    available = 8 * (len(blob) - offset)
    short = tables.widest <= SHORT_FIELD_BITS
    section = padded_for_short_fields(blob[offset:]) if short else words_for_reading(blob[offset:])
    position = 0  # bits of offsets before the slice
    for start, end in slices(count):
        codes = np.empty(end - start, dtype=np.int64)  # the unary code's length: the gap between ends
        np.subtract(ends[start + 1:end], ends[start:end - 1], out=codes[1:])
        codes[0] = ends[start] - (ends[start - 1] if start else -1)
        if split:
            codes <<= split
            codes |= low[start:end]
        if int(codes.max()) >= codes_below:  # a code is a rank plus 2**split
            rank, bins = int(codes.max()) - (1 << split), codes_below - (1 << split)
            raise FormatError(f"bin rank {rank} but only {bins} bins")
        if not tables.widest:  # every bin a single value (0 and 1, say): no offset bits at all
            out[start:end] = tables.lowers[codes]
            continue
        position = _read_fields(section, codes, tables, position, available, short, out[start:end])
    return out, offset + (position + 7) // 8


def _read_fields(section, codes, tables, position, available, short, out):
    """Read the offset fields of values with these codes, the first at bit `position` of the
    section, OR their bins' lower bounds into `out`; returns the bit position after the last."""
    value_widths = tables.widths[codes]
    field_starts = np.empty_like(value_widths)  # an exclusive running sum: the widths before each field
    field_starts[0] = position
    field_starts[1:] = value_widths[:-1]
    np.cumsum(field_starts, out=field_starts)
    position = int(field_starts[-1]) + int(value_widths[-1])
    if position > available:
        raise FormatError(f"offset bits need {(position + 7) // 8} bytes, {available // 8} left")
    if short:
        fields = read_short_fields(section, field_starts, tables.shifts[codes])
    else:  # a zero-width field reads one bit that the mask then drops
        fields = read_bit_fields(section, field_starts, np.maximum(value_widths, 1))
        fields &= WIDTH_MASKS[value_widths]
    np.bitwise_or(fields, tables.lowers[codes], out=out)
    return position


def decode_bins(blob, count, offset=0):
    """(uint64 array of `count` values, end offset): the inverse of `encode_bins`."""
    stream, offset = decode_bins_parts(blob, count, offset)
    if isinstance(stream, tuple):
        positions, values = stream
        stream = np.zeros(count, dtype=_U64)
        stream[positions] = values
    return stream, offset


def decode_bins_nonzero(blob, count, offset=0):
    """(positions, values, end offset): the non-zero values of a bins stream of `count` values and
    where they are, in order. A sparse stream is read as it is stored, without writing out its
    zeros: runs [1, 2, 0] and values minus one [2, 0] -> positions [1, 4], values [3, 1]."""
    stream, offset = decode_bins_parts(blob, count, offset)
    return (*(stream if isinstance(stream, tuple) else nonzero_of(stream)), offset)


def decode_bins_parts(blob, count, offset=0):
    """(stream, end offset): a bins stream as it is stored, a dense one as the array of its
    `count` values, a sparse one as the (positions, values) of its non-zero values."""
    check_count(count)
    blob = bytes(blob) if not isinstance(blob, bytes) else blob
    if offset >= len(blob):
        raise FormatError("bins stream is truncated")
    if blob[offset] == DENSE:
        return read_dense(blob, offset + 1, count)
    nonzero, offset = read_sparse_count(blob, offset, count)
    runs, offset = read_dense(blob, offset, nonzero + 1)
    values, offset = read_dense(blob, offset, nonzero)
    return sparse_positions(runs, values, count), offset


def write_bin_streams(streams):
    return b"".join(encode_bins(stream) for stream in streams)


def read_bin_streams(blob, counts, offset=0):
    streams = []
    for count in counts:
        stream, offset = decode_bins(blob, int(count), offset)
        streams.append(stream)
    return streams, offset


def read_bin_streams_compact(blob, counts, offset=0):
    streams = []
    for count in counts:
        stream, offset = decode_bins_parts(blob, int(count), offset)
        stream = compact(stream, int(count))  # the stored form goes before the next stream is read
        streams.append(stream)
    return streams, offset


BINS = StreamCoder(write_bin_streams, read_bin_streams, read_bin_streams_compact)


def describe_stream(blob, count, offset=0):
    """(parts, end offset) of the bins stream at `offset`, for a report that shows where the bytes
    go: a dense stream's {"mode", "precision", "split", "bins", "header", "unary", "low bits",
    "offsets"} (the last four in bytes); a sparse stream's {"mode", "header", "zero runs",
    "non-zero values"}, the last two such dense parts."""
    if blob[offset] == DENSE:
        parts, end = _describe_dense(blob, offset + 1, count)
        parts["header"] += 1
        return parts, end
    nonzero, runs_at = read_sparse_count(blob, offset, count)
    runs, values_at = _describe_dense(blob, runs_at, nonzero + 1)
    values, end = _describe_dense(blob, values_at, nonzero)
    return {"mode": "sparse", "header": runs_at - offset, "zero runs": runs, "non-zero values": values}, end


def _describe_dense(blob, offset, count):
    _, end = read_dense(blob, offset, count)
    precision, split, ranked, after_keys = read_header_fields(blob, offset, count)
    unary = low = 0
    sections_at = after_keys
    if count and len(ranked) > 1:
        unary, sections_at = read_varint(blob, after_keys)
        low = (count * split + 7) // 8
    parts = {"mode": "dense", "precision": precision, "split": split, "bins": len(ranked),
             "header": sections_at - offset, "unary": unary, "low bits": low}
    parts["offsets"] = end - sections_at - unary - low
    return parts, end
