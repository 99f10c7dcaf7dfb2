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
    EXACT_FLOAT_LIMIT, SHORT_FIELD_BITS, WIDTH_MASKS, pack_bit_fields, padded_for_short_fields,
    read_bit_fields, read_short_fields, unpack_fixed_width, words_for_reading,
)
from lib.bitstream.varint import encode_varints, varint_size
from lib.codecs.bins.layout import (
    BIN_TABLES, DENSE, MAX_PRECISION, MAX_SPLIT, PRECISIONS, SPARSE, SPARSE_SURE, SPLITS, bin_keys,
    code_tables, key_bins, max_key, read_header_fields, read_rank_sections, read_sparse_count,
    sparse_positions,
)
from lib.codecs.bins.reference import dense_stream_reference
from lib.codecs.limits import check_count, slices
from lib.codecs.stream_coder import StreamCoder, compact, dense_of, zero_runs
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
_ALL_WIDTHS = np.stack([widths for _, widths in KEY_TABLES])  # [precision, finest key] -> offset width

SMALL_VALUES = 1 << 16
_SMALL_FINEST_KEYS = bin_keys(np.arange(SMALL_VALUES, dtype=_U64), MAX_PRECISION)[0]
_MANTISSA_SHIFT = 52 - MAX_PRECISION  # float64 bits >> this: the exponent, then MAX_PRECISION mantissa bits
_KEY_FROM_FLOAT = (1022 + MAX_PRECISION) << MAX_PRECISION


def _finest_keys(unsigned):
    """bin_keys(unsigned, MAX_PRECISION)[0], in a few array operations instead of a dozen.

    Values below SMALL_VALUES (zero runs, jitter, most residuals): one lookup in a table of their
    keys. Others: a value of bit length L >= 4 whose top four bits are 1abc has key 8 * L - 24 +
    abc, and a float64 holds it as exponent L - 1 followed by the mantissa bits abc, so the top
    bits of the float, minus a constant, are the key: 1000 (8) -> key 8, 2**40 + 2**38 -> 8 * 41
    - 24 + 0b010 = 306. From 2**53 the conversion rounds, and a carry could reach the top four
    bits; clearing the bit below them first stops it there. Values below 8 are their own keys.
    """
    maximum = int(unsigned.max()) if unsigned.size else 0
    if maximum < SMALL_VALUES:
        return _SMALL_FINEST_KEYS[unsigned.view(np.int64)]  # an int64 index is used as it is
    exact = unsigned
    if maximum >= EXACT_FLOAT_LIMIT:
        exact = unsigned >> _U64(MAX_PRECISION + 1)  # the bit below the top four, and lower ones
        np.invert(exact, out=exact)
        exact &= unsigned
    keys = exact.astype(np.float64).view(np.int64) >> _MANTISSA_SHIFT
    keys -= _KEY_FROM_FLOAT
    return np.where(unsigned < _U64(1 << MAX_PRECISION), unsigned.view(np.int64), keys)


_BINS_OF = [max_key(precision) + 1 for precision in PRECISIONS]  # [65, 128, 252, 496]
_FIRST_BIN = np.cumsum([0] + _BINS_OF).tolist()  # where each precision's bins start in the rows below


def _bin_rows():
    """The bins of every precision one after the other, as rows: their precision, key, the range
    of finest keys each is the union of, rank weights (a bin ranked r within its precision p costs
    (r >> s) + 1 unary bits per value at split s, column p * len(SPLITS) + s) and header weights
    (column p counts the bin, column len(PRECISIONS) + p its key's varint bytes)."""
    precision_of = np.repeat(PRECISIONS, _BINS_OF)
    key = np.concatenate([np.arange(bins) for bins in _BINS_OF])
    firsts = [np.searchsorted(KEY_TABLES[p][0], np.arange(bins + 1)) for p, bins in enumerate(_BINS_OF)]
    finest_first = np.concatenate([first[:-1] for first in firsts])  # bin k: finest keys from first[k]
    finest_end = np.concatenate([first[1:] for first in firsts])  # to first[k + 1]
    rows = np.arange(key.size)
    rank_weights = np.zeros((key.size, len(PRECISIONS) * len(SPLITS)))
    for split in SPLITS:
        rank_weights[rows, precision_of * len(SPLITS) + split] = (key >> split) + 1
    header_weights = np.zeros((key.size, 2 * len(PRECISIONS)))
    header_weights[rows, precision_of] = 1
    header_weights[rows, len(PRECISIONS) + precision_of] = [varint_size(int(k)) for k in key]
    return precision_of, key, finest_first, finest_end, rank_weights, header_weights


