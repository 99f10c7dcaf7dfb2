"""Bins: an entropy coder for small unsigned integers that numpy can run without a per-value loop.

The idea (pcodec's, simplified)
-------------------------------
After the decimal codec's transforms a block is a list of residuals: unsigned integers that are
mostly small and sometimes large. Bit packing gives every residual the width of the widest; a
general-purpose compressor adapts, but it is slow and sees bytes, not numbers. Bins split each
integer into two parts:

- its BIN, a coarse class: the bit length of the integer plus its next `p` bits (p = 0..3,
  chosen per stream). Small integers (bit length <= p + 1) are a bin of their own.
  Example, p = 1: 0, 1, 2 and 3 are bins of their own; 4..5 (100, 101) is one bin, 6..7 another,
  8..11 (1000..1011) one, 12..15 the next, and so on.
- its OFFSET inside the bin: the bits below the bin's, stored raw (they are close to random).

The bins are entropy-coded: they are ranked by how often they occur in the stream, and rank r is
written in unary, r zero bits and a one. The most common bin costs 1 bit, the next 2, ... That is a
Huffman code whenever each bin is at most half as common as the one before, and close to one for
the peaked distributions residuals have. When many bins are about equally common, the rank is
split (Rice coding): its low s bits (s = 0..3) go into a fixed-width section and only r >> s is
written in unary. A stream whose values all fall into one bin spends no bits on bins at all.
Because every unary code ends in a one, the decoder finds all codes at once: the positions of the
one bits (`np.flatnonzero`) give the ranks, the ranks the offset widths, a cumulative sum the
offsets' positions. No value depends on decoding the one before it.

Values that are mostly zero (a regular scrape: its timestamp jitter is 0 most of the time) would
still cost a bit each, so a second mode codes them SPARSE: the lengths of the zero runs between
the non-zero values, then the non-zero values minus one, each as a dense stream. Sparse is used
outright when fewer than a quarter of the values are non-zero, never when half or more are, and
in between whichever is smaller. The encoder computes the exact size of every choice (mode, p and
s) from one histogram and writes only the smallest, so choosing costs no trial encodings; on a tie
the smaller p, then the smaller s wins.

Layout of one stream (the caller knows the count n; docs/format.md, "Bins stream", is normative)
----------------------------------------------------------------------------------------------
    u8  mode: 0 dense, 1 sparse
    dense:  u8 p | s << 4, varint B (bins used), B varints bin keys in rank order,
            [B > 1: varint U, U bytes: the n unary codes of rank >> s, MSB-first, zero-padded,
                    then ceil(n * s / 8) bytes: the low s bits of every rank, MSB-first]
            offset bits of every value, MSB-first, zero-padded to a whole byte
    sparse: varint N (non-zero values), dense stream of the N + 1 zero-run lengths,
            dense stream of the N non-zero values minus one

Bin keys number the bins in order: key k < 2**(p+1) is the integer k itself; above that, key
2**(p+1) + ((L - p - 2) << p) + (t - 2**p) is the bin of integers with bit length L whose top
p + 1 bits are t; its offsets have L - 1 - p bits. Worked example, values [0, 5, 4, 5]: at p = 0
the bins are 0 (key 0) and "bit length 3" (key 2 + (3 - 0 - 2) + 1 - 1 = 3), counts 1 and 3, so
rank 0 is key 3, rank 1 key 0 (p = 1 gives the same size, and the smaller p wins the tie; s = 0).
Header 00 00 02 03 00; unary codes 01 1 1 1 -> 0111 1000 = 0x78 (U = 01); offsets of 5, 4, 5 in
2 bits each: 01 00 01 -> 0100 0100 = 0x44. Eight bytes in all; the tests spell it out.

`encode_bins_reference`/`decode_bins_reference` do the same one value at a time with Python
integers; the tests check that both give identical bytes.
"""
import functools

import numpy as np

from lib.bitstream.packing import (
    SHORT_FIELD_BITS, bit_lengths, pack_bit_fields, padded_for_short_fields, read_bit_fields,
    read_short_fields, unpack_fixed_width, words_for_reading,
)
from lib.bitstream.stream import MASK64, WORD_BITS, BitReader, BitWriter
from lib.bitstream.varint import encode_varints, read_varint_list, read_varints
from lib.codecs.limits import check_count, slices
from lib.codecs.stream_coder import StreamCoder, compact, nonzero_of, positions_of_runs, zero_runs
from lib.errors import FormatError

DENSE, SPARSE = 0, 1
MAX_PRECISION = 3
PRECISIONS = tuple(range(MAX_PRECISION + 1))
MAX_SPLIT = 3
SPARSE_SURE = 4  # fewer than 1 in SPARSE_SURE values non-zero: sparse without sizing the dense stream
SPLITS = tuple(range(MAX_SPLIT + 1))