_BIN_PRECISION, _BIN_KEY, _BIN_FINEST_FIRST, _BIN_FINEST_END, _RANK_WEIGHTS, _HEADER_WEIGHTS = _bin_rows()
_KEY_BITS = 9  # KEY_SPAN <= 2**9: a key fits below a count shifted left by this
_KEY_MASK = (1 << _KEY_BITS) - 1
_PRECISION_BASE = (_BIN_PRECISION << 61) + (1 << 60)  # precision first; room for count << 9 below
_SORT_BASE = _PRECISION_BASE + _BIN_KEY


def _dense_plan(unsigned):
    """(size in bytes, precision, split, rank of each finest key, ranked keys) of the smallest
    dense stream, from one histogram of the finest bins in a fixed number of array operations on
    the 941 bins of all precisions, whatever the data:
    - a bin of a coarser precision is a run of neighbouring finest bins (its keys never decrease
      along the finest keys): one cumulative sum of the finest histogram gives every bin's count;
    - one sort ranks the bins of every precision: the int64 precision << 61 | 2**60 + key - count
      << 9 orders them by precision, count (descending) and key, and the count and key come back
      out of the sorted numbers (no argsort). Empty bins rank last and cost nothing;
    - the unary bits of every precision and split are one product of the ranked counts with the
      weights (rank >> split) + 1, the header bytes one of the non-empty bins with theirs, and
      `_smallest` compares the 16 sizes.
    """
    count = unsigned.size
    finest = _finest_keys(unsigned)
    if count == 0:  # no bins: the header byte and a bin count of 0
        return 2, 0, 0, finest, np.zeros(KEY_SPAN, dtype=np.int64), np.zeros(0, dtype=np.int64)
    finest_counts = np.bincount(finest, minlength=KEY_SPAN)
    below = np.zeros(KEY_SPAN + 1, dtype=np.int64)  # below[k]: the values in finest bins before k
    np.cumsum(finest_counts, out=below[1:])
    bin_counts = below[_BIN_FINEST_END] - below[_BIN_FINEST_FIRST]
    ranked = np.sort(_SORT_BASE - (bin_counts << _KEY_BITS), kind="stable")
    ranked_counts = (_PRECISION_BASE - ranked + _KEY_MASK) >> _KEY_BITS  # (count << 9) - key, rounded up
    unary_bits = (ranked_counts.astype(np.float64) @ _RANK_WEIGHTS).tolist()  # exact: below 2**53
    header = ((bin_counts > 0) @ _HEADER_WEIGHTS).tolist()
    offset_bits = (_ALL_WIDTHS @ finest_counts).tolist()
    size, precision, split = _smallest(count, header, unary_bits, offset_bits)
    bins = int(header[precision])
    ranked_keys = ranked[_FIRST_BIN[precision]:_FIRST_BIN[precision] + bins] & _KEY_MASK
    rank_of_key = np.zeros(_BINS_OF[precision], dtype=np.int64)
    rank_of_key[ranked_keys] = np.arange(bins)
    return size, precision, split, finest, rank_of_key[KEY_TABLES[precision][0]], ranked_keys


def _smallest(count, header, unary_bits, offset_bits):
    """(size, precision, split) of the smallest dense stream, the first in (precision, split)
    order, from each precision's bin count and key bytes (`header`), unary bits per split and
    offset bits: the formula of lib/codecs/bins/reference.py's `dense_stream_reference`."""
    low_bytes = [(count * split + 7) // 8 for split in SPLITS]
    candidates = []
    for precision in PRECISIONS:
        bins = int(header[precision])
        key_bytes = int(header[len(PRECISIONS) + precision])
        size = 1 + varint_size(bins) + key_bytes + (offset_bits[precision] + 7) // 8
        if bins <= 1:  # no rank codes, so no split
            candidates.append((size, precision, 0))
            continue
        for split in range(min(MAX_SPLIT, (bins - 1).bit_length()) + 1):
            unary = (int(unary_bits[precision * len(SPLITS) + split]) + 7) // 8
            candidates.append((size + unary + varint_size(unary) + low_bytes[split], precision, split))
    return min(candidates)  # tuples: the smallest size, then precision, then split


def _sparse_parts(unsigned):
    """(zero runs, non-zero values minus one): [0, 3, 0, 0, 1] -> runs [1, 2, 0], values [2, 0]."""
    positions = np.flatnonzero(unsigned)
    return zero_runs(positions, unsigned.size), unsigned[positions] - _U64(1)


def bins_plan(unsigned):
    """(the bytes `encode_bins` will write, the plan `write_planned` writes them from): a chooser
    sizes several streams and writes only the one it keeps, without planning it again."""
    unsigned = np.ascontiguousarray(unsigned, dtype=_U64)
    size, mode, plan = _choose(unsigned)
    return size, (unsigned, mode, plan)


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


_LOW_BIT_PLACES = {split: 2.0 ** (split * np.arange(7, -1, -1)) for split in range(1, MAX_SPLIT + 1)}


def pack_low_bits(ranks, split):
    """The low `split` bits of each rank, MSB-first, back to back: split 2, [1, 6] -> 01 10 -> 0x60,
    as pack_fixed_width writes them. Eight ranks fill `split` bytes, so each row of eight becomes one
    number, the sum of its low bits times 2**(split * (7 - j)): one matrix product, exact in float64."""
    rows = -(-ranks.size // 8)
    low = np.zeros(rows * 8)
    low[:ranks.size] = ranks & ((1 << split) - 1)
    numbers = (low.reshape(rows, 8) @ _LOW_BIT_PLACES[split]).astype(">u4")
    return numbers.view(np.uint8).reshape(rows, 4)[:, 4 - split:].tobytes()[:(ranks.size * split + 7) // 8]


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
    return write_planned(bins_plan(unsigned)[1])


def write_planned(planned):
    """The bytes of a stream from its `bins_plan` (a sparse plan is its bytes already)."""
    unsigned, mode, plan = planned
    return bytes((DENSE,)) + _write_dense(unsigned, plan) if mode == DENSE else plan


def read_dense(blob, offset, count):
    """(values, end offset) of one dense stream of `count` values. The unary section is checked
    whole, then the ranks and offsets are read a slice of values at a time (lib/codecs/limits.py):
    besides the values, a long stream holds only the end of each unary code at once."""
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    return read_dense_sections(blob, offset, count, precision, split, ranked)


def read_dense_sections(blob, offset, count, precision, split, ranked):
    """`read_dense` after its header (`read_header_fields`' fields), for a reader that parsed it."""
    if count == 0:
        return np.zeros(0, dtype=_U64), offset
    if len(ranked) == 1:  # every value in one bin: offsets of one width, or none at all
        lowers, widths = BIN_TABLES[precision]
        return _read_one_bin(blob, offset, count, int(lowers[ranked[0]]), int(widths[ranked[0]]))
    unary, low_bits, offset = read_rank_sections(blob, offset, count, len(ranked), split)
    ends = _unary_code_ends(blob, unary, count)
    low = unpack_low_bits(blob[low_bits[0]:low_bits[1]], count, split) if low_bits else None
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


def _unary_code_ends(blob, unary, count):
    """Where each of the `count` unary codes ends, as bit positions, in the unary section that
    spans `unary` (start, end) of `blob`, checked: exactly `count` one bits, the last in its last byte."""
    offset, unary_length = unary[0], unary[1] - unary[0]
    bits = np.unpackbits(np.frombuffer(blob, np.uint8, unary_length, offset)).view(bool)
    codes = int(np.count_nonzero(bits))
    if codes != count:
        raise FormatError(f"unary section holds {codes} bin codes, expected {count}")
    ends = np.flatnonzero(bits)  # nonzero is quicker on booleans than on bytes
    if int(ends[-1]) // 8 != unary_length - 1:
        raise FormatError("the unary section has bytes after its last bin code")
    return ends


def _read_offsets(blob, offset, ends, low, split, tables):
    """(values, end offset): each value's code (layout.code_tables) from the gaps between the unary
    code ends (and the `low` bits of a split), then its offset bits, a slice of values at a time so
    that the temporaries stay small."""
    count, codes_below = ends.size, tables.lowers.size
    out = np.empty(count, dtype=_U64)
    available = 8 * (len(blob) - offset)
    short = tables.widest <= SHORT_FIELD_BITS
    section = blob[offset:offset + (count * tables.widest + 7) // 8]  # the offsets take at most this
    section = padded_for_short_fields(section) if short else words_for_reading(section)
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
    return dense_of(stream, count), offset


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