_U64 = np.uint64


def _varint_bytes(value):
    return max(1, -(-int(value).bit_length() // 7))


# Bins and their keys -----------------------------------------------------------------------------


def bin_keys(unsigned, precision):
    """(keys, offset widths) of uint64 values: p = 1, [0, 3, 5, 12] -> keys [0, 3, 4, 7], widths [0, 0, 1, 2]."""
    lengths = bit_lengths(unsigned)
    small = lengths <= precision + 1
    widths = np.where(small, 0, lengths - 1 - precision)
    top = (unsigned >> widths.astype(_U64)).astype(np.int64)  # the top p + 1 bits (or the value)
    above = (1 << (precision + 1)) + ((lengths - precision - 2) << precision) + top - (1 << precision)
    keys = np.where(small, top, above)
    return keys, widths


def key_bins(keys, precision):
    """(lower bounds, offset widths) of the bins with these keys; the inverse of `bin_keys`."""
    keys = np.asarray(keys, dtype=np.int64)
    exact = 1 << (precision + 1)
    above = np.maximum(keys - exact, 0)
    lengths = (above >> precision) + precision + 2
    top = (above & ((1 << precision) - 1)) + (1 << precision)
    widths = np.where(keys < exact, 0, lengths - 1 - precision)
    lower = np.where(keys < exact, keys, top).astype(_U64) << widths.astype(_U64)
    return lower, widths


def max_key(precision):
    """Keys run from 0 to this: bit length 64 with all p top bits set."""
    return (1 << (precision + 1)) + ((WORD_BITS - precision - 2) << precision) + (1 << precision) - 1


# Exact sizes, so that the encoder can choose without encoding ------------------------------------


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
    """One dense stream. Short ones (the zero runs of a mostly-zero stream, say) take the plain
    Python path of `_short_dense_bytes`, which writes the same bytes without numpy's fixed cost;
    and the same short streams come back block after block (the zero runs of a block without
    missed scrapes are [its point count]), so their bytes are remembered."""
    if unsigned.size <= SHORT_STREAM:
        return _remembered_short_dense_bytes(tuple(unsigned.tolist()))
    return _write_dense(unsigned, _dense_plan(unsigned))


@functools.lru_cache(maxsize=4096)
def _remembered_short_dense_bytes(values):
    return _short_dense_bytes(values)


def _short_dense_bytes(values):
    """`_write_dense(_dense_plan(...))` for a short list of ints: every precision and split sized
    with the same formulas, the smallest written with the bit fields gathered in one Python int."""
    count = len(values)
    best = None
    for precision in PRECISIONS:
        keyed = [_key_reference(v, precision) for v in values]
        counts = {}
        for key, _ in keyed:
            counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts, key=lambda key: (-counts[key], key))
        bins = len(ranked)
        fixed = (1 + _varint_bytes(bins) + sum(_varint_bytes(key) for key in ranked)
                 + (sum(width for _, width in keyed) + 7) // 8)
        most_split = min(MAX_SPLIT, (bins - 1).bit_length())
        for split in SPLITS:
            if split and split > most_split:
                break
            size = fixed
            if bins > 1:
                unary = (sum(counts[key] * ((rank >> split) + 1) for rank, key in enumerate(ranked)) + 7) // 8
                size += unary + _varint_bytes(unary) + (count * split + 7) // 8
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


# The fast encoder and decoder ---------------------------------------------------------------------


def pack_low_bits(ranks, split):
    """The low `split` bits of each rank, MSB-first, back to back: split 2, [1, 6] -> 01 10 -> 0x60.
    (The same bytes as lib.bitstream.packing.pack_fixed_width; for 1..3 bits, unpacked bits and
    np.packbits are quicker.)"""
    shifts = np.arange(split - 1, -1, -1)
    return np.packbits(((ranks[:, None] >> shifts) & 1).astype(np.uint8)).tobytes()


# [byte, j] -> the j-th field of `split` bits in that byte, for the splits that divide 8:
# split 2, byte 0b01_10_00_11 -> [1, 2, 0, 3].
BYTE_FIELDS = {split: ((np.arange(256)[:, None] >> np.arange(8 - split, -1, -split)) & ((1 << split) - 1)
                      ).astype(np.uint8) for split in (1, 2)}


def unpack_low_bits(data, count, split):
    """Inverse of `pack_low_bits`, as uint8 (a byte per rank, not eight). Fields of 1 or 2 bits never
    straddle a byte: one table lookup per byte. Fields of 3 bits: the bits one column per bit,
    folded into numbers column by column."""
    data = np.frombuffer(data, np.uint8)
    if split in BYTE_FIELDS:
        return BYTE_FIELDS[split][data].reshape(-1)[:count]
    bits = np.unpackbits(data, count=count * split).reshape(count, split)
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


MAX_KEYS_BY_PRECISION = [max_key(precision) for precision in PRECISIONS]


def read_varint(blob, offset):
    """One varint: (value, end offset). A one-byte varint, the usual bin count or section length,
    is read here without building read_varint_list's list."""
    if offset < len(blob) and blob[offset] < 0x80:
        return blob[offset], offset + 1
    (value,), offset = read_varint_list(blob, 1, offset)
    return value, offset


def _read_header(blob, offset, count):
    precision, split, ranked, offset = read_header_fields(blob, offset, count)
    return precision, split, np.array(ranked, dtype=np.int64), offset


def read_header_fields(blob, offset, count):
    """(precision, split, the ranked bin keys as a list, end offset) of a dense stream's header, checked."""
    check_count(count)
    if offset >= len(blob):
        raise FormatError("bins stream is truncated")
    precision, split = blob[offset] & 0x0F, blob[offset] >> 4
    if precision > MAX_PRECISION or split > MAX_SPLIT:
        raise FormatError(f"bins precision {precision} or rank split {split} is out of range")
    bins, offset = read_varint(blob, offset + 1)
    if bins > MAX_KEYS_BY_PRECISION[precision] + 1 or (count and bins == 0) or bins > max(count, 1):
        raise FormatError(f"{bins} bins for {count} values")
    keys = blob[offset:offset + bins]
    if len(keys) == bins and (not keys or max(keys) < 0x80):  # every key one varint byte: the usual case
        ranked, offset = list(keys), offset + bins
    else:
        ranked, offset = read_varint_list(blob, bins, offset)
    if ranked and max(ranked) > MAX_KEYS_BY_PRECISION[precision]:
        raise FormatError(f"bin key {max(ranked)} is out of range")
    return precision, split, ranked, offset


BIN_TABLES = [key_bins(np.arange(max_key(precision) + 1), precision) for precision in PRECISIONS]
WIDTH_MASKS = np.array([(1 << width) - 1 for width in range(WORD_BITS)], dtype=_U64)


def read_dense(blob, offset, count):
    """(values, end offset) of one dense stream of `count` values. The unary section is checked
    whole, then the ranks and offsets are read a slice of values at a time (lib/codecs/limits.py):
    besides the values, a long stream holds only the end of each unary code at once."""
    precision, split, ranked, offset = _read_header(blob, offset, count)
    if count == 0:
        return np.zeros(0, dtype=_U64), offset
    lowers, widths = BIN_TABLES[precision]
    lowers, widths = lowers[ranked], widths[ranked]  # per rank
    if ranked.size == 1:  # every value in one bin: offsets of one width, or none at all
        return _read_one_bin(blob, offset, count, int(lowers[0]), int(widths[0]))
    ends, offset = _unary_code_ends(blob, offset, count, ranked.size, split)
    low = None
    if split:
        low_length = (count * split + 7) // 8
        if low_length > len(blob) - offset:
            raise FormatError("the low bits of the bin ranks run past the stream")
        low = unpack_low_bits(blob[offset:offset + low_length], count, split)
        offset += low_length
    return _read_offsets(blob, offset, ends, low, split, lowers, widths)


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


def check_unary_length(unary_length, left, count, bins, split):
    """Refuse a unary section that runs past the `left` bytes of its stream or cannot hold `count`
    codes: a code is at least 1 bit and at most ((bins - 1) >> split) + 1 bits. So a count the
    section cannot hold is refused before anything count-sized is allocated."""
    longest = ((bins - 1) >> split) + 1
    if unary_length > left or not count <= 8 * unary_length <= count * longest + 7:
        raise FormatError(f"a unary section of {unary_length} bytes cannot hold {count} bin codes")


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


def _read_offsets(blob, offset, ends, low, split, lowers, widths):
    """(values, end offset): the ranks from the unary code ends (and the `low` bits of a split),
    then each value's offset bits, a slice of values at a time so that the temporaries stay small."""
    count, bins = ends.size, lowers.size
    out = np.empty(count, dtype=_U64)
    available = 8 * (len(blob) - offset)
    short = int(widths.max()) <= SHORT_FIELD_BITS
    section = padded_for_short_fields(blob[offset:]) if short else words_for_reading(blob[offset:])
    shifts = (63 - widths).astype(_U64)
    offsetless = not widths.any()  # every bin a single value (0 and 1, say): no offset bits at all
    position = 0  # bits of offsets before the slice
    for start, end in slices(count):
        ranks = ends[start:end] - 1  # the zeros before each one bit
        ranks[1:] -= ends[start:end - 1]
        ranks[0] -= ends[start - 1] if start else -1
        if split:
            ranks <<= split
            ranks |= low[start:end]
        if int(ranks.max()) >= bins:
            raise FormatError(f"bin rank {int(ranks.max())} but only {bins} bins")
        if offsetless:
            out[start:end] = lowers[ranks]
            continue
        value_widths = widths[ranks]
        field_starts = np.cumsum(value_widths)
        field_starts += position
        position = int(field_starts[-1])
        if position > available:
            raise FormatError(f"offset bits need {(position + 7) // 8} bytes, {available // 8} left")
        field_starts -= value_widths
        if short:
            fields = read_short_fields(section, field_starts, shifts[ranks])
        else:  # a zero-width field reads one bit that the mask then drops
            fields = read_bit_fields(section, field_starts, np.maximum(value_widths, 1))
            fields &= WIDTH_MASKS[value_widths]
        fields |= lowers[ranks]
        out[start:end] = fields
    return out, offset + (position + 7) // 8


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


def read_sparse_count(blob, offset, count):
    """(N, offset of its zero runs) of a sparse stream whose mode byte is at `offset`, checked."""
    check_count(count)
    if blob[offset] != SPARSE:
        raise FormatError(f"unknown bins mode {blob[offset]}")
    nonzero, offset = read_varint(blob, offset + 1)
    if nonzero > count:
        raise FormatError(f"{nonzero} non-zero values in a stream of {count}")
    return nonzero, offset


def sparse_positions(runs, values, count):
    """(positions, values) of the non-zero values from a sparse stream's N + 1 zero runs and N
    values minus one, checked against `count`. Both arrays are the decoder's own and are written
    over: the positions take the runs' place, the values become themselves plus one."""
    if values.size and int(values.max()) == MASK64:
        raise FormatError("a non-zero value of 2**64 (stored as 2**64 - 1) does not fit 64 bits")
    positions, values = positions_of_runs(runs, values, count)
    values += _U64(1)
    return positions, values


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


# The readable reference: one value at a time ------------------------------------------------------


def _key_reference(value, precision):
    length = value.bit_length()
    if length <= precision + 1:
        return value, 0
    width = length - 1 - precision
    return (1 << (precision + 1)) + ((length - precision - 2) << precision) + (value >> width) - (1 << precision), width


def _dense_reference(values, precision, split):
    keys = [_key_reference(v, precision) for v in values]
    counts = {}
    for key, _ in keys:
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts, key=lambda key: (-counts[key], key))
    out = bytearray((precision | split << 4,)) + encode_varints([len(ranked)]) + encode_varints(ranked)
    if len(ranked) > 1:
        unary, low = BitWriter(), BitWriter()
        for key, _ in keys:
            rank = ranked.index(key)
            for _ in range(rank >> split):  # the rank's high part in unary: that many zeros, a one
                unary.write_bit(0)
            unary.write_bit(1)
            if split:
                low.write_bits(rank & ((1 << split) - 1), split)
        out += encode_varints([len(unary.to_bytes())]) + unary.to_bytes() + low.to_bytes()
    offsets = BitWriter()
    for value, (_, width) in zip(values, keys):
        if width:
            offsets.write_bits(value & ((1 << width) - 1), width)
    return bytes(out + offsets.to_bytes())


def _smallest_dense_reference(values):
    """The first smallest over precisions, then splits (the fast encoder's order); splits that
    cannot shorten any rank's unary part are not tried."""
    best = None
    for p in PRECISIONS:
        bins = len({_key_reference(v, p)[0] for v in values})
        for split in SPLITS if bins > 1 else (0,):
            candidate = _dense_reference(values, p, split)
            if best is None or len(candidate) < len(best):
                best = candidate
            if (bins - 1) >> split == 0:
                break
    return best


def encode_bins_reference(values):
    """`encode_bins` with Python integers: the same bytes, one value at a time."""
    values = [int(v) for v in values]
    nonzero = [v - 1 for v in values if v]
    dense = bytes((DENSE,)) + _smallest_dense_reference(values) if SPARSE_SURE * len(nonzero) >= len(values) else None
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
    sparse = (bytes((SPARSE,)) + encode_varints([len(nonzero)]) + _smallest_dense_reference(runs)
              + _smallest_dense_reference(nonzero))
    return sparse if dense is None or len(sparse) < len(dense) else dense


def _read_dense_reference(blob, offset, count):
    precision, split, ranked, offset = _read_header(blob, offset, count)
    ranked = ranked.tolist()
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
